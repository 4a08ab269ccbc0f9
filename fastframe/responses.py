from __future__ import annotations

import hashlib
import http.cookies
import json
import os
import stat
import sys
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime, formatdate
from functools import partial
from mimetypes import guess_type
from secrets import token_hex
from typing import IO, TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import anyio
import anyio.to_thread

from fastframe import speedups
from fastframe._utils import create_collapsing_task_group
from fastframe.background import BackgroundTask
from fastframe.concurrency import iterate_in_threadpool
from fastframe.datastructures import URL, Headers, MutableHeaders
from fastframe.requests import ClientDisconnect
from fastframe.types import Message, Receive, Scope, Send

_response = speedups.response
_jsonenc = speedups.jsonenc


def _stdlib_json(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


# What JSONResponse.render returns: the reference's compact json.dumps, through the JSON twin.
_json_render: Callable[[Any], bytes] = _stdlib_json if _jsonenc is None else _jsonenc.dumps

# RedirectResponse's Location keeps these as they are and percent-encodes everything else.
_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;"


class Response:
    # The attributes every response sets live in slots: made and read on every request, they cost
    # less there than in the instance dict; any other attribute can still be set.
    __slots__ = ("status_code", "background", "body", "raw_headers", "__dict__", "__weakref__")
    media_type: str | None = None
    charset = "utf-8"
    # Set by __init__; declared for type checkers.
    status_code: int
    background: BackgroundTask | None
    body: bytes | memoryview
    raw_headers: list[tuple[bytes, bytes]]

    if TYPE_CHECKING:

        def __init__(
            self,
            content: Any = None,
            status_code: int = 200,
            headers: Mapping[str, str] | None = None,
            media_type: str | None = None,
            background: BackgroundTask | None = None,
        ) -> None: ...

    else:
        # The twin's function is __init__ itself (it binds as a method): no frame around the work.
        __init__ = _response.init_response

    def render(self, content: Any) -> bytes | memoryview:
        if content is None:
            return b""
        if isinstance(content, (bytes, memoryview)):
            return content
        return content.encode(self.charset)  # type: ignore[no-any-return]

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        body = getattr(self, "body", None)
        self.raw_headers = _response.build_headers(headers, body, self.status_code, self.media_type, self.charset)

    @property
    def headers(self) -> MutableHeaders:
        view = self.__dict__.get("_headers")
        if view is None:
            view = self._headers = MutableHeaders(raw=self.raw_headers)
        return view  # type: ignore[no-any-return]

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        # A lone Morsel prints exactly as a SimpleCookie holding it would.
        cookie: http.cookies.Morsel[str] = http.cookies.Morsel()
        text = str(value)
        cookie.set(key, text, http.cookies._quote(text))  # type: ignore[attr-defined]
        attributes: dict[str, Any] = {
            "max-age": max_age,
            "expires": format_datetime(expires, usegmt=True) if isinstance(expires, datetime) else expires,
            "path": path,
            "domain": domain,
        }
        for name, given in attributes.items():
            if given is not None:
                cookie[name] = given
        for name, flag in (("secure", secure), ("httponly", httponly)):
            if flag:
                cookie[name] = True  # type: ignore[assignment]
        if samesite is not None:
            assert samesite.lower() in ["strict", "lax", "none"], "samesite must be either 'strict', 'lax' or 'none'"
            cookie["samesite"] = samesite
        if partitioned:
            if sys.version_info < (3, 14):
                raise ValueError("Partitioned cookies are only supported in Python 3.14 and above.")
            cookie["partitioned"] = True  # type: ignore[assignment]  # pragma: no cover
        self.raw_headers.append((b"set-cookie", cookie.OutputString().encode("latin-1")))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        self.set_cookie(
            key,
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    def _wrap_websocket_denial_send(self, send: Send) -> Send:
        async def denial(message: Message) -> None:
            message["type"] = "websocket." + message["type"]
            await send(message)

        return denial

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Sent as a websocket's denial response, the same messages carry the "websocket." prefix.
        prefix = "websocket." if scope["type"] == "websocket" else ""
        await send({"type": prefix + "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": prefix + "http.response.body", "body": self.body})
        if self.background is not None:
            await self.background()


class HTMLResponse(Response):
    media_type = "text/html"


class PlainTextResponse(Response):
    media_type = "text/plain"


class JSONResponse(Response):
    media_type = "application/json"

    if TYPE_CHECKING:

        def __init__(
            self,
            content: Any,
            status_code: int = 200,
            headers: Mapping[str, str] | None = None,
            media_type: str | None = None,
            background: BackgroundTask | None = None,
        ) -> None: ...

    else:
        __init__ = _response.init_json_response

    def render(self, content: Any) -> bytes:
        return _json_render(content)


_response.configure(Response, JSONResponse, _json_render)


class RedirectResponse(Response):
    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content=b"", status_code=status_code, headers=headers, background=background)
        self.headers["location"] = quote(str(url), safe=_LOCATION_SAFE)


Content = str | bytes | memoryview
SyncContentStream = Iterable[Content]
AsyncContentStream = AsyncIterable[Content]
ContentStream = AsyncContentStream | SyncContentStream


def _spec_at_least_2_4(scope: Scope) -> bool:
    spec_version = scope.get("asgi", {}).get("spec_version", "2.0")
    try:
        return tuple(map(int, spec_version.split("."))) >= (2, 4)
    except ValueError:
        return False


class StreamingResponse(Response):
    body_iterator: AsyncContentStream

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if isinstance(content, AsyncIterable):
            self.body_iterator = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.status_code = status_code
        self.media_type = self.media_type if media_type is None else media_type
        self.background = background
        self.init_headers(headers)

    async def listen_for_disconnect(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        charset = self.charset
        async for chunk in self.body_iterator:
            if not isinstance(chunk, bytes | memoryview):
                chunk = chunk.encode(charset)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            send = self._wrap_websocket_denial_send(send)
        if _spec_at_least_2_4(scope):
            # ASGI 2.4 servers raise OSError from send() once the client has gone: no listener needed.
            try:
                await self.stream_response(send)
            except OSError:
                raise ClientDisconnect()
        else:
            async with create_collapsing_task_group() as task_group:

                async def wrap(func: Callable[[], Awaitable[None]]) -> None:
                    await func()
                    task_group.cancel_scope.cancel()

                task_group.start_soon(wrap, partial(self.stream_response, send))
                await wrap(partial(self.listen_for_disconnect, receive))

        if self.background is not None:
            await self.background()


class MalformedRangeHeader(Exception):
    def __init__(self, content: str = "Malformed range header.") -> None:
        self.content = content


class RangeNotSatisfiable(Exception):
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size


def _open_and_read(path: str | os.PathLike[str], offset: int, size: int) -> tuple[IO[bytes] | None, bytes]:
    """Open, seek and read the first chunk in one worker-thread hop; short reads close at once."""
    file = open(path, "rb")
    try:
        if offset:
            file.seek(offset)
        chunk = file.read(size)
    except BaseException:
        file.close()
        raise
    if len(chunk) < size:
        file.close()
        return None, chunk
    return file, chunk


class FileResponse(Response):
    chunk_size = 64 * 1024
    max_ranges = 100

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.status_code = status_code
        self.filename = filename
        if media_type is None:
            media_type = guess_type(filename or path)[0] or "application/octet-stream"
        self.media_type = media_type
        self.background = background
        self.init_headers(headers)
        self.headers.setdefault("accept-ranges", "bytes")
        if self.filename is not None:
            content_disposition_filename = quote(self.filename)
            if content_disposition_filename != self.filename:
                content_disposition = f"{content_disposition_type}; filename*=utf-8''{content_disposition_filename}"
            else:
                content_disposition = f'{content_disposition_type}; filename="{self.filename}"'
            self.headers.setdefault("content-disposition", content_disposition)
        self.stat_result = stat_result
        if stat_result is not None:
            self.set_stat_headers(stat_result)

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        content_length = str(stat_result.st_size)
        last_modified = formatdate(stat_result.st_mtime, usegmt=True)
        etag_base = str(stat_result.st_mtime) + "-" + str(stat_result.st_size)
        etag = f'"{hashlib.md5(etag_base.encode(), usedforsecurity=False).hexdigest()}"'
        headers = self.headers
        headers.setdefault("content-length", content_length)
        headers.setdefault("last-modified", last_modified)
        headers.setdefault("etag", etag)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        send_header_only: bool = scope["method"].upper() == "HEAD"
        send_pathsend: bool = "http.response.pathsend" in scope.get("extensions", {})

        if self.stat_result is None:
            try:
                stat_result = await anyio.to_thread.run_sync(os.stat, self.path)
            except FileNotFoundError:
                raise RuntimeError(f"File at path {self.path} does not exist.")
            if not stat.S_ISREG(stat_result.st_mode):
                raise RuntimeError(f"File at path {self.path} is not a file.")
            self.set_stat_headers(stat_result)
        else:
            stat_result = self.stat_result

        ranges: list[tuple[int, int]] = []
        if self.status_code == 200:
            request_headers = Headers(raw=scope["headers"])
            http_range = request_headers.get("range")
            if http_range is not None:
                http_if_range = request_headers.get("if-range")
                if http_if_range is None or self._should_use_range(http_if_range):
                    try:
                        ranges = self._parse_range_header(http_range, stat_result.st_size)
                    except MalformedRangeHeader as exc:
                        return await PlainTextResponse(exc.content, status_code=400)(scope, receive, send)
                    except RangeNotSatisfiable as exc:
                        response = PlainTextResponse(
                            status_code=416, headers={"Content-Range": f"bytes */{exc.max_size}"}
                        )
                        return await response(scope, receive, send)

        if not ranges:
            await self._handle_simple(send, send_header_only, send_pathsend)
        elif len(ranges) == 1:
            start, end = ranges[0]
            await self._handle_single_range(send, start, end, stat_result.st_size, send_header_only)
        else:
            await self._handle_multiple_ranges(send, ranges, stat_result.st_size, send_header_only)

        if self.background is not None:
            await self.background()

    async def _send_file_span(self, send: Send, start: int, end: int | None) -> None:
        """Send [start, end) (to EOF when end is None) in chunk_size pieces, as the reference slices them."""
        chunk_size = self.chunk_size
        first_size = chunk_size if end is None else min(chunk_size, end - start)
        file, chunk = await anyio.to_thread.run_sync(_open_and_read, self.path, start, first_size)
        try:
            while True:
                start += len(chunk)
                if end is None:
                    more = len(chunk) == chunk_size
                else:
                    more = len(chunk) == chunk_size and start < end
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
                if not more or file is None:
                    break
                read_size = chunk_size if end is None else min(chunk_size, end - start)
                chunk = await anyio.to_thread.run_sync(file.read, read_size)
        finally:
            if file is not None:
                await anyio.to_thread.run_sync(file.close)

    async def _handle_simple(self, send: Send, send_header_only: bool, send_pathsend: bool) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if send_header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        elif send_pathsend:
            await send({"type": "http.response.pathsend", "path": str(self.path)})
        else:
            await self._send_file_span(send, 0, None)

    async def _handle_single_range(
        self, send: Send, start: int, end: int, file_size: int, send_header_only: bool
    ) -> None:
        headers = self.headers
        headers["content-range"] = f"bytes {start}-{end - 1}/{file_size}"
        headers["content-length"] = str(end - start)
        await send({"type": "http.response.start", "status": 206, "headers": self.raw_headers})
        if send_header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await self._send_file_span(send, start, end)

    async def _handle_multiple_ranges(
        self, send: Send, ranges: list[tuple[int, int]], file_size: int, send_header_only: bool
    ) -> None:
        boundary = token_hex(13)
        content_length, header_generator = self.generate_multipart(
            ranges, boundary, file_size, self.headers["content-type"]
        )
        headers = self.headers
        headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
        headers["content-length"] = str(content_length)
        await send({"type": "http.response.start", "status": 206, "headers": self.raw_headers})
        if send_header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        file = await anyio.to_thread.run_sync(open, self.path, "rb")
        try:
            for start, end in ranges:
                await send({"type": "http.response.body", "body": header_generator(start, end), "more_body": True})
                await anyio.to_thread.run_sync(file.seek, start)
                while start < end:
                    chunk = await anyio.to_thread.run_sync(file.read, min(self.chunk_size, end - start))
                    if not chunk:  # the file shrank since stat(); never spin on EOF
                        break
                    start += len(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"\r\n", "more_body": True})
        finally:
            await anyio.to_thread.run_sync(file.close)
        await send({"type": "http.response.body", "body": f"--{boundary}--".encode("latin-1"), "more_body": False})

    def _should_use_range(self, http_if_range: str) -> bool:
        return http_if_range == self.headers["last-modified"] or http_if_range == self.headers["etag"]

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            units, range_ = http_range.split("=", 1)
        except ValueError:
            raise MalformedRangeHeader()
        if units.strip().lower() != "bytes":
            raise MalformedRangeHeader("Only support bytes range")
        # Too many ranges is a cheap denial-of-service lever: answer with the whole file instead.
        if range_.count(",") >= cls.max_ranges:
            return []
        ranges = cls._parse_ranges(range_, file_size)
        if not ranges:
            raise MalformedRangeHeader("Range header: range must be requested")
        if any(not (0 <= start < file_size) for start, _ in ranges):
            raise RangeNotSatisfiable(file_size)
        if any(start >= end for start, end in ranges):
            raise MalformedRangeHeader("Range header: start must be less than end")
        if len(ranges) == 1:
            return ranges
        ranges.sort()
        merged = [ranges[0]]
        for start, end in ranges[1:]:
            last_start, last_end = merged[-1]
            if start <= last_end:
                merged[-1] = (last_start, max(last_end, end))
            else:
                merged.append((start, end))
        return merged

    @classmethod
    def _parse_ranges(cls, range_: str, file_size: int) -> list[tuple[int, int]]:
        ranges: list[tuple[int, int]] = []
        for part in range_.split(","):
            part = part.strip()
            if "-" not in part:
                continue
            start_str, end_str = part.split("-", 1)
            try:
                if start_str.strip():
                    start = int(start_str)
                    end = min(int(end_str) + 1, file_size) if end_str.strip() else file_size
                else:
                    start = max(0, file_size - int(end_str))
                    end = file_size
            except ValueError:
                continue
            ranges.append((start, end))
        return ranges

    def generate_multipart(
        self,
        ranges: Sequence[tuple[int, int]],
        boundary: str,
        max_size: int,
        content_type: str,
    ) -> tuple[int, Callable[[int, int], bytes]]:
        # Each part: "--B\r\nContent-Type: T\r\nContent-Range: bytes S-E/N\r\n\r\n" + data + "\r\n";
        # then "--B--". 49 counts the fixed characters of one part.
        per_part = 49 + len(boundary) + len(content_type) + len(str(max_size))
        content_length = sum(len(str(start)) + len(str(end - 1)) + per_part + (end - start) for start, end in ranges)
        content_length += 4 + len(boundary)

        def header(start: int, end: int) -> bytes:
            return (
                f"--{boundary}\r\nContent-Type: {content_type}\r\n"
                f"Content-Range: bytes {start}-{end - 1}/{max_size}\r\n\r\n"
            ).encode("latin-1")

        return content_length, header
