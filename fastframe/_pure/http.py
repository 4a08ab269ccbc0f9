"""Pure-Python twin of _speedups/http.pyx: ASGI header lookup, cookie and query-string parsing.

Both twins expose the same names with the same behaviour, malformed input included.
"""

from __future__ import annotations

from http.cookies import _unquote  # type: ignore[attr-defined]
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl as _parse_qsl

if TYPE_CHECKING:  # kept out of the module namespace: the compiled twin must mirror every public name
    from collections.abc import Iterable
    from typing import Any

    _RawHeaders = Iterable[tuple[bytes, bytes]]


def parse_cookie(cookie_string: str) -> dict[str, str]:
    """Lenient Cookie header parsing, as browsers send it (not RFC 6265's strict grammar)."""
    cookies: dict[str, str] = {}
    for chunk in cookie_string.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep:
            # A bare token is a value with an empty name, which is how browsers treat it.
            key, value = "", key
        key = key.strip()
        value = value.strip()
        if key or value:
            cookies[key] = _unquote(value)
    return cookies


def parse_query_string(query_string: str) -> list[tuple[str, str]]:
    """Query-string pairs in order, blank values kept, '+' as space, bad UTF-8 replaced."""
    return _parse_qsl(query_string, keep_blank_values=True)


def header_get(raw: _RawHeaders, key: str, default: Any = None) -> Any:
    """First value of a header (case-insensitive name), latin-1 decoded; `default` when absent."""
    needle = key.lower().encode("latin-1")
    for name, value in raw:
        if name == needle:
            return value.decode("latin-1")
    return default


def header_getlist(raw: _RawHeaders, key: str) -> list[str]:
    """Every value of a header, in order, latin-1 decoded."""
    needle = key.lower().encode("latin-1")
    return [value.decode("latin-1") for name, value in raw if name == needle]


def header_contains(raw: _RawHeaders, key: str) -> bool:
    needle = key.lower().encode("latin-1")
    for name, _ in raw:
        if name == needle:
            return True
    return False
