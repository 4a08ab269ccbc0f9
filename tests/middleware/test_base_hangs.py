"""The two request shapes that used to freeze BaseHTTPMiddleware, run against both frameworks.

Each request runs in a worker thread that the test waits on for a bounded time, so a regression
fails here quickly instead of stalling the suite (a frozen event loop cannot be interrupted from
inside). A runaway app is stopped through `stop` once the test is over.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from typing import Any

import pytest

from tests.middleware.frameworks import OURS, REF

LIMIT = 10.0


def bounded(call: Callable[[], Any], stop: threading.Event | None = None) -> Any:
    """call() in a thread: its result, or its exception re-raised; fails if it takes over LIMIT."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(LIMIT)
    if stop is not None:
        stop.set()
    if worker.is_alive():
        worker.join(LIMIT)
        pytest.fail(f"the request did not finish within {LIMIT:.0f} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def discarding_app(ns: types.SimpleNamespace, stop: threading.Event, log: list[str]) -> Any:
    """The app streams without ever awaiting anything but its own sends; dispatch throws it away."""

    async def endless(request: Any) -> Any:
        async def chunks() -> Any:
            while not stop.is_set():
                yield b"x" * 64
            log.append("stopped from outside")

        return ns.StreamingResponse(chunks(), media_type="text/plain")

    async def other(request: Any) -> Any:
        return ns.PlainTextResponse("other")

    async def dispatch(request: Any, call_next: Any) -> Any:
        if request.url.path == "/other":
            return await call_next(request)
        await call_next(request)
        return ns.PlainTextResponse("replaced", status_code=202)

    return ns.Starlette(
        routes=[ns.Route("/", endless), ns.Route("/other", other)],
        middleware=[ns.Middleware(ns.BaseHTTPMiddleware, dispatch=dispatch)],
    )


@pytest.mark.parametrize("ns", [OURS, REF], ids=["fastframe", "starlette"])
def test_discarded_streaming_app_is_told_the_client_left(ns: types.SimpleNamespace, anyio_backend: str) -> None:
    stop = threading.Event()
    log: list[str] = []

    def request() -> tuple[int, bytes, int, bytes]:
        with ns.client(discarding_app(ns, stop, log), backend=anyio_backend) as client:
            first = client.get("/")
            # The same event loop still serves other requests afterwards.
            second = client.get("/other")
        return first.status_code, first.content, second.status_code, second.content

    assert bounded(request, stop) == (202, b"replaced", 200, b"other")
    assert log == []


def reading_after_app(ns: types.SimpleNamespace, how: str) -> Any:
    async def echo(request: Any) -> Any:
        return ns.PlainTextResponse(b"app read " + await request.body())

    async def dispatch(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        try:
            if how == "body":
                seen = await request.body()
            else:
                seen = b"".join([chunk async for chunk in request.stream()])
        except Exception as exc:
            response.headers["x-dispatch-read"] = f"{type(exc).__name__}: {exc}"
        else:
            response.headers["x-dispatch-read"] = seen.decode()
        return response

    return ns.Starlette(
        routes=[ns.Route("/", echo, methods=["POST"])],
        middleware=[ns.Middleware(ns.BaseHTTPMiddleware, dispatch=dispatch)],
    )


@pytest.mark.parametrize("how", ["body", "stream"])
def test_dispatch_reading_a_body_the_app_consumed(how: str, anyio_backend: str) -> None:
    def request(ns: types.SimpleNamespace) -> tuple[int, Any, bytes]:
        with ns.client(reading_after_app(ns, how), backend=anyio_backend) as client:
            response = client.post("/", content=b"payload")
        return response.status_code, response.headers.get("x-dispatch-read"), response.content

    ours = bounded(lambda: request(OURS))
    assert ours == bounded(lambda: request(REF))
    assert ours == (200, "RuntimeError: Stream consumed", b"app read payload")


def body_in_a_task_of_dispatch(ns: types.SimpleNamespace) -> Any:
    """dispatch consumes the body in a task it starts itself, while the app awaits between chunks."""
    import anyio

    async def slow(request: Any) -> Any:
        async def chunks() -> Any:
            for i in range(3):
                await anyio.sleep(0.01)
                yield f"part{i};"

        return ns.StreamingResponse(chunks(), media_type="text/plain")

    async def dispatch(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        parts: list[bytes] = []

        async def consume() -> None:
            async for chunk in response.body_iterator:
                parts.append(chunk)

        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
        return ns.PlainTextResponse(b"".join(parts).upper())

    return ns.Starlette(
        routes=[ns.Route("/", slow)],
        middleware=[ns.Middleware(ns.BaseHTTPMiddleware, dispatch=dispatch)],
    )


@pytest.mark.parametrize("spec", ["2.0", "2.4"])
def test_dispatch_consuming_the_body_in_its_own_task(spec: str, anyio_backend: str) -> None:
    def request(ns: types.SimpleNamespace) -> tuple[int, bytes]:
        app = body_in_a_task_of_dispatch(ns)

        async def with_spec(scope: Any, receive: Any, send: Any) -> None:
            await app({**scope, "asgi": {"version": "3.0", "spec_version": spec}}, receive, send)

        with ns.client(with_spec, backend=anyio_backend) as client:
            response = client.get("/")
        return response.status_code, response.content

    ours = bounded(lambda: request(OURS))
    assert ours == bounded(lambda: request(REF)) == (200, b"PART0;PART1;PART2;")
