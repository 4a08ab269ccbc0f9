from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from enum import Enum
from itertools import repeat
from tempfile import SpooledTemporaryFile
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote_plus

from typing_extensions import deprecated

from fastframe.datastructures import FormData, Headers, UploadFile
from fastframe.exceptions import StarletteDeprecationWarning

if TYPE_CHECKING:
    import python_multipart as multipart
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import parse_options_header
else:
    try:
        try:
            import python_multipart as multipart
            from python_multipart.exceptions import FormParserError
            from python_multipart.multipart import parse_options_header
        except ModuleNotFoundError:  # pragma: no cover
            import multipart
            from multipart.exceptions import FormParserError
            from multipart.multipart import parse_options_header
    except ModuleNotFoundError:  # pragma: no cover
        multipart = None
        parse_options_header = None
        FormParserError = Exception


@deprecated(
    "`FormMessage` is deprecated and will be removed in a future version.",
    category=StarletteDeprecationWarning,
)
class FormMessage(Enum):
    FIELD_START = 1
    FIELD_NAME = 2
    FIELD_DATA = 3
    FIELD_END = 4
    END = 5


@dataclass
class MultipartPart:
    content_disposition: bytes | None = None
    field_name: str = ""
    data: bytearray = field(default_factory=bytearray)
    file: UploadFile | None = None
    item_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def _user_safe_decode(src: bytes | bytearray, codec: str) -> str:
    try:
        return src.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return src.decode("latin-1")


class MultiPartException(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


class FormParser:
    """application/x-www-form-urlencoded bodies, with field-count and field-size limits."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> None:
        assert multipart is not None, "The `python-multipart` library must be installed to use form parsing."
        self.headers = headers
        self.stream = stream
        self.max_fields = max_fields
        self.max_part_size = max_part_size
        self._items: list[tuple[str, str | UploadFile]] = []
        self._field_name = bytearray()
        self._field_value = bytearray()
        self._field_count = 0

    # The on_field_* callbacks are kept for API parity with the reference; parse() no longer uses them.
    def _check_size(self) -> None:
        # The limit covers a field's name and value together.
        if len(self._field_name) + len(self._field_value) > self.max_part_size:
            self._too_big()

    def _too_big(self) -> NoReturn:
        raise MultiPartException(f"Field exceeded maximum size of {int(self.max_part_size / 1024)}KB.")

    def _too_many(self) -> NoReturn:
        raise MultiPartException(f"Too many fields. Maximum number of fields is {self.max_fields}.")

    def on_field_start(self) -> None:
        self._field_name = bytearray()
        self._field_value = bytearray()

    def on_field_name(self, data: bytes, start: int, end: int) -> None:
        self._field_name += data[start:end]
        self._check_size()

    def on_field_data(self, data: bytes, start: int, end: int) -> None:
        self._field_value += data[start:end]
        self._check_size()

    def on_field_end(self) -> None:
        self._field_count += 1
        if self._field_count > self.max_fields:
            self._too_many()
        name = unquote_plus(self._field_name.decode("latin-1"))
        value = unquote_plus(self._field_value.decode("latin-1"))
        self._items.append((name, value))

    def _feed(self, text: str) -> None:
        # `text` is latin-1 decoded body holding whole fields only. Errors come in stream order: a
        # field's size is checked while it arrives, the count when it ends; empty fields count for neither.
        fields = text.split("&")
        if "" in fields:
            fields = [f for f in fields if f]
            if not fields:
                return
        if len(text) > self.max_part_size:
            count = self._field_count
            for f in fields:
                size = len(f) - ("=" in f)
                if size > 0 and size > self.max_part_size:
                    self._too_big()
                count += 1
                if count > self.max_fields:
                    self._too_many()
        self._field_count += len(fields)
        if self._field_count > self.max_fields:
            self._too_many()
        # unquote_plus is the identity on text without "+" or "%": skip it for the common form.
        if "%" in text or "+" in text:
            for f in fields:
                name, _, value = f.partition("=")
                self._items.append((unquote_plus(name), unquote_plus(value)))
        else:
            self._items += [(name, value) for name, _, value in map(str.partition, fields, repeat("="))]

    async def parse(self) -> FormData:
        # Whole fields are parsed per chunk; only the field still open at a chunk's end is carried over,
        # so an oversized field fails while it streams in, not after the body is buffered.
        pending: list[str] = []
        pending_size = 0
        pending_eq = False
        async for chunk in self.stream:
            text = chunk.decode("latin-1")
            cut = text.rfind("&")
            if cut < 0:
                pending.append(text)
                pending_size += len(text)
                pending_eq = pending_eq or "=" in text
            else:
                pending.append(text[:cut])
                self._feed("".join(pending))
                rest = text[cut + 1 :]
                pending = [rest]
                pending_size = len(rest)
                pending_eq = "=" in rest
            size = pending_size - pending_eq
            if size > 0 and size > self.max_part_size:
                self._too_big()
        self._feed("".join(pending))
        return FormData(self._items)


class MultiPartParser:
    """multipart/form-data bodies; file parts spool to temporary files, written off the parser callbacks."""

    spool_max_size = 1024 * 1024  # 1MB
    max_part_size = 1024 * 1024  # 1MB

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> None:
        assert multipart is not None, "The `python-multipart` library must be installed to use form parsing."
        self.headers = headers
        self.stream = stream
        self.max_files = max_files
        self.max_fields = max_fields
        self.max_part_size = max_part_size
        self.items: list[tuple[str, str | UploadFile]] = []
        self._current_files = 0
        self._current_fields = 0
        self._current_partial_header_name = b""
        self._current_partial_header_value = b""
        self._current_part = MultipartPart()
        self._charset = ""
        # Parser callbacks are synchronous; file writes are queued here and awaited after each chunk.
        self._file_parts_to_write: list[tuple[MultipartPart, bytes]] = []
        self._file_parts_to_finish: list[MultipartPart] = []
        self._files_to_close_on_error: list[SpooledTemporaryFile[bytes]] = []
        self._unfinished_file: SpooledTemporaryFile[bytes] | None = None

    def on_part_begin(self) -> None:
        self._current_part = MultipartPart()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._current_part
        message_bytes = data[start:end]
        if part.file is None:
            part.data += message_bytes
            if len(part.data) > self.max_part_size:
                raise MultiPartException(f"Part exceeded maximum size of {int(self.max_part_size / 1024)}KB.")
        else:
            self._file_parts_to_write.append((part, message_bytes))

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is None:
            self.items.append((part.field_name, _user_safe_decode(part.data, self._charset)))
        else:
            self._file_parts_to_finish.append(part)
            self.items.append((part.field_name, part.file))
            self._unfinished_file = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._current_partial_header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._current_partial_header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self._current_partial_header_name.lower()
        if name == b"content-disposition":
            self._current_part.content_disposition = self._current_partial_header_value
        self._current_part.item_headers.append((name, self._current_partial_header_value))
        self._current_partial_header_name = b""
        self._current_partial_header_value = b""

    def on_headers_finished(self) -> None:
        part = self._current_part
        _, options = parse_options_header(part.content_disposition)
        try:
            part.field_name = _user_safe_decode(options[b"name"], self._charset)
        except KeyError:
            raise MultiPartException('The Content-Disposition header field "name" must be provided.')
        if b"filename" in options:
            self._current_files += 1
            if self._current_files > self.max_files:
                raise MultiPartException(f"Too many files. Maximum number of files is {self.max_files}.")
            filename = _user_safe_decode(options[b"filename"], self._charset)
            tempfile: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=self.spool_max_size)
            self._files_to_close_on_error.append(tempfile)
            self._unfinished_file = tempfile
            part.file = UploadFile(
                file=tempfile,  # type: ignore[arg-type]
                size=0,
                filename=filename,
                headers=Headers(raw=part.item_headers),
            )
        else:
            self._current_fields += 1
            if self._current_fields > self.max_fields:
                raise MultiPartException(f"Too many fields. Maximum number of fields is {self.max_fields}.")
            part.file = None

    def on_end(self) -> None:
        pass

    async def parse(self) -> FormData:
        _, params = parse_options_header(self.headers["Content-Type"])
        charset = params.get(b"charset", "utf-8")
        if isinstance(charset, bytes):
            charset = charset.decode("latin-1")
        self._charset = charset
        try:
            boundary = params[b"boundary"]
        except KeyError:
            raise MultiPartException("Missing boundary in multipart.")

        callbacks: Any = {
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
            # python-multipart rejects some boundaries (e.g. longer than 256 bytes) when constructing.
            parser = multipart.MultipartParser(boundary, callbacks)
        except FormParserError:
            raise MultiPartException("Invalid multipart data.")
        try:
            async for chunk in self.stream:
                try:
                    parser.write(chunk)
                except FormParserError:
                    raise MultiPartException("Invalid multipart data.")
                for part, data in self._file_parts_to_write:
                    assert part.file is not None
                    await part.file.write(data)
                for part in self._file_parts_to_finish:
                    assert part.file is not None
                    await part.file.seek(0)
                self._file_parts_to_write.clear()
                self._file_parts_to_finish.clear()
        except BaseException:
            # No UploadFile escapes to the caller on failure, so nobody else would close these.
            for file in self._files_to_close_on_error:
                file.close()
            raise
        parser.finalize()
        if self._unfinished_file is not None:
            # A body truncated inside a file part: that file never reaches the form, so close it here.
            self._unfinished_file.close()
        return FormData(self.items)
