from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

from fastframe._utils import is_async_callable
from fastframe.concurrency import run_in_threadpool
from fastframe.exceptions import HTTPException
from fastframe.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from fastframe.requests import Request
    from fastframe.websockets import WebSocket

ExceptionHandlers = Mapping[Any, ExceptionHandler]
StatusHandlers = Mapping[int, ExceptionHandler]

# The same scope key as the reference, so handlers registered by an
# ExceptionMiddleware reach routes regardless of which package built them.
SCOPE_KEY = "starlette.exception_handlers"
_NO_HANDLERS: tuple[ExceptionHandlers, StatusHandlers] = ({}, {})


def _lookup_exception_handler(exc_handlers: ExceptionHandlers, exc: Exception) -> ExceptionHandler | None:
    for cls in type(exc).__mro__:
        handler = exc_handlers.get(cls)
        if handler is not None:
            return handler
    return None


def _find_handler(
    exception_handlers: ExceptionHandlers, status_handlers: StatusHandlers, exc: Exception
) -> ExceptionHandler | None:
    handler = None
    if isinstance(exc, HTTPException) and status_handlers:
        handler = status_handlers.get(exc.status_code)
    if handler is None:
        handler = _lookup_exception_handler(exception_handlers, exc)
    return handler


async def _call_handler(handler: ExceptionHandler, conn: Request | WebSocket, exc: Exception) -> Any:
    if is_async_callable(handler):
        return await handler(conn, exc)  # type: ignore[arg-type]
    return await run_in_threadpool(handler, conn, exc)  # type: ignore[arg-type]


async def handle_exception(
    exc: Exception,
    handlers: tuple[ExceptionHandlers, StatusHandlers],
    conn: Request | WebSocket | None,
    response_started: bool,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Answer `exc` with its registered handler, or re-raise it.

    `conn` may be None: the Request/WebSocket handed to the handler is then only
    built when an exception is actually handled, which keeps the happy path lean.
    """
    handler = _find_handler(handlers[0], handlers[1], exc)
    if handler is None:
        raise exc
    if response_started:
        raise RuntimeError("Caught handled exception, but response already started.") from exc
    if conn is None:
        conn = _make_conn(scope, receive, send)
    response = await _call_handler(handler, conn, exc)
    if response is not None:
        await response(scope, receive, send)


def _make_conn(scope: Scope, receive: Receive, send: Send) -> Request | WebSocket:
    if scope["type"] == "http":
        from fastframe.requests import Request

        return Request(scope, receive, send)
    from fastframe.websockets import WebSocket

    return WebSocket(scope, receive, send)


def wrap_app_handling_exceptions(app: ASGIApp, conn: Request | WebSocket) -> ASGIApp:
    handlers: tuple[ExceptionHandlers, StatusHandlers] = conn.scope.get(SCOPE_KEY, _NO_HANDLERS)

    async def wrapped_app(scope: Scope, receive: Receive, send: Send) -> None:
        response_started = False

        # A plain function returning send's awaitable: one coroutine frame less per message.
        def sender(message: Message) -> Awaitable[None]:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            return send(message)

        try:
            await app(scope, receive, sender)
        except Exception as exc:
            await handle_exception(exc, handlers, conn, response_started, scope, receive, send)

    return wrapped_app
