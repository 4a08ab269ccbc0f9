"""The app side of BaseHTTPMiddleware: a hand-over of the app's messages with no buffer.

The reference runs the app in a child task and passes each message it sends through a channel
without a buffer: the app's `send` returns once someone took the message. `Relay` keeps that
contract with one slot. Whoever needs the app's next message (call_next for the start, the
response's body iterator, the forwarding loop) takes it from the slot.

Where the app runs:
- inline (asyncio, when dispatch awaits call_next itself and no deadline is in force): no task.
  The taker steps the app's coroutine in the request's task, in the context copied at
  call_next, until the app hands a message over (its send yields the relay itself: that is how
  it parks), blocks or ends. While dispatch is still deciding, a future the app blocks on is
  not handed to the event loop as the app's own wait: we link it to a wake-up event of ours and
  wait on that, so that a taker is also woken by a message sent from another task (a
  StreamingResponse sends from a child task while its main coroutine waits for a disconnect),
  and so that cancelling the taker (a timeout in dispatch) leaves the app's wait alone, as it
  would in a task of its own. Once dispatch is done, the app's waits are the task's own again.
- in a task (trio, or call_next awaited from elsewhere): the app runs in a task that belongs to
  no task group, and its sends wait for the taker like any other task's.

After the response, `finish()` lets the app run to its end: its sends are dropped after a
checkpoint, so that an app that streams without awaiting cannot freeze the event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Awaitable, Callable, Generator
from typing import Any, cast

import anyio
import anyio.lowlevel

from fastframe.types import ASGIApp, Message, Receive, Scope, Send

_Future = asyncio.Future
_EARLY_HINT = "http.response.early_hint"


@types.coroutine
def _hand_up(value: Any) -> Generator[Any, Any, Any]:
    """Yields `value` to whoever drives us (the event loop, or an outer relay)."""
    return (yield value)


def _spawn(run: Callable[[], Awaitable[None]], context: contextvars.Context) -> Callable[[], Any]:
    """Starts `run()` in a task that belongs to no task group; returns what cancels it.
    `run` catches everything itself: a trio system task must not raise."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: trio, anyio's other backend
        loop = None
    if loop is None:
        import trio

        scope = trio.CancelScope()

        async def guarded() -> None:
            with scope:
                await run()

        trio.lowlevel.spawn_system_task(guarded, context=context)
        return scope.cancel
    task = loop.create_task(run(), context=context)  # type: ignore[arg-type, var-annotated]
    return task.cancel


def _is_last(message: Message) -> bool:
    kind = message["type"]
    return kind == "http.response.pathsend" or (kind == "http.response.body" and not message.get("more_body", False))


class Relay:
    """One run of the app, and the slot its messages pass through. Fields keep their class
    value until they change: a plain request writes only a few of them."""

    send_out: Send  # the server's send: early hints, and the app's messages while forwarding
    coro: Any = None  # the app's coroutine, when it runs inline
    context: contextvars.Context
    stepping = False  # inside a step of the inline app
    parked = True  # the inline app waits in its send (or has not started)
    held: Message | None = None  # the message in the slot
    release: anyio.Event | None = None  # what another task's send waits on
    deferred: anyio.Event | None = None  # a last message's release, kept (see take())
    ended = False
    error: BaseException | None = None
    blocked_on: Any = None  # the future the inline app waits on, while we wait for it instead
    resume_value: Any = None
    resume_error: BaseException | None = None
    wake: anyio.Event | None = None  # what a waiting taker waits on
    dropping = False  # the response is complete: the app's messages go nowhere
    forwarding = False  # the middleware forwards another task's messages as they come
    cancel_task: Callable[[], Any] | None = None
    home_waiting = False  # a taker in the request's task waits for the inline app

    # -- starting the app -------------------------------------------------------------------

    def start_task(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        async def run() -> None:
            try:
                await app(scope, receive, cast(Send, self.app_send))
            except BaseException as exc:  # noqa: BLE001 - kept for the taker
                self.error = exc
            self.ended = True
            self._notify()

        self.cancel_task = _spawn(run, contextvars.copy_context())

    # -- the app's send ---------------------------------------------------------------------

    @types.coroutine
    def app_send(self, message: Message) -> Generator[Any, Any, None]:
        if self.stepping and not self.dropping and message["type"] != _EARLY_HINT:
            # The usual case: the inline app parks here until its message is taken.
            self.held = message
            yield self
        elif message["type"] == _EARLY_HINT:
            # Informational: straight to the server, whatever becomes of the response.
            yield from self.send_out(message).__await__()
        elif self.dropping:
            yield from anyio.lowlevel.checkpoint().__await__()
        elif self.forwarding:
            yield from self.forward_direct(message).__await__()
        else:
            self.held = message
            release = self.release = anyio.Event()
            self._notify()
            yield from release.wait().__await__()

    async def forward_direct(self, message: Message) -> None:
        raise NotImplementedError  # pragma: no cover - the middleware's

    def _notify(self, *_: Any) -> None:
        wake = self.wake
        if wake is not None:
            self.wake = None
            wake.set()

    def _unblocked(self, future: Any) -> None:
        if self.blocked_on is future:
            self.blocked_on = None
        self._notify()

    # -- stepping the inline app ------------------------------------------------------------

    def step(self, value: Any = None, error: BaseException | None = None) -> Any:
        """Runs the inline app, resumed with `value` or `error`, until it parks or ends (returns
        the relay; `ended` tells which) or waits on something else (returns what it yielded)."""
        self.stepping = True
        try:
            if error is None:
                yielded = self.context.run(self.coro.send, value)
            else:
                yielded = self.context.run(self.coro.throw, error)
        except StopIteration:
            self.ended = True
            return self
        except BaseException as exc:  # noqa: BLE001 - the app's failure, kept for the taker
            self.ended = True
            self.error = exc
            return self
        finally:
            self.stepping = False
            # What was thrown in may come back out through this frame: its traceback would keep
            # it here, a reference cycle.
            error = None
        return yielded

    async def advance(self, at_home: bool) -> None:
        """One move of the inline app for a taker, or a wait for what it is blocked on. Away from
        the request's task, the app is resumed from anything but its send only when that task
        is not waiting here to do it: what the app does next may be the exit of a scope it
        entered there (a StreamingResponse's task group), but nobody else may be there to."""
        if self.blocked_on is not None or not (at_home or self.parked or not self.home_waiting):
            if at_home:
                self.home_waiting = True
                try:
                    await self.wait()
                finally:
                    self.home_waiting = False
            else:
                await self.wait()
            return
        value, error = self.resume_value, self.resume_error
        self.resume_value = self.resume_error = None
        yielded = self.step(value, error)
        if yielded is self:
            self.parked = True
        else:
            await self.settle(yielded)

    async def settle(self, yielded: Any) -> None:
        """Deals with what the inline app yielded when it did not park."""
        self.parked = False
        if isinstance(yielded, _Future):
            self.blocked_on = yielded
            yielded.add_done_callback(self._unblocked)
            return
        # A bare yield (asyncio's sleep(0)) or an outer relay's park: hand it up, come back.
        try:
            self.resume_value = await _hand_up(yielded)
        except BaseException as exc:  # noqa: BLE001 - for the app, where it yielded
            self.resume_error = exc

    async def wait(self) -> None:
        wake = self.wake = anyio.Event()
        await wake.wait()

    async def take(self, at_home: bool) -> Message | None:
        """The app's next message, once it sends one; None once it ended without one."""
        while True:
            message = self.held
            if message is not None:
                self.held = None
                release = self.release
                if release is not None:
                    self.release = None
                    if self.coro is not None and _is_last(message):
                        # That task ending may cancel a scope the inline app entered here (a
                        # StreamingResponse's task group): it goes on once the app's waits are
                        # the task's own again (drive()).
                        self.deferred = release
                    else:
                        release.set()
                return message
            if self.ended:
                return None
            if self.coro is not None:
                await self.advance(at_home)
            else:
                await self.wait()

    # -- driving the app natively -----------------------------------------------------------

    async def resume_natively(self) -> tuple[Any, BaseException | None]:
        """From now on the inline app's waits are this task's own again (a cancellation reaches
        the app): a future it is blocked on is waited for here. What to resume it with."""
        blocked_on = self.blocked_on
        if blocked_on is not None:
            self.blocked_on = None
            blocked_on.remove_done_callback(self._unblocked)
            if not blocked_on.done():
                try:
                    await _hand_up(blocked_on)
                except BaseException as exc:  # noqa: BLE001 - the app's to handle
                    # Kept on self, not in a local: this frame is in the exception's traceback,
                    # and a local would close a cycle through it.
                    self.resume_value, self.resume_error = None, exc
        try:
            return self.resume_value, self.resume_error
        finally:
            self.resume_value = self.resume_error = None

    async def drive(self) -> None:
        """Runs the app to its end in the request's task, what it sends dropped."""
        self._release_all()
        if self.coro is None:
            while not self.ended:
                await self.wait()
            return
        value, error = await self.resume_natively()
        while not self.ended:
            yielded = self.step(value, error)
            value, error = None, None
            if yielded is self:
                self.held = None
                continue
            try:
                value = await _hand_up(yielded)
            except BaseException as exc:  # noqa: BLE001 - the app's to handle
                error = exc

    def _release_all(self) -> None:
        self.held = None
        for release in (self.release, self.deferred):
            if release is not None:
                release.set()
        self.release = self.deferred = None

    async def finish(self) -> BaseException | None:
        """Runs the app to its end, dropping what it sends; returns its exception, if any."""
        self.dropping = True
        self.forwarding = False
        if not self.ended:
            await self.drive()
        return self.error

    async def abort(self) -> None:
        """Cancels the app, as the reference cancels its task, and waits for it to end."""
        self.dropping = True
        self.forwarding = False
        if self.ended:
            return
        if self.coro is None:
            with anyio.CancelScope(shield=True):
                if self.cancel_task is not None:
                    self.cancel_task()
                while not self.ended:
                    await self.wait()
            return
        blocked_on = self.blocked_on
        if blocked_on is not None:
            self.blocked_on = None
            blocked_on.remove_done_callback(self._unblocked)
            blocked_on.cancel()
        self.resume_value = None
        self.resume_error = anyio.get_cancelled_exc_class()()
        await self.drive()
