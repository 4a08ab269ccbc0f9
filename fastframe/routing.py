"""Routes and the router.

A route knows three things: whether it matches a scope (`matches`), how to handle a matched
request (`handle`) and how to print its URL (`url_path_for`). The router tries its routes in
order; rather than asking each route in turn it asks a route table (`speedups.routing.RouteTable`),
built once from an entry each route contributes and rebuilt whenever the route list changes, which
answers with the same route, the same scope changes, in one call whatever the number of routes.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
import traceback
import types
import warnings
from collections.abc import Awaitable, Callable, Collection, Generator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from enum import Enum
from re import Pattern
from typing import TYPE_CHECKING, Any, Literal, SupportsIndex, TypeVar

from fastframe import speedups
from fastframe._exception_handler import NO_HANDLERS, SCOPE_KEY, handle_exception
from fastframe._utils import get_route_path, is_async_callable, parse_host_header
from fastframe.concurrency import run_in_threadpool
from fastframe.convertors import CONVERTOR_TYPES, Convertor, IntegerConvertor, StringConvertor
from fastframe.datastructures import URL, Headers, URLPath
from fastframe.exceptions import HTTPException, StarletteDeprecationWarning
from fastframe.middleware import Middleware
from fastframe.middleware.body_limit import RequestBodyLimitMiddleware
from fastframe.requests import Request
from fastframe.responses import PlainTextResponse, RedirectResponse, Response
from fastframe.types import ASGIApp, Lifespan, Receive, Scope, Send
from fastframe.websockets import WebSocket, WebSocketClose

__all__ = [
    "BaseRoute",
    "Host",
    "Match",
    "Mount",
    "NoMatchFound",
    "Route",
    "Router",
    "WebSocketRoute",
    "compile_path",
    "get_name",
    "replace_params",
    "request_response",
    "websocket_session",
]

_table = speedups.routing
_new_request = speedups.http.new_request
_Tracker = speedups.response.Tracker


class NoMatchFound(Exception):
    """Raised by `url_path_for` when no route has the name with exactly the given params."""

    def __init__(self, name: str, path_params: dict[str, Any]) -> None:
        listed = ", ".join(path_params)
        super().__init__(f'No route exists for name "{name}" and params "{listed}".')


class Match(Enum):
    NONE = 0
    PARTIAL = 1
    FULL = 2


_table.configure_matches(Match.NONE, Match.PARTIAL, Match.FULL)

# --- endpoints as ASGI apps ----------------------------------------------------------------------


class _EndpointApp:
    """The ASGI app request_response makes: a Request in, the endpoint's response out, the
    exception handlers of the scope applied to what the endpoint raises.

    `call` is the endpoint as a coroutine function (a sync one runs in the thread pool); an
    application dispatching a route to this app may run `call` itself in its own frame, which is
    the same behaviour.
    """

    __slots__ = ("call", "endpoint")

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response] | Response]) -> None:
        self.endpoint = endpoint
        self.call: Any = endpoint if is_async_callable(endpoint) else functools.partial(run_in_threadpool, endpoint)  # type: ignore[call-arg]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = _new_request(scope, receive, send)
        watch = _Tracker(send)
        try:
            response = await self.call(request)
            await response(scope, receive, watch.track)
        except Exception as exc:
            await handle_exception(exc, scope.get(SCOPE_KEY, NO_HANDLERS), request, watch.started, scope, receive, send)

    def __repr__(self) -> str:
        return f"request_response({self.endpoint!r})"


class _SessionApp:
    """The ASGI app websocket_session makes: a WebSocket in, handlers applied to what escapes."""

    __slots__ = ("call",)

    def __init__(self, session: Callable[[WebSocket], Awaitable[None]]) -> None:
        self.call = session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        try:
            await self.call(websocket)
        except Exception as exc:
            # A websocket's messages never start an http response.
            await handle_exception(exc, scope.get(SCOPE_KEY, NO_HANDLERS), websocket, False, scope, receive, send)

    def __repr__(self) -> str:
        return f"websocket_session({self.call!r})"


def request_response(func: Callable[[Request], Awaitable[Response] | Response]) -> ASGIApp:
    """An ASGI app calling `func` (sync or async) with a Request and sending the Response it returns."""
    return _EndpointApp(func)


def websocket_session(func: Callable[[WebSocket], Awaitable[None]]) -> ASGIApp:
    """An ASGI app calling the coroutine function `func` with a WebSocket."""
    return _SessionApp(func)


def get_name(endpoint: Callable[..., Any]) -> str:
    return getattr(endpoint, "__name__", type(endpoint).__name__)


def _is_plain_function(endpoint: Any) -> bool:
    """Whether a route treats `endpoint` as a function of a request (else it is an ASGI app)."""
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    return inspect.isfunction(endpoint) or inspect.ismethod(endpoint)


def _wrapped(app: ASGIApp, middleware: Sequence[Middleware] | None, max_body_size: int | None) -> ASGIApp:
    """`app` inside the given middleware (the first listed outermost), then the body limit."""
    for factory, args, kwargs in reversed(middleware or ()):
        app = factory(app, *args, **kwargs)
    if max_body_size is not None:
        app = RequestBodyLimitMiddleware(app, max_body_size=max_body_size)
    return app


# --- path templates ------------------------------------------------------------------------------

PARAM_REGEX = re.compile("{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?}")
PARAM_FORMAT_REGEX = re.compile("{([a-zA-Z_][a-zA-Z0-9_]*)}")

# Convertor patterns that never match "/": a parameter using one stays inside its path segment.
_WITHIN_A_SEGMENT = frozenset(CONVERTOR_TYPES[kind].regex for kind in ("str", "int", "float", "uuid"))
# Marks a parameter's place when the template is cut into segments; a literal holding it is only
# taken for a parameter, which is the safe side.
_HOLE = "\x00"


class _Template:
    """A path or host template, parsed once into literal text and `{name}` / `{name:kind}` parameters.

    Everything a route derives from its template comes from here: the regex, the format
    `url_path_for` fills, the convertors by name, and the table's shape of the paths it can match.
    """

    __slots__ = ("source", "literals", "names", "convertors", "is_host")

    def __init__(self, source: str) -> None:
        self.source = source
        self.is_host = not source.startswith("/")
        # With its two groups, split gives: literal, name, ":kind" or None, literal, ..., literal.
        pieces = PARAM_REGEX.split(source)
        self.literals: list[str] = pieces[::3]
        self.names: list[str] = pieces[1::3]
        self.convertors: dict[str, Convertor[Any]] = {}
        repeated: set[str] = set()
        for name, kind in zip(self.names, pieces[2::3], strict=True):
            kind = "str" if kind is None else kind[1:]
            assert kind in CONVERTOR_TYPES, f"Unknown path convertor '{kind}'"
            if name in self.convertors:
                repeated.add(name)
            self.convertors[name] = CONVERTOR_TYPES[kind]
        if repeated:
            plural = "s" if len(repeated) > 1 else ""
            raise ValueError(f"Duplicated param name{plural} {', '.join(sorted(repeated))} at path {source}")

    def regex(self) -> Pattern[str]:
        tail = self.literals[-1]
        if self.is_host and ":" in tail and not tail.endswith("]"):
            # A host template may name a port; Host matches the host name alone.
            tail = tail[: tail.rfind(":")]
        parts = ["^"]
        for literal, name in zip(self.literals, self.names, strict=False):
            parts.append(f"{re.escape(literal)}(?P<{name}>{self.convertors[name].regex})")
        parts.append(re.escape(tail) + "$")
        return re.compile("".join(parts), re.IGNORECASE if self.is_host else 0)

    def format(self) -> str:
        """The template with each parameter as a bare `{name}`."""
        marked = [f"{literal}{{{name}}}" for literal, name in zip(self.literals, self.names, strict=False)]
        return "".join(marked) + self.literals[-1]

    def shape(self) -> tuple[str, Any]:
        """Which paths a route of this template can match, for the route table."""
        if not self.names:
            return ("static", self.source)
        if all(self.convertors[name].regex in _WITHIN_A_SEGMENT for name in self.names):
            joined = _HOLE.join(self.literals)
            if joined.startswith("/"):
                return ("segments", tuple(None if _HOLE in part else part for part in joined[1:].split("/")))
        return ("prefix", self.literals[0])

    def params(self) -> tuple[tuple[str, Convertor[Any], int], ...]:
        """(name, convertor, how the compiled table may read its text) for each parameter."""
        return tuple((name, self.convertors[name], _param_kind(self.convertors[name])) for name in self.names)


def _param_kind(convertor: Convertor[Any]) -> int:
    if type(convertor) is StringConvertor and convertor.regex == StringConvertor.regex:
        return int(_table.TEXT)
    if type(convertor) is IntegerConvertor and convertor.regex == IntegerConvertor.regex:
        return int(_table.DIGITS)
    return int(_table.OTHER_PARAM)


def compile_path(path: str) -> tuple[Pattern[str], str, dict[str, Convertor[Any]]]:
    """(regex, format, convertors by name) of a path template ("/...") or a host template."""
    template = _Template(path)
    return template.regex(), template.format(), template.convertors


def replace_params(
    path: str,
    param_convertors: dict[str, Convertor[Any]],
    path_params: dict[str, str],
) -> tuple[str, dict[str, str]]:
    """Fill the `{name}` placeholders of a format from `path_params`, in the format's order.

    Each value used is removed from `path_params` (a placeholder whose value was already used stays
    as it is), and the same dict comes back with what is left: callers test it for leftovers.
    """
    pieces = PARAM_FORMAT_REGEX.split(path)
    for at in range(1, len(pieces), 2):
        name = pieces[at]
        pieces[at] = (
            param_convertors[name].to_string(path_params.pop(name)) if name in path_params else f"{{{name}}}"
        )
    return "".join(pieces), path_params


# --- routes --------------------------------------------------------------------------------------


class BaseRoute:
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raise NotImplementedError()  # pragma: no cover

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NotImplementedError()  # pragma: no cover

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError()  # pragma: no cover

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The route on its own as an ASGI app: what it does not match gets a 404 or a closed socket."""
        match, child_scope = self.matches(scope)
        if match is not Match.NONE:
            scope.update(child_scope)
            await self.handle(scope, receive, send)
        elif scope["type"] == "http":
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
        elif scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)

    def _table_entry(self) -> tuple[Any, ...]:
        """This route's entry in its router's table: by default, `matches` is asked for every path."""
        return (_table.OTHER, self, None, None, (), None, None, ())


class _PathRoute(BaseRoute):
    """What Route and WebSocketRoute share: a path template, matched against the scope's route path."""

    path: str
    endpoint: Callable[..., Any]
    name: str
    app: ASGIApp
    path_regex: Pattern[str]
    path_format: str
    param_convertors: dict[str, Convertor[Any]]
    _template: _Template
    _built_regex: Pattern[str]
    _leaf: int
    _protocol: Literal["http", "websocket"]

    def _parse(self, path: str) -> None:
        assert path.startswith("/"), "Routed paths must start with '/'"
        self._template = _Template(path)
        self.path_regex = self._built_regex = self._template.regex()
        self.path_format = self._template.format()
        self.param_convertors = self._template.convertors

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if name != self.name or path_params.keys() != self.param_convertors.keys():
            raise NoMatchFound(name, path_params)
        path, left = replace_params(self.path_format, self.param_convertors, path_params)
        assert not left
        return URLPath(path=path, protocol=self._protocol)

    def _direct(self, app: Any) -> Any:
        """What the router's caller may run instead of handling the route (see RouteTable)."""
        return None

    def __setattr__(self, name: str, value: Any) -> None:
        replaced = name == "app" and "app" in self.__dict__
        object.__setattr__(self, name, value)
        if replaced:
            # Route tables may run this route's endpoint in place of its app: they look again.
            _table.note_app_change()

    def _table_entry(self) -> tuple[Any, ...]:
        cls = type(self)
        if cls.matches is not cls._own_matches:
            return super()._table_entry()
        regex = self.path_regex
        # A regex replaced since __init__ (or a subclass that skipped it) says nothing of the
        # template's shape: such a route is tried for every path, with its regex.
        template = getattr(self, "_template", None)
        if template is None or regex is not getattr(self, "_built_regex", None):
            return (self._leaf, self, None, regex, (), None, None, ())
        app = getattr(self, "app", None)
        direct = self._direct(app) if cls.handle is cls._own_handle else None
        return (self._leaf, self, template.shape(), regex, template.params(), app, direct, tuple(template.literals))

    _own_matches: Any = None
    _own_handle: Any = None


class Route(_PathRoute):
    _protocol = "http"

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
        middleware: Sequence[Middleware] | None = None,
        max_body_size: int | None = None,
    ) -> None:
        self._parse(path)
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name
        self.include_in_schema = include_in_schema
        if _is_plain_function(endpoint):
            inner: ASGIApp = request_response(endpoint)
            methods = ["GET"] if methods is None else methods
        else:
            inner = endpoint
        self.app = _wrapped(inner, middleware, max_body_size)
        self.methods: set[str] | None = None
        if methods is not None:
            self.methods = {method.upper() for method in methods}
            if "GET" in self.methods:
                self.methods.add("HEAD")

    _leaf = int(_table.HTTP_LEAF)

    if TYPE_CHECKING:

        def matches(self, scope: Scope) -> tuple[Match, Scope]: ...

    else:
        # The twin's function is the method itself: routers that ask each route in turn (FastAPI's
        # does) pay one call per route.
        matches = _table.route_matches

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:  # type: ignore[override]
        # Not a coroutine itself: the app's own coroutine is what the router awaits, one frame less
        # for routers that call handle (FastAPI's, on every request). Awaiting it behaves the same.
        methods = self.methods
        if not methods or scope["method"] in methods:
            return self.app(scope, receive, send)  # type: ignore[no-any-return]
        return self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        allow = {"Allow": ", ".join(self.methods or ())}
        if "app" not in scope:
            await PlainTextResponse("Method Not Allowed", status_code=405, headers=allow)(scope, receive, send)
            return
        # Inside an application the exception middleware renders it, through the user's handlers.
        raise HTTPException(status_code=405, headers=allow)

    def _direct(self, app: Any) -> Any:
        return app.call if type(app) is _EndpointApp else None

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Route):
            return False
        return (self.path, self.endpoint, self.methods) == (other.path, other.endpoint, other.methods)

    def __repr__(self) -> str:
        methods = sorted(self.methods or ())
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r}, methods={methods!r})"


class WebSocketRoute(_PathRoute):
    _protocol = "websocket"

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        self._parse(path)
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name
        inner = websocket_session(endpoint) if _is_plain_function(endpoint) else endpoint
        self.app = _wrapped(inner, middleware, None)

    _leaf = int(_table.WEBSOCKET_LEAF)

    if TYPE_CHECKING:

        def matches(self, scope: Scope) -> tuple[Match, Scope]: ...

    else:
        matches = _table.websocket_route_matches

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def _direct(self, app: Any) -> Any:
        return app.call if type(app) is _SessionApp else None

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, WebSocketRoute) and (self.path, self.endpoint) == (other.path, other.endpoint)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r})"


# The table matches a route itself only while its class's matching and handling are these.
Route._own_matches, Route._own_handle = Route.matches, Route.handle
WebSocketRoute._own_matches, WebSocketRoute._own_handle = WebSocketRoute.matches, WebSocketRoute.handle


def _first_url(routes: Iterable[BaseRoute], name: str, path_params: dict[str, Any]) -> URLPath | None:
    """The URL of the first of `routes` that knows `name` with these params (each gets its own copy)."""
    for route in routes:
        with contextlib.suppress(NoMatchFound):
            return route.url_path_for(name, **path_params)
    return None


def _nested_url(
    owner: Mount | Host, name: str, path_params: dict[str, Any], fill: Callable[[dict[str, Any]], URLPath | None]
) -> URLPath:
    """url_path_for of a Mount or Host: its own name (`fill` makes the URL), or "its name:" plus a
    child's name (the child's URL under this route's prefix)."""
    if owner.name is not None and name == owner.name and "path" in path_params:
        url = fill(path_params)
        if url is not None:
            return url
    elif owner.name is None or name.startswith(owner.name + ":"):
        child_name = name if owner.name is None else name[len(owner.name) + 1 :]
        url = owner._child_url(child_name, path_params)
        if url is not None:
            return url
    raise NoMatchFound(name, path_params)


class Mount(BaseRoute):
    """A sub-application (or a list of routes) under a path prefix."""

    def __init__(
        self,
        path: str,
        app: ASGIApp | None = None,
        routes: Sequence[BaseRoute] | None = None,
        name: str | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
        max_body_size: int | None = None,
    ) -> None:
        assert path == "" or path.startswith("/"), "Routed paths must start with '/'"
        assert app is not None or routes is not None, "Either 'app=...', or 'routes=' must be specified"
        self.path = path.rstrip("/")
        self._base_app: ASGIApp = Router(routes=routes) if app is None else app
        self.app = _wrapped(self._base_app, middleware, max_body_size)
        self.name = name
        self._template = _Template(self.path + "/{path:path}")
        self.path_regex = self._built_regex = self._template.regex()
        self.path_format = self._template.format()
        self.param_convertors = self._template.convertors

    @property
    def routes(self) -> list[BaseRoute]:
        return getattr(self._base_app, "routes", [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        route_path = get_route_path(scope)
        found = self.path_regex.match(route_path)
        if found is None:
            return Match.NONE, {}
        params = found.groupdict()
        for key, text in params.items():
            params[key] = self.param_convertors[key].convert(text)
        rest = "/" + params.pop("path")
        outer = dict(scope.get("path_params", {}))
        outer.update(params)
        root_path = scope.get("root_path", "")
        return Match.FULL, {
            "path_params": outer,
            # app_root_path stays the outermost application's root, however deep the mounts.
            "app_root_path": scope.get("app_root_path", root_path),
            "root_path": root_path + route_path[: len(route_path) - len(rest)],
            "endpoint": self.app,
        }

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        def own(params: dict[str, Any]) -> URLPath | None:
            params["path"] = params["path"].lstrip("/")
            path, left = replace_params(self.path_format, self.param_convertors, params)
            return None if left else URLPath(path=path)

        return _nested_url(self, name, path_params, own)

    def _child_url(self, child_name: str, path_params: dict[str, Any]) -> URLPath | None:
        given_path = path_params.get("path")
        path_params["path"] = ""
        prefix, left = replace_params(self.path_format, self.param_convertors, path_params)
        if given_path is not None:
            left["path"] = given_path
        url = _first_url(self.routes or (), child_name, left)
        if url is None:
            return None
        return URLPath(path=prefix.rstrip("/") + str(url), protocol=url.protocol)  # type: ignore[arg-type]

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def _table_entry(self) -> tuple[Any, ...]:
        if type(self).matches is not Mount.matches or self.path_regex is not self._built_regex:
            return super()._table_entry()
        return (_table.OTHER, self, self._template.shape(), None, (), None, None, ())

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Mount) and (self.path, self.app) == (other.path, other.app)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name or ''!r}, app={self.app!r})"


class Host(BaseRoute):
    """A sub-application for requests whose Host header matches a template."""

    def __init__(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        assert not host.startswith("/"), "Host must not start with '/'"
        template = _Template(host)
        self.host = host
        self.app = app
        self.name = name
        self.host_regex = template.regex()
        self.host_format = template.format()
        self.param_convertors = template.convertors

    @property
    def routes(self) -> list[BaseRoute]:
        return getattr(self.app, "routes", [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        parsed = parse_host_header(Headers(scope=scope).get("host", ""))
        found = None if parsed is None else self.host_regex.match(parsed.host.lower())
        if found is None:
            return Match.NONE, {}
        params = found.groupdict()
        for key, text in params.items():
            params[key] = self.param_convertors[key].convert(text)
        combined = dict(scope.get("path_params", {}))
        combined.update(params)
        return Match.FULL, {"path_params": combined, "endpoint": self.app}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        def own(params: dict[str, Any]) -> URLPath | None:
            path = params.pop("path")
            host, left = replace_params(self.host_format, self.param_convertors, params)
            return None if left else URLPath(path=path, host=host)

        return _nested_url(self, name, path_params, own)

    def _child_url(self, child_name: str, path_params: dict[str, Any]) -> URLPath | None:
        host, left = replace_params(self.host_format, self.param_convertors, path_params)
        url = _first_url(self.routes or (), child_name, left)
        if url is None:
            return None
        return URLPath(path=str(url), protocol=url.protocol, host=host)  # type: ignore[arg-type]

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Host) and (self.host, self.app) == (other.host, other.app)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, name={self.name or ''!r}, app={self.app!r})"


# --- lifespan ------------------------------------------------------------------------------------

_T = TypeVar("_T")


class _AsyncLiftContextManager(AbstractAsyncContextManager[_T]):
    """A sync context manager used where an async one is expected."""

    def __init__(self, cm: AbstractContextManager[_T]):
        self._cm = cm

    async def __aenter__(self) -> _T:
        return self._cm.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> bool | None:
        return self._cm.__exit__(exc_type, exc_value, traceback)


def _wrap_gen_lifespan_context(
    lifespan_context: Callable[[Any], Generator[Any, Any, Any]],
) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    """A deprecated generator-function lifespan as a factory of async context managers."""
    as_manager = contextlib.contextmanager(lifespan_context)
    return functools.wraps(as_manager)(lambda app: _AsyncLiftContextManager(as_manager(app)))


class _DefaultLifespan:
    """The lifespan of a router given none: nothing happens at startup or shutdown."""

    def __init__(self, router: Router):
        self._router = router

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def __call__(self: _T, app: object) -> _T:
        return self


_DEPRECATED_SHAPES = (
    (inspect.isasyncgenfunction, asynccontextmanager, "async generator function"),
    (inspect.isgeneratorfunction, _wrap_gen_lifespan_context, "generator function"),
)


def _lifespan_context(router: Router, lifespan: Lifespan[Any] | None) -> Lifespan[Any]:
    if lifespan is None:
        return _DefaultLifespan(router)
    for is_shape, adapt, shape in _DEPRECATED_SHAPES:
        if is_shape(lifespan):
            warnings.warn(
                f"{shape} lifespans are deprecated, use an @contextlib.asynccontextmanager function instead",
                StarletteDeprecationWarning,
                stacklevel=1,
            )
            return adapt(lifespan)  # type: ignore[no-any-return, operator, arg-type]
    return lifespan


# --- the router ----------------------------------------------------------------------------------


def _forgets(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def changing(self: _RouteList, *args: Any, **kwargs: Any) -> Any:
        self.table = None
        return method(self, *args, **kwargs)

    return changing


class _RouteList(list):  # type: ignore[type-arg]
    """A router's routes: a list that drops the table built from it whenever it changes."""

    __slots__ = ("table",)

    def __init__(self, routes: Iterable[BaseRoute] = ()) -> None:
        super().__init__(routes)
        self.table: Any = None

    append = _forgets(list.append)
    extend = _forgets(list.extend)
    insert = _forgets(list.insert)
    remove = _forgets(list.remove)
    pop = _forgets(list.pop)
    clear = _forgets(list.clear)
    sort = _forgets(list.sort)
    reverse = _forgets(list.reverse)
    __setitem__ = _forgets(list.__setitem__)
    __delitem__ = _forgets(list.__delitem__)
    __iadd__ = _forgets(list.__iadd__)
    __imul__ = _forgets(list.__imul__)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (_RouteList, (list(self),))

    def __copy__(self) -> _RouteList:
        return _RouteList(self)


class Router:
    def __init__(
        self,
        routes: Sequence[BaseRoute] | None = None,
        redirect_slashes: bool = True,
        default: ASGIApp | None = None,
        lifespan: Lifespan[Any] | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
        max_body_size: int | None = None,
    ) -> None:
        self.routes = _RouteList(routes or ())
        self.redirect_slashes = redirect_slashes
        self.default = self.not_found if default is None else default
        self.lifespan_context = _lifespan_context(self, lifespan)
        self.middleware_stack = _wrapped(self.app, middleware, max_body_size)
        # For a `routes` that is no _RouteList (assigned by the user, or a subclass's): the table and
        # the routes it was built from.
        self._foreign: tuple[Any, tuple[BaseRoute, ...]] | None = None

    # The table answering for the current routes, rebuilt when they changed in any way.
    def _route_table(self) -> Any:
        routes = self.routes
        if type(routes) is _RouteList:
            table = routes.table
            if table is None:
                table = routes.table = _table.RouteTable([r._table_entry() for r in routes], Match.FULL, Match.PARTIAL)
            return table
        # getattr: a subclass may skip Router.__init__ and still route.
        foreign = getattr(self, "_foreign", None)
        if foreign is None or not _table.same_routes(routes, foreign[1]):
            snapshot = tuple(routes)
            foreign = (_table.RouteTable([r._table_entry() for r in snapshot], Match.FULL, Match.PARTIAL), snapshot)
            self._foreign = foreign
        return foreign[0]

    def _resolve(self, scope: Scope, scope_type: str) -> tuple[BaseRoute | None, Any]:
        """The route answering `scope` (its child scope applied) and what may run in its place."""
        try:
            table = self.routes.table
        except AttributeError:
            table = None
        if table is None:
            table = self._route_table()
        return table.resolve(scope, scope_type)  # type: ignore[no-any-return]

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)
        elif "app" in scope:
            # Inside an application the exception middleware renders it, through the user's handlers.
            raise HTTPException(status_code=404)
        else:
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        url = _first_url(self.routes, name, path_params)
        if url is None:
            raise NoMatchFound(name, path_params)
        return url

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Runs the lifespan context between the server's startup and shutdown messages."""
        phase = "startup"
        await receive()
        try:
            async with self.lifespan_context(scope.get("app")) as state:
                if state is not None:
                    if "state" not in scope:
                        raise RuntimeError('The server does not support "state" in the lifespan scope.')
                    scope["state"].update(state)
                await send({"type": "lifespan.startup.complete"})
                phase = "shutdown"
                await receive()
        except BaseException:
            await send({"type": f"lifespan.{phase}.failed", "message": traceback.format_exc()})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.middleware_stack(scope, receive, send)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        assert scope_type in ("http", "websocket", "lifespan")
        if "router" not in scope:
            scope["router"] = self
        if scope_type == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        route, _ = self._resolve(scope, scope_type)
        if route is not None:
            await route.handle(scope, receive, send)
        else:
            await self._unmatched(scope, receive, send)

    async def _unmatched(self, scope: Scope, receive: Receive, send: Send) -> None:
        """No route matched: redirect to the path with or without its trailing slash, or the default app."""
        location = self._redirect_for(scope)
        if location is None:
            await self.default(scope, receive, send)
        else:
            await RedirectResponse(url=location)(scope, receive, send)

    def _redirect_for(self, scope: Scope) -> str | None:
        """Where redirect_slashes sends an unmatched http request, if anywhere."""
        if scope["type"] != "http" or not self.redirect_slashes:
            return None
        route_path = get_route_path(scope)
        if route_path == "/":
            return None
        toggled = dict(scope)
        path: str = scope["path"]
        toggled["path"] = path.rstrip("/") if route_path.endswith("/") else path + "/"
        if not self._route_table().any_match(toggled, "http"):
            return None
        return str(URL(scope=toggled))

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Router) and self.routes == other.routes

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        self.routes.append(Mount(path, app=app, name=name))

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        self.routes.append(Host(host, app=app, name=name))

    def add_route(
        self,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response] | Response],
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self.routes.append(Route(path, endpoint, methods=methods, name=name, include_in_schema=include_in_schema))

    def add_websocket_route(
        self,
        path: str,
        endpoint: Callable[[WebSocket], Awaitable[None]],
        name: str | None = None,
    ) -> None:
        self.routes.append(WebSocketRoute(path, endpoint, name=name))


# Router's own __call__ and app, kept before anything can replace them on the class: the exception
# middleware dispatches for a Router itself only while the class still has these (see
# fastframe.middleware.exceptions.plain_router).
_OWN_CALL = Router.__call__
_OWN_APP = Router.app
