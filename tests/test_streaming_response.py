"""StreamingResponse against the reference: chunk types, denial responses on websocket scopes, the
ASGI spec versions' ways of reporting a client that went away, and background tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
import starlette.background as s_background
import starlette.responses as s_responses

import fastframe.background as f_background
import fastframe.responses as f_responses

BOTH = [(f_responses, f_background), (s_responses, s_background)]


def described(message: Any) -> Any:
    """Bodies as (type name, bytes): a memoryview is passed on as it is, and must stay one."""
    if isinstance(message, dict) and "body" in message:
        body = message["body"]
        return {**message, "body": (type(body).__name__, bytes(body))}
    return message


def serve(
    response: Any,
    scope: dict[str, Any] | None = None,
    incoming: list[dict[str, Any]] | None = None,
    failing_send_after: int | None = None,
    backend: str = "asyncio",
) -> list[Any]:
    full: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": []}
    full.update(scope or {})
    sent: list[Any] = []
    queue = list(incoming or [])

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if failing_send_after is not None and len(sent) >= failing_send_after:
            raise OSError("connection lost")
        sent.append(described(message))
        await anyio.sleep(0)

    async def main() -> None:
        try:
            await response(full, receive, send)
        except Exception as exc:
            sent.append(("raised", type(exc).__name__))

    anyio.run(main, backend=backend)
    return sent


def typed_view() -> memoryview:
    return memoryview(bytes(range(16))).cast("I")


def strided_view() -> memoryview:
    return memoryview(b"abcdefgh")[::2]


CHUNKS = [
    [b"a", b"", b"bc"],
    ["caf\u00e9", "\u2603"],
    [memoryview(b"view")],
    "typed",
    "strided",
    [bytearray(b"no")],
    [1],
    [],
]


def make_chunks(spec: Any) -> list[Any]:
    if spec == "typed":
        return [typed_view()]
    if spec == "strided":
        return [strided_view(), b"tail"]
    return list(spec)


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("chunks", CHUNKS, ids=repr)
@pytest.mark.parametrize("spec", ["2.0", "2.4"])
@pytest.mark.parametrize("sync", [True, False])
def test_chunks_are_sent_as_the_reference_sends_them(anyio_backend: str, chunks: Any, spec: str, sync: bool) -> None:
    results = []
    for responses, _ in BOTH:
        items = make_chunks(chunks)

        async def agen(items: list[Any] = items) -> AsyncIterator[Any]:
            for item in items:
                yield item

        content: Any = iter(items) if sync else agen()
        response = responses.StreamingResponse(content, media_type="text/plain")
        results.append(serve(response, {"asgi": {"spec_version": spec}}, backend=anyio_backend))
    assert results[0] == results[1]


def test_charset_status_and_headers() -> None:
    results = []
    for responses, _ in BOTH:

        class Latin(responses.StreamingResponse):  # type: ignore[name-defined, misc]
            charset = "latin-1"

        response = Latin(iter(["\u00e9t\u00e9"]), status_code=203, headers={"x-a": "1"}, media_type="text/csv")
        results.append((serve(response), response.media_type, response.raw_headers, hasattr(response, "body")))
    assert results[0] == results[1]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("spec", ["2.0", "2.4"])
def test_a_denial_response_on_a_websocket_runs_its_background_task(anyio_backend: str, spec: str) -> None:
    results = []
    for responses, background in BOTH:
        ran: list[str] = []
        response = responses.StreamingResponse(
            iter([b"denied", "!"]), status_code=403, background=background.BackgroundTask(ran.append, "done")
        )
        scope = {"type": "websocket", "asgi": {"spec_version": spec}}
        sent = serve(response, scope, incoming=[{"type": "websocket.connect"}], backend=anyio_backend)
        results.append((sent, ran))
    assert results[0] == results[1]
    assert [m["type"] for m in results[0][0]][:2] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert results[0][1] == ["done"]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize(
    "scope",
    [
        {"asgi": {"spec_version": "2.4"}},
        {"asgi": {"spec_version": "2.10"}},
        {"asgi": {"spec_version": "3.0"}},
        {"asgi": {"spec_version": "2.3"}},
        {},
        {"type": "websocket", "asgi": {"spec_version": "2.4"}},
        {"type": "websocket"},
        {"asgi": {"spec_version": "two"}},
    ],
    ids=repr,
)
def test_a_send_that_fails(anyio_backend: str, scope: dict[str, Any]) -> None:
    """From ASGI 2.4 on an http scope a failed send is the client going away (ClientDisconnect)."""
    results = []
    for responses, background in BOTH:
        ran: list[int] = []
        response = responses.StreamingResponse(iter([b"a", b"b"]), background=background.BackgroundTask(ran.append, 1))
        results.append((serve(response, scope, failing_send_after=1, backend=anyio_backend), ran))
    assert results[0] == results[1]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
def test_a_client_that_disconnects_ends_the_stream(anyio_backend: str) -> None:
    results = []
    for responses, background in BOTH:
        ran: list[int] = []
        produced: list[int] = []

        async def endless(produced: list[int] = produced) -> AsyncIterator[bytes]:
            while True:
                produced.append(1)
                yield b"x"
                await anyio.sleep(0.001)

        response = responses.StreamingResponse(endless(), background=background.BackgroundTask(ran.append, 1))
        incoming = [{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}]
        sent = serve(response, {}, incoming=incoming, backend=anyio_backend)
        results.append((sent[0], ran))  # how far it got before noticing depends on scheduling
        assert len(produced) < 50
    assert results[0] == results[1]


def test_listen_for_disconnect_returns_on_disconnect_only() -> None:
    incoming = [{"type": "http.request", "body": b"x"}, {"type": "http.other"}, {"type": "http.disconnect"}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def main() -> None:
        await f_responses.StreamingResponse(iter([])).listen_for_disconnect(receive)

    anyio.run(main)
    assert incoming == []


def test_a_blocking_iterator_runs_in_the_thread_pool() -> None:
    import threading

    threads: list[int] = []

    def blocking() -> Iterator[bytes]:
        threads.append(threading.get_ident())
        yield b"from a thread"

    sent = serve(f_responses.StreamingResponse(blocking()))
    assert sent[1]["body"] == ("bytes", b"from a thread")
    assert threads and threads[0] != threading.get_ident()
