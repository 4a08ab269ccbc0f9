"""graphql-core schedules its async work with asyncio. Under trio, that work runs on a private asyncio
loop in a daemon thread, awaited from trio through a worker thread; under asyncio it runs in place."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import anyio.to_thread

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _private_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="fastframe-graphql-asyncio", daemon=True).start()
        return _loop


async def run_on_asyncio(factory: Callable[[], Awaitable[T]]) -> T:
    """Runs `factory()` (which may call asyncio-only code synchronously) on an asyncio loop."""
    if _on_asyncio():
        return await factory()

    async def call() -> T:
        return await factory()

    future = asyncio.run_coroutine_threadsafe(call(), _private_loop())
    try:
        return await anyio.to_thread.run_sync(future.result, abandon_on_cancel=True)
    except BaseException:
        future.cancel()
        raise


async def iterate_on_asyncio(stream: AsyncIterator[T]) -> AsyncIterator[T]:
    """Iterates a stream created by run_on_asyncio, each step on the loop it belongs to."""
    if _on_asyncio():
        async for item in stream:
            yield item
        return
    sentinel: Any = object()

    async def step() -> Any:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return sentinel

    async def close() -> None:
        # A step cancelled from trio may still be unwinding on the asyncio loop; closing a running
        # generator raises, so let it finish first (it gets the cancellation within a few loop turns).
        for _ in range(1000):
            if not getattr(stream, "ag_running", False):
                break
            await asyncio.sleep(0)
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()

    try:
        while (item := await run_on_asyncio(step)) is not sentinel:
            yield item
    finally:
        with anyio.CancelScope(shield=True):
            await run_on_asyncio(close)
