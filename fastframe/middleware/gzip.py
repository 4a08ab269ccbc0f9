from __future__ import annotations

import functools
import zlib
from typing import NoReturn

import anyio
import anyio.lowlevel

from fastframe import speedups
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

_gzip_capacity_limiter: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar("_gzip_capacity_limiter")


def _get_gzip_capacity_limiter() -> anyio.CapacityLimiter:
    # One limiter per event loop: big bodies are compressed in threads, but not unboundedly many at once.
    try:
        return _gzip_capacity_limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(40)
        _gzip_capacity_limiter.set(limiter)
        return limiter


def _normalize_content_types(content_types: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(ct.partition(";")[0].strip().lower() for ct in content_types)


@functools.lru_cache(maxsize=256)
def _is_excluded(content_type: str, excluded: tuple[str, ...]) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    for pattern in excluded:
        if pattern.endswith("/*"):
            if media_type.startswith(pattern[:-1]):
                return True
        elif media_type == pattern:
            return True
    return False


async def unattached_send(message: Message) -> NoReturn:
    raise RuntimeError("send awaitable not set")  # pragma: no cover


def _set_header(raw: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    # MutableHeaders.__setitem__ semantics: replace the first occurrence in place, drop the rest.
    found = [i for i, item in enumerate(raw) if item[0] == name]
    if not found:
        raw.append((name, value))
        return
    raw[found[0]] = (name, value)
    for i in reversed(found[1:]):
        del raw[i]


def _add_vary(raw: list[tuple[bytes, bytes]]) -> None:
    for key, value in raw:
        if key == b"vary":
            _set_header(raw, b"vary", value + b", Accept-Encoding")
            return
    raw.append((b"vary", b"Accept-Encoding"))


def _encoded_headers(raw: list[tuple[bytes, bytes]], encoding: str, streaming: bool, length: int) -> None:
    _add_vary(raw)
    _set_header(raw, b"content-encoding", encoding.encode("latin-1"))
    if streaming:
        raw[:] = [item for item in raw if item[0] != b"content-length"]
    else:
        _set_header(raw, b"content-length", str(length).encode("latin-1"))


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
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types = _normalize_content_types(exclude_content_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        responder: IdentityResponder
        if "gzip" in (_header_get(scope["headers"], "accept-encoding") or ""):
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


class IdentityResponder:
    """Decides per response whether it is compressible; this base class leaves the body as is
    but still marks compressible responses with Vary, since another client would get gzip."""

    content_encoding: str

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
        self.started = False
        self.content_encoding_set = False
        self.content_type_is_excluded = False
        self.partial_response = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.send = send
        await self.app(scope, receive, self.send_with_compression)

    def _encode_headers(self, raw: list[tuple[bytes, bytes]], streaming: bool, length: int) -> None:
        _add_vary(raw)

    async def send_with_compression(self, message: Message) -> None:
        message_type = message["type"]
        if message_type == "http.response.start":
            self.initial_message = message
            raw = message["headers"]
            content_type = ""
            self.content_encoding_set = False
            for key, value in raw:
                if key == b"content-encoding":
                    self.content_encoding_set = True
                elif key == b"content-type" and not content_type:
                    content_type = value.decode("latin-1")
            self.content_type_is_excluded = bool(content_type) and _is_excluded(
                content_type, self.exclude_content_types
            )
            self.partial_response = message.get("status") == 206
        elif message_type == "http.response.body" and (
            self.content_encoding_set or self.content_type_is_excluded or self.partial_response
        ):
            if not self.started:
                self.started = True
                await self.send(self.initial_message)
            await self.send(message)
        elif message_type == "http.response.body" and not self.started:
            self.started = True
            body = message.get("body", b"")
            more_body = message.get("more_body", False)
            if len(body) < self.minimum_size and not more_body:
                await self.send(self.initial_message)
                await self.send(message)
                return
            raw = self.initial_message["headers"]
            new_body = await self.apply_compression(body, more_body=more_body)
            self._encode_headers(raw, more_body, len(new_body))
            message["body"] = new_body
            await self.send(self.initial_message)
            await self.send(message)
        elif message_type == "http.response.body":
            more_body = message.get("more_body", False)
            message["body"] = await self.apply_compression(message.get("body", b""), more_body=more_body)
            await self.send(message)
        elif message_type == "http.response.pathsend" and not self.started:
            self.started = True
            await self.send(self.initial_message)
            await self.send(message)
        else:
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
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self._compressor: zlib._Compress | None = None

    @property
    def compressor(self) -> zlib._Compress:
        if self._compressor is None:
            # wbits 16+MAX_WBITS: a gzip container (header, trailer), mtime 0.
            self._compressor = zlib.compressobj(self.compresslevel, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return self._compressor

    def _encode_headers(self, raw: list[tuple[bytes, bytes]], streaming: bool, length: int) -> None:
        _encoded_headers(raw, self.content_encoding, streaming, length)

    def _compress_body(self, body: bytes, more_body: bool) -> bytes:
        compressor = self.compressor
        # Each streamed chunk is sync-flushed so the client can decode it as soon as it arrives.
        return compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH)

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if len(body) >= self.thread_minimum_size:
            return await anyio.to_thread.run_sync(
                self._compress_body, body, more_body, limiter=_get_gzip_capacity_limiter()
            )
        return self._compress_body(body, more_body)
