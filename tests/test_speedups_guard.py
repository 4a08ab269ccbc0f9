"""The compiled run must really run compiled code, and the pure run pure code."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

from fastframe import speedups

PYX = sorted(p.stem for p in (Path(__file__).parent.parent / "_speedups").glob("*.pyx"))


def test_the_run_uses_the_mode_it_asked_for() -> None:
    if os.environ.get("FASTFRAME_NO_EXTENSIONS"):
        assert speedups.IMPLEMENTATION == "python"
        assert not any(speedups.COMPILED.values())
    elif os.environ.get("FASTFRAME_EXPECT_COMPILED"):
        assert speedups.IMPLEMENTATION == "cython"
        for name in PYX:
            assert speedups.COMPILED[name], f"fastframe._speedups.{name} did not load"
            module = importlib.import_module(f"fastframe._speedups.{name}")
            assert module.__file__ is not None and not module.__file__.endswith(".py")
    else:
        assert speedups.NO_EXTENSIONS is False


def test_python_dash_m_reports_the_mode() -> None:
    env = dict(os.environ, FASTFRAME_NO_EXTENSIONS="1")
    out = subprocess.run(
        [sys.executable, "-m", "fastframe"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "implementation: python" in out
    assert "http: pure python" in out


def test_every_pyx_has_a_pure_twin_with_the_same_public_names() -> None:
    for name in PYX:
        pure = importlib.import_module(f"fastframe._pure.{name}")
        if speedups.COMPILED.get(name):
            compiled = importlib.import_module(f"fastframe._speedups.{name}")
            public = {n for n in dir(pure) if not n.startswith("_") and callable(getattr(pure, n))}
            missing = {n for n in public if not hasattr(compiled, n)}
            assert not missing, f"{name}: compiled twin lacks {sorted(missing)}"
