"""BaseHTTPMiddleware: a `dispatch(request, call_next)` coroutine around an ASGI app.

One `_Exchange` serves one request; dispatch runs in the caller's task and context. Its run()
coroutine is running exactly while something it awaits runs synchronously: that tells
call_next() whether dispatch awaits it itself (then, on asyncio with no anyio deadline in
force, the app runs inline, see `_relay`) or from another task (then the app gets a task of
its own). call_next() returns the app's response as soon as the app sent its start; when
dispatch returns that response untouched, its body is forwarded as the app sends it, without a
body iterator in between.
"""

from __future__ import annotations

import asyncio
import math
import sys
import weakref
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Mapping
from contextvars import copy_context
from typing import Any, TypeVar

import anyio
import anyio.lowlevel

from fastframe import speedups
from fastframe.middleware._relay import Relay, _hand_up
from fastframe.requests import ClientDisconnect, Request, empty_send
from fastframe.responses import Response
from fastframe.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BaseHTTPMiddleware", "ClientDisconnect"]

RequestResponseEndpoint = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]
BodyStreamGenerator = AsyncGenerator[bytes | Message, None]
AsyncContentStream = AsyncIterable[str | bytes | memoryview | Message]
T = TypeVar("T")

_DISCONNECT: Message = {"type": "http.disconnect"}
_new = object.__new__
_new_request = speedups.http.new_request
_current_task = asyncio.current_task
_get_running_loop = asyncio.get_running_loop
# What tells the deadline in force on asyncio: anyio's backend class, asked directly once known,
# and the table (keyed by weak references to tasks) where it keeps the state of each task that
# entered a cancel scope. A task missing from it has no scope, so no deadline: that answer
# costs one dict lookup instead of the backend's search.
_asyncio_backend: Any = None
_scoped_tasks: dict[Any, Any] | None = None


def _no_deadline() -> bool:
    """On asyncio, with no anyio deadline in force in this task."""
    scoped = _scoped_tasks
    if scoped is not None:
        try:
            loop = _get_running_loop()
        except RuntimeError:  # no asyncio loop running: trio
            return False
        if not scoped:
            return True
        task = _current_task(loop)
        if task is None or weakref.ref(task) not in scoped:
            return True
    backend = _asyncio_backend
    if backend is None:
        return _first_no_deadline()
    try:
        return backend.current_effective_deadline() == math.inf  # type: ignore[no-any-return]
    except RuntimeError:  # no asyncio loop running: trio
        return False


def _first_no_deadline() -> bool:
    global _asyncio_backend, _scoped_tasks
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    token = getattr(anyio.lowlevel, "current_token", None)
    backend = getattr(token(), "backend_class", None) if token is not None else None
    if backend is None:  # an anyio without current_token(): the public function, each time
        return anyio.current_effective_deadline() == math.inf
    _asyncio_backend = backend
    # Only where the table has the shape we rely on; elsewhere the backend is asked each time.
    table = getattr(sys.modules.get(backend.__module__), "_task_states", None)
    data = getattr(table, "data", None) if isinstance(table, weakref.WeakKeyDictionary) else None
    if isinstance(data, dict):
        _scoped_tasks = data
    return backend.current_effective_deadline() == math.inf  # type: ignore[no-any-return]


class _AppResponse(Response):
    """What call_next() returns: the app's status and headers, its body still to come."""

    # Made with _new(), not __init__: call_next() sets status_code, raw_headers and these.
    background = None
    info: Mapping[str, Any] | None = None
    _exchange: Any = None
    _body_iterator: Any = None

    @property
    def body_iterator(self) -> AsyncContentStream:
        iterator = self._body_iterator
        if iterator is None:
            iterator = self._body_iterator = _AppBody(self._exchange)
        return iterator  # type: ignore[no-any-return]

    @body_iterator.setter
    def body_iterator(self, value: AsyncContentStream) -> None:
        self._body_iterator = value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.info is not None:
            await send({"type": "http.response.debug", "info": self.info})
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        ended_by_app = False
        async for chunk in self.body_iterator:
            if type(chunk) is dict:
                # http.response.pathsend: the app's own last message.
                ended_by_app = True
                await send(chunk)
            else:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if not ended_by_app:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        if self.background is not None:
            await self.background()


class _AppBody:
    """The body iterator of call_next()'s response: the app's chunks as it sends them."""

    __slots__ = ("exchange", "done")

    def __init__(self, exchange: _Exchange) -> None:
        self.exchange = exchange
        self.done = False

    def __aiter__(self) -> _AppBody:
        return self

    async def __anext__(self) -> bytes | Message:
        exchange = self.exchange
        while not self.done:
            message = await exchange.take(exchange.at_home())
            if message is None:
                # The app ended, maybe by failing: the body ends here, and the middleware raises
                # the app's exception once the response is complete, as the reference does.
                self.done = True
                break
            kind = message["type"]
            if kind == "http.response.pathsend":
                self.done = True
                return message
            if kind != "http.response.body":
                raise AssertionError()
            if not message.get("more_body", False):
                self.done = True
            body: bytes = message.get("body", b"")
            if body:
                return body
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.done = True


class _Exchange(Relay):
    """One request through the middleware: dispatch's side, the receive both sides share, and,
    as a Relay, the app's side."""

    request: Request
    response: _AppResponse | None = None
    called = False  # call_next() was called
    # run()'s coroutine: running exactly while call_next() is awaited by dispatch itself (or by
    # what dispatch awaits), not from another task.
    runner: Any
    home: Any = None  # the request's task, once a body pull elsewhere must know it
    body_read = False  # the request's last body message was received
    app_has_body = False  # the app was handed the end of the body
    client_gone = False
    complete = False  # the response is complete: the app's receive gets a disconnect
    ended_body = False  # the forwarded body was ended
    concluded = False  # the forwarded response's background was run

    # Made with _new() by the middleware, which sets these:
    middleware: BaseHTTPMiddleware
    scope: Scope
    receive: Receive

    def at_home(self) -> bool:
        """Whether this runs in the request's task: within run() itself (what dispatch awaits,
        synchronously), or in that task later on."""
        return self.runner.cr_running or (self.home is not None and asyncio.current_task() is self.home)

    # -- the request body, for dispatch and for the app ---------------------------------------

    async def dispatch_receive(self) -> Message:
        """What dispatch's request reads through: notes where the body and the client are."""
        message = await self.receive()
        kind = message["type"]
        if kind == "http.request":
            if not message.get("more_body", False):
                self.body_read = True
        elif kind == "http.disconnect":
            self.client_gone = True
        return message

    async def app_receive(self) -> Message:
        """The app's receive: the body as dispatch's request saw or left it, then the disconnect."""
        if self.complete:
            return _DISCONNECT
        if not self.app_has_body:
            request = self.request
            if self.body_read:
                # Dispatch read the whole body first: the app gets it in one piece, or nothing
                # more if dispatch streamed it (the request no longer has it then).
                self.app_has_body = True
                try:
                    body = await request.body()
                except RuntimeError:
                    body = b""
                return {"type": "http.request", "body": body, "more_body": False}
            # A stream of its own per call: the app and dispatch's response may both be waiting.
            # Closed at once rather than left to the collector: trio warns (ResourceWarning) about
            # an async generator collected before it was exhausted.
            stream = request.stream()
            try:
                chunk = await stream.__anext__()
            except ClientDisconnect:
                self.app_has_body = True
                return _DISCONNECT
            finally:
                await stream.aclose()
            more = not self.body_read
            if not more:
                self.app_has_body = True
            return {"type": "http.request", "body": chunk, "more_body": more}
        if self.client_gone:
            return _DISCONNECT
        message = await self.receive()
        if message["type"] != "http.disconnect":
            raise RuntimeError(f"Unexpected message received: {message['type']}")
        self.client_gone = True
        return message

    # -- call_next ------------------------------------------------------------------------------

    async def call_next(self, request: Request) -> Response:
        if self.called:
            raise AssertionError()  # the reference's app would send a second start
        self.called = True
        app = self.middleware.app
        # Inline when dispatch awaits call_next() itself, on asyncio, with no deadline in force:
        # a scope dispatch entered around call_next() must not enclose the scopes the app
        # enters, nor its timeout cancel the app.
        if self.runner.cr_running and _no_deadline():
            self.context = copy_context()
            self.coro = app(self.scope, self.app_receive, self.app_send)  # type: ignore[arg-type]
            yielded = self.step()
            message = self.held
            if yielded is self and message is not None and message["type"] == "http.response.start":
                # The usual case: the app sent its start right away.
                self.held = None
                return self.app_response(message, None)
            if yielded is not self:
                await self.settle(yielded)
        else:
            self.start_task(app, self.scope, self.app_receive)
        info = None
        while True:
            message = await self.take(True)
            if message is None:
                error = self.error
                if error is not None:
                    # Raised to dispatch here, so not again after the response.
                    self.error = None
                    raise error
                raise RuntimeError("No response returned.")
            kind = message["type"]
            if kind == "http.response.debug" and info is None:
                info = message.get("info")
                if info is not None:
                    continue
            if kind != "http.response.start":
                raise AssertionError()
            return self.app_response(message, info)

    def app_response(self, start: Message, info: Mapping[str, Any] | None) -> _AppResponse:
        response: _AppResponse = _new(_AppResponse)
        response.status_code = start["status"]
        response.raw_headers = start.get("headers") or []
        response._exchange = self
        if info is not None:
            response.info = info
        self.response = response
        return response

    # -- the whole request ----------------------------------------------------------------------

    async def run(self) -> None:
        # Compiled, a Request is made with its caches empty: only the scope and channels are set.
        request = self.request = _new_request(self.scope, self.dispatch_receive, empty_send)
        try:
            response = await self.middleware.dispatch_func(request, self.call_next)
            if response is self.response and response._body_iterator is None:
                await self.forward(response)
            else:
                # Pulls of our body from elsewhere must know this task from theirs.
                self.home = asyncio.current_task() if self.coro is not None else None
                await response(self.scope, self.app_receive, self.send_out)
                self.complete = True
        except BaseException:
            if self.called:
                await self.abort()
            raise
        if self.called:
            error = self.error if self.ended else await self.finish()
            if error is not None:
                raise error

    # -- forwarding an untouched response -------------------------------------------------------

    async def forward(self, response: _AppResponse) -> None:
        """Sends the untouched call_next() response as the reference's would, chunk by chunk,
        as the app sends them."""
        send = self.send_out
        if response.info is not None:
            await send({"type": "http.response.debug", "info": response.info})
        await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
        if self.coro is None:
            # The app in a task of its own: its messages come through the slot.
            while not self.ended_body:
                message = await self.take(True)
                if message is None:
                    break
                await self.handle(message)
        elif not self.ended:
            # Inline: the app runs here until its end, each message it parks with forwarded; a
            # task of its own (a StreamingResponse's child) meanwhile sends straight through
            # forward_direct, once what it handed over before is out.
            while self.held is not None:
                await self.handle(await self.take(True))  # type: ignore[arg-type]
            self.forwarding = True
            value: Any = None
            error: BaseException | None = None
            if self.blocked_on is not None or self.resume_error is not None or self.resume_value is not None:
                value, error = await self.resume_natively()
            while not self.ended:
                yielded = self.step(value, error)
                value = error = None
                if yielded is not self:
                    try:
                        value = await _hand_up(yielded)
                    except BaseException as exc:  # noqa: BLE001 - the app's to handle
                        error = exc
                    continue
                message, self.held = self.held, None
                if message is None:
                    continue
                try:
                    if message["type"] == "http.response.body" and not message.get("more_body", False):
                        # The usual last (often only) body message, without handle()'s general path.
                        if self.ended_body:
                            continue
                        self.ended_body = True
                        body = message.get("body", b"")
                        if body:
                            await send({"type": "http.response.body", "body": body, "more_body": True})
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                        if response.background is None:
                            self.complete = self.concluded = True
                        else:
                            await self.conclude()
                    else:
                        await self.handle(message)
                except BaseException as exc:  # noqa: BLE001 - raised in the app's send
                    error = exc
            self.forwarding = False
        if not self.ended_body:
            # The app returned (or failed) before ending its body.
            self.ended_body = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        if not self.concluded:
            await self.conclude()

    def outgoing(self, message: Message) -> tuple[Message, ...]:
        """What the reference's response sends for one of the app's messages: each chunk with
        more_body set, then an empty last one."""
        if self.ended_body:
            return ()
        kind = message["type"]
        if kind == "http.response.body":
            body = message.get("body", b"")
            if message.get("more_body", False):
                return ({"type": "http.response.body", "body": body, "more_body": True},) if body else ()
            self.ended_body = True
            end = {"type": "http.response.body", "body": b"", "more_body": False}
            if body:
                return {"type": "http.response.body", "body": body, "more_body": True}, end
            return (end,)
        if kind == "http.response.pathsend":
            self.ended_body = True
            return (message,)
        raise AssertionError()

    async def handle(self, message: Message) -> None:
        """One of the app's messages, forwarded: from the request's task, or (as forward_direct)
        from a task of the inline app's own while the request's task waits on its main
        coroutine. A message that sends nothing still yields, so a runaway sender cannot hog
        the event loop."""
        outgoing = self.outgoing(message)
        if not outgoing:
            await anyio.lowlevel.checkpoint()
        try:
            for out in outgoing:
                await self.send_out(out)
        except BaseException:
            # The server refused it: nothing more goes out.
            self.ended_body = True
            raise
        if self.ended_body and not self.concluded:
            await self.conclude()

    forward_direct = handle

    async def conclude(self) -> None:
        """After the body: the response's own background, then the app only sees a disconnect."""
        self.concluded = True
        response = self.response
        if response is not None and response.background is not None:
            await response.background()
        self.complete = True


class BaseHTTPMiddleware:
    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func = self.dispatch if dispatch is None else dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _new(_Exchange)
        exchange.middleware = self
        exchange.scope = scope
        exchange.receive = receive
        exchange.send_out = send
        runner = exchange.runner = exchange.run()
        try:
            await runner
        finally:
            # The exchange and what it made point at each other (the request reads through it,
            # its response is its own): unlinked, they go with their last reference instead of
            # staying for the cycle collector.
            exchange.request = exchange.response = None  # type: ignore[assignment]

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        raise NotImplementedError()  # pragma: no cover
