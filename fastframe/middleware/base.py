"""BaseHTTPMiddleware without a task group per request.

The reference runs the downstream app in a child task and pipes its messages through a
memory stream; that costs more than the app itself. Here the app runs in the request's own
task, and the dispatch coroutine is driven by hand: stepped until it awaits call_next(),
then resumed from inside the app's send() with the response. When dispatch returns that
same response, the app's later messages are forwarded directly; otherwise the returned
response's coroutine is driven the same way, fed one body chunk per app send(). Each side
keeps the contextvars isolation the reference's task gives it: dispatch runs in its own
context (copied back to the caller at the end), the app in a copy taken at call_next().

Two cases need a real second task, and only they pay for one:
- dispatch holds a cancel scope across call_next() (e.g. a timeout): the app then runs in a
  detached task, since leaving that scope from inside the app's send() would not nest;
- dispatch returns a response that iterates our body from a task of its own (a
  StreamingResponse wrapping body_iterator): it is sent from a detached task, with chunks
  handed over through a zero-size memory stream.
"""

from __future__ import annotations

import contextvars
from asyncio import _get_running_loop
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Generator, Mapping
from typing import Any, TypeVar

import anyio
import sniffio

from fastframe.requests import ClientDisconnect, Request
from fastframe.responses import Response
from fastframe.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BaseHTTPMiddleware", "ClientDisconnect"]

RequestResponseEndpoint = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]
BodyStreamGenerator = AsyncGenerator[bytes | Message, None]
AsyncContentStream = AsyncIterable[str | bytes | memoryview | Message]
T = TypeVar("T")

_MISSING: Any = object()
_END: Any = object()


class _Last:
    """The app's final body chunk: yielded, then the stream ends without another round trip."""

    __slots__ = ("body",)

    def __init__(self, body: bytes) -> None:
        self.body = body


class _Sentinel:
    """Awaited by the driven dispatch coroutine to hand control back to its driver."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __await__(self) -> Generator[Any, Any, Any]:
        return (yield self)


_CALL_NEXT = _Sentinel("call_next")
_NEXT_CHUNK = _Sentinel("next_chunk")


class _Abort(BaseException):
    """Unwinds the app when the dispatch side failed, as cancelling the reference's app task does."""


class _Drive:
    """Steps the dispatch coroutine in its own context until it awaits a _Sentinel or finishes,
    passing every other awaitable through to the event loop unchanged."""

    __slots__ = ("call", "value", "exc")

    def __init__(self, call: _Call, value: Any, exc: BaseException | None) -> None:
        self.call: Any = call
        self.value = value
        self.exc = exc

    def __await__(self) -> Generator[Any, Any, None]:
        call = self.call
        coro = call.coro
        run = call.ctx.run
        value, exc = self.value, self.exc
        while True:
            call.driving = True
            try:
                if exc is None:
                    yielded = run(coro.send, value)
                else:
                    yielded = run(coro.throw, exc)
            except StopIteration as stop:
                call.driving = False
                if call.sending:
                    call.done = True
                    call.waiting = None
                    return
                # dispatch returned its response: decide how it is sent.
                try:
                    coro = call.dispatched(stop.value)
                except BaseException as error:
                    raise call.failed(error)
                if coro is None:
                    if call.forwarding:
                        yield from call.forward_start().__await__()
                    return
                value, exc = None, None
                continue
            except BaseException as error:
                call.driving = False
                raise call.failed(error)
            call.driving = False
            if yielded.__class__ is _Sentinel:
                call.waiting = yielded
                return
            try:
                value, exc = (yield yielded), None
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as error:
                value, exc = None, error


class _InContext:
    """Awaits a coroutine with every step run inside the given contextvars context."""

    __slots__ = ("ctx", "coro")

    def __init__(self, ctx: contextvars.Context, coro: Any) -> None:
        self.ctx = ctx
        self.coro = coro

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self.coro
        run = self.ctx.run
        value: Any = None
        exc: BaseException | None = None
        while True:
            try:
                yielded = run(coro.send, value) if exc is None else run(coro.throw, exc)
            except StopIteration as stop:
                return stop.value
            try:
                value, exc = (yield yielded), None
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as error:
                value, exc = None, error


def _contains(group: BaseException, target: BaseException) -> bool:
    if group is target:
        return True
    if isinstance(group, BaseExceptionGroup):
        return any(_contains(inner, target) for inner in group.exceptions)
    return False


class _CachedRequest(Request):
    """The request dispatch sees. If dispatch read the body, the app is handed the same bytes."""

    __slots__ = ("_wrapped_receive_source", "_dispatch_read", "_dispatch_read_all", "_replayed")

    def __init__(self, scope: Scope, receive: Receive, send: Send | None = None) -> None:
        self._wrapped_receive_source = receive
        self._dispatch_read = False
        self._dispatch_read_all = False
        self._replayed = False
        if send is None:
            super().__init__(scope, self._recording_receive)
        else:
            super().__init__(scope, self._recording_receive, send)

    async def _recording_receive(self) -> Message:
        message = await self._wrapped_receive_source()
        self._dispatch_read = True
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._dispatch_read_all = True
        return message

    async def wrapped_receive(self) -> Message:
        if not self._replayed and self._dispatch_read:
            self._replayed = True
            body = getattr(self, "_body", None)
            if body is not None:
                return {"type": "http.request", "body": body, "more_body": False}
            if self._dispatch_read_all:
                return {"type": "http.request", "body": b"", "more_body": False}
        return await self._wrapped_receive_source()


class _BodyStream:
    """The body iterator of a call_next() response. An async iterator rather than an async
    generator: generators cost an event-loop hook call per request."""

    __slots__ = ("call", "finished", "started")

    def __init__(self, call: _Call) -> None:
        self.call = call
        self.finished = False
        self.started = False

    def __aiter__(self) -> _BodyStream:
        return self

    def __anext__(self) -> _NextChunk:
        self.started = True
        return _NextChunk(self)

    async def aclose(self) -> None:
        self.finished = True


class _NextChunk:
    __slots__ = ("stream",)

    def __init__(self, stream: _BodyStream) -> None:
        self.stream = stream

    def __await__(self) -> Generator[Any, Any, Any]:
        stream = self.stream
        call = stream.call
        if stream.finished:
            raise StopAsyncIteration
        if call.helper_receive is not None:
            try:
                item = yield from call.helper_receive.receive().__await__()
            except anyio.EndOfStream:
                stream.finished = True
                raise StopAsyncIteration from None
        elif not call.driving:
            raise RuntimeError(
                "The body iterator of a call_next() response must be consumed by the dispatch "
                "function's own task, or by the response it returns."
            )
        else:
            item = yield _NEXT_CHUNK
            if item is _END:
                stream.finished = True
                raise StopAsyncIteration
            if item.__class__ is _Last:
                stream.finished = True
                return item.body
        if isinstance(item, dict):
            stream.finished = True
        return item


class _StreamingResponse(Response):
    def __init__(
        self,
        content: AsyncContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.info = info
        self.body_iterator = content
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        if headers is None and media_type is None:
            # call_next() replaces raw_headers with the app's list right away.
            self.raw_headers = []
        else:
            self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.info is not None:
            await send({"type": "http.response.debug", "info": self.info})
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        should_close_body = True
        async for chunk in self.body_iterator:
            if isinstance(chunk, dict):
                # http.response.pathsend: the app already ended its response with it.
                should_close_body = False
                await send(chunk)
                continue
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if should_close_body:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        if self.background:
            await self.background()


def _trio_marker() -> Any:
    import trio

    current_task = trio.lowlevel.current_task

    def marker() -> Any:
        return getattr(current_task(), "_cancel_status", None)

    global _trio_marker
    _trio_marker = marker  # type: ignore[assignment]
    return marker()


def _asyncio_marker() -> Any:
    try:
        from anyio._backends._asyncio import _task_states
    except ImportError:  # pragma: no cover
        return None
    import asyncio

    current_task = asyncio.current_task
    get_state = _task_states.get

    def marker() -> Any:
        state = get_state(current_task())  # type: ignore[arg-type]
        return None if state is None else state.cancel_scope

    global _asyncio_marker
    _asyncio_marker = marker  # type: ignore[assignment]
    return marker()


def _scope_marker_function() -> Callable[[], Any]:
    """A function giving the identity of the current task's innermost cancel scope.

    The app only runs inline when dispatch holds no cancel scope across call_next(): dispatch
    leaves such a scope from inside the app's send(), which only nests if the app has none open.
    """
    # A running asyncio loop is the cheap check; sniffio costs microseconds per call.
    if _get_running_loop() is not None:
        return _asyncio_marker
    return _trio_marker


class _Detached:
    """A task that is not a child of any task group, so it can be started from anywhere."""

    __slots__ = ("finished", "error", "_cancel")

    def __init__(self, async_fn: Callable[[], Awaitable[None]], context: contextvars.Context) -> None:
        self.finished = anyio.Event()
        self.error: BaseException | None = None
        if sniffio.current_async_library() == "trio":
            import trio

            cancel_scope = trio.CancelScope()
            self._cancel: Callable[[], Any] = cancel_scope.cancel

            async def trio_body() -> None:
                with cancel_scope:
                    await self._body(async_fn)

            trio.lowlevel.spawn_system_task(trio_body, context=context)
        else:
            import asyncio

            task = asyncio.get_running_loop().create_task(self._body(async_fn), context=context)
            self._cancel = task.cancel

    async def _body(self, async_fn: Callable[[], Awaitable[None]]) -> None:
        try:
            await async_fn()
        except BaseException as exc:
            self.error = exc
        finally:
            self.finished.set()

    def cancel(self) -> None:
        if not self.finished.is_set():
            self._cancel()

    async def wait(self) -> BaseException | None:
        try:
            await self.finished.wait()
        except BaseException:
            self.cancel()
            raise
        error = self.error
        if error is not None and isinstance(error, anyio.get_cancelled_exc_class()):
            return None
        return error


class _Call:
    """State of one request through a BaseHTTPMiddleware."""

    # Class-level defaults: one object per request, and most of these never change, so the
    # instance only stores what does (cheaper than initialising every slot).
    app_ctx: contextvars.Context | None = None
    driving = False
    waiting: _Sentinel | None = None
    done = False
    info: Any = None
    response: _StreamingResponse | None = None
    app_ended = False
    abort: _Abort | None = None
    marker: Any = None
    marker_function: Callable[[], Any]
    in_app = False
    inline = True
    helper_send: Any = None
    helper_receive: Any = None
    helper: _Detached | None = None
    forwarding = False
    sending = False
    coro: Any

    def __init__(self, middleware: BaseHTTPMiddleware, scope: Scope, receive: Receive, send: Send) -> None:
        self.middleware = middleware
        self.scope = scope
        self.receive = receive
        self.send = send
        self.request = _CachedRequest(scope, receive)
        self.ctx = contextvars.copy_context()

    # -- the dispatch side ------------------------------------------------------------------

    def dispatched(self, response: Any) -> Any:
        """dispatch returned: the coroutine that sends its response, or None when this
        call forwards the app's messages itself or hands the response to a helper task."""
        own = self.response
        if own is not None and response is own and not self.app_ended:
            stream = own.body_iterator
            if stream.__class__ is _BodyStream and not stream.started:  # type: ignore[attr-defined]
                # The common case: the call_next() response, maybe with new headers or status.
                self.forwarding = True
                self.waiting = None
                return None
        if (
            self.app_ctx is not None
            and not self.app_ended
            and type(response).__call__ is not _StreamingResponse.__call__
            and hasattr(response, "body_iterator")
        ):
            self.start_helper(response)
            return None
        self.sending = True
        self.coro = response(self.scope, self.request.wrapped_receive, self.send)
        return self.coro

    async def forward_start(self) -> None:
        response = self.response
        assert response is not None
        try:
            if response.info is not None:
                await self.send({"type": "http.response.debug", "info": response.info})
            await self.send(
                {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
            )
        except BaseException as error:
            raise self.failed(error)

    async def forward_end(self) -> None:
        response = self.response
        assert response is not None
        self.done = True
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        if response.background is not None:
            await response.background()

    async def call_next(self, request: Request) -> Response:
        if self.app_ctx is not None:
            raise AssertionError()
        self.app_ctx = contextvars.copy_context()
        if self.marker is not self.marker_function():
            self.inline = False
        response: Response = await _CALL_NEXT
        return response

    def resume(self, value: Any, exc: BaseException | None = None) -> _Drive:
        return _Drive(self, value, exc)

    def failed(self, error: BaseException) -> BaseException:
        """The dispatch side raised: what to raise from where it was driven."""
        self.done = True
        self.forwarding = False
        self.waiting = None
        if not self.in_app or isinstance(error, anyio.get_cancelled_exc_class()):
            return error
        self.abort = _Abort()
        self.abort.__cause__ = error
        return self.abort

    def start_helper(self, response: Any) -> None:
        self.waiting = None
        self.helper_send, self.helper_receive = anyio.create_memory_object_stream[Any](0)

        async def send_response() -> None:
            try:
                await response(self.scope, self.request.wrapped_receive, self.send)
            finally:
                self.helper_receive.close()

        self.helper = _Detached(send_response, self.ctx.copy())

    # -- the app side -----------------------------------------------------------------------

    async def app_receive(self) -> Message:
        if self.done:
            return {"type": "http.disconnect"}
        return await self.request.wrapped_receive()

    async def app_send(self, message: Message) -> None:
        if self.forwarding:
            message_type = message["type"]
            try:
                if message_type == "http.response.body":
                    body = message.get("body", b"")
                    if body:
                        await self.send({"type": "http.response.body", "body": body, "more_body": True})
                    if not message.get("more_body", False):
                        self.forwarding = False
                        self.app_ended = True
                        await self.forward_end()
                elif message_type == "http.response.pathsend":
                    self.forwarding = False
                    self.app_ended = True
                    self.done = True
                    await self.send(message)
                else:
                    raise AssertionError()
            except BaseException as error:
                raise self.failed(error)
            return
        if self.helper_send is not None:
            await self.feed_helper(message)
            return
        waiting = self.waiting
        if waiting is _CALL_NEXT:
            message_type = message["type"]
            if message_type == "http.response.debug" and self.response is None and self.info is None:
                self.info = message.get("info")
                if self.info is not None:
                    return
            if message_type != "http.response.start":
                await self.resume(None, AssertionError())
                return
            response = _StreamingResponse(status_code=message["status"], content=_BodyStream(self), info=self.info)
            response.raw_headers = message["headers"]
            self.response = response
            await self.resume(response)
        elif waiting is _NEXT_CHUNK:
            message_type = message["type"]
            if message_type == "http.response.body":
                body = message.get("body", b"")
                if message.get("more_body", False):
                    if body:
                        await self.resume(body)
                else:
                    self.app_ended = True
                    await self.resume(_Last(body) if body else _END)
            elif message_type == "http.response.pathsend":
                self.app_ended = True
                await self.resume(message)
            else:
                await self.resume(None, AssertionError())
        # Otherwise the response is complete or was replaced: like the reference, drop the message.

    async def feed_helper(self, message: Message) -> None:
        message_type = message["type"]
        try:
            if message_type == "http.response.body":
                body = message.get("body", b"")
                if body:
                    await self.helper_send.send(body)
                if not message.get("more_body", False):
                    self.app_ended = True
                    self.helper_send.close()
            elif message_type == "http.response.pathsend":
                await self.helper_send.send(message)
                self.app_ended = True
                self.helper_send.close()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass

    async def run_app_detached(self) -> BaseException | None:
        """Slow path: the app in its own task, its messages fed to the dispatch side from here."""
        assert self.app_ctx is not None
        send_stream, receive_stream = anyio.create_memory_object_stream[Any](0)

        async def send_no_error(message: Message) -> None:
            try:
                await send_stream.send(message)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass

        async def run_app() -> None:
            with send_stream:
                await self.middleware.app(self.scope, self.app_receive, send_no_error)

        app_task = _Detached(run_app, self.app_ctx)
        try:
            with receive_stream:
                async for message in receive_stream:
                    await self.app_send(message)
                    if self.done:
                        break
        except BaseException:
            app_task.cancel()
            raise
        return await app_task.wait()

    # -- the driver -------------------------------------------------------------------------

    async def run(self) -> None:
        self.coro = self.middleware.dispatch_func(self.request, self.call_next)
        self.marker_function = _scope_marker_function()
        self.marker = self.marker_function()
        try:
            await self.resume(None)
            if self.done or self.waiting is not _CALL_NEXT:
                return
            assert self.app_ctx is not None
            app_exc: BaseException | None = None
            if self.inline:
                self.in_app = True
                try:
                    await _InContext(self.app_ctx, self.middleware.app(self.scope, self.app_receive, self.app_send))
                except BaseException as exc:
                    if self.abort is not None and _contains(exc, self.abort):
                        raise self.abort.__cause__ from None  # type: ignore[misc]
                    if not isinstance(exc, Exception):
                        raise
                    app_exc = exc
                self.in_app = False
            else:
                app_exc = await self.run_app_detached()
                if app_exc is not None and not isinstance(app_exc, Exception):
                    raise app_exc
            self.app_ended = True
            if self.forwarding and not self.done:
                # The app stopped without ending its body (it returned, or raised mid-stream).
                self.forwarding = False
                await self.forward_end()
            if self.helper is not None:
                self.helper_send.close()
                helper_exc = await self.helper.wait()
                self.done = True
                if helper_exc is not None:
                    raise helper_exc
            while not self.done:
                if self.waiting is _CALL_NEXT:
                    error, app_exc = app_exc or RuntimeError("No response returned."), None
                    await self.resume(None, error)
                elif self.waiting is _NEXT_CHUNK:
                    await self.resume(_END)
                else:  # pragma: no cover - defensive: nothing left to drive
                    break
            if app_exc is not None:
                raise app_exc
        finally:
            if not self.done:
                self.coro.close()
            # Dispatch ran in a copy of our context; what it set stays visible to the caller.
            for var, value in self.ctx.items():
                if var.get(_MISSING) is not value:
                    var.set(value)


class BaseHTTPMiddleware:
    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func = self.dispatch if dispatch is None else dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _Call(self, scope, receive, send).run()

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        raise NotImplementedError()  # pragma: no cover
