"""The hot paths alone: fastframe's twins (compiled or pure, per process) against the reference's code."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.micro_ops import OPS, fastframe_ops, reference_ops

BATCH = 2000


@pytest.mark.parametrize("name", OPS)
def test_micro(benchmark: Any, impl: str, rounds: int, name: str) -> None:
    if impl == "raw":
        pytest.skip("no raw floor for the micro benchmarks")
    ops = reference_ops() if impl == "starlette" else fastframe_ops()
    op = ops[name]
    op()

    def run() -> None:
        for _ in range(BATCH):
            op()

    benchmark.extra_info["batch"] = BATCH
    benchmark.extra_info["group"] = "micro"
    benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=1)
