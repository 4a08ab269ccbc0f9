"""Requests and what they share with WebSocket sessions: a view of the ASGI scope and channels.

Everything is read lazily from the scope and kept once read. The per-connection fields live in
the twin type `speedups.http.Connection`: compiled, a new instance has them all None already,
so the router makes the endpoint's Request by setting just the scope and the two channels.
"""

from __future__ import annotations

import json
from abc import ABCMeta
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Generic, NoReturn, cast

import anyio
from typing_extensions import TypeVar

from fastframe import speedups
from fastframe._utils import AwaitableOrContextManager, AwaitableOrContextManagerWrapper
from fastframe.datastructures import URL, Address, FormData, Headers, MutableHeaders, QueryParams, State
from fastframe.exceptions import HTTPException
from fastframe.formparsers import FormParser, MultiPartException, MultiPartParser, parse_options_header
from fastframe.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from fastframe._pure.http import Connection
    from fastframe.applications import Starlette
    from fastframe.routing import Router
else:
    Connection = speedups.http.Connection

_http = speedups.http
_http.configure_views(Headers, MutableHeaders, QueryParams)
_parse_cookie = _http.parse_cookie
# Decodes with orjson where that provably gives json.loads's answer.
_json_loads: Callable[[bytes], Any] = speedups.jsonenc.loads
# ... while `json.loads` is still the stdlib's own; a patched one is called as the reference calls it.
_STDLIB_LOADS = json.loads

SERVER_PUSH_HEADERS_TO_COPY = {
    "accept",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "user-agent",
}
# The same names in a fixed order, so that a push promise's headers do not depend on hashing.
_PUSH_HEADERS = tuple(sorted(SERVER_PUSH_HEADERS_TO_COPY))


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parse a Cookie header the lenient way browsers send it, not by RFC 6265's strict grammar."""
    return _parse_cookie(cookie_string)


class ClientDisconnect(Exception):
    pass


StateT = TypeVar("StateT", bound=Mapping[str, Any] | State, default=State)


def _base_url_of(scope: Scope) -> URL:
    """The URL of the application's root: the mount point, with a trailing slash, no query."""
    root: str = scope.get("app_root_path", scope.get("root_path", ""))
    if not root.endswith("/"):
        root += "/"
    return URL(scope={**scope, "path": root, "query_string": b""})


# Request's channels until the server's are given: coroutine functions that raise.
empty_receive: Callable[[], Awaitable[NoReturn]] = _http.empty_receive
empty_send: Callable[[Message], Awaitable[NoReturn]] = _http.empty_send


class HTTPConnection(Connection, Mapping[str, Any], Generic[StateT]):
    """What HTTP requests and WebSocket sessions share: the scope, read lazily and kept."""

    # __dict__: users and middleware set attributes of their own on requests.
    __slots__ = ("__dict__", "__weakref__")
    # Two connections are never equal just because their scopes are.
    __eq__ = object.__eq__
    __hash__ = object.__hash__  # type: ignore[assignment]

    # The fields of the twin type, for type checkers.
    scope: Scope
    _receive: Receive
    _send: Send
    _url: URL | None
    _base_url: URL | None
    _headers: Headers | None
    _query_params: QueryParams | None
    _cookies: dict[str, str] | None
    _state: Any
    _form: FormData | None
    _stream_consumed: bool
    _is_disconnected: bool

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        assert scope["type"] in ("http", "websocket")
        self._open(scope, empty_receive, empty_send)

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    @property
    def app(self) -> Any:
        return self.scope["app"]

    @property
    def url(self) -> URL:
        if self._url is None:
            self._url = URL(scope=self.scope)
        return self._url

    @property
    def base_url(self) -> URL:
        if self._base_url is None:
            self._base_url = _base_url_of(self.scope)
        return self._base_url

    if TYPE_CHECKING:

        @property
        def headers(self) -> Headers: ...

        @property
        def query_params(self) -> QueryParams: ...

        @property
        def path_params(self) -> dict[str, Any]: ...

        @property
        def cookies(self) -> dict[str, str]: ...

    else:
        # The twin's functions are the getters themselves: FastAPI reads these on every request.
        headers = property(_http.connection_headers)
        query_params = property(_http.connection_query_params)
        path_params = property(_http.connection_path_params)
        cookies = property(_http.connection_cookies)

    @property
    def client(self) -> Address | None:
        peer = self.scope.get("client")
        return None if peer is None else Address(*peer)

    @property
    def session(self) -> dict[str, Any]:
        assert "session" in self.scope, "SessionMiddleware must be installed to access request.session"
        session = self.scope["session"]
        if type(session) is not dict:
            # SessionMiddleware's session notes that it was read, to answer with "Vary: Cookie".
            noted = getattr(session, "mark_accessed", None)
            if noted is not None:
                noted()
        return session

    @property
    def auth(self) -> Any:
        assert "auth" in self.scope, "AuthenticationMiddleware must be installed to access request.auth"
        return self.scope["auth"]

    @property
    def user(self) -> Any:
        assert "user" in self.scope, "AuthenticationMiddleware must be installed to access request.user"
        return self.scope["user"]

    @property
    def state(self) -> StateT:
        if self._state is None:
            self._state = State(self.scope.setdefault("state", {}))
        return cast(StateT, self._state)

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        provider: Router | Starlette | None = self.scope.get("router") or self.scope.get("app")
        if provider is None:
            raise RuntimeError("The `url_for` method can only be used inside a Starlette application or with a router.")
        return provider.url_path_for(name, **path_params).make_absolute_url(base_url=self.base_url)


class _RequestType(ABCMeta):
    """Request's metaclass: new_request (compiled) makes a Request without calling __init__ while
    the class still has the __init__ it was configured with; setting or deleting __init__ on the
    class, a patch say, is told to it here."""

    def __setattr__(cls, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "__init__":
            _http.note_request_init()

    def __delattr__(cls, name: str) -> None:
        super().__delattr__(name)
        if name == "__init__":
            _http.note_request_init()


class Request(HTTPConnection[StateT], metaclass=_RequestType):
    # "_body" and "_json" have no value until read: `hasattr(request, "_body")` tells whether the
    # body was read.
    __slots__ = ("_body", "_json")

    _body: bytes
    _json: Any

    if TYPE_CHECKING:

        def __init__(self, scope: Scope, receive: Receive = empty_receive, send: Send = empty_send) -> None: ...

    else:
        # The twin's function is __init__ itself: FastAPI makes a Request for every request.
        __init__ = _http.init_request

    if TYPE_CHECKING:

        @property
        def method(self) -> str: ...

    else:
        method = property(_http.request_method)

    @property
    def receive(self) -> Receive:
        return self._receive

    async def _next_chunk(self) -> bytes:
        """The next piece of the body (b"" for messages without one); marks the end when it comes."""
        message = await self._receive()
        kind = message["type"]
        if kind == "http.request":
            if not message.get("more_body", False):
                self._stream_consumed = True
            return message.get("body", b"")
        if kind == "http.disconnect":
            self._is_disconnected = True
            raise ClientDisconnect()
        return b""

    async def stream(self) -> AsyncGenerator[bytes, None]:
        try:
            body = self._body
        except AttributeError:
            pass
        else:
            yield body
            yield b""
            return
        if self._stream_consumed:
            raise RuntimeError("Stream consumed")
        while not self._stream_consumed:
            chunk = await self._next_chunk()
            if chunk:
                yield chunk
        yield b""

    async def body(self) -> bytes:
        try:
            return self._body
        except AttributeError:
            pass
        chunks = []
        if type(self).stream is Request.stream:
            # The same reads as stream(), without an async generator per request.
            if self._stream_consumed:
                raise RuntimeError("Stream consumed")
            while not self._stream_consumed:
                chunks.append(await self._next_chunk())
        else:
            # A subclass's own stream() is what the body is made of.
            chunks = [chunk async for chunk in self.stream()]
        self._body = body = b"".join(chunks)
        return body

    async def json(self) -> Any:
        try:
            return self._json
        except AttributeError:
            pass
        body = await self.body()
        self._json = _json_loads(body) if json.loads is _STDLIB_LOADS else json.loads(body)
        return self._json

    def _form_parser(self, content_type: bytes, stream: Any, limits: dict[str, Any]) -> Any:
        if content_type == b"multipart/form-data":
            return MultiPartParser(self.headers, stream, **limits)
        if content_type == b"application/x-www-form-urlencoded":
            return FormParser(
                self.headers, stream, max_fields=limits["max_fields"], max_part_size=limits["max_part_size"]
            )
        return None

    async def _get_form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        if self._form is not None:
            return self._form
        assert parse_options_header is not None, "The `python-multipart` library must be installed to use form parsing."
        content_type, _ = parse_options_header(self.headers.get("Content-Type"))
        limits = {"max_files": max_files, "max_fields": max_fields, "max_part_size": max_part_size}
        # aclosing: a parse that stops early must not leave the body generator suspended.
        async with aclosing(self.stream()) as stream:
            parser = self._form_parser(content_type, stream, limits)
            if parser is None:
                self._form = FormData()
                return self._form
            try:
                self._form = await parser.parse()
            except MultiPartException as exc:
                # Inside an application a malformed form is the client's error.
                if "app" in self.scope:
                    raise HTTPException(status_code=400, detail=exc.message)
                raise
        return self._form

    def form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> AwaitableOrContextManager[FormData]:
        return AwaitableOrContextManagerWrapper(
            self._get_form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
        )

    async def close(self) -> None:
        if self._form is not None:
            await self._form.close()

    async def is_disconnected(self) -> bool:
        if self._is_disconnected:
            return True
        receive = replay = self._receive
        if type(replay) is _Replay:
            receive = replay.receive
        # A receive() in an already-cancelled scope only returns a message that is waiting.
        message: Message = {}
        with anyio.CancelScope() as poll:
            poll.cancel()
            message = await receive()
        kind = message.get("type")
        if kind == "http.disconnect":
            self._is_disconnected = True
        elif kind == "http.request" and not self._stream_consumed:
            # The body must not lose a chunk to a disconnect check: the stream receives it later.
            if type(replay) is not _Replay:
                replay = self._receive = _Replay(receive)
            replay.pending.append(message)
        return self._is_disconnected

    async def send_push_promise(self, path: str) -> None:
        if "http.response.push" not in self.scope.get("extensions", {}):
            return
        headers = self.headers
        pushed = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name in _PUSH_HEADERS
            for value in headers.getlist(name)
        ]
        await self._send({"type": "http.response.push", "path": path, "headers": pushed})

    async def send_early_hints(self, link: str, /, *additional_links: str) -> None:
        if "http.response.early_hint" not in self.scope.get("extensions", {}):
            return
        links = [each.encode("latin-1") for each in (link, *additional_links)]
        await self._send({"type": "http.response.early_hint", "links": links})


class _Replay:
    """A receive channel that first gives back the messages is_disconnected() took from `receive`."""

    __slots__ = ("pending", "receive")

    def __init__(self, receive: Receive) -> None:
        self.pending: deque[Message] = deque()
        self.receive = receive

    async def __call__(self) -> Message:
        if self.pending:
            return self.pending.popleft()
        return await self.receive()


# The router makes the endpoint's Request through speedups.http.new_request.
_http.configure_request(Request)
