from __future__ import annotations

import sys
import types
import zlib
from collections.abc import Callable
from typing import Any

import pytest

import fastframe.middleware.gzip as ff_gzip
from fastframe.middleware.compression import CompressionMiddleware, negotiate_encoding

BIG = b"hello world " * 100


def app_for(
    headers: tuple[tuple[bytes, bytes], ...] = ((b"content-type", b"text/plain"),), chunks: Any = (BIG,)
) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app


def scope(accept: str | None) -> dict[str, Any]:
    headers = [] if accept is None else [(b"accept-encoding", accept.encode())]
    return {"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""}


async def collect(middleware: Any, accept: str | None) -> list[Any]:
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await middleware(scope(accept), receive, send)
    return sent


class _RawDeflate:
    """Stands in for a brotli or zstd compressor in tests: raw deflate, same streaming shape."""

    def __init__(self) -> None:
        self._c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)

    def compress_chunk(self, data: bytes, final: bool) -> bytes:
        return self._c.compress(data) + self._c.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


@pytest.fixture
def fake_codecs(monkeypatch: pytest.MonkeyPatch) -> None:
    brotli = types.ModuleType("brotli")

    class Compressor:
        def __init__(self, quality: int) -> None:
            self._d = _RawDeflate()
            self._pending = b""

        def process(self, data: bytes) -> bytes:
            self._pending += data
            return b""

        def flush(self) -> bytes:
            data, self._pending = self._pending, b""
            return self._d.compress_chunk(data, False)

        def finish(self) -> bytes:
            data, self._pending = self._pending, b""
            return self._d.compress_chunk(data, True)

    brotli.Compressor = Compressor  # type: ignore[attr-defined]

    zstandard = types.ModuleType("zstandard")

    class CompressObj:
        def __init__(self) -> None:
            self._d = _RawDeflate()
            self._pending = b""

        def compress(self, data: bytes) -> bytes:
            self._pending += data
            return b""

        def flush(self, mode: int = 0) -> bytes:
            data, self._pending = self._pending, b""
            return self._d.compress_chunk(data, mode != 1)

    class ZstdCompressor:
        def __init__(self, level: int) -> None:
            pass

        def compressobj(self) -> CompressObj:
            return CompressObj()

    zstandard.ZstdCompressor = ZstdCompressor  # type: ignore[attr-defined]
    zstandard.COMPRESSOBJ_FLUSH_BLOCK = 1  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "brotli", brotli)
    monkeypatch.setitem(sys.modules, "zstandard", zstandard)


AVAILABLE = ("zstd", "br", "gzip")


@pytest.mark.parametrize(
    "header, expected",
    [
        ("gzip", "gzip"),
        ("br, gzip", "br"),
        ("gzip, br, zstd", "zstd"),
        ("br;q=0.5, gzip;q=0.8", "gzip"),
        ("GZIP", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip;q=0", None),
        ("*", "zstd"),
        ("*;q=0.1, gzip", "gzip"),
        ("*, zstd;q=0", "br"),
        ("identity", None),
        ("deflate", None),
        ("gzip;q=abc", None),
        ("", None),
    ],
)
def test_negotiation(header: str, expected: str | None) -> None:
    assert negotiate_encoding(header, AVAILABLE) == expected


def test_negotiation_without_optional_codecs() -> None:
    assert negotiate_encoding("br, zstd", ("gzip",)) is None
    assert negotiate_encoding("br, zstd, gzip;q=0.1", ("gzip",)) == "gzip"


@pytest.mark.anyio
@pytest.mark.parametrize("accept", ["gzip", "deflate", None, "gzip;q=0"])
async def test_gzip_only_matches_gzip_middleware(accept: str | None) -> None:
    # Whatever codecs the environment has, a gzip-only client gets what GZipMiddleware sends.
    app = app_for(chunks=(BIG, b"tail"))
    ours = await collect(CompressionMiddleware(app), accept)
    ref = await collect(ff_gzip.GZipMiddleware(app), None if accept == "gzip;q=0" else accept)
    assert ours == ref


@pytest.mark.anyio
@pytest.mark.parametrize("accept, encoding", [("br", "br"), ("zstd, br", "zstd"), ("br;q=0.2, gzip", "gzip")])
@pytest.mark.parametrize("chunks", [(BIG,), (b"a" * 10, b"b" * 10, b"")])
async def test_negotiated_codec_is_used(fake_codecs: None, accept: str, encoding: str, chunks: Any) -> None:
    sent = await collect(CompressionMiddleware(app_for(chunks=chunks)), accept)
    headers = dict(sent[0]["headers"])
    assert headers[b"content-encoding"] == encoding.encode()
    assert headers[b"vary"] == b"Accept-Encoding"
    bodies = [m["body"] for m in sent[1:]]
    wbits = zlib.MAX_WBITS | 16 if encoding == "gzip" else -zlib.MAX_WBITS
    decoder = zlib.decompressobj(wbits)
    # Each chunk decodes on arrival: streamed chunks are flushed, not buffered.
    assert [decoder.decompress(b) for b in bodies] == list(chunks)
    if len(chunks) == 1:
        assert headers[b"content-length"] == str(len(bodies[0])).encode()
    else:
        assert b"content-length" not in headers


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers, chunks",
    [
        (((b"content-type", b"text/event-stream"),), (BIG,)),
        (((b"content-type", b"text/plain"), (b"content-encoding", b"br")), (BIG,)),
        (((b"content-type", b"text/plain"),), (b"small",)),
    ],
)
async def test_uncompressible_responses_untouched(
    fake_codecs: None, headers: tuple[tuple[bytes, bytes], ...], chunks: Any
) -> None:
    app = app_for(headers=headers, chunks=chunks)
    assert await collect(CompressionMiddleware(app), "br") == await collect(ff_gzip.GZipMiddleware(app), "gzip")


def test_through_test_client(test_client_factory: Callable[..., Any]) -> None:
    client = test_client_factory(CompressionMiddleware(app_for()))
    response = client.get("/", headers={"accept-encoding": "gzip"})
    assert (response.status_code, response.headers["content-encoding"], response.content) == (200, "gzip", BIG)
