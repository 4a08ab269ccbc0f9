from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import pytest
import starlette.middleware.gzip as ref_gzip
from starlette.testclient import TestClient as RefTestClient

import fastframe.middleware.gzip as ff_gzip

BIG = b"hello world " * 100


def scope(accept_encoding: str | None = None, method: str = "GET", extra: Any = ()) -> dict[str, Any]:
    headers = [] if accept_encoding is None else [(b"accept-encoding", accept_encoding.encode())]
    return {
        "type": "http",
        "method": method,
        "path": "/",
        "headers": headers + list(extra),
        "query_string": b"",
        "http_version": "1.1",
        "scheme": "http",
        "server": ("testserver", 80),
        "root_path": "",
    }


def app_for(
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (("content-type", "text/plain"),),
    chunks: tuple[bytes, ...] = (BIG,),
    trailers: bool = False,
) -> Any:
    async def app(sc: Any, receive: Any, send: Any) -> None:
        start: dict[str, Any] = {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode(), v.encode()) for k, v in headers],
        }
        if trailers:
            start["trailers"] = True
        await send(start)
        for i, chunk in enumerate(chunks):
            message: dict[str, Any] = {"type": "http.response.body", "body": chunk}
            if i < len(chunks) - 1:
                message["more_body"] = True
            await send(message)
        if trailers:
            await send({"type": "http.response.trailers", "headers": [(b"x-t", b"1")], "more_trailers": False})

    return app


async def collect(middleware: Any, sc: dict[str, Any]) -> tuple[list[Any], Any]:
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    try:
        await middleware(sc, receive, send)
        error = None
    except Exception as exc:
        error = repr(exc)
    return sent, error


CT = "content-type"
CASES: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]] = {
    "no-accept-encoding": (app_for(), scope(), {}),
    "gzip": (app_for(), scope("gzip"), {}),
    "gzip-with-content-length": (app_for(headers=((CT, "text/plain"), ("content-length", "1200"))), scope("gzip"), {}),
    "duplicate-content-length": (
        app_for(headers=(("content-length", "1"), (CT, "text/plain"), ("content-length", "1"))),
        scope("gzip"),
        {},
    ),
    "small": (app_for(chunks=(b"small",)), scope("gzip"), {}),
    "exactly-minimum": (app_for(chunks=(b"a" * 500,)), scope("gzip"), {}),
    "one-under-minimum": (app_for(chunks=(b"a" * 499,)), scope("gzip"), {}),
    "upper-case-token": (app_for(), scope("GZIP"), {}),
    "q-zero-still-substring": (app_for(), scope("gzip;q=0"), {}),
    "br-and-gzip": (app_for(), scope("br, gzip"), {}),
    "star": (app_for(), scope("*"), {}),
    "deflate-only": (app_for(), scope("deflate"), {}),
    "first-accept-encoding-header-counts": (app_for(), scope("deflate", extra=[(b"accept-encoding", b"gzip")]), {}),
    "streaming": (app_for(chunks=(b"a" * 10, b"b" * 10, b"c" * 10)), scope("gzip"), {}),
    "streaming-identity": (app_for(chunks=(b"a" * 10, b"b" * 10)), scope(), {}),
    "streaming-empty-first": (app_for(chunks=(b"", b"a" * 10, b"")), scope("gzip"), {}),
    "already-encoded": (app_for(headers=((CT, "text/plain"), ("content-encoding", "br"))), scope("gzip"), {}),
    "already-encoded-identity": (
        app_for(headers=((CT, "text/plain"), ("content-encoding", "identity"))),
        scope("gzip"),
        {},
    ),
    "event-stream": (
        app_for(headers=((CT, "text/event-stream; charset=utf-8"),), chunks=(BIG, BIG)),
        scope("gzip"),
        {},
    ),
    "image-png-mixed-case": (app_for(headers=((CT, "Image/PNG"),)), scope("gzip"), {}),
    "audio-wildcard": (app_for(headers=((CT, "audio/mpeg"),)), scope("gzip"), {}),
    "no-content-type": (app_for(headers=()), scope("gzip"), {}),
    "first-content-type-counts": (app_for(headers=((CT, "text/plain"), (CT, "image/png"))), scope("gzip"), {}),
    "vary-merged": (app_for(headers=((CT, "text/plain"), ("vary", "Origin"))), scope("gzip"), {}),
    "vary-merged-identity": (app_for(headers=((CT, "text/plain"), ("vary", "Origin"))), scope(), {}),
    "vary-already-there": (app_for(headers=((CT, "text/plain"), ("vary", "accept-encoding"))), scope("gzip"), {}),
    "partial-content": (app_for(status=206), scope("gzip"), {}),
    "content-range-200": (app_for(headers=((CT, "text/plain"), ("content-range", "bytes 0-1/2"))), scope("gzip"), {}),
    "not-modified": (app_for(status=304, chunks=(b"",)), scope("gzip"), {}),
    "head": (
        app_for(headers=((CT, "text/plain"), ("content-length", "1200")), chunks=(b"",)),
        scope("gzip", "HEAD"),
        {},
    ),
    "custom-exclusion": (app_for(), scope("gzip"), {"exclude_content_types": ("Text/Plain; charset=x",)}),
    "custom-wildcard": (app_for(), scope("gzip"), {"exclude_content_types": ("text/*",)}),
    "level-and-minimum": (app_for(chunks=(b"abc",)), scope("gzip"), {"minimum_size": 0, "compresslevel": 1}),
    "trailers": (app_for(chunks=(BIG, b""), trailers=True), scope("gzip"), {}),
    "threaded-compression": (app_for(chunks=(bytes(range(256)) * 600,)), scope("gzip"), {}),
    "threaded-streaming": (app_for(chunks=(BIG, BIG)), scope("gzip"), {"thread_minimum_size": 100}),
    "memoryview-body": (app_for(chunks=(memoryview(BIG),)), scope("gzip"), {}),
}


@pytest.mark.anyio
@pytest.mark.parametrize("case", list(CASES))
async def test_messages_match_reference(case: str) -> None:
    app, sc, options = CASES[case]
    ours = await collect(ff_gzip.GZipMiddleware(app, **options), dict(sc, headers=list(sc["headers"])))
    ref = await collect(ref_gzip.GZipMiddleware(app, **options), dict(sc, headers=list(sc["headers"])))
    assert ours == ref


@pytest.mark.anyio
@pytest.mark.parametrize("accept", ["gzip", None])
async def test_app_edge_cases_match_reference(accept: str | None) -> None:
    async def start_only(sc: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def nothing(sc: Any, receive: Any, send: Any) -> None:
        pass

    async def boom(sc: Any, receive: Any, send: Any) -> None:
        raise ValueError("boom")

    async def pathsend(sc: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.pathsend", "path": "/tmp/file"})

    for app in (start_only, nothing, boom, pathsend):
        ours = await collect(ff_gzip.GZipMiddleware(app), scope(accept))
        ref = await collect(ref_gzip.GZipMiddleware(app), scope(accept))
        assert ours == ref


@pytest.mark.anyio
async def test_each_streamed_chunk_is_decodable_on_arrival() -> None:
    chunks = (b"first " * 10, b"second " * 10, b"third")
    sent, _ = await collect(ff_gzip.GZipMiddleware(app_for(chunks=chunks)), scope("gzip"))
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert [decoder.decompress(b) for b in bodies] == list(chunks)
    assert decoder.eof


@pytest.mark.anyio
async def test_websocket_and_lifespan_pass_through() -> None:
    seen = []

    async def app(sc: Any, receive: Any, send: Any) -> None:
        seen.append(sc["type"])

    for kind in ("websocket", "lifespan"):
        await ff_gzip.GZipMiddleware(app)({"type": kind, "headers": [(b"accept-encoding", b"gzip")]}, None, None)  # type: ignore[arg-type]
    assert seen == ["websocket", "lifespan"]


def test_signature_defaults() -> None:
    middleware = ff_gzip.GZipMiddleware(app_for())
    assert (middleware.minimum_size, middleware.compresslevel, middleware.thread_minimum_size) == (500, 9, 131072)
    assert middleware.exclude_content_types == ff_gzip.DEFAULT_EXCLUDED_CONTENT_TYPES
    assert ff_gzip.DEFAULT_EXCLUDED_CONTENT_TYPES == ref_gzip.DEFAULT_EXCLUDED_CONTENT_TYPES
    assert ff_gzip._normalize_content_types((" A/B ; x=1",)) == ref_gzip._normalize_content_types((" A/B ; x=1",))


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/big", {"accept-encoding": "gzip"}),
        ("/big", {"accept-encoding": "identity"}),
        ("/small", {"accept-encoding": "gzip"}),
        ("/stream", {"accept-encoding": "gzip"}),
        ("/events", {"accept-encoding": "gzip"}),
    ],
)
def test_through_test_client_matches_reference(
    test_client_factory: Callable[..., Any], anyio_backend: str, path: str, headers: dict[str, str]
) -> None:
    def routed(sc: Any, receive: Any, send: Any) -> Any:
        apps = {
            "/big": app_for(),
            "/small": app_for(chunks=(b"tiny",)),
            "/stream": app_for(chunks=(BIG, b"more", b"")),
            "/events": app_for(headers=((CT, "text/event-stream"),), chunks=(b"data: 1\n\n", b"")),
        }
        return apps[sc["path"]](sc, receive, send)

    ours = test_client_factory(ff_gzip.GZipMiddleware(routed)).get(path, headers=headers)
    ref = RefTestClient(ref_gzip.GZipMiddleware(routed), backend=anyio_backend).get(path, headers=headers)
    assert (ours.status_code, ours.headers.multi_items(), ours.content) == (
        ref.status_code,
        ref.headers.multi_items(),
        ref.content,
    )
