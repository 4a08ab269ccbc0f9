from __future__ import annotations

import threading
from typing import Any

import pytest
import starlette.background as ref

import fastframe.background as ours

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("module", [ours, ref], ids=["fastframe", "starlette"])
async def test_tasks_run_in_order_with_arguments(module: Any) -> None:
    calls: list[Any] = []

    async def async_task(value: int, *, key: str) -> None:
        calls.append(("async", value, key, threading.current_thread() is threading.main_thread()))

    def sync_task(value: int, *, key: str) -> None:
        calls.append(("sync", value, key, threading.current_thread() is threading.main_thread()))

    tasks = module.BackgroundTasks()
    tasks.add_task(async_task, 1, key="a")
    tasks.add_task(sync_task, 2, key="b")
    tasks.add_task(async_task, 3, key="c")
    await tasks()
    # Sync callables run off the event loop thread; async ones on it.
    assert calls == [("async", 1, "a", True), ("sync", 2, "b", False), ("async", 3, "c", True)]


async def test_single_task_attributes_match_reference() -> None:
    def func(a: int, b: int = 0) -> None: ...

    async def afunc() -> None: ...

    for f, args, kwargs in [(func, (1,), {"b": 2}), (afunc, (), {})]:
        mine, theirs = ours.BackgroundTask(f, *args, **kwargs), ref.BackgroundTask(f, *args, **kwargs)
        assert vars(mine) == vars(theirs)


async def test_tasks_from_sequence_and_error_stops_the_rest() -> None:
    calls: list[int] = []

    def ok(n: int) -> None:
        calls.append(n)

    def fail() -> None:
        raise ValueError("boom")

    tasks = ours.BackgroundTasks([ours.BackgroundTask(ok, 1), ours.BackgroundTask(fail), ours.BackgroundTask(ok, 2)])
    assert isinstance(tasks, ours.BackgroundTask)
    with pytest.raises(ValueError, match="boom"):
        await tasks()
    assert calls == [1]
    assert ours.BackgroundTasks().tasks == []


async def test_callable_objects_and_partials_are_detected() -> None:
    import functools

    seen: list[str] = []

    class AsyncCallable:
        async def __call__(self, tag: str) -> None:
            seen.append(tag)

    task = ours.BackgroundTask(functools.partial(AsyncCallable(), "partial"))
    assert task.is_async
    await task()
    assert seen == ["partial"]
