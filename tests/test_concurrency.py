from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import starlette.concurrency as ref

import fastframe.concurrency as ours
from fastframe.exceptions import StarletteDeprecationWarning

pytestmark = pytest.mark.anyio


async def test_run_in_threadpool_passes_args_and_kwargs() -> None:
    def work(a: int, b: int = 0) -> tuple[int, int, bool]:
        return a, b, threading.current_thread() is threading.main_thread()

    assert await ours.run_in_threadpool(work, 1, b=2) == (1, 2, False)
    assert await ours.run_in_threadpool(work, 1, b=2) == await ref.run_in_threadpool(work, 1, b=2)


async def test_run_in_threadpool_propagates_exceptions() -> None:
    def fail() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        await ours.run_in_threadpool(fail)


async def test_iterate_in_threadpool_matches_reference() -> None:
    def gen() -> Iterator[int]:
        yield 1
        yield 2

    assert [x async for x in ours.iterate_in_threadpool(gen())] == [1, 2]
    assert [x async for x in ours.iterate_in_threadpool([3, 4])] == [x async for x in ref.iterate_in_threadpool([3, 4])]
    assert [x async for x in ours.iterate_in_threadpool([])] == []


async def test_iterate_in_threadpool_propagates_errors() -> None:
    def gen() -> Iterator[int]:
        yield 1
        raise ValueError("x")

    got: list[int] = []
    with pytest.raises(ValueError, match="x"):
        async for item in ours.iterate_in_threadpool(gen()):
            got.append(item)
    assert got == [1]


async def test_run_until_first_complete_warns_and_cancels_the_rest() -> None:
    events: list[str] = []

    async def quick(tag: str) -> None:
        await anyio.sleep(0)
        events.append(tag)

    async def slow() -> None:
        await anyio.sleep(10)
        events.append("slow")  # pragma: no cover

    results: list[Any] = []
    for module in (ours, ref):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            results.append(await module.run_until_first_complete((quick, {"tag": module.__name__}), (slow, {})))
        assert [w.category.__name__ for w in record] == ["StarletteDeprecationWarning"]
        assert [str(w.message) for w in record] == [
            "run_until_first_complete is deprecated and will be removed in a future version."
        ]
    assert results == [None, None]
    assert events == ["fastframe.concurrency", "starlette.concurrency"]
    assert issubclass(StarletteDeprecationWarning, UserWarning)
