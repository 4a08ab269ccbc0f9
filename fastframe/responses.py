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

_jsonenc = speedups.jsonenc


def _json_dumps(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


_json_render: Callable[[Any], bytes] = _jsonenc.dumps if _jsonenc is not None else _json_dumps

_BYTES_LIKE = (bytes, memoryview)
_response = speedups.response
_init_response = _response.init_response
_build_headers = _response.build_headers


class Response:
    # The attributes every response sets, as slots (compiled construction writes them directly);
    # "__dict__" keeps any other attribute assignable, as users and middleware expect.
    __slots__ = ("status_code", "background", "body", "raw_headers", "__dict__", "__weakref__")
    media_type: str | None = None
    charset = "utf-8"
    # Set by __init__ (speedups.response.init_response); declared for type checkers.
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
        # Sets status_code, media_type, background, body (through render) and raw_headers (through
        # init_headers), calling those two as methods only when a subclass overrides them. The
        # function binds as a method itself: no Python frame around it on every response.
        __init__ = _init_response

    def render(self, content: Any) -> bytes | memoryview:
        if content is None:
            return b""
        if type(content) is bytes or isinstance(content, _BYTES_LIKE):
            return content  # type: ignore[no-any-return]
        return content.encode(self.charset)  # type: ignore[no-any-return]

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        self.raw_headers = _build_headers(
            headers, getattr(self, "body", None), self.status_code, self.media_type, self.charset
        )

    @property
    def headers(self) -> MutableHeaders:
        try:
            return self._headers  # type: ignore[has-type, no-any-return]
        except AttributeError:
            self._headers = MutableHeaders(raw=self.raw_headers)
            return self._headers

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
        # A lone Morsel formats exactly as SimpleCookie would, without the container.
        morsel: http.cookies.Morsel[str] = http.cookies.Morsel()
        str_value = str(value)
        morsel.set(key, str_value, http.cookies._quote(str_value))  # type: ignore[attr-defined]
        if max_age is not None:
            morsel["max-age"] = max_age  # type: ignore[assignment]
        if expires is not None:
            if isinstance(expires, datetime):
                morsel["expires"] = format_datetime(expires, usegmt=True)
            else:
                morsel["expires"] = expires  # type: ignore[assignment]
        if path is not None:
            morsel["path"] = path
        if domain is not None:
            morsel["domain"] = domain
        if secure:
            morsel["secure"] = True  # type: ignore[assignment]
        if httponly:
            morsel["httponly"] = True  # type: ignore[assignment]
        if samesite is not None:
            assert samesite.lower() in ["strict", "lax", "none"], "samesite must be either 'strict', 'lax' or 'none'"
            morsel["samesite"] = samesite
        if partitioned:
            if sys.version_info < (3, 14):
                raise ValueError("Partitioned cookies are only supported in Python 3.14 and above.")
            morsel["partitioned"] = True  # type: ignore[assignment]  # pragma: no cover
        self.raw_headers.append((b"set-cookie", morsel.OutputString().encode("latin-1")))

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
        async def wrapped(message: Message) -> None:
            message["type"] = "websocket." + message["type"]
            await send(message)

        return wrapped

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            start_type = "websocket.http.response.start"
            body_type = "websocket.http.response.body"
        else:
            start_type = "http.response.start"
            body_type = "http.response.body"
        await send({"type": start_type, "status": self.status_code, "headers": self.raw_headers})
        await send({"type": body_type, "body": self.body})
        if self.background is not None:
            await self.background()


class HTMLResponse(Response):
    media_type = "text/html"


class PlainTextResponse(Response):
    media_type = "text/plain"


class JSONResponse(Response):
    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        return _json_render(content)


_response.configure(Response.render, JSONResponse.render, _json_render, Response.init_headers)
_response.use_slots(Response)
# Calling these classes (not their subclasses) makes the response without type.__call__, for as long
# as the __init__ each would run is still the framework's (JSONResponse's reaches Response's).
for _cls in (Response, PlainTextResponse, HTMLResponse):
    _response.speed_up_construction(_cls, ((_cls, _init_response),), False)
_response.speed_up_construction(JSONResponse, ((JSONResponse, JSONResponse.__init__), (Response, _init_response)), True)


_REDIRECT_SAFE = ":/%#?=@[]!$&'()*+,;"


class RedirectResponse(Response):
    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content=b"", status_code=status_code, headers=headers, background=background)
        location = quote(str(url), safe=_REDIRECT_SAFE)
        if headers is not None and any(k.lower() == "location" for k in headers):
            self.headers["location"] = location
        else:
            self.raw_headers.append((b"location", location.encode("latin-1")))


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
