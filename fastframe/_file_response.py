"""FileResponse: a file from disk, whole or in byte ranges.

Import it from fastframe.responses, which re-exports it once Response exists. The file is read a
block at a time (fastframe._file_blocks) and sent in the chunk_size messages a loop of reads of
chunk_size would give.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from email.utils import formatdate
from functools import partial
from mimetypes import guess_type
from secrets import token_hex
from urllib.parse import quote

import anyio.to_thread

from fastframe import _file_blocks
from fastframe._byteranges import (
    MalformedRangeHeader,
    RangeNotSatisfiable,
    multipart_length,
    parse_ranges,
    part_header,
)
from fastframe._disconnect import server_reports_disconnects, until_disconnect, wait_for_disconnect, websocket_denial
from fastframe._file_blocks import Blocks, checked_stat, reaches, stat_and_fill
from fastframe._streaming import init_unsized
from fastframe.background import BackgroundTask
from fastframe.responses import PlainTextResponse, Response
from fastframe.types import Receive, Scope, Send

__all__ = ["FileResponse", "MalformedRangeHeader", "RangeNotSatisfiable"]

_GET_OR_HEAD = ("GET", "HEAD")


def _with_headers(raw: list[tuple[bytes, bytes]], updates: dict[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    """`raw` with each header of `updates` set as MutableHeaders would: in its first place, once."""
    result = []
    pending = dict(updates)
    for name, value in raw:
        if name in updates:
            if name in pending:
                result.append((name, pending.pop(name)))
        else:
            result.append((name, value))
    result.extend(pending.items())
    return result


def _content_disposition(kind: str, filename: str) -> str:
    # A name that survives URL quoting unchanged can go in quotes as it is; any other is sent
    # percent-encoded in the RFC 5987 form.
    encoded = quote(filename)
    if encoded == filename:
        return f'{kind}; filename="{filename}"'
    return f"{kind}; filename*=utf-8''{encoded}"


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
        self.path, self.filename, self.stat_result = path, filename, stat_result
        if media_type is None:
            media_type = guess_type(filename or path)[0] or "application/octet-stream"
        init_unsized(self, status_code, headers, media_type, background)
        # What the caller gave wins over what the file says.
        own = self.headers
        own.setdefault("accept-ranges", "bytes")
        if filename is not None:
            own.setdefault("content-disposition", _content_disposition(content_disposition_type, filename))
        if stat_result is not None:
            self.set_stat_headers(stat_result)

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        mtime = stat_result.st_mtime
        validator = f"{mtime}-{stat_result.st_size}".encode()
        own = self.headers
        own.setdefault("content-length", str(stat_result.st_size))
        own.setdefault("last-modified", formatdate(mtime, usegmt=True))
        own.setdefault("etag", f'"{hashlib.md5(validator, usedforsecurity=False).hexdigest()}"')

    def _range_allowed(self, if_range: str | None) -> bool:
        # If-Range compares strongly (RFC 9110, 13.1.5): a weak validator never matches.
        if if_range is None:
            return True
        if if_range.startswith("W/"):
            return False
        own = self.headers
        return if_range in (own.get("etag"), own.get("last-modified"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        http = scope["type"] != "websocket"
        # A websocket denial has no method: the file is sent as to a GET.
        method = scope["method"].upper() if http else "GET"
        requested = if_range = None
        if self.status_code == 200 and method in _GET_OR_HEAD:
            for name, value in scope["headers"]:
                if name == b"range" and requested is None:
                    requested = value.decode("latin-1")
                elif name == b"if-range" and if_range is None:
                    if_range = value.decode("latin-1")
        header_only = method == "HEAD"
        pathsend = http and not header_only and "http.response.pathsend" in scope.get("extensions", {})
        reads = not (header_only or pathsend)
        blocks = Blocks(self.path, max(self.chunk_size, _file_blocks.BLOCK - _file_blocks.BLOCK % self.chunk_size))
        try:
            plan = await self._plan(blocks, requested, if_range, reads)
            if isinstance(plan, Response):
                # A Range header that cannot be served: the answer says why, and nothing runs after.
                await plan(scope, receive, send)
                return
            spans, size = plan
            if reads:
                # Opened and read before anything is sent: a file that cannot be read fails cleanly.
                first = spans[0][0] if spans else 0
                await blocks.load(first, (reaches(spans, self.chunk_size)[0] if spans else size + 1) - first)
            body = partial(
                self._send_body, send if http else websocket_denial(send), blocks, header_only, pathsend, spans, size
            )
            if http and not server_reports_disconnects(scope):
                await until_disconnect(body, partial(wait_for_disconnect, receive))
            else:
                await body()
        finally:
            blocks.close()
        if self.background is not None:
            await self.background()

    async def _plan(
        self, blocks: Blocks, requested: str | None, if_range: str | None, reads: bool
    ) -> tuple[list[tuple[int, int]], int] | Response:
        """The spans to send (none: the whole file) and the file's size, or the answer to a bad Range."""
        if self.stat_result is not None:
            size = self.stat_result.st_size
        else:
            # Stat on every call: the file may have changed since the last one.
            if requested is None and reads:
                found, file, data = await anyio.to_thread.run_sync(stat_and_fill, self.path, blocks.block)
                blocks.preload(file, data)
            else:
                found = await anyio.to_thread.run_sync(checked_stat, self.path)
            self.set_stat_headers(found)
            size = found.st_size
        if requested is None or not self._range_allowed(if_range):
            return [], size
        try:
            return parse_ranges(requested, size, self.max_ranges), size
        except MalformedRangeHeader as exc:
            return PlainTextResponse(exc.content, status_code=400)
        except RangeNotSatisfiable as exc:
            return PlainTextResponse(status_code=416, headers={"Content-Range": f"bytes */{exc.max_size}"})

    async def _send_body(
        self,
        send: Send,
        blocks: Blocks,
        header_only: bool,
        pathsend: bool,
        spans: list[tuple[int, int]],
        size: int,
    ) -> None:
        if len(spans) == 1:
            await self._send_span(send, blocks, header_only, spans[0], size)
        elif spans:
            await self._send_spans(send, blocks, header_only, spans, size)
        elif header_only or pathsend:
            # Nothing to read: a HEAD request, or a server that sends the file itself.
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            if header_only:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send({"type": "http.response.pathsend", "path": str(self.path)})
        else:
            await self._send_whole(send, blocks, size)

    async def _send_whole(self, send: Send, blocks: Blocks, size: int) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        chunk_size = self.chunk_size
        expected = size + 1  # one more byte shows the end; a file that grew is sent whole all the same
        while True:
            piece = await blocks.take(chunk_size, expected)
            more = len(piece) == chunk_size
            await send({"type": "http.response.body", "body": piece, "more_body": more})
            if not more:
                return
            expected -= chunk_size

    async def _send_span(self, send: Send, blocks: Blocks, header_only: bool, span: tuple[int, int], size: int) -> None:
        start, stop = span
        updates = {
            b"content-length": b"%d" % (stop - start),
            b"content-range": b"bytes %d-%d/%d" % (start, stop - 1, size),
        }
        await send({"type": "http.response.start", "status": 206, "headers": _with_headers(self.raw_headers, updates)})
        if header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        blocks.seek(start)
        remaining = stop - start
        chunk_size = self.chunk_size
        while True:
            wanted = min(chunk_size, remaining)
            piece = await blocks.take(wanted, remaining)
            remaining -= len(piece)
            more = remaining > 0 and len(piece) == wanted
            await send({"type": "http.response.body", "body": piece, "more_body": more})
            if not more:
                return

    async def _send_spans(
        self, send: Send, blocks: Blocks, header_only: bool, spans: list[tuple[int, int]], size: int
    ) -> None:
        boundary = token_hex(13)
        part_type = self.headers["content-type"]
        updates = {
            b"content-type": f"multipart/byteranges; boundary={boundary}".encode("latin-1"),
            b"content-length": b"%d" % multipart_length(spans, boundary, part_type, size),
        }
        await send({"type": "http.response.start", "status": 206, "headers": _with_headers(self.raw_headers, updates)})
        if header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        chunk_size = self.chunk_size
        for (start, stop), reach in zip(spans, reaches(spans, chunk_size), strict=True):
            header = part_header(boundary, part_type, start, stop, size)
            await send({"type": "http.response.body", "body": header, "more_body": True})
            blocks.seek(start)
            for position in range(start, stop, chunk_size):
                wanted = min(chunk_size, stop - position)
                piece = await blocks.take(wanted, reach - position)
                if piece:
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
                if len(piece) < wanted:
                    raise RuntimeError(f"File at path {self.path} is shorter than expected.")
            await send({"type": "http.response.body", "body": b"\r\n", "more_body": True})
        await send({"type": "http.response.body", "body": b"--%s--" % boundary.encode(), "more_body": False})

    def generate_multipart(
        self, ranges: Sequence[tuple[int, int]], boundary: str, max_size: int, content_type: str
    ) -> tuple[int, Callable[[int, int], bytes]]:
        length = multipart_length(ranges, boundary, content_type, max_size)
        return length, partial(_part_header_for, boundary, content_type, max_size)


def _part_header_for(boundary: str, content_type: str, size: int, start: int, stop: int) -> bytes:
    return part_header(boundary, content_type, start, stop, size)


FileResponse.__module__ = "fastframe.responses"
