"""The FastAPI benchmark runs: its app builds on each engine, in a fresh process per engine, and every
scenario's response validates there. Run with `pytest benchmarks/test_fastapi_bench.py`."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from benchmarks.fastapi_bench import ENGINES, SCENARIOS, Worker, engine_env
from benchmarks.run import ROOT

# fastapi is not imported here: the worker processes import it, each on its own engine.
# benchmarks.run collects this directory once per implementation to time it: this check times nothing.
pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("fastapi") is None, reason="fastapi is not installed"),
    pytest.mark.skipif("BENCH_IMPL" in os.environ, reason="not a timed scenario"),
]


@pytest.mark.parametrize("engine", list(ENGINES))
def test_engine_validates(engine: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.fastapi_bench", "--worker", engine, "--validate"],
        cwd=ROOT,
        env=engine_env(engine),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "ok"


def test_timing_worker_answers_every_scenario() -> None:
    worker = Worker("fastframe")
    try:
        for name in SCENARIOS:
            assert 0 < worker.batch(name) < 0.1
    finally:
        worker.close()
