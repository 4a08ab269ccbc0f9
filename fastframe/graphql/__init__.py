"""GraphQL for fastframe: queries and mutations over HTTP, subscriptions over WebSocket and SSE.

    from fastframe.graphql import GraphQLApp
    app = Starlette(routes=[Route("/graphql", GraphQLApp(schema))])

Requires graphql-core 3 (`pip install fastframe[graphql]`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

try:
    import graphql
except ModuleNotFoundError as _import_error:  # pragma: no cover - graphql-core is the graphql extra
    raise ImportError("graphql-core must be installed to use fastframe.graphql") from _import_error

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)
from graphql.execution.values import get_variable_values
from graphql.utilities import get_operation_ast

from fastframe import speedups
from fastframe.background import BackgroundTasks
from fastframe.concurrency import run_in_threadpool
from fastframe.graphql._bridge import iterate_on_asyncio, run_on_asyncio
from fastframe.graphql._graphiql import graphiql_page
from fastframe.graphql._http import (
    EVENT_STREAM,
    GRAPHQL_RESPONSE,
    JSON,
    Params,
    RequestError,
    negotiate,
    params_from_mapping,
    params_from_query_string,
    wants_event_stream,
    wants_html,
)
from fastframe.graphql._limits import check_depth, check_size
from fastframe.requests import Request
from fastframe.responses import HTMLResponse, Response, StreamingResponse
from fastframe.types import Receive, Scope, Send

__all__ = ["GraphQLApp", "PreparedOperation"]

_THREADED = "__fastframe_threaded__"


class PreparedOperation:
    """A parsed, validated document and the operation chosen in it."""

    __slots__ = ("document", "operation")

    def __init__(self, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        self.document = document
        self.operation = operation

    @property
    def kind(self) -> OperationType:
        return self.operation.operation


class OperationErrors(Exception):
    """GraphQL errors raised before execution: parse, validation, limits, operation choice, variables."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(errors)
        self.errors = errors

    def formatted(self) -> list[Any]:
        return [error.formatted for error in self.errors]


def _run_sync_resolvers_in_threadpool(schema: GraphQLSchema) -> None:
    """Wraps each user-written synchronous resolver once so it runs in the thread pool, off the event loop."""
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for field in type_.fields.values():
            resolve = field.resolve
            if resolve is None or getattr(resolve, _THREADED, False) or inspect.iscoroutinefunction(resolve):
                continue
            field.resolve = _threaded(resolve)


def _threaded(resolve: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(resolve)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(resolve, *args, **kwargs)

    setattr(wrapper, _THREADED, True)
    return wrapper


class GraphQLApp:
    """An ASGI app serving one GraphQL schema.

    context_value: a value, or a callable taking the Request (or WebSocket) and returning one (sync or
    async). By default the context is {"request": ..., "background": BackgroundTasks()}; a dict returned
    by the callable gets those two keys too, unless it sets them. Tasks added to "background" run after
    the response is sent.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        root_value: Any = None,
        context_value: Any = None,
        graphiql: bool = True,
        max_depth: int | None = None,
        max_query_size: int | None = None,
        run_sync_resolvers_in_threadpool: bool = True,
        subscriptions: bool = True,
        connection_init_wait_timeout: float = 3.0,
        on_connect: Callable[[Any, dict[str, Any] | None], Any] | None = None,
        document_cache_size: int = 256,
    ) -> None:
        self.schema = schema
        self.root_value = root_value
        self.context_value = context_value
        self.graphiql = graphiql
        self.max_depth = max_depth
        self.max_query_size = max_query_size
        self.subscriptions = subscriptions
        self.connection_init_wait_timeout = connection_init_wait_timeout
        self.on_connect = on_connect
        if run_sync_resolvers_in_threadpool:
            _run_sync_resolvers_in_threadpool(schema)
        # The same query text is sent again and again: parse and validate it once.
        self._document = functools.lru_cache(maxsize=document_cache_size)(self._parse_and_validate)
        self._dumps = speedups.jsonenc.dumps
        self._loads = speedups.jsonenc.loads

    # --- shared by every transport ------------------------------------------------------------

    def _parse_and_validate(self, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
        try:
            document = graphql.parse(query)
        except GraphQLError as error:
            return None, [error]
        errors = graphql.validate(self.schema, document)
        return (None, errors) if errors else (document, [])

    def prepare(self, params: Params) -> PreparedOperation:
        """Everything that can fail before execution; raises OperationErrors."""
        try:
            check_size(params.query, self.max_query_size)
        except GraphQLError as error:
            raise OperationErrors([error])
        document, errors = self._document(params.query)
        if document is None:
            raise OperationErrors(errors)
        operation = get_operation_ast(document, params.operation_name)
        if operation is None:
            if params.operation_name:
                message = f"Unknown operation named '{params.operation_name}'."
            else:
                message = "Must provide operation name if query contains multiple operations."
            raise OperationErrors([GraphQLError(message)])
        try:
            check_depth(document, operation, self.max_depth)
        except GraphQLError as error:
            raise OperationErrors([error])
        if operation.variable_definitions:
            coerced = get_variable_values(self.schema, operation.variable_definitions, params.variables or {})
            if isinstance(coerced, list):
                raise OperationErrors(coerced)
        return PreparedOperation(document, operation)

    async def context_for(self, connection: Any, background: BackgroundTasks) -> Any:
        factory = self.context_value
        if factory is None:
            return {"request": connection, "background": background}
        value = factory(connection) if callable(factory) else factory
        if inspect.isawaitable(value):
            value = await value
        if isinstance(value, dict):
            value.setdefault("request", connection)
            value.setdefault("background", background)
        return value

    async def root_for(self, connection: Any) -> Any:
        root = self.root_value
        if callable(root):
            root = root(connection)
            if inspect.isawaitable(root):
                root = await root
        return root

    async def _call(
        self, function: Callable[..., Any], prepared: PreparedOperation, params: Params, context: Any, root: Any
    ) -> Any:
        """graphql-core's `execute` or `subscribe`, awaited on an asyncio loop whatever the backend."""

        async def run() -> Any:
            outcome = function(
                self.schema,
                prepared.document,
                root_value=root,
                context_value=context,
                variable_values=params.variables,
                operation_name=params.operation_name,
            )
            if inspect.isawaitable(outcome):
                outcome = await outcome
            return outcome

        return await run_on_asyncio(run)

    async def execute(self, prepared: PreparedOperation, params: Params, context: Any, root: Any) -> ExecutionResult:
        result: ExecutionResult = await self._call(graphql.execute, prepared, params, context, root)
        return result

    async def subscribe(
        self, prepared: PreparedOperation, params: Params, context: Any, root: Any
    ) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        """A single result when the event stream could not be created; otherwise the stream."""
        outcome = await self._call(graphql.subscribe, prepared, params, context, root)
        if isinstance(outcome, ExecutionResult):
            return outcome
        return iterate_on_asyncio(outcome)

    async def results(
        self, prepared: PreparedOperation, params: Params, context: Any, root: Any
    ) -> AsyncIterator[ExecutionResult]:
        """One result for a query or mutation; a stream of them for a subscription."""
        if prepared.kind is OperationType.SUBSCRIPTION:
            outcome = await self.subscribe(prepared, params, context, root)
            if isinstance(outcome, ExecutionResult):
                yield outcome
                return
            try:
                async for result in outcome:
                    yield result
            finally:
                await outcome.aclose()  # type: ignore[attr-defined]
        else:
            yield await self.execute(prepared, params, context, root)

    # --- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            response = await self.handle_http(request)
            await response(scope, receive, send)
        elif scope["type"] == "websocket":
            from fastframe.graphql._ws import GraphQLTransportWS
            from fastframe.websockets import WebSocket

            websocket = WebSocket(scope, receive=receive, send=send)
            if not self.subscriptions:
                await websocket.close(code=1000)
                return
            await GraphQLTransportWS(self, websocket).run()

    def _json(self, content: Any, status_code: int, media_type: str, headers: dict[str, str] | None = None) -> Response:
        return Response(self._dumps(content), status_code=status_code, headers=headers, media_type=media_type)

    async def read_params(self, request: Request) -> Params:
        if request.method in ("GET", "HEAD"):
            return params_from_query_string(request.query_params, self._loads)
        if request.method != "POST":
            raise RequestError("GraphQL requests use GET or POST.", 405, {"Allow": "GET, POST"})
        content_type = request.headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        body = await request.body()
        if media == "application/json":
            try:
                data = self._loads(body)
            except ValueError:
                raise RequestError("The request body is not valid JSON.")
            return params_from_mapping(data)
        if media == "application/graphql":
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise RequestError("The request body is not valid UTF-8.")
            return params_from_query_string(request.query_params, self._loads, query=text)
        raise RequestError(
            f"Unsupported content type {media or '(none)'!r}: use application/json or application/graphql.", 415
        )

    async def handle_http(self, request: Request) -> Response:
        accept = request.headers.get("accept")
        if request.method == "GET" and self.graphiql and wants_html(accept) and "query" not in request.query_params:
            return HTMLResponse(graphiql_page())
        event_stream = wants_event_stream(accept)
        media_type = JSON if event_stream else negotiate(accept)
        if media_type is None:
            return self._json(
                {"errors": [{"message": f"Cannot answer with any media type in Accept: {accept}; use {JSON}."}]},
                406,
                JSON,
            )
        try:
            params = await self.read_params(request)
        except RequestError as error:
            return self._json({"errors": [{"message": error.message}]}, error.status_code, media_type, error.headers)

        try:
            prepared = self.prepare(params)
        except OperationErrors as failure:
            # application/json predates status codes for GraphQL errors: it always answers 200.
            status = 400 if media_type == GRAPHQL_RESPONSE or event_stream else 200
            return self._json({"errors": failure.formatted()}, status, media_type)

        if request.method in ("GET", "HEAD") and prepared.kind is not OperationType.QUERY:
            return self._json(
                {"errors": [{"message": f"Only queries can be sent with GET; send {prepared.kind.value}s with POST."}]},
                405,
                media_type,
                {"Allow": "POST"},
            )

        background = BackgroundTasks()
        context = await self.context_for(request, background)
        root = await self.root_for(request)

        if event_stream:
            return StreamingResponse(
                self._event_stream(prepared, params, context, root),
                media_type=EVENT_STREAM,
                headers={"Cache-Control": "no-cache"},
                background=background,
            )
        if prepared.kind is OperationType.SUBSCRIPTION:
            status = 400 if media_type == GRAPHQL_RESPONSE else 200
            message = "Subscriptions need a websocket or Accept: text/event-stream."
            return self._json({"errors": [{"message": message}]}, status, media_type)

        result = await self.execute(prepared, params, context, root)
        response = self._json(result.formatted, 200, media_type)
        # Resolvers add tasks while executing, so only now is it known whether there are any.
        if background.tasks:
            response.background = background
        return response

    async def _event_stream(
        self, prepared: PreparedOperation, params: Params, context: Any, root: Any
    ) -> AsyncIterator[bytes]:
        async for result in self.results(prepared, params, context, root):
            yield b"event: next\ndata: " + self._dumps(result.formatted) + b"\n\n"
        yield b"event: complete\ndata: \n\n"
