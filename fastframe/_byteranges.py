"""The Range header (RFC 9110, section 14) as FileResponse reads it, and multipart/byteranges framing.

Spans are half-open: (first byte, one past the last byte).
"""

from __future__ import annotations

from collections.abc import Sequence


class MalformedRangeHeader(Exception):
    def __init__(self, content: str = "Malformed range header.") -> None:
        self.content = content


class RangeNotSatisfiable(Exception):
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size


MalformedRangeHeader.__module__ = RangeNotSatisfiable.__module__ = "fastframe.responses"

_NOTHING_REQUESTED = "Range header: range must be requested"
_BACKWARDS = "Range header: start must be less than end"


def _span(spec: str, size: int) -> tuple[int, int] | None:
    """One `first-last`, `first-` or `-suffix` element; None for an element that is not one."""
    first, dash, last = spec.partition("-")
    if not dash:
        return None
    try:
        if first.strip():
            start = int(first)
            return start, (min(int(last) + 1, size) if last.strip() else size)
        return max(size - int(last), 0), size
    except ValueError:
        return None


def parse_ranges(header: str, size: int, max_ranges: int) -> list[tuple[int, int]]:
    """The sorted, coalesced spans a Range header asks of a `size`-byte representation.

    Elements that do not parse are ignored; none at all is malformed. A span starting at or past the
    end makes the whole header unsatisfiable, before a backwards span makes it malformed. A header
    with more than `max_ranges` elements is not honoured: [] (the whole file is sent).
    """
    unit, equals, specs = header.partition("=")
    if not equals:
        raise MalformedRangeHeader()
    if unit.strip().lower() != "bytes":
        raise MalformedRangeHeader("Only support bytes range")
    elements = specs.split(",")
    if len(elements) > max_ranges:
        return []
    spans = []
    for element in elements:
        span = _span(element, size)
        if span is not None:
            spans.append(span)
    if not spans:
        raise MalformedRangeHeader(_NOTHING_REQUESTED)
    for start, _ in spans:
        if start >= size:
            raise RangeNotSatisfiable(size)
    for start, stop in spans:
        if start >= stop:
            raise MalformedRangeHeader(_BACKWARDS)
    if len(spans) == 1:
        return spans
    spans.sort()
    merged = [spans[0]]
    for start, stop in spans[1:]:
        last_start, last_stop = merged[-1]
        if start <= last_stop:
            if stop > last_stop:
                merged[-1] = (last_start, stop)
        else:
            merged.append((start, stop))
    return merged


def part_header(boundary: str, content_type: str, start: int, stop: int, size: int) -> bytes:
    """What precedes one span's bytes in a multipart/byteranges body."""
    return (
        f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {start}-{stop - 1}/{size}\r\n\r\n"
    ).encode("latin-1")


def multipart_length(spans: Sequence[tuple[int, int]], boundary: str, content_type: str, size: int) -> int:
    """The Content-Length of the multipart/byteranges body for `spans`."""
    # Each part is its header, its bytes and a CRLF; the body ends with the closing delimiter.
    parts = sum(len(part_header(boundary, content_type, start, stop, size)) + stop - start + 2 for start, stop in spans)
    return parts + len(boundary) + 4
