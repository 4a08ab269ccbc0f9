from __future__ import annotations

import os

import pytest

# Which implementation this process measures: raw (the ASGI floor), starlette or fastframe.
# fastframe's compiled/pure mode is chosen by FASTFRAME_NO_EXTENSIONS, read once at import.
IMPL = os.environ.get("BENCH_IMPL", "fastframe")
QUICK = bool(os.environ.get("BENCH_QUICK"))


@pytest.fixture(scope="session")
def impl() -> str:
    return IMPL


@pytest.fixture(scope="session")
def rounds() -> int:
    return 5 if QUICK else 15
