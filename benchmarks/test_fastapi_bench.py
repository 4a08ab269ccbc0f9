"""The FastAPI benchmark runs: its app builds on each engine, in a fresh process per engine, and every
scenario's response validates there. Run with `pytest benchmarks/test_fastapi_bench.py`."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.fastapi_bench import ENGINES, SCENARIOS, Worker, engine_env, instructions_table, worker_command
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


def test_instructions_table_on_fake_counts() -> None:
    counts = {"starlette": 200_000.0, "fastframe": 100_000.0, "fastframe-pure": 160_000.0}
    table = instructions_table({engine: dict.fromkeys(SCENARIOS, count) for engine, count in counts.items()})
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(SCENARIOS)
    for row, scenario in zip(rows, SCENARIOS.values(), strict=True):
        assert row == f"| {scenario.label} | 200.0k | 100.0k | 160.0k | 2.000 | 1.250 |"


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="the marks library needs valgrind's headers")
def test_count_worker_runs_outside_valgrind(tmp_path: Path) -> None:
    """The --instructions worker, without valgrind (its marks are no-ops there): it loads the app on
    the alias, checks the responses and serves every stretch."""
    from benchmarks.instructions import build_marks

    marks = build_marks(tmp_path)
    proc = subprocess.run(
        worker_command("fastframe", "--count", str(marks)),
        cwd=ROOT,
        env=engine_env("fastframe"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
