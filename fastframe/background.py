"""Work that runs after the response has been sent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ParamSpec

from fastframe._utils import is_async_callable
from fastframe.concurrency import run_in_threadpool

P = ParamSpec("P")


class BackgroundTask:
    """One call, awaited on the event loop when `func` is async, else run in the thread pool."""

    def __init__(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.is_async = is_async_callable(func)

    async def __call__(self) -> None:
        if not self.is_async:
            await run_in_threadpool(self.func, *self.args, **self.kwargs)
            return
        await self.func(*self.args, **self.kwargs)


class BackgroundTasks(BackgroundTask):
    """Several tasks, run one after another in the order they were added; one that raises stops
    the ones after it."""

    def __init__(self, tasks: Sequence[BackgroundTask] | None = None):
        self.tasks = [*tasks] if tasks else []

    def add_task(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        for task in self.tasks:
            await task()
