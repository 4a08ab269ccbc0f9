"""What a Response does when it is made: its attributes, its body and its raw headers.

Pure-Python twin of ``_speedups/response.pyx``. ``configure`` is told, once, which render and
init_headers are the framework's own; a response whose class keeps them is made without calling
them as methods, with the same result, and any other class's overrides are called as the
reference calls them.
"""

from __future__ import annotations

from collections.abc import Callable as _Callable
from collections.abc import Mapping as _Mapping
from typing import Any as _Any

__all__ = [
    "Tracker",
    "build_headers",
    "configure",
    "content_type",
    "init_response",
    "plain_answer",
    "speed_up_construction",
    "use_slots",
]

# The framework's own methods, set by configure(); module globals are the cheapest reads here.
_render: _Any = None
_json_render: _Any = None
_json_dumps: _Any = None
_init_headers: _Any = None

# Header values repeat across responses: encode each distinct content type once per process.
_content_types: dict[tuple[str, str], bytes] = {}
_LENGTHS = [str(n).encode("latin-1") for n in range(1024)]
# The Content-Length header of each small length, shared: headers are immutable tuples.
_LENGTH_HEADERS = [(b"content-length", value) for value in _LENGTHS]


def configure(
    render: _Callable[..., _Any],
    json_render: _Callable[..., _Any],
    json_dumps: _Callable[[_Any], bytes],
    init_headers: _Callable[..., _Any],
) -> None:
    global _render, _json_render, _json_dumps, _init_headers
    _render = render
    _json_render = json_render
    _json_dumps = json_dumps
    _init_headers = init_headers


def content_type(media_type: str, charset: str) -> bytes:
    key = (media_type, charset)
    value = _content_types.get(key)
    if value is None:
        text = media_type
        if text.startswith("text/") and "charset=" not in text.lower():
            text += "; charset=" + charset
        value = text.encode("latin-1")
        if len(_content_types) < 256:
            _content_types[key] = value
    return value


def build_headers(
    headers: _Mapping[str, str] | None, body: _Any, status_code: int, media_type: str | None, charset: str
) -> list[tuple[bytes, bytes]]:
    """The raw headers of a response: the given ones, then Content-Length and Content-Type unless given.

    ``body`` is None when the response has none yet (streaming and file responses).
    """
    populate_length = True
    populate_type = True
    if headers is None:
        raw: list[tuple[bytes, bytes]] = []
    else:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        for name, _ in raw:
            if name == b"content-length":
                populate_length = False
            elif name == b"content-type":
                populate_type = False
    if populate_length and body is not None and status_code >= 200 and status_code != 204 and status_code != 304:
        length = len(body)
        raw.append(_LENGTH_HEADERS[length] if length < 1024 else (b"content-length", str(length).encode("latin-1")))
    if media_type is not None and populate_type:
        value = _content_types.get((media_type, charset))
        raw.append((b"content-type", content_type(media_type, charset) if value is None else value))
    return raw


def init_response(
    self: _Any,
    content: _Any = None,
    status_code: int = 200,
    headers: _Mapping[str, str] | None = None,
    media_type: _Any = None,
    background: _Any = None,
) -> None:
    """Response.__init__ itself: a function that binds as a method, so no wrapper frame is needed."""
    self.status_code = status_code
    if media_type is not None:
        self.media_type = media_type
    self.background = background
    cls = type(self)
    render = cls.render
    body: _Any
    if render is _render:
        if content is None:
            body = b""
        elif type(content) is str:
            body = content.encode(self.charset)
        elif type(content) is bytes or isinstance(content, (bytes, memoryview)):
            body = content
        else:
            body = content.encode(self.charset)
    elif render is _json_render:
        body = _json_dumps(content)
    else:
        body = self.render(content)
    self.body = body
    if cls.init_headers is _init_headers:
        self.raw_headers = build_headers(headers, body, status_code, self.media_type, self.charset)
    else:
        self.init_headers(headers)


def use_slots(cls: type) -> None:
    """The compiled twin writes a new response's slots directly; here setting them is that write."""


def speed_up_construction(cls: type, inits: tuple[tuple[type, _Any], ...], content_required: bool) -> None:
    """The compiled twin makes calling `cls` skip type.__call__; Python has no cheaper way to make an
    instance than calling its class, so here calling `cls` stays as it is."""


def plain_answer(
    status_code: int, detail: str, allow: str | None, media_type: str, charset: str
) -> tuple[dict[str, _Any], bytes]:
    """(start message, body) of a Response of the framework's own class rendering the str `detail`,
    with an Allow header when `allow` is not None."""
    body = detail.encode(charset)
    raw = build_headers(None, body, status_code, media_type, charset)
    if allow is not None:
        raw.insert(0, (b"allow", allow.encode("latin-1")))
    return {"type": "http.response.start", "status": status_code, "headers": raw}, body


class Tracker:
    """`track` is `send`, noting in `started` when a message starts an http response (or `started` from
    the start)."""

    __slots__ = ("send", "started")

    def __init__(self, send: _Callable[[_Any], _Any], started: bool = False) -> None:
        self.send = send
        self.started = started

    def track(self, message: _Any) -> _Any:
        """The `send` to hand on, as a bound method: calling an instance would cost a lookup of
        __call__ and an argument tuple more."""
        if message["type"] == "http.response.start":
            self.started = True
        return self.send(message)
