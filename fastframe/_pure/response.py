"""Making a response: its status, body and raw headers in one call.

Pure-Python twin of ``_speedups/response.pyx``. ``init_response`` is ``Response.__init__`` itself
(and ``init_json_response`` JSONResponse's): the attributes the reference's ``__init__`` sets, set
in the same order from the same class attributes. ``configure`` names, once, the framework's own
``render`` and ``init_headers``; while a class keeps those its response is made without calling
them as methods, with the same result, and a class that overrides them has its own called as the
reference calls them. Also here: ``plain_answer``, a plain-text response's two messages without a
response, and ``Tracker``, a ``send`` that notes when the response starts.
"""

from __future__ import annotations

from collections.abc import Callable as _Callable
from collections.abc import Mapping as _Mapping
from functools import partial as _partial
from typing import Any as _Any

__all__ = [
    "Tracker",
    "build_headers",
    "configure",
    "configure_headers",
    "configure_guard",
    "content_type",
    "forget_classes",
    "init_json_response",
    "init_response",
    "plain_answer",
    "response_headers",
    "wrap_app_handling_exceptions",
]

# The framework's own methods and encoder, named by configure() (globals: the cheapest reads here).
_stock_render: _Any = None
_stock_json_render: _Any = None
_json_dumps: _Any = None
_stock_init_headers: _Any = None
_response_class: _Any = None
_json_class: _Any = None
# Where JSONResponse.render reads `json` from, that module and its dumps when configured: while
# both are still there, _json_dumps answers for render.
_json_globals: dict[str, _Any] = {}
_json_module: _Any = None
_json_module_dict: dict[str, _Any] = {}
_json_original: _Any = None

# A Content-Type value per (media type, charset) seen: responses repeat a handful of them.
_TYPE_VALUES: dict[tuple[str, str], bytes] = {}
_TYPE_VALUES_KEPT = 256
# Content-Length headers of short bodies, made once: header tuples are never changed in place.
_SHORT_LENGTHS = tuple((b"content-length", str(size).encode("ascii")) for size in range(1024))


def configure(
    response_class: type, json_class: type, json_dumps: _Callable[[_Any], bytes], json_globals: dict[str, _Any]
) -> None:
    """Name the framework's Response and JSONResponse, whose own render and init_headers are known,
    and the JSON encoder JSONResponse.render uses while the `json` in `json_globals` (the namespace
    render reads it from) and that module's `dumps` are the ones there now. Once either is patched,
    render itself is called, as the reference calls it."""
    global _stock_render, _stock_json_render, _json_dumps, _stock_init_headers, _response_class, _json_class
    global _json_globals, _json_module, _json_module_dict, _json_original
    _response_class, _json_class, _json_dumps = response_class, json_class, json_dumps
    _json_globals, _json_module = json_globals, json_globals["json"]
    _json_module_dict = vars(_json_module)
    _json_original = _json_module_dict["dumps"]
    _stock_render, _stock_init_headers = response_class.render, response_class.init_headers  # type: ignore[attr-defined]
    _stock_json_render = json_class.render  # type: ignore[attr-defined]


# The class of Response.headers, named by configure_headers.
_mutable_headers: _Any = None


def configure_headers(mutable_headers_class: type) -> None:
    """Name MutableHeaders, the class of Response.headers."""
    global _mutable_headers
    _mutable_headers = mutable_headers_class


def response_headers(response: _Any) -> _Any:
    """Response.headers: a MutableHeaders over the response's own raw_headers, made on first
    read and kept in the instance dict under `_headers`, where the reference keeps it."""
    view = response.__dict__.get("_headers")
    if view is None:
        view = response._headers = _mutable_headers(raw=response.raw_headers)
    return view


# What wrap_app_handling_exceptions binds, named by configure_guard.
_guarded: _Any = None
_handlers_key: _Any = None
_no_handlers: _Any = None


def configure_guard(guarded: _Callable[..., _Any], handlers_key: str, no_handlers: _Any) -> None:
    """Name the coroutine function that runs an app answering its exceptions, given (app,
    handlers, connection, scope, receive, send), and where a scope keeps the handlers."""
    global _guarded, _handlers_key, _no_handlers
    _guarded, _handlers_key, _no_handlers = guarded, handlers_key, no_handlers


def wrap_app_handling_exceptions(app: _Any, conn: _Any) -> _Any:
    """`app` answering its exceptions with the handlers in `conn`'s scope, as a route does: an ASGI
    callable (a partial, no closure made) whose call returns the guarded coroutine."""
    return _partial(_guarded, app, conn.scope.get(_handlers_key, _no_handlers), conn)


def forget_classes() -> None:
    """The compiled twin's: drop what was learned about response classes. This twin reads a
    class's attributes on every response, so it has nothing to drop."""


def content_type(media_type: str, charset: str) -> bytes:
    """The Content-Type value: text types get the charset unless they name one."""
    known = _TYPE_VALUES.get((media_type, charset))
    if known is not None:
        return known
    value = media_type
    if value.startswith("text/") and "charset=" not in value.lower():
        value = f"{value}; charset={charset}"
    encoded = value.encode("latin-1")
    if len(_TYPE_VALUES) < _TYPE_VALUES_KEPT:
        _TYPE_VALUES[(media_type, charset)] = encoded
    return encoded


def _length_header(size: int) -> tuple[bytes, bytes]:
    return _SHORT_LENGTHS[size] if size < 1024 else (b"content-length", str(size).encode("ascii"))


def build_headers(
    headers: _Mapping[str, str] | None, body: _Any, status_code: int, media_type: str | None, charset: str
) -> list[tuple[bytes, bytes]]:
    """A response's raw headers: the given ones lowered, then Content-Length (for a body, when the
    status allows one) and Content-Type, each unless given. ``body`` is None for responses that
    have none yet (streaming and file responses)."""
    raw: list[tuple[bytes, bytes]] = []
    length_given = type_given = False
    if headers is not None:
        for key, text in headers.items():
            name = key.lower().encode("latin-1")
            raw.append((name, text.encode("latin-1")))
            length_given = length_given or name == b"content-length"
            type_given = type_given or name == b"content-type"
    if not length_given and body is not None and status_code >= 200 and status_code not in (204, 304):
        size = len(body)
        raw.append(_SHORT_LENGTHS[size] if size < 1024 else _length_header(size))
    if media_type is not None and not type_given:
        value = _TYPE_VALUES.get((media_type, charset))
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
    """Response.__init__: status_code, media_type (when given), background, body, raw_headers."""
    self.status_code = status_code
    if media_type is not None:
        self.media_type = media_type
    self.background = background
    cls = type(self)
    render = cls.render
    body: _Any
    if render is _stock_render:
        if content is None:
            body = b""
        elif isinstance(content, (bytes, memoryview)):
            body = content
        else:
            body = content.encode(self.charset)
    elif render is _stock_json_render:
        if _json_globals.get("json") is _json_module and _json_module_dict.get("dumps") is _json_original:
            body = _json_dumps(content)
        else:
            body = self.render(content)
    else:
        body = self.render(content)
    self.body = body
    if cls.init_headers is _stock_init_headers:
        self.raw_headers = build_headers(headers, body, status_code, self.media_type, self.charset)
    else:
        self.init_headers(headers)


def init_json_response(
    self: _Any,
    content: _Any,
    status_code: int = 200,
    headers: _Mapping[str, str] | None = None,
    media_type: _Any = None,
    background: _Any = None,
) -> None:
    """JSONResponse.__init__: the next class's __init__ (Response's, usually this module's own), with
    the content required."""
    super(_json_class, self).__init__(content, status_code, headers, media_type, background)


# Bound as the classes' __init__, they take those names, which a TypeError for bad arguments shows.
init_response.__name__ = init_json_response.__name__ = "__init__"
init_response.__qualname__ = "Response.__init__"
init_json_response.__qualname__ = "JSONResponse.__init__"


def plain_answer(
    status_code: int, detail: str, allow: str | None, media_type: str, charset: str
) -> tuple[dict[str, _Any], bytes]:
    """(start message, body) a plain-text Response of `detail` would send, with an Allow header
    first when `allow` is not None."""
    body = detail.encode(charset)
    raw = build_headers(None, body, status_code, media_type, charset)
    if allow is not None:
        raw.insert(0, (b"allow", allow.encode("latin-1")))
    return {"type": "http.response.start", "status": status_code, "headers": raw}, body


class Tracker:
    """Hands messages on to `send` through `track`, noting in `started` when one starts an http
    response (`started` may be given as already true)."""

    __slots__ = ("send", "started")

    def __init__(self, send: _Callable[[_Any], _Any], started: bool = False) -> None:
        self.send = send
        self.started = started

    def track(self, message: _Any) -> _Any:
        """The `send` to pass on: a bound method, cheaper to call than the instance would be."""
        if message["type"] == "http.response.start":
            self.started = True
        return self.send(message)
