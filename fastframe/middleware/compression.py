"""CompressionMiddleware: GZipMiddleware's rules, with the coding negotiated by Accept-Encoding.

Not in the reference. zstd (``zstandard``) and br (``brotli``) are offered when importable;
gzip always is. The client's q-values decide; among equal q-values the server prefers
zstd, then br, then gzip. A response that is not compressible is left alone exactly as
GZipMiddleware leaves it, and compressible ones get ``Vary: Accept-Encoding``.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable
from typing import Any

import anyio

from fastframe import speedups
from fastframe.middleware.gzip import (
    DEFAULT_EXCLUDED_CONTENT_TYPES,
    IdentityResponder,
    _get_gzip_capacity_limiter,
    _normalize_content_types,
)
from fastframe.types import ASGIApp, Receive, Scope, Send

__all__ = ["CompressionMiddleware", "negotiate_encoding"]

_PREFERENCE = ("zstd", "br", "gzip")


class _Gzip:
    __slots__ = ("_compressor",)

    def __init__(self, level: int) -> None:
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)

    def __call__(self, body: bytes, more_body: bool) -> bytes:
        flush = zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH
        return self._compressor.compress(body) + self._compressor.flush(flush)


class _Brotli:
    __slots__ = ("_compressor",)

    def __init__(self, module: Any, level: int) -> None:
        self._compressor = module.Compressor(quality=level)

    def __call__(self, body: bytes, more_body: bool) -> bytes:
        data = self._compressor.process(body)
        return data + (self._compressor.flush() if more_body else self._compressor.finish())


class _Zstd:
    __slots__ = ("_compressor", "_block")

    def __init__(self, module: Any, level: int) -> None:
        self._compressor = module.ZstdCompressor(level=level).compressobj()
        self._block = module.COMPRESSOBJ_FLUSH_BLOCK

    def __call__(self, body: bytes, more_body: bool) -> bytes:
        data = self._compressor.compress(body)
        return data + (self._compressor.flush(self._block) if more_body else self._compressor.flush())


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def negotiate_encoding(accept_encoding: str, available: tuple[str, ...]) -> str | None:
    """The coding to use for this Accept-Encoding header, or None for identity."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if coding == "x-gzip":
            coding = "gzip"
        weights[coding] = max(q, weights.get(coding, q))
    wildcard = weights.get("*")
    best: str | None = None
    best_q = 0.0
    for coding in available:  # in server preference order: the first of equal weight wins
        q = weights.get(coding, wildcard if wildcard is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    return best


class _EncodingResponder(IdentityResponder):
    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int,
        encoding: str,
        compressor: Callable[[bytes, bool], bytes],
        *,
        thread_minimum_size: int,
        exclude_content_types: tuple[str, ...],
    ) -> None:
        super().__init__(app, minimum_size, exclude_content_types=exclude_content_types)
        self.content_encoding = encoding
        self.thread_minimum_size = thread_minimum_size
        self._compress = compressor

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if len(body) >= self.thread_minimum_size:
            return await anyio.to_thread.run_sync(
                self._compress, bytes(body), more_body, limiter=_get_gzip_capacity_limiter()
            )
        return self._compress(bytes(body), more_body)


class CompressionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        *,
        gzip_level: int = 9,
        brotli_quality: int = 4,
        zstd_level: int = 3,
        thread_minimum_size: int = 131072,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types = _normalize_content_types(exclude_content_types)
        factories: dict[str, Callable[[], Callable[[bytes, bool], bytes]]] = {}
        zstandard = _import("zstandard")
        if zstandard is not None:
            factories["zstd"] = lambda: _Zstd(zstandard, zstd_level)
        brotli = _import("brotli")
        if brotli is not None:
            factories["br"] = lambda: _Brotli(brotli, brotli_quality)
        factories["gzip"] = lambda: _Gzip(gzip_level)
        self._factories = factories
        self.encodings = tuple(name for name in _PREFERENCE if name in factories)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = speedups.http.header_get(scope["headers"], "accept-encoding") or ""
        encoding = negotiate_encoding(accept, self.encodings) if accept else None
        responder: IdentityResponder
        if encoding is None:
            responder = IdentityResponder(self.app, self.minimum_size, exclude_content_types=self.exclude_content_types)
        else:
            responder = _EncodingResponder(
                self.app,
                self.minimum_size,
                encoding,
                self._factories[encoding](),
                thread_minimum_size=self.thread_minimum_size,
                exclude_content_types=self.exclude_content_types,
            )
        await responder(scope, receive, send)
