"""Runs scenarios under callgrind for benchmarks.instructions: one implementation per process.

    valgrind --tool=callgrind ... python -m benchmarks.count_worker LIBMARKS IMPL NAME...

For each scenario it serves warm-up requests, then N and 2N requests, each stretch between a zero
and a named dump of callgrind's counters. The difference of the two dumps over N is the cost of one
request with the loop's set-up cancelled out.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Callable
from typing import Any

from benchmarks.driver import batch_runner, call_once
from benchmarks.micro_ops import fastframe_ops, reference_ops
from benchmarks.scenarios import SCENARIOS, load_framework

MICRO_OPS = 100


def repeat(n: int) -> int:
    """Requests per measured stretch: fewer for the heavy scenarios (a small batch in the timing suite)."""
    return max(2, min(10, n // 20))


def stretch_for(impl: str, name: str) -> tuple[Callable[[int], Callable[[], Any]], int] | None:
    """A maker of `n`-request runners for the scenario and its N; None where the framework lacks the feature."""
    if name.startswith("micro_"):
        op = (reference_ops() if impl == "starlette" else fastframe_ops())[name]

        def micro(n: int) -> Callable[[], Any]:
            def run() -> None:
                for _ in range(n):
                    op()

            return run

        return micro, MICRO_OPS
    scenario = SCENARIOS[name]
    app = scenario.build(load_framework(impl))
    if app is None:
        return None
    scenario.validate(call_once(app, scenario.request))
    return (lambda n: batch_runner(app, scenario.request, n)), repeat(scenario.batch)


def count_stretches(marks: ctypes.CDLL, name: str, make: Callable[[int], Callable[[], Any]], n: int) -> None:
    """Warm-up of 3N requests, then N and 2N requests, each between a zero of the counters and a dump
    named `name|one|N` or `name|two|N` (what benchmarks.instructions.callgrind reads), gc disabled."""
    runners = {"warm": make(3 * n), "one": make(n), "two": make(2 * n)}
    runners["warm"]()
    gc.collect()
    gc.disable()
    try:
        for part in ("one", "two"):
            marks.ff_zero()
            runners[part]()
            marks.ff_dump(f"{name}|{part}|{n}".encode())
    finally:
        gc.enable()


def main(argv: list[str]) -> None:
    marks = ctypes.CDLL(argv[0])
    impl, names = argv[1], argv[2:]
    for name in names:
        stretch = stretch_for(impl, name)
        if stretch is None:
            continue
        count_stretches(marks, name, *stretch)


if __name__ == "__main__":
    main(sys.argv[1:])
