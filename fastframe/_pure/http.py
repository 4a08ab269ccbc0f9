"""Pure-Python twin of _speedups/http.pyx: ASGI header lookup, cookie and query-string parsing.

Both twins expose the same names with the same behaviour, malformed input included.
"""

from __future__ import annotations

from http.cookies import _unquote  # type: ignore[attr-defined]
from itertools import repeat as _repeat
from typing import TYPE_CHECKING
from typing import NoReturn as _NoReturn
from urllib.parse import parse_qsl as _parse_qsl
from urllib.parse import unquote as _url_unquote

if TYPE_CHECKING:  # kept out of the module namespace: the compiled twin must mirror every public name
    from collections.abc import Iterable
    from typing import Any

    _RawHeaders = Iterable[tuple[bytes, bytes]]

_partition = str.partition
# An endless "=" for map(): one shared instance is enough, it never runs out.
_EQUALS = _repeat("=")


def parse_cookie(cookie_string: str) -> dict[str, str]:
    """Lenient Cookie header parsing, as browsers send it (not RFC 6265's strict grammar)."""
    cookies: dict[str, str] = {}
    for chunk in cookie_string.split(";"):
        key, sep, value = chunk.partition("=")
        if sep:
            key = key.strip()
            value = value.strip()
        else:
            # A bare token is a value with an empty name, which is how browsers treat it.
            key, value = "", key.strip()
        if key or value:
            # Only a quoted value can change under unquoting; without a backslash it just loses its quotes.
            if value[:1] == '"' and value[-1:] == '"' and len(value) > 1:
                value = _unquote(value) if "\\" in value else value[1:-1]
            cookies[key] = value
    return cookies


def cookies_from_headers(raw: _RawHeaders) -> dict[str, str]:
    """The cookies of every Cookie header in a raw ASGI list, read as one list (later names win)."""
    values = [value for name, value in raw if name == b"cookie"]
    if not values:
        return {}
    if len(values) == 1:
        return parse_cookie(values[0].decode("latin-1"))
    return parse_cookie("; ".join([value.decode("latin-1") for value in values]))


def parse_query_string(query_string: str) -> list[tuple[str, str]]:
    """Query-string pairs in order, blank values kept, '+' as space, bad UTF-8 replaced."""
    if type(query_string) is not str:
        return _parse_qsl(query_string, keep_blank_values=True)
    # "+" is never part of a separator or an escape, so one replace serves every name and value.
    if "+" in query_string:
        query_string = query_string.replace("+", " ")
    parts = filter(None, query_string.split("&"))
    if "%" not in query_string:
        return [(name, value) for name, _, value in map(_partition, parts, _EQUALS)]
    pairs = []
    for part in parts:
        name, _, value = part.partition("=")
        pairs.append(
            (
                _url_unquote(name) if "%" in name else name,
                _url_unquote(value) if "%" in value else value,
            )
        )
    return pairs


def parse_query(query_string: str | bytes) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """parse_query_string's pairs and their dict (last value wins); bytes are read as latin-1."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    pairs = parse_query_string(query_string)
    return pairs, dict(pairs)


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


class MultiStore:
    """The storage of a multi-dict: every (key, value) pair in order, and each key's last value.

    The compiled twin defers parsing a query string until a read other than get(); in pure Python
    one parse costs less than the scans it would save.
    """

    __slots__ = ("_pairs", "_last")

    _pairs: list[Any]
    _last: dict[Any, Any]

    @classmethod
    def from_query(cls, query: str | bytes) -> Any:
        """An instance of `cls` over a raw query string (bytes are read as latin-1)."""
        made = object.__new__(cls)
        made._pairs, made._last = parse_query(query)
        return made

    def get(self, key: Any, default: Any = None) -> Any:
        return self._last.get(key, default)


class HeaderList:
    """A raw ASGI header list read by name: the lookups `Headers` answers, over a list it owns."""

    __slots__ = ("_raw",)

    _raw: Any

    @classmethod
    def adopt(cls, raw: Any) -> Any:
        """An instance of `cls` over `raw` as it is, without running `cls.__init__`."""
        made = object.__new__(cls)
        made._raw = raw
        return made

    def get(self, key: str, default: Any = None) -> Any:
        return header_get(self._raw, key, default)

    def __getitem__(self, key: str) -> str:
        needle = key.lower().encode("latin-1")
        for name, value in self._raw:
            if name == needle:
                return value.decode("latin-1")  # type: ignore[no-any-return]
        raise KeyError(key)

    def __contains__(self, key: Any) -> bool:
        return header_contains(self._raw, key)

    def getlist(self, key: str) -> list[str]:
        return header_getlist(self._raw, key)

    def __len__(self) -> int:
        return len(self._raw)


class Connection:
    """What an HTTP request or WebSocket session keeps: its scope, its channels, and caches
    that stay None until first used. The compiled twin allocates them all as None."""

    __slots__ = (
        "scope",
        "_receive",
        "_send",
        "_url",
        "_base_url",
        "_headers",
        "_query_params",
        "_cookies",
        "_state",
        "_form",
        "_stream_consumed",
        "_is_disconnected",
    )

    # Typed by the classes built on this one (HTTPConnection declares them precisely).
    scope: Any
    _receive: Any
    _send: Any
    _url: Any
    _base_url: Any
    _headers: Any
    _query_params: Any
    _cookies: Any
    _state: Any
    _form: Any
    _stream_consumed: bool
    _is_disconnected: bool

    def _open(self, scope: Any, receive: Any, send: Any) -> None:
        """Set the scope and channels, and empty every cache."""
        self.scope = scope
        self._receive = receive
        self._send = send
        self._url = self._base_url = self._headers = self._query_params = None
        self._cookies = self._state = self._form = None
        self._stream_consumed = self._is_disconnected = False


async def empty_receive() -> _NoReturn:
    raise RuntimeError("Receive channel has not been made available")


async def empty_send(message: Any) -> _NoReturn:
    raise RuntimeError("Send channel has not been made available")


def init_request(self: Any, scope: Any, receive: Any = empty_receive, send: Any = empty_send) -> None:
    """Request.__init__ itself (it binds as a method): the fields set here rather than through
    Connection._open, one Python call less for every Request made."""
    assert scope["type"] == "http"
    self.scope = scope
    self._receive = receive
    self._send = send
    self._url = self._base_url = self._headers = self._query_params = None
    self._cookies = self._state = self._form = None
    self._stream_consumed = self._is_disconnected = False


# Bound as Request.__init__, it takes that name, which a TypeError for bad arguments shows.
init_request.__name__ = "__init__"
init_request.__qualname__ = "Request.__init__"


# The classes of the views a connection makes on first read, named by configure_views.
_headers_class: Any = None
_mutable_headers_class: Any = None
_query_class: Any = None


def configure_views(headers_class: Any, mutable_headers_class: Any, query_class: Any) -> None:
    """Name Headers, MutableHeaders and QueryParams, the views the accessors below make."""
    global _headers_class, _mutable_headers_class, _query_class
    _headers_class, _mutable_headers_class, _query_class = headers_class, mutable_headers_class, query_class


def connection_headers(conn: Any) -> Any:
    """HTTPConnection.headers: the scope's headers as Headers over a list of their own, which
    goes back into the scope (as Headers(scope=...)), so that later changes through either agree."""
    headers = conn._headers
    if headers is None:
        scope = conn.scope
        raw = list(scope["headers"])
        headers = conn._headers = _headers_class.adopt(raw)
        scope["headers"] = raw
    return headers


def connection_query_params(conn: Any) -> Any:
    """HTTPConnection.query_params, parsed on first read and kept."""
    params = conn._query_params
    if params is None:
        query = conn.scope["query_string"]
        # From bytes, as servers send it, the view may answer get() without parsing it all.
        params = _query_class.from_query(query) if type(query) is bytes else _query_class(query)
        conn._query_params = params
    return params


def connection_cookies(conn: Any) -> Any:
    """HTTPConnection.cookies: every Cookie header counts (HTTP/2 sends one per cookie), a later
    name wins. Read through `conn.headers`, which a subclass may redefine."""
    cookies = conn._cookies
    if cookies is None:
        headers = conn.headers
        if type(headers) is _headers_class or type(headers) is _mutable_headers_class:
            cookies = cookies_from_headers(headers._raw)
        else:
            values = headers.getlist("cookie")
            cookies = parse_cookie("; ".join(values)) if values else {}
        conn._cookies = cookies
    return cookies


def connection_path_params(conn: Any) -> Any:
    """HTTPConnection.path_params: a new empty dict when the router set none."""
    return conn.scope.get("path_params", {})


def request_method(request: Any) -> Any:
    """Request.method."""
    return request.scope["method"]


def own_raw(headers: Any) -> Any:
    """MutableHeaders.raw: the list itself, which changes through the view."""
    return headers._raw


def delete_header(headers: Any, key: str) -> None:
    """MutableHeaders.__delitem__: every header of that name goes, the list is changed in place
    (it may be the scope's or a response's own); a missing name is no error."""
    name = key.lower().encode("latin-1")
    raw = headers._raw
    raw[:] = [item for item in raw if item[0] != name]


def new_request(scope: Any, receive: Any, send: Any) -> Any:
    """Request(scope, receive, send) for an http scope; configure_request replaces it by the class."""
    raise RuntimeError("fastframe.requests has not configured new_request")


def note_request_init() -> None:
    """The compiled twin's: Request.__init__ was set or deleted. Here new_request is the class
    itself, which always runs its __init__."""


def configure_request(cls: Any) -> None:
    """Make new_request `cls` (Request) itself: in pure Python, any wrapper is one frame more."""
    global new_request
    new_request = cls
