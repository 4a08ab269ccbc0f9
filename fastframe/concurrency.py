"""Running blocking code off the event loop, and the deprecated first-to-finish helper."""

from __future__ import annotations

import functools
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from typing import Any, ParamSpec, TypeVar

import anyio
import anyio.to_thread

from fastframe.exceptions import StarletteDeprecationWarning

P = ParamSpec("P")
T = TypeVar("T")


async def run_until_first_complete(*args: tuple[Callable, dict]) -> None:  # type: ignore[type-arg]
    warnings.warn(
        "run_until_first_complete is deprecated and will be removed in a future version.",
        StarletteDeprecationWarning,
        stacklevel=1,  # the reference points the warning at this module, not at the caller
    )
    if not args:
        return
    finished = anyio.Event()

    async def run_then_signal(call: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        await call()
        finished.set()

    async with anyio.create_task_group() as group:
        for func, kwargs in args:
            group.start_soon(run_then_signal, functools.partial(func, **kwargs))
        # The first to return ends the others.
        await finished.wait()
        group.cancel_scope.cancel()


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    # anyio's run_sync passes positional arguments only. A partial also refuses a non-callable
    # ("the first argument must be callable") before any thread is taken, as the reference does.
    call = functools.partial(func, **kwargs) if kwargs or not callable(func) else func
    return await anyio.to_thread.run_sync(call, *args)


# What the worker thread hands back when the iterator is exhausted: StopIteration itself cannot
# cross from the thread into a coroutine.
_EXHAUSTED: Any = object()


async def iterate_in_threadpool(iterator: Iterable[T]) -> AsyncIterator[T]:
    """Each item of a blocking iterator, produced in a worker thread."""
    source = iter(iterator)
    while (item := await anyio.to_thread.run_sync(next, source, _EXHAUSTED)) is not _EXHAUSTED:
        yield item
