"""A synchronous test client for ASGI apps: an httpx Client whose transport is the app itself.

The test talks from its own thread; the app runs on an event loop in another, reached through
an anyio BlockingPortal. Inside ``with client:`` one portal serves everything, with the app's
lifespan running beside the requests; outside, every request and websocket session starts a
portal of its own and stops it when it is done with.

What the app sends reaches the test one message at a time: the app's ``send()`` returns once the
test has taken the message, so a streamed body arrives as the app produces it, and the app
never runs more than one message ahead of the reader. A response whose last part the test has
taken is complete: closing it then waits for the app to finish (its background tasks included);
closing it earlier, or closing the client, cancels the app.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import math
import warnings
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Literal, Self, TypedDict
from urllib.parse import unquote, urljoin

import anyio
import anyio.abc
import anyio.from_thread

from fastframe.exceptions import StarletteDeprecationWarning
from fastframe.types import ASGIApp, Message, Receive, Scope, Send
from fastframe.websockets import WebSocketDisconnect

try:
    import httpx2 as httpx
except ModuleNotFoundError:  # pragma: no cover - depends on what is installed
    import httpx  # type: ignore[no-redef]

__all__ = ["TestClient", "WebSocketDenialResponse", "WebSocketTestSession"]

ASGIInstance = Callable[[Receive, Send], Awaitable[None]]
ASGI2App = Callable[[Scope], ASGIInstance]
ASGI3App = Callable[[Scope, Receive, Send], Awaitable[None]]

_PortalFactoryType = Callable[[], contextlib.AbstractContextManager[anyio.from_thread.BlockingPortal]]

_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
_TIMEOUT_WARNING = (
    "You should not use the 'timeout' argument with the TestClient. "
    "See https://github.com/Kludex/starlette/issues/1108 for more information."
)
# The reference fails with this when the app ends its lifespan without answering (it reads a
# reply that is not there); the same inputs raise the same error here.
_NO_REPLY = "'NoneType' object is not subscriptable"


class _AsyncBackend(TypedDict):
    backend: str
    backend_options: dict[str, Any]


# --- ASGI 2 apps --------------------------------------------------------------------------------


def _speaks_asgi3(app: Any) -> bool:
    """ASGI 3 apps are awaited with (scope, receive, send); ASGI 2 apps are called with the scope first."""
    if inspect.isclass(app):
        # Calling an ASGI 3 class with the three arguments makes an instance, which must be awaitable.
        return hasattr(app, "__await__")
    while isinstance(app, functools.partial):
        app = app.func
    return inspect.iscoroutinefunction(app) or (callable(app) and inspect.iscoroutinefunction(app.__call__))


class _WrapASGI2:
    """An ASGI 2 app (scope -> instance of (receive, send)) seen as an ASGI 3 one."""

    def __init__(self, app: ASGI2App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope)(receive, send)


# --- HTTP ---------------------------------------------------------------------------------------


class _Exchange:
    """One HTTP request served by the app in the portal's loop.

    The app's messages are checked against the ASGI response protocol (a message out of turn
    raises AssertionError in the app, as the reference's does) and handed to the test through a
    channel without a buffer. Everything here but __init__ runs on the portal's loop.
    """

    def __init__(self, app: ASGI3App, scope: Scope, body: bytes) -> None:
        self.app = app
        self.scope = scope
        self.request_body: bytes | None = body
        self.outbox, self.inbox = anyio.create_memory_object_stream[tuple[Any, ...]](0)
        self.debug: Any = None  # the latest http.response.debug info seen before the start
        self.started = False
        self.trailers = False  # declared in the start message
        self.body_done = False
        self.complete = False  # the app has sent the last part of the response
        self.finished = False  # the app has returned or raised
        self.error: Exception | None = None
        self.reported = False  # the error has been raised in the test
        self._completion: anyio.Event | None = None
        self._scope: anyio.CancelScope | None = None

    def _completion_event(self) -> anyio.Event:
        # Made on first use, on the loop: the test's thread has no event loop to make it in.
        if self._completion is None:
            self._completion = anyio.Event()
        return self._completion

    async def run(self, *, task_status: anyio.abc.TaskStatus[Any] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve the request; started (BlockingPortal.start_task) with the response's start: its
        status, headers and debug info, or None when the app finishes without one."""
        async with anyio.create_task_group() as group:
            self._scope = group.cancel_scope
            group.start_soon(self._serve)
            # Reported from this task: the app may send its start from any task of its own.
            start = await self.next_event()
            task_status.started(None if start is None else start[1])

    async def _serve(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception as exc:
            self.error = exc
        finally:
            self.finished = True
            self.outbox.close()

    async def receive(self) -> Message:
        if self.request_body is not None:
            body, self.request_body = self.request_body, None
            return {"type": "http.request", "body": body}
        # A client stays connected until it has the whole response.
        await self._completion_event().wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.started:
                raise AssertionError('Received multiple "http.response.start" messages.')
            self.started = True
            self.trailers = message.get("trailers", False)
            await self.outbox.send(("start", (message["status"], message.get("headers", []), self.debug), False))
        elif kind == "http.response.body":
            if not self.started:
                raise AssertionError('Received "http.response.body" without "http.response.start".')
            if self.complete:
                raise AssertionError('Received "http.response.body" after response completed.')
            if self.body_done:
                raise AssertionError('Received "http.response.body" after body completed.')
            self.body_done = not message.get("more_body", False)
            self.complete = self.body_done and not self.trailers
            # A copy: the app may reuse its buffer once send() returns.
            await self._hand_over("body", bytes(message.get("body", b"")))
        elif kind == "http.response.trailers":
            if not self.trailers:
                raise AssertionError('Received "http.response.trailers" without declaring trailers.')
            if self.complete:
                raise AssertionError('Received "http.response.trailers" after response completed.')
            if not self.body_done:
                raise AssertionError('Received "http.response.trailers" before body completed.')
            self.complete = not message.get("more_trailers", False)
            await self._hand_over("trailers", message.get("headers", []))
        elif kind == "http.response.debug":
            info = message["info"]
            if not self.started:
                self.debug = info
            elif not self.complete:
                await self.outbox.send(("debug", info, False))

    async def _hand_over(self, kind: str, payload: Any) -> None:
        """Pass a part of the response to the test; the last part completes the response."""
        last = self.complete
        await self.outbox.send((kind, payload, last))
        if last:
            # Only now, with the whole response in the test's hands, does the client "disconnect".
            self._completion_event().set()

    async def next_event(self) -> tuple[Any, ...] | None:
        """What the app sent next; None once it has finished."""
        try:
            return await self.inbox.receive()
        except anyio.EndOfStream:
            self.inbox.close()
            return None

    async def stop(self, cancel: bool) -> None:
        """Wait for the app to finish, cancelling it first if asked."""
        if cancel and self._scope is not None:
            self._scope.cancel()
        # Draining also unblocks an app waiting to hand over a message.
        with self.inbox:
            async for _ in self.inbox:
                pass


class _ResponseBody(httpx.SyncByteStream):
    """The body of a response, pulled from the app through the portal as httpx reads it."""

    def __init__(
        self,
        exchange: _Exchange,
        transport: _TestClientTransport,
        stack: contextlib.ExitStack,
        portal: anyio.from_thread.BlockingPortal,
        head: bool,
    ) -> None:
        self.exchange = exchange
        self.transport = transport
        self.stack = stack  # holds the portal, when it is the request's own
        self.portal = portal
        self.raise_errors = transport.raise_server_exceptions
        self.head = head
        self.response: httpx.Response | None = None
        self.whole = False  # the test holds the last part of the response
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        exchange = self.exchange
        while (event := self.portal.call(exchange.next_event)) is not None:
            kind, payload, last = event
            self.whole = self.whole or last
            if kind == "body":
                if payload and not self.head:
                    yield payload
            elif kind == "trailers":
                assert self.response is not None
                self.response.extensions["http.response.trailers"].extend(payload)
            else:
                assert self.response is not None
                _note_debug(self.response, payload)
        self.raise_error()

    def raise_error(self) -> None:
        exchange = self.exchange
        if exchange.error is not None and self.raise_errors and not exchange.reported:
            exchange.reported = True
            raise exchange.error

    def close(self, cancel: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        exchange = self.exchange
        try:
            if not exchange.finished:
                # Once the test holds the whole response the app may still be at work (background
                # tasks): that is waited for. An unfinished response is abandoned: the app is cancelled.
                self.portal.call(exchange.stop, cancel or not self.whole)
            if not cancel:
                self.raise_error()
        finally:
            self.transport.open_bodies.discard(self)
            self.stack.close()


def _note_debug(response: httpx.Response, info: Any) -> None:
    """Attach an http.response.debug message's info (templates use it) to the response."""
    response.extensions["http.response.debug"] = info
    for name in ("template", "context"):
        if name in info:
            setattr(response, name, info[name])


class _TestClientTransport(httpx.BaseTransport):
    def __init__(
        self,
        app: ASGI3App,
        portal_factory: _PortalFactoryType,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        *,
        client: tuple[str, int],
        app_state: dict[str, Any],
    ) -> None:
        self.app = app
        self.portal_factory = portal_factory
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client = client
        self.app_state = app_state
        self.open_bodies: set[_ResponseBody] = set()

    def _scope(self, request: httpx.Request, websocket: bool) -> dict[str, Any]:
        url = request.url
        raw_path = url.raw_path.partition(b"?")[0]
        # The keys in the order the reference gives them (apps may list them).
        scope: dict[str, Any] = {"type": "websocket"} if websocket else {"type": "http", "http_version": "1.1"}
        if not websocket:
            scope["method"] = request.method
        scope["path"] = unquote(raw_path.decode("ascii"))
        scope["raw_path"] = raw_path
        scope["root_path"] = self.root_path
        scope["scheme"] = url.scheme
        scope["query_string"] = url.query
        scope["headers"] = [(name.lower(), value) for name, value in request.headers.raw]
        scope["client"] = self.client
        scope["server"] = [url.host, url.port or _DEFAULT_PORTS[url.scheme]]
        if websocket:
            offered = request.headers.get("sec-websocket-protocol")
            scope["subprotocols"] = [] if offered is None else [part.strip() for part in offered.split(",")]
            scope["state"] = self.app_state.copy()
            scope["extensions"] = {"websocket.http.response": {}}
        else:
            scope["extensions"] = {"http.response.debug": {}, "http.response.trailers": {}}
            scope["state"] = self.app_state.copy()
        return scope

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme in ("ws", "wss"):
            raise _Upgrade(WebSocketTestSession(self.app, self._scope(request, websocket=True), self.portal_factory))
        exchange = _Exchange(self.app, self._scope(request, websocket=False), request.read())
        stack = contextlib.ExitStack()
        portal = stack.enter_context(self.portal_factory())
        try:
            start = portal.start_task(exchange.run)[1]
        except BaseException:
            stack.close()
            raise
        if start is None:
            # The app finished without starting a response.
            stack.close()
            return self._without_response(request, exchange)
        status, headers, debug = start
        body = _ResponseBody(exchange, self, stack, portal, head=request.method == "HEAD")
        extensions: dict[str, Any] = {"http.response.trailers": []} if exchange.trailers else {}
        response = httpx.Response(status, headers=headers, stream=body, request=request, extensions=extensions)
        body.response = response
        if debug is not None:
            _note_debug(response, debug)
        self.open_bodies.add(body)
        return response

    def _without_response(self, request: httpx.Request, exchange: _Exchange) -> httpx.Response:
        if self.raise_server_exceptions:
            if exchange.error is not None:
                raise exchange.error
            raise AssertionError("TestClient did not receive any response.")
        response = httpx.Response(500, headers=[], content=b"", request=request)
        if exchange.debug is not None:
            _note_debug(response, exchange.debug)
        return response

    def cancel_open_responses(self) -> None:
        """Cancel the apps behind the responses nobody has closed."""
        for body in list(self.open_bodies):
            body.close(cancel=True)

    def close(self) -> None:
        self.cancel_open_responses()


class _Upgrade(Exception):
    """How the transport hands a websocket session back to websocket_connect."""

    def __init__(self, session: WebSocketTestSession) -> None:
        self.session = session


# --- WebSocket ----------------------------------------------------------------------------------


class WebSocketDenialResponse(  # type: ignore[misc]
    httpx.Response,
    WebSocketDisconnect,
):
    """The HTTP response an app sent instead of accepting a websocket handshake."""


class _AppEnded:
    """What a session's channel carries once the app has finished; `error` is what it raised."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error


# How many turns of the loop an app gets, after its session ends, to act on the last message.
_SETTLE_TURNS = 100

# fastframe's answer where the app returned without closing the session (the reference waits
# forever): an abnormal closure, as a server would report it.
_ABNORMAL_CLOSE = {"type": "websocket.close", "code": 1006, "reason": ""}


class _Conversation:
    """A websocket session as the app lives it, on the portal's loop.

    Messages go both ways through unbounded channels, so neither side waits for the other to
    read. The app's first message (or its end) is what starting the conversation waits for.
    """

    def __init__(self, app: ASGI3App, scope: Scope) -> None:
        self.app = app
        self.scope = scope
        self.to_app, self.app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        self.from_app, self.inbox = anyio.create_memory_object_stream[Any](math.inf)
        self.ended: _AppEnded | None = None  # once the test has seen the app finish
        self.finished = False
        self.app_waiting = False  # the app is inside receive()
        self.sent = self.taken = 0  # messages for the app, and those it has read
        self._scope: anyio.CancelScope | None = None

    async def run(self, *, task_status: anyio.abc.TaskStatus[Any] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve the session; started (BlockingPortal.start_task) with the app's first message."""
        async with anyio.create_task_group() as group:
            self._scope = group.cancel_scope
            self.deliver({"type": "websocket.connect"})
            group.start_soon(self._serve)
            task_status.started(await self.take())

    async def _serve(self) -> None:
        error = None
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception as exc:
            error = exc
        finally:
            self.finished = True
            self.from_app.send_nowait(_AppEnded(error))
            self.from_app.close()

    async def send(self, message: Message) -> None:
        self.from_app.send_nowait(message)

    async def receive(self) -> Message:
        self.app_waiting = True
        try:
            message = await self.app_inbox.receive()
        finally:
            self.app_waiting = False
        self.taken += 1
        return message

    def deliver(self, message: Message) -> None:
        self.sent += 1
        self.to_app.send_nowait(message)

    async def take(self) -> Any:
        """The app's next message, or how it ended (again and again, once it has)."""
        if self.ended is None:
            item = await self.inbox.receive()
            if not isinstance(item, _AppEnded):
                return item
            self.ended = item
        return self.ended

    async def settle(self, farewell: Message | None) -> _AppEnded | None:
        """Deliver the test's last message, let the app act on it, then cancel what is left of it."""
        if farewell is not None:
            self.deliver(farewell)
        # The app may return, or come back for a message that will not come: either ends the wait.
        # Anything else (a sleep, a slow call) is cut short after a bounded number of loop turns.
        for _ in range(_SETTLE_TURNS):
            if self.finished or (self.app_waiting and self.taken == self.sent):
                break
            await anyio.sleep(0)
        if self._scope is not None:
            self._scope.cancel()
        with self.inbox, self.to_app, self.app_inbox:
            async for item in self.inbox:
                if isinstance(item, _AppEnded):
                    self.ended = item
        return self.ended


class WebSocketTestSession:
    def __init__(self, app: ASGI3App, scope: Scope, portal_factory: _PortalFactoryType) -> None:
        self.app = app
        self.scope = scope
        self.accepted_subprotocol: str | None = None
        self.portal_factory = portal_factory
        self.extra_headers: list[tuple[bytes, bytes]] | None = None

    def __enter__(self) -> Self:
        self.exit_stack = contextlib.ExitStack()
        self.portal = self.exit_stack.enter_context(self.portal_factory())
        self._conversation = _Conversation(self.app, self.scope)
        self._reported = False  # the app's error has been raised in the test
        try:
            handshake = self._interpret(self.portal.start_task(self._conversation.run)[1])
            self._raise_on_close(handshake)
        except BaseException:
            self._wind_down(None)
            raise
        self.accepted_subprotocol = handshake.get("subprotocol", None)
        self.extra_headers = handshake.get("headers", None)
        return self

    def __exit__(self, *args: Any) -> bool | None:
        self._wind_down({"type": "websocket.disconnect", "code": 1000, "reason": None})
        return None

    def _wind_down(self, farewell: Message | None) -> None:
        try:
            ended = self.portal.call(self._conversation.settle, farewell)
        finally:
            self.exit_stack.close()
        if ended is not None and ended.error is not None and not self._reported:
            self._reported = True
            raise ended.error

    def _interpret(self, item: Any) -> Message:
        if not isinstance(item, _AppEnded):
            return item  # type: ignore[no-any-return]
        self._conversation.ended = item
        if item.error is not None:
            self._reported = True
            raise item.error
        return dict(_ABNORMAL_CLOSE)

    def _raise_on_close(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.close":
            raise WebSocketDisconnect(code=message.get("code", 1000), reason=message.get("reason", ""))
        if kind == "websocket.http.response.start":
            status, headers = message["status"], message.get("headers", [])
            parts = []
            while True:
                part = self.receive()
                parts.append(part.get("body", b""))
                if not part.get("more_body", False):
                    break
            raise WebSocketDenialResponse(status_code=status, headers=headers, content=b"".join(parts))

    def send(self, message: Message) -> None:
        self.portal.call(self._conversation.deliver, message)

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            self.send_text(encoded)
        else:
            self.send_bytes(encoded.encode("utf-8"))

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    def receive(self) -> Message:
        return self._interpret(self.portal.call(self._conversation.take))

    def receive_text(self) -> str:
        message = self.receive()
        self._raise_on_close(message)
        return message["text"]  # type: ignore[no-any-return]

    def receive_bytes(self) -> bytes:
        message = self.receive()
        self._raise_on_close(message)
        return message["bytes"]  # type: ignore[no-any-return]

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        message = self.receive()
        self._raise_on_close(message)
        return json.loads(message["text"] if mode == "text" else message["bytes"].decode("utf-8"))


# --- the client ---------------------------------------------------------------------------------


class TestClient(httpx.Client):
    __test__ = False
    portal: anyio.from_thread.BlockingPortal | None = None

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: Literal["asyncio", "trio"] = "asyncio",
        backend_options: dict[str, Any] | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.async_backend = _AsyncBackend(backend=backend, backend_options=backend_options or {})
        self.app: ASGI3App = app if _speaks_asgi3(app) else _WrapASGI2(app)  # type: ignore[arg-type,assignment]
        self.app_state: dict[str, Any] = {}
        self._app_transport = transport = _TestClientTransport(
            self.app,
            portal_factory=self._portal_factory,
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            client=client,
            app_state=self.app_state,
        )
        default_headers = {} if headers is None else headers
        default_headers.setdefault("user-agent", "testclient")
        super().__init__(
            base_url=base_url,
            headers=default_headers,
            transport=transport,
            follow_redirects=follow_redirects,
            cookies=cookies,
        )

    def _portal_factory(self) -> contextlib.AbstractContextManager[anyio.from_thread.BlockingPortal]:
        """The client's portal inside ``with client:``; otherwise a new one, stopped on exit."""
        if self.portal is None:
            return anyio.from_thread.start_blocking_portal(**self.async_backend)
        return contextlib.nullcontext(self.portal)

    def request(  # type: ignore[override]
        self,
        method: str,
        url: httpx._types.URLTypes,
        *,
        content: httpx._types.RequestContent | None = None,
        data: Any = None,
        files: httpx._types.RequestFiles | None = None,
        json: Any = None,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | httpx._client.UseClientDefault = httpx._client.USE_CLIENT_DEFAULT,
        follow_redirects: bool | httpx._client.UseClientDefault = httpx._client.USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | httpx._client.UseClientDefault = httpx._client.USE_CLIENT_DEFAULT,
        extensions: dict[str, Any] | None = None,
    ) -> httpx.Response:
        if timeout is not httpx._client.USE_CLIENT_DEFAULT:
            warnings.warn(_TIMEOUT_WARNING, StarletteDeprecationWarning, stacklevel=2)
        return super().request(
            method,
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> WebSocketTestSession:
        handshake = {"connection": "upgrade", "sec-websocket-key": "testserver==", "sec-websocket-version": "13"}
        if subprotocols is not None:
            handshake["sec-websocket-protocol"] = ", ".join(subprotocols)
        # The caller's dict gains the handshake headers it lacks, as with the reference.
        headers = kwargs.setdefault("headers", {})
        for name, value in handshake.items():
            headers.setdefault(name, value)
        try:
            super().request("GET", urljoin("ws://testserver", url), **kwargs)
        except _Upgrade as upgrade:
            return upgrade.session
        raise RuntimeError("Expected WebSocket upgrade")

    # --- lifespan: ``with client:`` -------------------------------------------------------------

    def __enter__(self) -> Self:
        with contextlib.ExitStack() as stack:
            self.portal = portal = stack.enter_context(anyio.from_thread.start_blocking_portal(**self.async_backend))
            stack.callback(setattr, self, "portal", None)
            self._to_lifespan, self._lifespan_inbox = anyio.create_memory_object_stream[Message](math.inf)
            self._from_lifespan, self._lifespan_replies = anyio.create_memory_object_stream[Message](math.inf)
            self._lifespan_error: Exception | None = None
            self._startup_failed = False
            portal.start_task_soon(self.lifespan)
            portal.call(self.wait_startup)
            stack.callback(self._leave, portal)
            self._lifespan_stack = stack.pop_all()
        return self

    def __exit__(self, *args: Any) -> None:
        self._lifespan_stack.close()

    def _leave(self, portal: anyio.from_thread.BlockingPortal) -> None:
        # Responses still open are cancelled before the app is told to shut down.
        self._app_transport.cancel_open_responses()
        portal.call(self.wait_shutdown)

    async def lifespan(self) -> None:
        """Run the app with a lifespan scope, for as long as the client is entered."""
        scope = {"type": "lifespan", "state": self.app_state}
        try:
            await self.app(scope, self._lifespan_inbox.receive, self._from_lifespan.send)
        except Exception as exc:
            self._lifespan_error = exc
        finally:
            self._from_lifespan.close()

    async def _lifespan_reply(self, *expected: str) -> Message:
        """The app's answer, which must be one of `expected`."""
        try:
            reply = await self._lifespan_replies.receive()
        except anyio.EndOfStream:
            reply = None
        if reply is None:
            # The app has returned (or raised) without answering.
            error = await self._lifespan_ended()
            raise TypeError(_NO_REPLY) if error is None else error
        if reply["type"] not in expected:
            self._close_lifespan_channels()
            raise AssertionError()
        return reply

    async def _lifespan_ended(self) -> Exception | None:
        """Wait for the app's lifespan to return; what it raised, if anything."""
        async for _ in self._lifespan_replies:
            pass
        self._close_lifespan_channels()
        return self._lifespan_error

    def _close_lifespan_channels(self) -> None:
        for channel in (self._to_lifespan, self._lifespan_inbox, self._from_lifespan, self._lifespan_replies):
            channel.close()

    async def wait_startup(self) -> None:
        await self._to_lifespan.send({"type": "lifespan.startup"})
        reply = await self._lifespan_reply("lifespan.startup.complete", "lifespan.startup.failed")
        if reply["type"] == "lifespan.startup.failed":
            # The block is still entered unless the app goes on to raise.
            self._startup_failed = True
            error = await self._lifespan_ended()
            if error is not None:
                raise error

    async def wait_shutdown(self) -> None:
        if self._startup_failed:
            return  # the app has finished already (the reference would wait for it forever)
        await self._to_lifespan.send({"type": "lifespan.shutdown"})
        reply = await self._lifespan_reply("lifespan.shutdown.complete", "lifespan.shutdown.failed")
        error = await self._lifespan_ended()
        if reply["type"] == "lifespan.shutdown.failed" and error is not None:
            raise error
