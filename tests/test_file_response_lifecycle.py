"""FileResponse stops and closes its file whatever ends the response early: a client that goes away,
a send that fails, a cancelled task. No descriptor is left open on any path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest
import starlette.background as s_background
import starlette.responses as s_responses

import fastframe.background as f_background
import fastframe.responses as f_responses

SIZE = 3 * 1024 * 1024 + 5  # more than one block of the worker-thread reads


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(SIZE))
    return path


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


IMPLEMENTATIONS = [(f_responses, f_background), (s_responses, s_background)]


class Gone(OSError):
    pass


async def serve_until(
    response: Any, stop_after: int, how: str, spec: str = "2.0", extra: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """Serve `response`; after `stop_after` body messages the client goes away in the manner `how`."""
    sent: list[dict[str, Any]] = []
    gone = anyio.Event()
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": []}
    scope["asgi"] = {"version": "3.0", "spec_version": spec}
    scope.update(extra or {})

    async def receive() -> dict[str, Any]:
        if how == "disconnect":
            await gone.wait()
            return {"type": "http.disconnect"}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if gone.is_set() and how == "raise":
            raise Gone("the client went away")
        sent.append(message)
        if message["type"] == "http.response.body" and len(sent) > stop_after:
            gone.set()
        await anyio.sleep(0)

    error: BaseException | None = None
    try:
        if how == "cancel":
            async with anyio.create_task_group() as group:
                group.start_soon(response, scope, receive, send)
                await gone.wait()
                group.cancel_scope.cancel()
        else:
            await response(scope, receive, send)
    except Exception as exc:
        error = exc
    return sent, error


def body_bytes(sent: list[dict[str, Any]]) -> int:
    return sum(len(m.get("body", b"")) for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("headers", [[], [(b"range", b"bytes=10-3000000")], [(b"range", b"bytes=0-5,100-3000000")]])
def test_a_client_that_disconnects_stops_the_reading(big: Path, anyio_backend: str, headers: Any) -> None:
    for responses, background in IMPLEMENTATIONS:
        ran: list[int] = []
        response = responses.FileResponse(big, background=background.BackgroundTask(ran.append, 1))
        before = open_fds()
        extra = {"headers": headers}
        sent, error = anyio.run(serve_until, response, 2, "disconnect", "2.0", extra, backend=anyio_backend)
        assert error is None
        assert body_bytes(sent) < SIZE // 2, responses.__name__
        assert sent[-1].get("more_body") is True
        assert open_fds() == before
        assert ran == [1]  # the background task still runs, as the reference's does


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("spec", ["2.0", "2.4"])
@pytest.mark.parametrize("headers", [[], [(b"range", b"bytes=10-3000000")], [(b"range", b"bytes=0-5,100-3000000")]])
def test_a_failing_send_closes_the_file(big: Path, anyio_backend: str, spec: str, headers: Any) -> None:
    outcomes = []
    for responses, _ in IMPLEMENTATIONS:
        before = open_fds()
        sent, error = anyio.run(
            serve_until, responses.FileResponse(big), 1, "raise", spec, {"headers": headers}, backend=anyio_backend
        )
        assert open_fds() == before
        assert body_bytes(sent) < SIZE // 2
        outcomes.append(type(error).__name__)
    assert outcomes[0] == outcomes[1] == "Gone"


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("spec", ["2.0", "2.4"])
def test_cancelling_the_task_closes_the_file(big: Path, anyio_backend: str, spec: str) -> None:
    for responses, _ in IMPLEMENTATIONS:
        before = open_fds()
        sent, error = anyio.run(serve_until, responses.FileResponse(big), 1, "cancel", spec, backend=anyio_backend)
        assert error is None
        assert body_bytes(sent) < SIZE // 2
        assert open_fds() == before


def test_every_way_out_leaves_no_descriptor(tmp_path: Path) -> None:
    """Whole files, ranges, bad ranges, HEAD, pathsend, missing files, directories: nothing stays open."""
    path = tmp_path / "f.txt"
    path.write_bytes(b"x" * 1000)
    scopes: list[dict[str, Any]] = [
        {},
        {"method": "HEAD"},
        {"headers": [(b"range", b"bytes=0-10")]},
        {"headers": [(b"range", b"bytes=0-10,20-30")]},
        {"headers": [(b"range", b"bytes=5000-")]},
        {"headers": [(b"range", b"bytes=x")]},
        {"extensions": {"http.response.pathsend": {}}},
    ]
    targets = [path, tmp_path / "missing.txt", tmp_path]

    async def noop_receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def collect(message: dict[str, Any]) -> None:
        pass

    async def attempt(target: Path, scope: dict[str, Any]) -> None:
        full: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": [], **scope}
        try:
            await f_responses.FileResponse(target)(full, noop_receive, collect)
        except RuntimeError:
            pass

    before = open_fds()
    for target in targets:
        for scope in scopes:
            anyio.run(attempt, target, scope)
        assert open_fds() == before
