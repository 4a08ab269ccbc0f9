from __future__ import annotations

import contextlib
import inspect
import json
import math
import queue
import warnings
from collections.abc import Awaitable, Callable, Generator, Iterator, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Literal, Self, TypedDict, TypeGuard, cast
from urllib.parse import urljoin

import anyio
import anyio.abc
import anyio.from_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from fastframe._utils import is_async_callable
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


def _is_asgi3(app: ASGI2App | ASGI3App) -> TypeGuard[ASGI3App]:
    if inspect.isclass(app):
        return hasattr(app, "__await__")
    return is_async_callable(app)


class _WrapASGI2:
    """Presents an ASGI 2 (double-callable) application as an ASGI 3 one."""

    def __init__(self, app: ASGI2App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        instance = self.app(scope)
        await instance(receive, send)


class _AsyncBackend(TypedDict):
    backend: str
    backend_options: dict[str, Any]


# Queued after an app that returned normally, so a client still waiting for a
# message is told the connection is gone instead of blocking forever.
_APP_RETURNED: Message = {"type": "websocket.close", "code": 1006, "reason": ""}


class _Upgrade(Exception):
    def __init__(self, session: WebSocketTestSession) -> None:
        self.session = session


class WebSocketDenialResponse(  # type: ignore[misc]
    httpx.Response,
    WebSocketDisconnect,
):
    """A denial of the websocket handshake, sent by the application as an HTTP response."""


class WebSocketTestSession:
    def __init__(self, app: ASGI3App, scope: Scope, portal_factory: _PortalFactoryType) -> None:
        self.app = app
        self.scope = scope
        self.accepted_subprotocol: str | None = None
        self.portal_factory = portal_factory
        self.extra_headers: Any = None
        # Messages from the client to the app are handed over inside the event loop;
        # messages from the app to the client cross threads through a blocking queue.
        self._to_app: MemoryObjectSendStream[Message] | None = None
        self._from_client: MemoryObjectReceiveStream[Message] | None = None
        self._send_queue: queue.Queue[Message | BaseException] = queue.Queue()

    def __enter__(self) -> Self:
        with contextlib.ExitStack() as stack:
            self.portal = portal = stack.enter_context(self.portal_factory())
            stack.callback(self._close_streams)
            fut, cs = portal.start_task(self._run)
            stack.callback(fut.result)
            stack.callback(portal.call, cs.cancel)
            self.send({"type": "websocket.connect"})
            message = self.receive()
            self._raise_on_close(message)
            self.accepted_subprotocol = message.get("subprotocol", None)
            self.extra_headers = message.get("headers", None)
            stack.callback(self.close, 1000)
            self.exit_stack = stack.pop_all()
            return self

    def __exit__(self, *args: Any) -> bool | None:
        try:
            self.exit_stack.close()
        finally:
            while not self._send_queue.empty():
                message = self._send_queue.get()
                if isinstance(message, BaseException):
                    raise message
        return None

    def _close_streams(self) -> None:
        # runs once the app task is over, so nothing else touches the streams
        if self._to_app is not None and self._from_client is not None:
            self._to_app.close()
            self._from_client.close()

    async def _run(self, *, task_status: anyio.abc.TaskStatus[anyio.CancelScope]) -> None:
        to_app, from_client = anyio.create_memory_object_stream[Message](math.inf)
        self._to_app, self._from_client = to_app, from_client

        async def receive() -> Message:
            return await from_client.receive()

        async def send(message: Message) -> None:
            self._send_queue.put(message)

        with anyio.CancelScope() as cs:
            task_status.started(cs)
            try:
                await self.app(self.scope, receive, send)
            except anyio.get_cancelled_exc_class():
                if cs.cancel_called:
                    raise
                self._send_queue.put(anyio.get_cancelled_exc_class()())
            except BaseException as exc:
                self._send_queue.put(exc)
            else:
                self._send_queue.put(dict(_APP_RETURNED))

    def _raise_on_close(self, message: Message) -> None:
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(code=message.get("code", 1000), reason=message.get("reason", ""))
        elif message["type"] == "websocket.http.response.start":
            status_code: int = message["status"]
            headers: list[tuple[bytes, bytes]] = message["headers"]
            body: list[bytes] = []
            while True:
                message = self.receive()
                assert message["type"] == "websocket.http.response.body"
                body.append(message["body"])
                if not message.get("more_body", False):
                    break
            raise WebSocketDenialResponse(status_code=status_code, headers=headers, content=b"".join(body))

    def send(self, message: Message) -> None:
        to_app = self._to_app
        assert to_app is not None
        self.portal.call(to_app.send, message)

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            self.send({"type": "websocket.receive", "text": text})
        else:
            self.send({"type": "websocket.receive", "bytes": text.encode("utf-8")})

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    def receive(self) -> Message:
        message = self._send_queue.get()
        if isinstance(message, BaseException):
            raise message
        return message

    def receive_text(self) -> str:
        message = self.receive()
        self._raise_on_close(message)
        return cast(str, message["text"])

    def receive_bytes(self) -> bytes:
        message = self.receive()
        self._raise_on_close(message)
        return cast(bytes, message["bytes"])

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        message = self.receive()
        self._raise_on_close(message)
        if mode == "text":
            text = message["text"]
        else:
            text = message["bytes"].decode("utf-8")
        return json.loads(text)


class _HTTPExchange:
    """One request/response cycle, run as a task in the portal's event loop.

    The app's messages are handed to the client thread through a zero-size stream,
    so a streaming body is delivered chunk by chunk with back-pressure.
    """

    def __init__(self, app: ASGI3App, scope: Scope, body: bytes) -> None:
        self.app = app
        self.scope = scope
        self.body = body
        self.error: BaseException | None = None
        self._request_sent = False

    async def run(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        out_send, self._out = anyio.create_memory_object_stream[Message](0)
        self._response_complete = anyio.Event()
        self._done = anyio.Event()
        with anyio.CancelScope() as self._cancel_scope:
            task_status.started()
            try:
                await self.app(self.scope, self._receive, self._make_send(out_send))
            except anyio.get_cancelled_exc_class():
                if self._cancel_scope.cancel_called:
                    raise
                self.error = anyio.get_cancelled_exc_class()()
            except BaseException as exc:
                self.error = exc
            finally:
                out_send.close()
                self._done.set()

    def _make_send(self, out_send: MemoryObjectSendStream[Message]) -> Send:
        response_complete = self._response_complete
        started = body_complete = trailers_expected = False

        async def send(message: Message) -> None:
            # Protocol violations are raised inside the app, as a server would.
            nonlocal started, body_complete, trailers_expected
            kind = message["type"]
            final = False
            if kind == "http.response.start":
                if started:
                    raise AssertionError('Received multiple "http.response.start" messages.')
                started = True
                trailers_expected = bool(message.get("trailers", False))
            elif kind == "http.response.body":
                if not started:
                    raise AssertionError('Received "http.response.body" without "http.response.start".')
                if response_complete.is_set():
                    raise AssertionError('Received "http.response.body" after response completed.')
                if body_complete:
                    raise AssertionError('Received "http.response.body" after body completed.')
                if not message.get("more_body", False):
                    body_complete = True
                    final = not trailers_expected
            elif kind == "http.response.trailers":
                if not trailers_expected:
                    raise AssertionError('Received "http.response.trailers" without declaring trailers.')
                if response_complete.is_set():
                    raise AssertionError('Received "http.response.trailers" after response completed.')
                if not body_complete:
                    raise AssertionError('Received "http.response.trailers" before body completed.')
                final = not message.get("more_trailers", False)
            elif kind != "http.response.debug":
                return
            await out_send.send(message)
            # only after the client holds the final message: apps that watch for
            # http.disconnect would otherwise cancel their own last send
            if final:
                response_complete.set()

        return send

    async def _receive(self) -> Message:
        if self._request_sent:
            await self._response_complete.wait()
            return {"type": "http.disconnect"}
        self._request_sent = True
        return {"type": "http.request", "body": self.body}

    async def next_message(self) -> Message | None:
        try:
            return await self._out.receive()
        except anyio.EndOfStream:
            self._out.close()
            return None

    async def cancel(self) -> None:
        self._cancel_scope.cancel()
        await self._done.wait()
        self._out.close()


class _TestClientResponseStream(httpx.SyncByteStream):
    def __init__(self, body: Generator[bytes, None, None], exit_stack: contextlib.ExitStack) -> None:
        self._body = body
        self._exit_stack = exit_stack

    def __iter__(self) -> Iterator[bytes]:
        yield from self._body

    def close(self) -> None:
        try:
            self._body.close()
        finally:
            self._exit_stack.close()


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
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.portal_factory = portal_factory
        self.app_state = app_state
        self.client = client
        self._open_requests: set[_TestClientResponseStream] = set()

    def close(self) -> None:
        for stream in list(self._open_requests):
            stream.close()

    def _base_scope(self, request: httpx.Request) -> dict[str, Any]:
        url = request.url
        scheme = url.scheme
        port = url.port
        if port is None:
            port = _DEFAULT_PORTS[scheme]
        return {
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "root_path": self.root_path,
            "scheme": scheme,
            "query_string": url.query,
            "headers": [(key.lower(), value) for key, value in request.headers.raw],
            "client": self.client,
            "server": [url.host, port],
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        base = self._base_scope(request)
        scope: dict[str, Any]
        if base["scheme"] in ("ws", "wss"):
            value = request.headers.get("sec-websocket-protocol", None)
            subprotocols = [] if value is None else [v.strip() for v in value.split(",")]
            scope = {
                "type": "websocket",
                **base,
                "subprotocols": subprotocols,
                "state": self.app_state.copy(),
                "extensions": {"websocket.http.response": {}},
            }
            raise _Upgrade(WebSocketTestSession(self.app, scope, self.portal_factory))

        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": request.method,
            **base,
            "extensions": {"http.response.debug": {}, "http.response.trailers": {}},
            "state": self.app_state.copy(),
        }
        # order the keys as the reference does: http_version and method come before path
        exchange = _HTTPExchange(self.app, scope, request.read())
        stack = contextlib.ExitStack()
        try:
            portal = stack.enter_context(self.portal_factory())
            portal.start_task(exchange.run)
            return self._build_response(request, exchange, portal, stack)
        except BaseException:
            stack.close()
            raise

    def _build_response(
        self,
        request: httpx.Request,
        exchange: _HTTPExchange,
        portal: anyio.from_thread.BlockingPortal,
        stack: contextlib.ExitStack,
    ) -> httpx.Response:
        extensions: dict[str, Any] = {}
        while True:
            message = portal.call(exchange.next_message)
            if message is None:
                stack.close()
                if self.raise_server_exceptions:
                    if exchange.error is not None:
                        raise exchange.error
                    raise AssertionError("TestClient did not receive any response.")
                response = httpx.Response(500, headers=[], content=b"", request=request, extensions=extensions)
                _set_debug_attributes(response)
                return response
            kind = message["type"]
            if kind == "http.response.start":
                break
            if kind == "http.response.debug":
                extensions["http.response.debug"] = message["info"]

        if message.get("trailers", False):
            extensions["http.response.trailers"] = []
        finished = False
        include_body = request.method != "HEAD"

        def body() -> Generator[bytes, None, None]:
            nonlocal finished
            while True:
                msg = portal.call(exchange.next_message)
                if msg is None:
                    break
                kind = msg["type"]
                if kind == "http.response.body":
                    chunk = msg.get("body", b"")
                    if chunk and include_body:
                        yield chunk
                elif kind == "http.response.trailers":
                    response.extensions["http.response.trailers"].extend(msg.get("headers", []))
                elif kind == "http.response.debug":
                    response.extensions["http.response.debug"] = msg["info"]
                    _set_debug_attributes(response)
            finished = True
            if exchange.error is not None and self.raise_server_exceptions:
                raise exchange.error

        @stack.callback
        def cancel_unfinished() -> None:
            # a body left unread (or closed early) must not keep the app blocked on send
            if not finished:
                portal.call(exchange.cancel)

        stream = _TestClientResponseStream(body(), stack)
        self._open_requests.add(stream)
        stack.callback(self._open_requests.discard, stream)
        # raw header bytes go straight to httpx, which decodes them lazily and
        # tolerates non-ASCII values
        response = httpx.Response(
            status_code=message["status"],
            headers=list(message.get("headers", [])),
            stream=stream,
            request=request,
            extensions=extensions,
        )
        _set_debug_attributes(response)
        return response


def _set_debug_attributes(response: httpx.Response) -> None:
    info = response.extensions.get("http.response.debug")
    if info is not None:
        response.template = info["template"]  # type: ignore[attr-defined]
        response.context = info["context"]  # type: ignore[attr-defined]


class TestClient(httpx.Client):
    __test__ = False
    task: Future[None]
    portal: anyio.from_thread.BlockingPortal | None = None

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: Literal["asyncio", "trio"] = "asyncio",
        backend_options: dict[str, Any] | None = None,
        cookies: Any = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.async_backend = _AsyncBackend(backend=backend, backend_options=backend_options or {})
        if _is_asgi3(app):
            asgi_app: ASGI3App = app
        else:
            asgi_app = _WrapASGI2(cast(ASGI2App, app))
        self.app = asgi_app
        self.app_state: dict[str, Any] = {}
        transport = _TestClientTransport(
            self.app,
            portal_factory=self._portal_factory,
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            app_state=self.app_state,
            client=client,
        )
        if headers is None:
            headers = {}
        headers.setdefault("user-agent", "testclient")
        super().__init__(
            base_url=base_url,
            headers=headers,
            transport=transport,
            follow_redirects=follow_redirects,
            cookies=cookies,
        )

    @contextlib.contextmanager
    def _portal_factory(self) -> Generator[anyio.from_thread.BlockingPortal, None, None]:
        if self.portal is not None:
            yield self.portal
        else:
            with anyio.from_thread.start_blocking_portal(**self.async_backend) as portal:
                yield portal

    def request(  # type: ignore[override]
        self,
        method: str,
        url: Any,
        *,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        params: Any = None,
        headers: Any = None,
        cookies: Any = None,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,
        extensions: dict[str, Any] | None = None,
    ) -> httpx.Response:
        if timeout is not httpx.USE_CLIENT_DEFAULT:
            warnings.warn(
                "You should not use the 'timeout' argument with the TestClient. "
                "See https://github.com/Kludex/starlette/issues/1108 for more information.",
                StarletteDeprecationWarning,
                stacklevel=2,
            )
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
        url = urljoin("ws://testserver", url)
        headers = kwargs.get("headers", {})
        headers.setdefault("connection", "upgrade")
        headers.setdefault("sec-websocket-key", "testserver==")
        headers.setdefault("sec-websocket-version", "13")
        if subprotocols is not None:
            headers.setdefault("sec-websocket-protocol", ", ".join(subprotocols))
        kwargs["headers"] = headers
        try:
            super().request("GET", url, **kwargs)
        except _Upgrade as exc:
            session = exc.session
        else:
            raise RuntimeError("Expected WebSocket upgrade")  # pragma: no cover
        return session

    def __enter__(self) -> Self:
        with contextlib.ExitStack() as stack:
            portal = stack.enter_context(anyio.from_thread.start_blocking_portal(**self.async_backend))
            self.portal = portal

            @stack.callback
            def reset_portal() -> None:
                self.portal = None

            send1: MemoryObjectSendStream[Message | None]
            receive1: MemoryObjectReceiveStream[Message | None]
            send2: MemoryObjectSendStream[Message]
            receive2: MemoryObjectReceiveStream[Message]
            send1, receive1 = anyio.create_memory_object_stream(math.inf)
            send2, receive2 = anyio.create_memory_object_stream(math.inf)
            self._lifespan_from_app = (send1, receive1)
            self._lifespan_to_app = (send2, receive2)
            stack.callback(send1.close)
            stack.callback(send2.close)
            stack.callback(receive1.close)
            stack.callback(receive2.close)
            self._lifespan_error: BaseException | None = None
            self._lifespan_ended = False
            self.task = portal.start_task_soon(self.lifespan)
            portal.call(self.wait_startup)

            @stack.callback
            def wait_shutdown() -> None:
                portal.call(self.wait_shutdown)

            self.exit_stack = stack.pop_all()

        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self.exit_stack.close()

    async def lifespan(self) -> None:
        scope = {"type": "lifespan", "state": self.app_state}
        from_app_send = self._lifespan_from_app[0]
        to_app_receive = self._lifespan_to_app[1]
        try:
            await self.app(scope, to_app_receive.receive, from_app_send.send)
        except BaseException as exc:
            self._lifespan_error = exc
        finally:
            from_app_send.send_nowait(None)

    async def _receive_from_app(self) -> Any:
        message = await self._lifespan_from_app[1].receive()
        if message is None:
            self._lifespan_ended = True
            if self._lifespan_error is not None:
                raise self._lifespan_error
        return message

    async def wait_startup(self) -> None:
        await self._lifespan_to_app[0].send({"type": "lifespan.startup"})
        message = await self._receive_from_app()
        assert message["type"] in ("lifespan.startup.complete", "lifespan.startup.failed")
        if message["type"] == "lifespan.startup.failed":
            await self._receive_from_app()

    async def wait_shutdown(self) -> None:
        if self._lifespan_ended:
            # the app is gone; asking it to shut down would wait forever
            return
        await self._lifespan_to_app[0].send({"type": "lifespan.shutdown"})
        message = await self._receive_from_app()
        assert message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed")
        if message["type"] == "lifespan.shutdown.failed":
            await self._receive_from_app()
