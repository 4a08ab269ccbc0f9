"""Request bodies of HTML forms: application/x-www-form-urlencoded and multipart/form-data.

Both parsers read the body as it streams in and enforce their limits as they go: a field, a part or
a count over its limit stops the parse inside the chunk that crossed it, and whatever was spooled to
temporary files is closed before the error leaves.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from enum import Enum
from itertools import repeat
from tempfile import SpooledTemporaryFile
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from typing_extensions import deprecated

from fastframe.datastructures import FormData, Headers, UploadFile
from fastframe.exceptions import StarletteDeprecationWarning

if TYPE_CHECKING:
    import python_multipart as multipart
    from python_multipart.multipart import MultipartCallbacks, parse_options_header
else:
    try:
        import python_multipart as multipart
        from python_multipart.multipart import parse_options_header
    except ModuleNotFoundError:  # pragma: no cover - python-multipart is in the full extra
        multipart = None
        parse_options_header = None

_MISSING_LIBRARY = "The `python-multipart` library must be installed to use form parsing."


class MultiPartException(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _user_safe_decode(src: bytes | bytearray, codec: str) -> str:
    """Text as the client most likely meant it: `codec`, else Latin-1 (which decodes any bytes)."""
    try:
        return src.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return src.decode("latin-1")


def _too_many(what: str, limit: int | float) -> MultiPartException:
    return MultiPartException(f"Too many {what}. Maximum number of {what} is {limit}.")


def _too_big(what: str, limit: int) -> MultiPartException:
    return MultiPartException(f"{what} exceeded maximum size of {int(limit / 1024)}KB.")


# --- application/x-www-form-urlencoded ---------------------------------------------------------

_WINDOW = 8 * 1024


class FormParser:
    """Fields separated by "&", name and value by the first "=", both percent- and plus-encoded.

    The body is cut at each "&" as it arrives; a field that spans chunks is gathered through the
    on_field_* events, which a caller driving its own tokenizer can use as well. A field's size is
    its name and value as sent, and is checked as its bytes come in; the count is checked as each
    field ends.
    """

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> None:
        assert multipart is not None, _MISSING_LIBRARY
        self.headers = headers
        self.stream = stream
        self.max_fields = max_fields
        self.max_part_size = max_part_size
        self._items: list[tuple[str, str | UploadFile]] = []
        # The field that began in an earlier chunk: its name, its value (once "=" was seen), its size.
        self._name = bytearray()
        self._value: bytearray | None = None
        self._open = False

    def on_field_start(self) -> None:
        self._name.clear()
        self._value = None
        self._open = True

    def on_field_name(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]
        self._check_size()

    def on_field_data(self, data: bytes, start: int, end: int) -> None:
        if self._value is None:
            self._value = bytearray()
        self._value += data[start:end]
        self._check_size()

    def on_field_end(self) -> None:
        self._open = False
        sent = self._name if self._value is None else self._name + b"=" + self._value
        text = sent.decode("latin-1")
        self._add_fields([text], "%" in text or "+" in text, len(text))

    def _check_size(self) -> None:
        size = len(self._name) + (0 if self._value is None else len(self._value))
        if size > self.max_part_size:
            raise _too_big("Field", self.max_part_size)

    def _add_fields(self, fields: list[str], escaped: bool, longest: int) -> None:
        """Whole fields as sent (Latin-1 text, one character a byte), in order: checked, decoded, kept.

        `escaped` says whether any of them holds a "%" or a "+" to decode; none is longer than `longest`.
        """
        items = self._items
        room = self.max_fields - len(items)
        pairs = map(str.partition, fields, repeat("="))
        if len(fields) <= room and longest <= self.max_part_size and "" not in fields:
            # No field here can cross a limit, so none needs checking on its own.
            if escaped:
                # Percent-escapes are UTF-8, with U+FFFD for what is not.
                items.extend([(unquote_plus(name), unquote_plus(value)) for name, _, value in pairs])
            else:
                items.extend([(name, value) for name, _, value in pairs])
            return
        limit = self.max_part_size
        for name, equals, value in pairs:
            size = len(name) + len(value)
            if not (size or equals):  # nothing between two "&"
                continue
            if size > limit and size:
                raise _too_big("Field", limit)
            room -= 1
            if room < 0:
                raise _too_many("fields", self.max_fields)
            items.append((unquote_plus(name), unquote_plus(value)) if escaped else (name, value))

    def _feed(self, chunk: bytes) -> None:
        position = 0
        first = chunk.find(b"&")
        if first >= 0 and self._open:
            self._continue(chunk, 0, first)
            self.on_field_end()
            position = first + 1
        last = chunk.rfind(b"&")
        # The fields that end in this chunk go a window at a time: however many a chunk holds, a limit
        # stops the parse within a window of where it was crossed.
        while position < last:
            end = last
            if last - position > _WINDOW:
                end = chunk.rfind(b"&", position, position + _WINDOW)
                if end < 0:  # one field longer than the window
                    end = chunk.find(b"&", position + _WINDOW)
            text = chunk[position:end].decode("latin-1")
            self._add_fields(text.split("&"), "%" in text or "+" in text, len(text))
            position = end + 1
        position = max(position, last + 1)
        if position < len(chunk):
            if not self._open:
                self.on_field_start()
            self._continue(chunk, position, len(chunk))

    def _continue(self, chunk: bytes, start: int, end: int) -> None:
        """Bytes of the field that is still open, up to `end`."""
        if start == end:
            return
        if self._value is not None:
            self.on_field_data(chunk, start, end)
            return
        equals = chunk.find(b"=", start, end)
        if equals < 0:
            self.on_field_name(chunk, start, end)
            return
        if equals > start:
            self.on_field_name(chunk, start, equals)
        self._value = bytearray()
        if end > equals + 1:
            self.on_field_data(chunk, equals + 1, end)

    async def parse(self) -> FormData:
        async for chunk in self.stream:
            if chunk:
                self._feed(chunk)
        if self._open:
            self.on_field_end()
        return FormData(self._items)


# --- multipart/form-data -----------------------------------------------------------------------


@dataclass
class MultipartPart:
    content_disposition: bytes | None = None
    field_name: str = ""
    data: bytearray = field(default_factory=bytearray)
    file: UploadFile | None = None
    item_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def _close(uploads: list[UploadFile]) -> None:
    # Synchronous on purpose: on the way out of a cancelled parse an await would not run.
    for upload in uploads:
        upload.file.close()


def _codec_for(charset: bytes | None) -> str:
    """The codec a multipart body's charset parameter names, looked up once for the whole body."""
    if charset is None:
        return "utf-8"
    name = charset.decode("latin-1")
    try:
        codecs.lookup(name)
    except LookupError:
        return "latin-1"
    return name


class MultiPartParser:
    """python-multipart tokenizes; these on_* callbacks build the form as the tokens come.

    File contents cannot be written from a callback (UploadFile.write is a coroutine once the file
    has rolled over to disk), so they are queued there and written after each chunk is parsed.
    """

    spool_max_size = 1024 * 1024
    max_part_size = 1024 * 1024

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> None:
        assert multipart is not None, _MISSING_LIBRARY
        self.headers = headers
        self.stream = stream
        self.max_files = max_files
        self.max_fields = max_fields
        self.max_part_size = max_part_size
        self.items: list[tuple[str, str | UploadFile]] = []
        self._codec = "utf-8"
        self._part = MultipartPart()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._files: list[UploadFile] = []  # every file made, to close if the parse fails
        self._field_count = 0
        self._writes: list[tuple[UploadFile, bytes]] = []  # file contents parsed but not yet written
        self._ended: list[UploadFile] = []  # files whose part ended in the chunk being parsed
        self._part_open = False

    def on_part_begin(self) -> None:
        self._part = MultipartPart()
        self._part_open = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.file is not None:
            self._writes.append((part.file, data[start:end]))
            return
        part.data += data[start:end]
        if len(part.data) > self.max_part_size:
            raise _too_big("Part", self.max_part_size)

    def on_part_end(self) -> None:
        self._part_open = False
        part = self._part
        if part.file is None:
            self.items.append((part.field_name, _user_safe_decode(part.data, self._codec)))
        else:
            self.items.append((part.field_name, part.file))
            self._ended.append(part.file)

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = bytes(self._header_name).lower()
        value = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()
        if name == b"content-disposition":
            self._part.content_disposition = value
        self._part.item_headers.append((name, value))

    def on_headers_finished(self) -> None:
        part = self._part
        _, options = parse_options_header(part.content_disposition)
        if b"name" not in options:
            raise MultiPartException('The Content-Disposition header field "name" must be provided.')
        part.field_name = _user_safe_decode(options[b"name"], self._codec)
        if b"filename" not in options:
            self._field_count += 1
            if self._field_count > self.max_fields:
                raise _too_many("fields", self.max_fields)
            return
        if len(self._files) + 1 > self.max_files:
            raise _too_many("files", self.max_files)
        upload = UploadFile(
            file=SpooledTemporaryFile(max_size=self.spool_max_size),  # type: ignore[arg-type]
            size=0,
            filename=_user_safe_decode(options[b"filename"], self._codec),
            headers=Headers(raw=part.item_headers),
        )
        self._files.append(upload)
        part.file = upload

    def on_end(self) -> None:
        pass

    async def parse(self) -> FormData:
        _, params = parse_options_header(self.headers["Content-Type"])
        boundary = params.get(b"boundary")
        if boundary is None:
            raise MultiPartException("Missing boundary in multipart.")
        self._codec = _codec_for(params.get(b"charset"))
        callbacks: MultipartCallbacks = {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }
        try:
            tokenizer = multipart.MultipartParser(boundary, callbacks)
            async for chunk in self.stream:
                tokenizer.write(chunk)
                await self._write_files()
            tokenizer.finalize()
        except BaseException as exc:
            _close(self._files)
            if isinstance(exc, multipart.exceptions.FormParserError):
                raise MultiPartException("Invalid multipart data.") from exc
            raise
        if self._part_open and self._part.file is not None:
            # The body ended inside this file's part: the file is not in the form, so close it now.
            _close([self._part.file])
        return FormData(self.items)

    async def _write_files(self) -> None:
        writes, self._writes = self._writes, []
        for upload, data in writes:
            await upload.write(data)
        ended, self._ended = self._ended, []
        for upload in ended:
            await upload.seek(0)


@deprecated(
    "`FormMessage` is deprecated and will be removed in a future version.", category=StarletteDeprecationWarning
)
class FormMessage(Enum):
    FIELD_START = 1
    FIELD_NAME = 2
    FIELD_DATA = 3
    FIELD_END = 4
    END = 5
