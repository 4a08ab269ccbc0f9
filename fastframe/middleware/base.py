"""BaseHTTPMiddleware without a task group per request.

The reference runs the downstream app in a child task and pipes its messages through a
memory stream; that costs more than the app itself. Here the app runs in the request's own
task, and the dispatch coroutine is driven by hand: stepped until it awaits call_next(),
then resumed from inside the app's send() with the response. When dispatch returns that
same response, the app's later messages are forwarded directly; otherwise the returned
response's coroutine is driven the same way, fed one body chunk per app send(). Each side
keeps the contextvars isolation the reference's task gives it: dispatch runs in its own
context (copied back to the caller at the end), the app in a copy taken at call_next().

The app only runs inline when call_next() is awaited by dispatch itself, in the request's
task, with no cancel scope entered since dispatch started (leaving such a scope from inside
the app's send() would not nest). Otherwise (a timeout around call_next(), call_next() run
as a task of its own) the app runs in a detached task and its messages come through a memory
stream, as in the reference. A returned response that iterates our body from a task of its
own (a StreamingResponse wrapping body_iterator) is likewise sent from a detached task.
"""

from __future__ import annotations

import asyncio.tasks
import contextvars
import types
import weakref
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
_NOTHING: Any = object()


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


# -- where dispatch runs: the task and its innermost cancel scope -------------------------------

try:
    from anyio._backends._asyncio import _task_states

    # The WeakKeyDictionary's own dict, looked up with a plain weak reference: all C calls.
    _asyncio_task_states: Any = getattr(_task_states, "data")  # noqa: B009
except (ImportError, AttributeError):  # pragma: no cover - anyio internals moved
    _asyncio_task_states = {}
_ref = weakref.ref
try:  # Python 3.12+: a C function
    from _asyncio import current_task as _asyncio_current_task  # type: ignore[attr-defined]
except ImportError:  # Python 3.11: asyncio.current_task() is Python around this dict
    _asyncio_current_task = None
_current_tasks: Any = getattr(asyncio.tasks, "_current_tasks", {})

_trio_current_task: Callable[[], Any] | None = None


def _trio_task() -> Any:
    global _trio_current_task
    if _trio_current_task is None:
        import trio

        _trio_current_task = trio.lowlevel.current_task
    return _trio_current_task()


# -- stepping coroutines by hand ---------------------------------------------------------------


@types.coroutine
def _drive(
    call: _Call, value: Any = None, exc: BaseException | None = None, yielded: Any = _NOTHING, returned: Any = _NOTHING
) -> Generator[Any, Any, None]:
    """Steps the dispatch coroutine in its own context until it awaits a _Sentinel or finishes,
    passing every other awaitable through to the event loop unchanged. A caller that already
    took a step itself passes what that step yielded or returned."""
    coro = call.coro
    run = call.ctx.run
    while True:
        if yielded is _NOTHING and returned is _NOTHING:
            call.driving = True
            try:
                if exc is None:
                    yielded = run(coro.send, value)
                else:
                    yielded = run(coro.throw, exc)
            except StopIteration as stop:
                returned = stop.value
            except BaseException as error:
                call.driving = False
                raise call.failed(error)
            call.driving = False
        if returned is not _NOTHING:
            if call.sending:
                call.done = True
                call.waiting = None
                return
            # dispatch returned its response: decide how it is sent.
            response, returned = returned, _NOTHING
            if call.forwards(response):
                try:
                    yield from call.send_start().__await__()
                except BaseException as error:
                    raise call.failed(error)
                return
            try:
                coro = call.dispatched(response)
            except BaseException as error:
                raise call.failed(error)
            if coro is None:
                return
            value, exc = None, None
            continue
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
        yielded = _NOTHING


def _contains(group: BaseException, target: BaseException) -> bool:
    if group is target:
        return True
    if isinstance(group, BaseExceptionGroup):
        return any(_contains(inner, target) for inner in group.exceptions)
    return False


class _Recorder:
    """dispatch's receive: notes what dispatch read, so the app can be handed the same bytes."""

    read = False
    read_all = False
    replayed = False
    receive: Receive
    request: Any

    async def dispatch_receive(self) -> Message:
        message = await self.receive()
        self.read = True
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.read_all = True
        return message

    async def wrapped_receive(self) -> Message:
        if not self.replayed and self.read:
            self.replayed = True
            body = getattr(self.request, "_body", None)
            if body is not None:
                return {"type": "http.request", "body": body, "more_body": False}
            if self.read_all:
                return {"type": "http.request", "body": b"", "more_body": False}
        return await self.receive()


class _CachedRequest(Request):
    """The request dispatch sees. If dispatch read the body, the app is handed the same bytes."""

    __slots__ = ("_recorder",)

    def __init__(self, scope: Scope, receive: Receive, send: Send | None = None) -> None:
        recorder = self._recorder = _Recorder()
        recorder.receive = receive
        recorder.request = self
        if send is None:
            super().__init__(scope, recorder.dispatch_receive)
        else:
            super().__init__(scope, recorder.dispatch_receive, send)

    async def wrapped_receive(self) -> Message:
        return await self._recorder.wrapped_receive()

    def __getattr__(self, name: str) -> Any:
        # The middleware builds this request with only `scope` and `_receive` set: many
        # dispatch functions never look at it. The rest is filled in on first use.
        if name in _LAZY_FIELDS:
            _request_init(self, self.scope, self._receive)
            return object.__getattribute__(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


_new = object.__new__
_request_init = Request.__init__


def _lazy_fields() -> frozenset[str]:
    """The attributes Request.__init__ sets besides scope and _receive."""
    probe = Request.__new__(Request)
    _request_init(probe, {"type": "http"})
    names = set()
    for cls in Request.__mro__:
        for name in getattr(cls, "__slots__", ()):
            try:
                object.__getattribute__(probe, name)
            except AttributeError:
                continue
            names.add(name)
    return frozenset(name for name in names if not name.startswith("__")) - {"scope", "_receive", "_recorder"}


_LAZY_FIELDS = _lazy_fields()


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
    # call_next()'s response in the inline path gets `_call` only: its body stream is made on
    # first use, which the usual dispatch (returning it untouched) never makes.
    _stream: Any = None
    _call: Any = None
    background: Any = None
    info: Any = None

    @property
    def body_iterator(self) -> AsyncContentStream:
        stream = self._stream
        if stream is None:
            stream = self._stream = _BodyStream(self._call)
        return stream  # type: ignore[no-any-return]

    @body_iterator.setter
    def body_iterator(self, value: AsyncContentStream) -> None:
        self._stream = value

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


async def _stream_body(call: _Call, stream: Any) -> AsyncGenerator[Any, None]:
    """The body of a call_next() response when the app runs in a task of its own."""
    while True:
        call.release_app()
        try:
            message = await stream.receive()
        except anyio.EndOfStream:
            return
        if message["type"] == "http.response.pathsend":
            yield message
            return
        body = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


class _Call(_Recorder):
    """State of one request through a BaseHTTPMiddleware, and the receive dispatch reads from."""

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
    in_app = False
    helper_send: Any = None
    helper_receive: Any = None
    helper: _Detached | None = None
    forwarding = False
    sending = False
    app_task: _Detached | None = None
    app_stream: Any = None
    app_ack: anyio.Event | None = None
    app_error_raised = False
    task: Any = None
    state: Any = None
    cancel_scope: Any = None
    ctx: contextvars.Context
    coro: Any

    middleware: BaseHTTPMiddleware
    scope: Scope
    send: Send

    # -- the dispatch side ------------------------------------------------------------------

    def untouched(self, response: _StreamingResponse) -> bool:
        """Whether the call_next() response still has its body unread (headers or status may have
        changed): then the app's later messages can be forwarded by its send()."""
        if self.app_ended:
            return False
        stream = response._stream
        return stream is None or (stream.__class__ is _BodyStream and stream.call is self and not stream.started)

    def forwards(self, response: Any) -> bool:
        """Whether dispatch returned the untouched call_next() response: the common case."""
        own = self.response
        if response is not own or own is None or not self.untouched(own):
            return False
        self.forwarding = True
        self.waiting = None
        return True

    async def send_start(self) -> None:
        response: Any = self.response
        if response.info is not None:
            await self.send({"type": "http.response.debug", "info": response.info})
        await self.send(
            {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
        )

    def dispatched(self, response: Any) -> Any:
        """dispatch returned something other than the untouched call_next() response: the
        coroutine that sends it, or None when a helper task sends it."""
        if (
            self.app_ctx is not None
            and self.app_task is None
            and not self.app_ended
            and type(response).__call__ is not _StreamingResponse.__call__
            and hasattr(response, "body_iterator")
        ):
            self.start_helper(response)
            return None
        self.sending = True
        self.coro = response(self.scope, self.wrapped_receive, self.send)
        return self.coro

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
        if self.driving and ((self.task is None and not _asyncio_task_states) or self.inline_here()):
            # Awaited by dispatch itself, in the request's task, with no new cancel scope:
            # the app runs inline.
            response: Response = await _CALL_NEXT
            return response
        return await self.call_next_in_task()

    def inline_here(self) -> bool:
        """Whether call_next() runs in the task dispatch started in, with the same innermost
        cancel scope (so leaving dispatch's scopes from inside the app's send() nests)."""
        loop = _get_running_loop()
        if loop is None:
            task = _trio_task()
            return task is self.task and task._cancel_status is self.cancel_scope
        if _asyncio_current_task is not None:
            # Python 3.12+: an eager task may run inside our drive; otherwise `driving` is proof.
            task = _asyncio_current_task(loop)
            if task is not self.task:
                return False
        elif not _asyncio_task_states:
            return True
        else:
            task = _current_tasks.get(loop)
        state = self.state
        if state is None:
            # The task had no anyio state when dispatch started: any it has now is dispatch's.
            state = _asyncio_task_states.get(_ref(task))
            return state is None or state.cancel_scope is None
        return state.cancel_scope is self.cancel_scope  # type: ignore[no-any-return]

    async def call_next_in_task(self) -> Response:
        """Slow path: the app in a detached task, its messages read from a memory stream."""
        assert self.app_ctx is not None
        send_stream, receive_stream = anyio.create_memory_object_stream[Message](0)
        self.app_stream = receive_stream

        async def send_no_error(message: Message) -> None:
            # The app goes on (to its next chunk, or its background tasks after the last one)
            # once the response side asks for the next message or is done.
            ack = self.app_ack = anyio.Event()
            try:
                await send_stream.send(message)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return
            await ack.wait()

        async def run_app() -> None:
            with send_stream:
                await self.middleware.app(self.scope, self.app_receive, send_no_error)

        self.app_task = task = _Detached(run_app, self.app_ctx)
        info = None
        while True:
            self.release_app()
            try:
                message = await receive_stream.receive()
            except anyio.EndOfStream:
                error = await task.wait()
                self.app_error_raised = True
                if error is not None:
                    raise error from None
                raise RuntimeError("No response returned.") from None
            message_type = message["type"]
            if message_type == "http.response.debug" and info is None:
                info = message.get("info")
                if info is not None:
                    continue
            if message_type != "http.response.start":
                raise AssertionError()
            break
        response = _StreamingResponse(
            status_code=message["status"], content=_stream_body(self, receive_stream), info=info
        )
        response.raw_headers = message["headers"]
        return response

    def release_app(self) -> None:
        ack = self.app_ack
        if ack is not None:
            ack.set()

    def step(self, value: Any) -> tuple[Any, Any]:
        """One step of dispatch's coroutine: (what it returned, or _NOTHING; what it yielded)."""
        self.driving = True
        try:
            yielded = self.ctx.run(self.coro.send, value)
        except StopIteration as stop:
            self.driving = False
            return stop.value, None
        except BaseException as error:
            self.driving = False
            raise self.failed(error)
        self.driving = False
        return _NOTHING, yielded

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
                await response(self.scope, self.wrapped_receive, self.send)
            finally:
                self.helper_receive.close()

        self.helper = _Detached(send_response, self.ctx.copy())

    # -- the app side -----------------------------------------------------------------------

    async def app_receive(self) -> Message:
        if self.done:
            return {"type": "http.disconnect"}
        return await self.wrapped_receive()

    async def app_send(self, message: Message) -> None:
        if self.forwarding:
            try:
                message_type = message["type"]
                if message_type == "http.response.body":
                    body = message.get("body", b"")
                    if body:
                        await self.send({"type": "http.response.body", "body": body, "more_body": True})
                    if not message.get("more_body", False):
                        self.forwarding = False
                        self.app_ended = True
                        self.done = True
                        await self.send({"type": "http.response.body", "body": b"", "more_body": False})
                        background = self.response.background  # type: ignore[union-attr]
                        if background is not None:
                            await background()
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
                await _drive(self, None, AssertionError())
                return
            # The call_next() response, built without running __init__: this is per request.
            response = self.response = _new(_StreamingResponse)
            response.status_code = message["status"]
            response.raw_headers = message["headers"]
            response._call = self
            if self.info is not None:
                response.info = self.info
            # Resume dispatch with it; the usual outcome, dispatch returning this very response,
            # is handled here without the general driver.
            returned, yielded = self.step(response)
            if returned is _NOTHING:
                if yielded.__class__ is _Sentinel:
                    self.waiting = yielded
                else:
                    await _drive(self, yielded=yielded)
            elif returned is response and response._stream is None and not self.app_ended:
                self.forwarding = True
                self.waiting = None
                try:
                    if response.info is not None:
                        await self.send({"type": "http.response.debug", "info": response.info})
                    await self.send(
                        {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
                    )
                except BaseException as error:
                    raise self.failed(error)
            else:
                await _drive(self, returned=returned)
        elif waiting is _NEXT_CHUNK:
            message_type = message["type"]
            if message_type == "http.response.body":
                body = message.get("body", b"")
                if message.get("more_body", False):
                    if body:
                        await _drive(self, body, None)
                else:
                    self.app_ended = True
                    await _drive(self, _Last(body) if body else _END, None)
            elif message_type == "http.response.pathsend":
                self.app_ended = True
                await _drive(self, message, None)
            else:
                await _drive(self, None, AssertionError())
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

    # -- the driver -------------------------------------------------------------------------

    @types.coroutine
    def run(self) -> Generator[Any, Any, None]:
        """The whole request: dispatch up to call_next(), then the app (inline, stepped in its
        own context, or in a task), then whatever is left of dispatch."""
        middleware = self.middleware
        scope = self.scope
        request = _CachedRequest.__new__(_CachedRequest)
        request.scope = scope
        request._receive = self.dispatch_receive
        request._recorder = self
        self.request = request
        self.ctx = contextvars.copy_context()
        # Where dispatch starts: call_next() checks it is awaited from the same task, with
        # no cancel scope entered in between. With no anyio task state anywhere (asyncio, no
        # cancel scope yet), the checks are skipped: a plain task holds no anyio scope.
        loop = _get_running_loop()
        if loop is None:
            task = self.task = _trio_task()
            self.cancel_scope = task._cancel_status
        else:
            if _asyncio_current_task is not None:
                self.task = _asyncio_current_task(loop)
            if _asyncio_task_states:
                task = _current_tasks.get(loop) if _asyncio_current_task is None else self.task
                state = self.state = _asyncio_task_states.get(_ref(task))
                if state is not None:
                    self.cancel_scope = state.cancel_scope
        dispatched: Any = middleware.dispatch_func(request, self.call_next)
        # Any awaitable will do, as for a plain await: a coroutine is stepped as it is.
        self.coro = dispatched if type(dispatched) is types.CoroutineType else dispatched.__await__()
        try:
            # dispatch's first step, usually up to call_next(), taken here without the driver.
            returned, yielded = self.step(None)
            if returned is not _NOTHING:
                yield from _drive(self, returned=returned)
            elif yielded is _CALL_NEXT:
                self.waiting = yielded
            else:
                yield from _drive(self, yielded=yielded)
            if self.waiting is _CALL_NEXT:
                # The app in this task, stepped in its own context; dispatch is resumed from
                # inside its send().
                assert self.app_ctx is not None
                coro: Any = middleware.app(scope, self.app_receive, self.app_send)
                run = self.app_ctx.run
                app_exc: BaseException | None = None
                self.in_app = True
                try:
                    value: Any = None
                    exc: BaseException | None = None
                    while True:
                        try:
                            yielded = run(coro.send, value) if exc is None else run(coro.throw, exc)
                        except StopIteration:
                            break
                        try:
                            value, exc = (yield yielded), None
                        except GeneratorExit:
                            coro.close()
                            raise
                        except BaseException as error:
                            value, exc = None, error
                except BaseException as error:
                    if self.abort is not None and _contains(error, self.abort):
                        raise self.abort.__cause__ from None  # type: ignore[misc]
                    if not isinstance(error, Exception):
                        raise
                    app_exc = error
                self.in_app = False
                self.app_ended = True
                if self.forwarding and not self.done:
                    # The app stopped without ending its body (it returned, or raised mid-stream).
                    self.forwarding = False
                    yield from self.forward_end().__await__()
                if self.helper is not None:
                    self.helper_send.close()
                    helper_exc = yield from self.helper.wait().__await__()
                    self.done = True
                    if helper_exc is not None:
                        raise helper_exc
                while not self.done:
                    if self.waiting is _CALL_NEXT:
                        failure, app_exc = app_exc or RuntimeError("No response returned."), None
                        yield from _drive(self, None, failure)
                    elif self.waiting is _NEXT_CHUNK:
                        yield from _drive(self, _END, None)
                    else:  # pragma: no cover - defensive: nothing left to drive
                        break
                if app_exc is not None:
                    raise app_exc
            elif self.app_task is not None:
                # The app ran in a task of its own and the response is sent: from now on the
                # app only sees disconnects, and what it still sends is dropped.
                self.done = True
                self.app_stream.close()
                self.release_app()
                app_error = yield from self.app_task.wait().__await__()
                if app_error is not None and not self.app_error_raised:
                    raise app_error
        except BaseException:
            app_task = self.app_task
            if app_task is not None and not app_task.finished.is_set():
                app_task.cancel()
                with anyio.CancelScope(shield=True):
                    yield from app_task.finished.wait().__await__()
            raise
        finally:
            if not self.done:
                self.coro.close()
            # The request and the response's body stream point back here: drop those loops so
            # that reference counting frees this request, not the garbage collector.
            self.request = self.response = None
            # Dispatch ran in a copy of our context; what it set stays visible to the caller.
            # Contexts nobody wrote to share their storage, so this compare is cheap.
            ctx = self.ctx
            if ctx != contextvars.copy_context():
                for var, value in ctx.items():
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
        call = _new(_Call)
        call.middleware = self
        call.scope = scope
        call.receive = receive
        call.send = send
        await call.run()

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        raise NotImplementedError()  # pragma: no cover
