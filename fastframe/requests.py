from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
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
    from fastframe.applications import Starlette
    from fastframe.routing import Router


SERVER_PUSH_HEADERS_TO_COPY = {
    "accept",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "user-agent",
}

_parse_cookie = speedups.http.parse_cookie
_cookies_from_headers = speedups.http.cookies_from_headers
_parse_query = speedups.http.parse_query
# Per-request objects are made without calling __init__: its argument checks are the costly part.
_new = object.__new__
# Compiled, a QueryParams.get() scan of the raw query string costs less than parsing it all;
# pure, the one full parse is cheaper.
_LAZY_QUERY: bool = speedups.COMPILED.get("http", False)


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parse a Cookie header the lenient way browsers send it, not by RFC 6265's strict grammar."""
    return _parse_cookie(cookie_string)  # type: ignore[no-any-return]


# The hot-path twin decodes with orjson where that provably gives json.loads's answer.
_json_loads: Callable[[bytes], Any] = speedups.jsonenc.loads


class ClientDisconnect(Exception):
    pass


StateT = TypeVar("StateT", bound=Mapping[str, Any] | State, default=State)


class HTTPConnection(Mapping[str, Any], Generic[StateT]):
    """What HTTP requests and WebSocket sessions share: the scope, read lazily and cached."""

    # "__dict__" keeps arbitrary attribute assignment working, as users and middleware rely on it.
    __slots__ = (
        "scope",
        "_url",
        "_base_url",
        "_headers",
        "_query_params",
        "_cookies",
        "_state",
        "__dict__",
        "__weakref__",
    )

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        assert scope["type"] in ("http", "websocket")
        self.scope = scope
        self._url: URL | None = None
        self._base_url: URL | None = None
        self._headers: Headers | None = None
        self._query_params: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._state: Any = None

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    # Identity semantics: two connections over equal scopes are still different connections.
    __eq__ = object.__eq__
    __hash__ = object.__hash__  # type: ignore[assignment]

    @property
    def app(self) -> Any:
        return self.scope["app"]

    @property
    def url(self) -> URL:
        url = self._url
        if url is None:
            url = self._url = URL(scope=self.scope)
        return url

    @property
    def base_url(self) -> URL:
        base_url = self._base_url
        if base_url is None:
            scope = dict(self.scope)
            app_root_path = scope.get("app_root_path", scope.get("root_path", ""))
            path = app_root_path if app_root_path.endswith("/") else app_root_path + "/"
            scope["path"] = path
            scope["query_string"] = b""
            scope["root_path"] = app_root_path
            base_url = self._base_url = URL(scope=scope)
        return base_url

    @property
    def headers(self) -> Headers:
        headers = self._headers
        if headers is None:
            # Headers(scope=...) without the call: our own copy, written back to the scope.
            headers = _new(Headers)
            scope = self.scope
            headers._list = scope["headers"] = list(scope["headers"])
            self._headers = headers
        return headers

    @property
    def query_params(self) -> QueryParams:
        query_params = self._query_params
        if query_params is None:
            query_string = self.scope["query_string"]
            if type(query_string) is bytes:
                query_params = _new(QueryParams)
                if _LAZY_QUERY:
                    query_params._query = query_string
                else:
                    query_params._query = None
                    query_params._list, query_params._dict = _parse_query(query_string)
            else:
                query_params = QueryParams(query_string)
            self._query_params = query_params
        return query_params

    @property
    def path_params(self) -> dict[str, Any]:
        return self.scope.get("path_params", {})  # type: ignore[no-any-return]

    @property
    def cookies(self) -> dict[str, str]:
        cookies = self._cookies
        if cookies is None:
            # Read through self.headers, as the reference does (a subclass may redefine it).
            headers = self.headers
            header_type = type(headers)
            if header_type is Headers or header_type is MutableHeaders:
                # Several Cookie headers (HTTP/2 splits them) read as one list, later names winning.
                cookies = _cookies_from_headers(headers._list)
            else:
                values = headers.getlist("cookie")
                if not values:
                    cookies = {}
                elif len(values) == 1:
                    cookies = _parse_cookie(values[0])
                else:
                    cookies = _parse_cookie("; ".join(values))
            self._cookies = cookies
        return cookies

    @property
    def client(self) -> Address | None:
        host_port = self.scope.get("client")
        if host_port is not None:
            return Address(*host_port)
        return None

    @property
    def session(self) -> dict[str, Any]:
        assert "session" in self.scope, "SessionMiddleware must be installed to access request.session"
        session = self.scope["session"]
        if type(session) is not dict:
            # SessionMiddleware's session records reads, so it can answer with "Vary: Cookie".
            mark_accessed = getattr(session, "mark_accessed", None)
            if mark_accessed is not None:
                mark_accessed()
        return session  # type: ignore[no-any-return]

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
        state = self._state
        if state is None:
            state = self._state = State(self.scope.setdefault("state", {}))
        return cast(StateT, state)

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        url_path_provider: Router | Starlette | None = self.scope.get("router") or self.scope.get("app")
        if url_path_provider is None:
            raise RuntimeError("The `url_for` method can only be used inside a Starlette application or with a router.")
        url_path = url_path_provider.url_path_for(name, **path_params)
        return url_path.make_absolute_url(base_url=self.base_url)


async def empty_receive() -> NoReturn:
    raise RuntimeError("Receive channel has not been made available")


async def empty_send(message: Message) -> NoReturn:
    raise RuntimeError("Send channel has not been made available")


class Request(HTTPConnection[StateT]):
    # "_body" and "_json" stay unset until read: hasattr(request, "_body") is how callers ask.
    __slots__ = ("_receive", "_send", "_stream_consumed", "_is_disconnected", "_form", "_body", "_json")

    _form: FormData | None
    _body: bytes
    _json: Any

    def __init__(self, scope: Scope, receive: Receive = empty_receive, send: Send = empty_send):
        # HTTPConnection.__init__ inlined: this runs once per request.
        assert scope["type"] == "http"
        self.scope = scope
        self._url = None
        self._base_url = None
        self._headers = None
        self._query_params = None
        self._cookies = None
        self._state = None
        self._receive = receive
        self._send = send
        self._stream_consumed = False
        self._is_disconnected = False
        self._form = None

    @property
    def method(self) -> str:
        return cast(str, self.scope["method"])

    @property
    def receive(self) -> Receive:
        return self._receive

    async def stream(self) -> AsyncGenerator[bytes, None]:
        if hasattr(self, "_body"):
            yield self._body
            yield b""
            return
        if self._stream_consumed:
            raise RuntimeError("Stream consumed")
        while not self._stream_consumed:
            message = await self._receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                if not message.get("more_body", False):
                    self._stream_consumed = True
                if body:
                    yield body
            elif message["type"] == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()
        yield b""

    async def body(self) -> bytes:
        try:
            return self._body
        except AttributeError:
            pass
        # Same protocol as stream(), without an async generator per request.
        if self._stream_consumed:
            raise RuntimeError("Stream consumed")
        chunks: list[bytes] = []
        receive = self._receive
        while not self._stream_consumed:
            message = await receive()
            message_type = message["type"]
            if message_type == "http.request":
                chunk = message.get("body", b"")
                if not message.get("more_body", False):
                    self._stream_consumed = True
                if chunk:
                    chunks.append(chunk)
            elif message_type == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()
        if len(chunks) == 1:
            body = bytes(chunks[0])
        else:
            body = b"".join(chunks)
        self._body = body
        return body

    async def json(self) -> Any:
        try:
            return self._json
        except AttributeError:
            pass
        self._json = _json_loads(await self.body())
        return self._json

    async def _get_form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        if self._form is None:
            assert parse_options_header is not None, (
                "The `python-multipart` library must be installed to use form parsing."
            )
            content_type_header = self.headers.get("Content-Type")
            content_type, _ = parse_options_header(content_type_header)
            parser: MultiPartParser | FormParser
            if content_type == b"multipart/form-data" or content_type == b"application/x-www-form-urlencoded":
                # aclosing: a parse that stops early must not leave the body generator suspended.
                async with aclosing(self.stream()) as stream:
                    try:
                        if content_type == b"multipart/form-data":
                            parser = MultiPartParser(
                                self.headers,
                                stream,
                                max_files=max_files,
                                max_fields=max_fields,
                                max_part_size=max_part_size,
                            )
                        else:
                            parser = FormParser(
                                self.headers, stream, max_fields=max_fields, max_part_size=max_part_size
                            )
                        self._form = await parser.parse()
                    except MultiPartException as exc:
                        # Inside an application the error is the client's: a 400, not a 500.
                        if "app" in self.scope:
                            raise HTTPException(status_code=400, detail=exc.message)
                        raise exc
            else:
                self._form = FormData()
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
        if not self._is_disconnected:
            message: Message = {}
            # A pre-cancelled scope turns receive() into a poll: it returns only what is already queued.
            with anyio.CancelScope() as cs:
                cs.cancel()
                message = await self._receive()
            if message.get("type") == "http.disconnect":
                self._is_disconnected = True
        return self._is_disconnected

    async def send_push_promise(self, path: str) -> None:
        if "http.response.push" in self.scope.get("extensions", {}):
            raw_headers: list[tuple[bytes, bytes]] = []
            for name in SERVER_PUSH_HEADERS_TO_COPY:
                for value in self.headers.getlist(name):
                    raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
            await self._send({"type": "http.response.push", "path": path, "headers": raw_headers})

    async def send_early_hints(self, link: str, /, *additional_links: str) -> None:
        if "http.response.early_hint" in self.scope.get("extensions", {}):
            links = [link.encode("latin-1")]
            links.extend(extra.encode("latin-1") for extra in additional_links)
            await self._send({"type": "http.response.early_hint", "links": links})


# fastframe._dispatch makes the endpoint's Request through speedups.http.new_request.
speedups.http.configure_request(Request)
