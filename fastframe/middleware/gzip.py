"""GZipMiddleware: compresses response bodies for clients that accept gzip.

Per response, a responder decides from the start message whether the body may be encoded at
all (not when the app encoded it, chose an excluded media type or sent a partial response);
such a start goes out at once, everything after it untouched. Otherwise the start waits for the
first body: a complete body under `minimum_size` goes out as it is, anything else is encoded
and the start's headers say so. IdentityResponder, for clients without gzip, encodes nothing
but still marks encodable responses `Vary: Accept-Encoding`, as another client would get gzip.
"""

from __future__ import annotations

import zlib
from typing import NoReturn

import anyio
import anyio.lowlevel

from fastframe import speedups
from fastframe.datastructures import MutableHeaders
from fastframe.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_EXCLUDED_CONTENT_TYPES = (
    "application/grpc",
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "audio/*",
    "font/woff",
    "font/woff2",
    "image/avif",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/event-stream",
    "video/*",
)

_header_get = speedups.http.header_get

# Bodies of thread_minimum_size bytes and more are compressed in worker threads, at most this
# many at a time per event loop.
_THREADS = 40
_limiters: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar("fastframe_gzip_limiter")


def _get_gzip_capacity_limiter() -> anyio.CapacityLimiter:
    limiter = _limiters.get(None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(_THREADS)
        _limiters.set(limiter)
    return limiter


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _normalize_content_types(content_types: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(map(_media_type, content_types))


def _excluded(content_type: str, excluded: tuple[str, ...]) -> bool:
    """Whether a Content-Type is one of `excluded`: "type/*" stands for every subtype, and a
    structured suffix does not count ("application/grpc+proto" is "application/grpc")."""
    main, _, sub = _media_type(content_type).partition("/")
    sub = sub.split("+", 1)[0]
    for pattern in excluded:
        pattern_main, _, pattern_sub = pattern.partition("/")
        if pattern_main == main and (pattern_sub == "*" or pattern_sub == sub):
            return True
    return False


async def unattached_send(message: Message) -> NoReturn:
    raise RuntimeError("send awaitable not set")  # pragma: no cover


class GZipMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 9,
        thread_minimum_size: int = 131072,
        *,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        self.app = app
        # The responders' settings; excluded types are kept as bare, lower-case media types.
        self.minimum_size, self.compresslevel = minimum_size, compresslevel
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types = _normalize_content_types(exclude_content_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        responder: IdentityResponder
        if "gzip" in _header_get(scope["headers"], "accept-encoding", ""):
            responder = GZipResponder(
                self.app,
                self.minimum_size,
                self.compresslevel,
                thread_minimum_size=self.thread_minimum_size,
                exclude_content_types=self.exclude_content_types,
            )
        else:
            responder = IdentityResponder(self.app, self.minimum_size, exclude_content_types=self.exclude_content_types)
        await responder(scope, receive, send)


# What a responder does with the app's messages, decided at the start.
_UNDECIDED = 0  # the start waits for the first body
_AS_IS = 1  # forwarded untouched
_ENCODED = 2  # bodies go through apply_compression()


class IdentityResponder:
    # The Content-Encoding this responder produces; None: it produces none.
    content_encoding: str | None = None

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int,
        *,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.exclude_content_types = exclude_content_types
        self.send: Send = unattached_send
        self.initial_message: Message = {}
        self.mode = _UNDECIDED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.send = send
        await self.app(scope, receive, self.send_with_compression)

    def _encodable(self, start: Message) -> bool:
        raw = start["headers"]
        if start.get("status") == 206 or _header_get(raw, "content-encoding") is not None:
            return False
        content_type = _header_get(raw, "content-type")
        return not content_type or not _excluded(content_type, self.exclude_content_types)

    async def send_with_compression(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if "headers" not in message:
                message["headers"] = []  # to be edited, or passed on, like any other
            if self._encodable(message):
                self.mode = _UNDECIDED
                self.initial_message = message
                return
            self.mode = _AS_IS
        elif self.mode == _UNDECIDED and kind == "http.response.body":
            await self._first_body(message)
            return
        elif self.mode == _UNDECIDED and kind == "http.response.pathsend":
            self.mode = _AS_IS
            await self.send(self.initial_message)
        elif self.mode == _ENCODED and kind == "http.response.body":
            more = message.get("more_body", False)
            message["body"] = await self.apply_compression(message.get("body", b""), more_body=more)
        await self.send(message)

    async def _first_body(self, message: Message) -> None:
        start = self.initial_message
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if not more and len(body) < self.minimum_size:
            # Too small to be worth it: as the app sent it, without Vary either.
            self.mode = _AS_IS
            await self.send(start)
            await self.send(message)
            return
        self.mode = _ENCODED
        encoded = await self.apply_compression(body, more_body=more)
        headers = MutableHeaders(raw=start["headers"])
        headers.add_vary_header("Accept-Encoding")
        if self.content_encoding is not None:
            headers["Content-Encoding"] = self.content_encoding
            if more or start.get("trailers", False):
                # The length is not known before the end (or trailers follow the body).
                del headers["Content-Length"]
            else:
                headers["Content-Length"] = str(len(encoded))
        message["body"] = encoded
        await self.send(start)
        await self.send(message)

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        return body


class GZipResponder(IdentityResponder):
    content_encoding = "gzip"

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int,
        compresslevel: int = 9,
        *,
        thread_minimum_size: int = 131072,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        super().__init__(app, minimum_size, exclude_content_types=exclude_content_types)
        self.compresslevel, self.thread_minimum_size = compresslevel, thread_minimum_size
        self._deflater: zlib._Compress | None = None

    @property
    def compressor(self) -> zlib._Compress:
        deflater = self._deflater
        if deflater is None:
            # A gzip container (wbits 16 + MAX_WBITS), made once the body turns out to need it.
            deflater = self._deflater = zlib.compressobj(self.compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return deflater

    def _compress_body(self, body: bytes, more_body: bool) -> bytes:
        # A streamed chunk is flushed whole, so the client can decode it as soon as it arrives.
        deflater = self.compressor
        return deflater.compress(body) + deflater.flush(zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH)

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if len(body) < self.thread_minimum_size:
            return self._compress_body(body, more_body)
        limiter = _get_gzip_capacity_limiter()
        return await anyio.to_thread.run_sync(self._compress_body, body, more_body, limiter=limiter)
