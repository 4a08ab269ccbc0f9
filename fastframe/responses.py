from __future__ import annotations

import http.cookies
import json
import sys
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from fastframe import speedups
from fastframe.background import BackgroundTask
from fastframe.datastructures import URL, MutableHeaders
from fastframe.types import Message, Receive, Scope, Send

_response = speedups.response
_jsonenc = speedups.jsonenc


def _stdlib_json(content: Any) -> bytes:
    # The reference's call, word for word as a patched json.dumps sees it: `json` is read from this
    # module's globals, and dumps from it, on every call.
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


# What JSONResponse.render returns: the reference's compact json.dumps, through the JSON twin.
_json_render: Callable[[Any], bytes] = _stdlib_json if _jsonenc is None else _jsonenc.dumps
# The stdlib's own json.dumps: while `json.dumps` here is still it, the JSON twin answers for it.
# A patch (of json.dumps, or of this module's `json`) is called as the reference calls json.dumps.
_STDLIB_DUMPS = json.dumps

# The two message types of a response, and of a websocket's denial response.
_RESPONSE_TYPES = ("http.response.start", "http.response.body")
_DENIAL_TYPES = ("websocket.http.response.start", "websocket.http.response.body")

# RedirectResponse's Location keeps these as they are and percent-encodes everything else.
_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;"


# The response classes whose instances Response.__call__ itself sends: the request path sends
# such a response's two messages without calling it (a set lookup, cheaper than reading the
# class's __call__ on every request). Kept by the metaclass; bounded, since a class left out is
# only called the usual way.
PLAIN_CALL: set[type] = set()
_PLAIN_CALL_KEPT = 512


def _sends_itself(cls: type) -> bool:
    """Whether `cls`'s instances are sent by Response.__call__ itself."""
    return cls.__call__ is Response.__dict__["__call__"]  # type: ignore[operator]


def _note_plain_calls() -> None:
    PLAIN_CALL.clear()
    pending: list[type] = [Response]
    while pending and len(PLAIN_CALL) < _PLAIN_CALL_KEPT:
        cls = pending.pop()
        if _sends_itself(cls):
            PLAIN_CALL.add(cls)
        pending.extend(cls.__subclasses__())


class _ResponseType(type):
    """The metaclass of response classes. The compiled twin reads what a response class holds
    (render, charset, media_type, ...) once per class, and PLAIN_CALL says which classes send
    themselves through Response.__call__; setting or deleting any attribute of a response class,
    patches and their undoing included, makes both be worked out again."""

    def __init__(cls, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "Response" in globals() and len(PLAIN_CALL) < _PLAIN_CALL_KEPT and _sends_itself(cls):
            PLAIN_CALL.add(cls)

    def __setattr__(cls, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        _response.forget_classes()
        _note_plain_calls()

    def __delattr__(cls, name: str) -> None:
        super().__delattr__(name)
        _response.forget_classes()
        _note_plain_calls()


class Response(metaclass=_ResponseType):
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

    if TYPE_CHECKING:

        @property
        def headers(self) -> MutableHeaders: ...

    else:
        # The twin's function is the getter itself: read three times a request under FastAPI.
        headers = property(_response.response_headers)

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
        start, body = _DENIAL_TYPES if scope["type"] == "websocket" else _RESPONSE_TYPES
        await send({"type": start, "status": self.status_code, "headers": self.raw_headers})
        await send({"type": body, "body": self.body})
        if self.background is not None:
            await self.background()


PLAIN_CALL.add(Response)


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
        if json.dumps is _STDLIB_DUMPS:
            return _json_render(content)
        return _stdlib_json(content)


_response.configure(Response, JSONResponse, _json_render, globals())
_response.configure_headers(MutableHeaders)


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


# StreamingResponse and FileResponse live in modules of their own; they subclass Response, so they
# are imported once everything above exists.
from fastframe._file_response import FileResponse as FileResponse  # noqa: E402
from fastframe._file_response import MalformedRangeHeader as MalformedRangeHeader  # noqa: E402
from fastframe._file_response import RangeNotSatisfiable as RangeNotSatisfiable  # noqa: E402
from fastframe._streaming import StreamingResponse as StreamingResponse  # noqa: E402
