from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import pytest

from fastframe import speedups


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def test_client_factory(anyio_backend: str) -> Callable[..., Any]:
    """A TestClient bound to the current anyio backend; each test runs on both."""
    from fastframe.testclient import TestClient

    return functools.partial(TestClient, backend=anyio_backend)


@pytest.fixture
def implementation() -> str:
    return speedups.IMPLEMENTATION


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"fastframe implementation: {speedups.IMPLEMENTATION} "
        f"(compiled: {', '.join(k for k, v in speedups.COMPILED.items() if v) or 'none'}; "
        f"FASTFRAME_NO_EXTENSIONS={os.environ.get('FASTFRAME_NO_EXTENSIONS', '')!r})"
    )
