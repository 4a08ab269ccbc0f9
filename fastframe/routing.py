from __future__ import annotations

import contextlib
import functools
import inspect
import re
import traceback
import types
import warnings
from collections.abc import Awaitable, Callable, Collection, Generator, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from enum import Enum
from re import Pattern
from typing import Any, Literal, TypeVar

from fastframe import speedups
from fastframe._exception_handler import wrap_app_handling_exceptions
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


class NoMatchFound(Exception):
    def __init__(self, name: str, path_params: dict[str, Any]) -> None:
        params = ", ".join(list(path_params.keys()))
        super().__init__(f'No route exists for name "{name}" and params "{params}".')


class Match(Enum):
    NONE = 0
    PARTIAL = 1
    FULL = 2


# Where request_response and websocket_session leave the endpoint they wrap (see fastframe._dispatch).
DIRECT_HTTP = "__fastframe_http_endpoint__"
DIRECT_WEBSOCKET = "__fastframe_websocket_endpoint__"


def request_response(
    func: Callable[[Request], Awaitable[Response] | Response],
) -> ASGIApp:
    """Turn a function or coroutine taking a request and returning a response into an ASGI app."""
    f: Callable[[Request], Awaitable[Response]] = (
        func if is_async_callable(func) else functools.partial(run_in_threadpool, func)  # type: ignore
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await f(request)
            await response(scope, receive, send)

        await wrap_app_handling_exceptions(app, request)(scope, receive, send)

    # The application's dispatcher calls the endpoint itself when nothing wraps this app.
    app.__dict__[DIRECT_HTTP] = f
    return app


def websocket_session(
    func: Callable[[WebSocket], Awaitable[None]],
) -> ASGIApp:
    """Turn a coroutine taking a WebSocket into an ASGI app."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        session = WebSocket(scope, receive=receive, send=send)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await func(session)

        await wrap_app_handling_exceptions(app, session)(scope, receive, send)

    app.__dict__[DIRECT_WEBSOCKET] = func
    return app


def get_name(endpoint: Callable[..., Any]) -> str:
    return getattr(endpoint, "__name__", endpoint.__class__.__name__)


PARAM_REGEX = re.compile("{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?}")
PARAM_FORMAT_REGEX = re.compile("{([a-zA-Z_][a-zA-Z0-9_]*)}")


def replace_params(
    path: str,
    param_convertors: dict[str, Convertor[Any]],
    path_params: dict[str, str],
) -> tuple[str, dict[str, str]]:
    # Consumes path_params in place, placeholders in path order: callers rely on what is left over.
    parts = PARAM_FORMAT_REGEX.split(path)
    for i in range(1, len(parts), 2):
        key = parts[i]
        if key in path_params:
            parts[i] = param_convertors[key].to_string(path_params.pop(key))
        else:
            parts[i] = "{" + key + "}"
    return "".join(parts), path_params


def compile_path(path: str) -> tuple[Pattern[str], str, dict[str, Convertor[Any]]]:
    """A path or host template as (anchored regex, template with bare names, convertors by name)."""
    is_host = not path.startswith("/")
    path_regex = "^"
    path_format = ""
    duplicated_params: set[str] = set()
    idx = 0
    param_convertors: dict[str, Convertor[Any]] = {}
    for match in PARAM_REGEX.finditer(path):
        param_name, convertor_type = match.groups("str")
        convertor_type = convertor_type.lstrip(":")
        assert convertor_type in CONVERTOR_TYPES, f"Unknown path convertor '{convertor_type}'"
        convertor = CONVERTOR_TYPES[convertor_type]
        literal = path[idx : match.start()]
        path_regex += re.escape(literal) + f"(?P<{param_name}>{convertor.regex})"
        path_format += literal + "{" + param_name + "}"
        if param_name in param_convertors:
            duplicated_params.add(param_name)
        param_convertors[param_name] = convertor
        idx = match.end()

    if duplicated_params:
        names = ", ".join(sorted(duplicated_params))
        ending = "s" if len(duplicated_params) > 1 else ""
        raise ValueError(f"Duplicated param name{ending} {names} at path {path}")

    if is_host:
        # A port in the template is not part of what Host matches against.
        hostname = path[idx:].split(":")[0]
        path_regex += re.escape(hostname) + "$"
    else:
        path_regex += re.escape(path[idx:]) + "$"
    path_format += path[idx:]
    flags = re.IGNORECASE if is_host else 0
    return re.compile(path_regex, flags), path_format, param_convertors


# Convertor patterns known never to match "/" (nor to be empty): such a parameter stays inside one segment.
_ONE_SEGMENT_REGEXES = frozenset(
    CONVERTOR_TYPES[name].regex for name in ("str", "int", "float", "uuid") if name in CONVERTOR_TYPES
)


def _table_key(path: str) -> tuple[str, bool, tuple[str | None, ...] | None]:
    """What the route table needs from a path template: literal prefix, whether that is all of it,
    and the segment shape when every parameter stays within one segment."""
    match = PARAM_REGEX.search(path)
    if match is None:
        return path, True, None
    segments: list[str | None] = []
    for part in path[1:].split("/"):
        params = list(PARAM_REGEX.finditer(part))
        if not params:
            segments.append(part)
            continue
        for param in params:
            convertor = CONVERTOR_TYPES.get((param.group(2) or ":str")[1:])
            if convertor is None or convertor.regex not in _ONE_SEGMENT_REGEXES:
                return path[: match.start()], False, None
        segments.append(None)
    return path[: match.start()], False, tuple(segments)


class BaseRoute:
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raise NotImplementedError()  # pragma: no cover

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NotImplementedError()  # pragma: no cover

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError()  # pragma: no cover

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A route used on its own, as an ASGI app."""
        match, child_scope = self.matches(scope)
        if match is Match.NONE:
            if scope["type"] == "http":
                response = PlainTextResponse("Not Found", status_code=404)
                await response(scope, receive, send)
            elif scope["type"] == "websocket":
                websocket_close = WebSocketClose()
                await websocket_close(scope, receive, send)
            return
        scope.update(child_scope)
        await self.handle(scope, receive, send)


def _endpoint_is_function(endpoint: Any) -> bool:
    handler = endpoint
    while isinstance(handler, functools.partial):
        handler = handler.func
    return inspect.isfunction(handler) or inspect.ismethod(handler)


def _wrap(app: ASGIApp, middleware: Sequence[Middleware] | None, max_body_size: int | None) -> ASGIApp:
    if middleware is not None:
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
    if max_body_size is not None:
        app = RequestBodyLimitMiddleware(app, max_body_size=max_body_size)
    return app


def _convert(route: Route | WebSocketRoute | Mount, matched: dict[str, Any], scope: Scope) -> dict[str, Any]:
    convertors = route.param_convertors
    for key, value in matched.items():
        matched[key] = convertors[key].convert(value)
    outer = scope.get("path_params")
    if outer:
        path_params = dict(outer)
        path_params.update(matched)
        return path_params
    return matched


class Route(BaseRoute):
    # Slots: the resolver reads these on every request (compiled, straight from the instance).
    __slots__ = ("endpoint", "methods", "path_regex", "param_convertors", "app")

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
        assert path.startswith("/"), "Routed paths must start with '/'"
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name
        self.include_in_schema = include_in_schema

        if _endpoint_is_function(endpoint):
            self.app = request_response(endpoint)
            if methods is None:
                methods = ["GET"]
        else:
            self.app = endpoint
        self.app = _wrap(self.app, middleware, max_body_size)

        if methods is None:
            self.methods = None
        else:
            self.methods = {method.upper() for method in methods}
            if "GET" in self.methods:
                self.methods.add("HEAD")

        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self._table_regex = self.path_regex
        self._table_key = _table_key(path)

    def _match_path(self, scope: Scope, route_path: str) -> tuple[Match, Scope]:
        match = self.path_regex.match(route_path)
        if match is None:
            return Match.NONE, {}
        child_scope = {"endpoint": self.endpoint, "path_params": _convert(self, match.groupdict(), scope)}
        methods = self.methods
        if methods and scope["method"] not in methods:
            return Match.PARTIAL, child_scope
        return Match.FULL, child_scope

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            return self._match_path(scope, get_route_path(scope))
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return _leaf_url_path(self, name, path_params, "http")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            headers = {"Allow": ", ".join(self.methods)}
            if "app" in scope:
                raise HTTPException(status_code=405, headers=headers)
            response = PlainTextResponse("Method Not Allowed", status_code=405, headers=headers)
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, Route)
            and self.path == other.path
            and self.endpoint == other.endpoint
            and self.methods == other.methods
        )

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        methods = sorted(self.methods or [])
        path, name = self.path, self.name
        return f"{class_name}(path={path!r}, name={name!r}, methods={methods!r})"


def _leaf_url_path(
    route: Route | WebSocketRoute, name: str, path_params: dict[str, Any], protocol: Literal["http", "websocket"]
) -> URLPath:
    """url_path_for of a route with no children: its own name, exactly its own parameters."""
    if name != route.name or set(path_params) != set(route.param_convertors):
        raise NoMatchFound(name, path_params)
    path, remaining_params = replace_params(route.path_format, route.param_convertors, path_params)
    assert not remaining_params
    return URLPath(path=path, protocol=protocol)


class WebSocketRoute(BaseRoute):
    __slots__ = ("endpoint", "path_regex", "param_convertors", "app")

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        assert path.startswith("/"), "Routed paths must start with '/'"
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name

        if _endpoint_is_function(endpoint):
            self.app = websocket_session(endpoint)
        else:
            self.app = endpoint
        self.app = _wrap(self.app, middleware, None)

        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self._table_regex = self.path_regex
        self._table_key = _table_key(path)

    def _match_path(self, scope: Scope, route_path: str) -> tuple[Match, Scope]:
        match = self.path_regex.match(route_path)
        if match is None:
            return Match.NONE, {}
        return Match.FULL, {"endpoint": self.endpoint, "path_params": _convert(self, match.groupdict(), scope)}

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "websocket":
            return self._match_path(scope, get_route_path(scope))
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return _leaf_url_path(self, name, path_params, "websocket")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, WebSocketRoute) and self.path == other.path and self.endpoint == other.endpoint

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(path={self.path!r}, name={self.name!r})"


class Mount(BaseRoute):
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
        if app is not None:
            self._base_app: ASGIApp = app
        else:
            self._base_app = Router(routes=routes)
        self.app = _wrap(self._base_app, middleware, max_body_size)
        self.name = name
        source = self.path + "/{path:path}"
        self.path_regex, self.path_format, self.param_convertors = compile_path(source)
        self._table_regex = self.path_regex
        self._table_key = _table_key(source)

    @property
    def routes(self) -> list[BaseRoute]:
        return getattr(self._base_app, "routes", [])

    def _match_path(self, scope: Scope, route_path: str) -> tuple[Match, Scope]:
        match = self.path_regex.match(route_path)
        if match is None:
            return Match.NONE, {}
        matched = match.groupdict()
        convertors = self.param_convertors
        for key, value in matched.items():
            matched[key] = convertors[key].convert(value)
        remaining_path = "/" + matched.pop("path")
        matched_path = route_path[: -len(remaining_path)]
        path_params = dict(scope.get("path_params", {}))
        path_params.update(matched)
        root_path = scope.get("root_path", "")
        return Match.FULL, {
            "path_params": path_params,
            # app_root_path stays at the outermost app's root, whatever the nesting.
            "app_root_path": scope.get("app_root_path", root_path),
            "root_path": root_path + matched_path,
            "endpoint": self.app,
        }

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            return self._match_path(scope, get_route_path(scope))
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if self.name is not None and name == self.name and "path" in path_params:
            path_params["path"] = path_params["path"].lstrip("/")
            path, remaining_params = replace_params(self.path_format, self.param_convertors, path_params)
            if not remaining_params:
                return URLPath(path=path)
        elif self.name is None or name.startswith(self.name + ":"):
            remaining_name = name if self.name is None else name[len(self.name) + 1 :]
            path_kwarg = path_params.get("path")
            path_params["path"] = ""
            path_prefix, remaining_params = replace_params(self.path_format, self.param_convertors, path_params)
            if path_kwarg is not None:
                remaining_params["path"] = path_kwarg
            for route in self.routes or []:
                try:
                    url = route.url_path_for(remaining_name, **remaining_params)
                except NoMatchFound:
                    continue
                return URLPath(path=path_prefix.rstrip("/") + str(url), protocol=url.protocol)  # type: ignore[arg-type]
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Mount) and self.path == other.path and self.app == other.app

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        name = self.name or ""
        return f"{class_name}(path={self.path!r}, name={name!r}, app={self.app!r})"


class Host(BaseRoute):
    def __init__(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        assert not host.startswith("/"), "Host must not start with '/'"
        self.host = host
        self.app = app
        self.name = name
        self.host_regex, self.host_format, self.param_convertors = compile_path(host)

    @property
    def routes(self) -> list[BaseRoute]:
        return getattr(self.app, "routes", [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            headers = Headers(scope=scope)
            parsed = parse_host_header(headers.get("host", ""))
            if parsed is None:
                return Match.NONE, {}
            match = self.host_regex.match(parsed.host.lower())
            if match:
                matched = match.groupdict()
                for key, value in matched.items():
                    matched[key] = self.param_convertors[key].convert(value)
                path_params = dict(scope.get("path_params", {}))
                path_params.update(matched)
                return Match.FULL, {"path_params": path_params, "endpoint": self.app}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if self.name is not None and name == self.name and "path" in path_params:
            path = path_params.pop("path")
            host, remaining_params = replace_params(self.host_format, self.param_convertors, path_params)
            if not remaining_params:
                return URLPath(path=path, host=host)
        elif self.name is None or name.startswith(self.name + ":"):
            remaining_name = name if self.name is None else name[len(self.name) + 1 :]
            host, remaining_params = replace_params(self.host_format, self.param_convertors, path_params)
            for route in self.routes or []:
                try:
                    url = route.url_path_for(remaining_name, **remaining_params)
                except NoMatchFound:
                    continue
                return URLPath(path=str(url), protocol=url.protocol, host=host)  # type: ignore[arg-type]
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Host) and self.host == other.host and self.app == other.app

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        name = self.name or ""
        return f"{class_name}(host={self.host!r}, name={name!r}, app={self.app!r})"


_T = TypeVar("_T")


class _AsyncLiftContextManager(AbstractAsyncContextManager[_T]):
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
    cmgr = contextlib.contextmanager(lifespan_context)

    @functools.wraps(cmgr)
    def wrapper(app: Any) -> _AsyncLiftContextManager[Any]:
        return _AsyncLiftContextManager(cmgr(app))

    return wrapper


class _DefaultLifespan:
    def __init__(self, router: Router):
        self._router = router

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def __call__(self: _T, app: object) -> _T:
        return self


# Route classes whose matching the table can stand in for, with the scope types each serves.
_HTTP_ONLY: tuple[str, ...] = ("http",)
_WEBSOCKET_ONLY: tuple[str, ...] = ("websocket",)
_BOTH: tuple[str, ...] = ("http", "websocket")


def _known(route: BaseRoute) -> tuple[str, ...] | None:
    """The scope types a route's table key is good for, or None when the route must be asked itself."""
    matches = type(route).matches
    if matches is Route.matches:
        served = _HTTP_ONLY
    elif matches is Mount.matches:
        served = _BOTH
    elif matches is WebSocketRoute.matches:
        served = _WEBSOCKET_ONLY
    else:
        return None
    # A path_regex replaced after __init__ no longer agrees with the key computed there.
    regex = getattr(route, "_table_regex", None)
    if regex is None or regex is not getattr(route, "path_regex", None):
        return None
    return served


def _direct(route: BaseRoute) -> tuple[ASGIApp, Any] | None:
    """(the route's app, its endpoint) when handling the route means no more than calling the endpoint
    through request_response or websocket_session; the dispatcher checks the app is still the same."""
    kind = type(route)
    if kind.handle is Route.handle or kind.handle is WebSocketRoute.handle:
        app = getattr(route, "app", None)
        endpoint = getattr(app, DIRECT_HTTP if isinstance(route, Route) else DIRECT_WEBSOCKET, None)
        if app is not None and endpoint is not None:
            return app, endpoint
    return None


def _plan(module: Any, route: BaseRoute) -> tuple[int, BaseRoute, Any]:
    """How the resolver matches a route the table knows (see fastframe._pure.routing.Resolver)."""
    kind: Any = type(route)
    if isinstance(route, Route) and kind._match_path is Route._match_path:
        static = route._table_key[1]
        return (module.ROUTE_STATIC if static else module.ROUTE_PARAMS), route, _segments(route)
    if isinstance(route, WebSocketRoute) and kind._match_path is WebSocketRoute._match_path:
        static = route._table_key[1]
        return (module.WEBSOCKET_STATIC if static else module.WEBSOCKET_PARAMS), route, _segments(route)
    return module.MATCHER, route, route._match_path  # type: ignore[attr-defined]


# Convertors whose match a segment scan reproduces: exact class -> (regex, kind code for the scan).
_SCANNED = {StringConvertor: ("[^/]+", 0), IntegerConvertor: ("[0-9]+", 1)}


def _segments(route: Route | WebSocketRoute) -> tuple[Any, ...] | None:
    """(path_regex, literals, names, convertors, kinds) when the route's regex is exactly what its
    template compiles to with str and int parameters, each followed by "/" or the end: the compiled
    resolver then matches the path by scanning it, with the regex's result. For a static route,
    (path_regex, path) when that regex matches the path and nothing else: the resolvers then take
    that path, while the route keeps that regex, as a match without running it. Else None."""
    path, regex, convertors = route.path, route.path_regex, route.param_convertors
    if regex.flags != re.UNICODE:
        return None
    if not convertors and PARAM_REGEX.search(path) is None:
        # A static route: (its regex, the one path that regex matches exactly).
        return (regex, path) if regex.pattern == "^" + re.escape(path) + "$" else None
    literals: list[str] = []
    names: list[str] = []
    used: list[Any] = []
    kinds: list[int] = []
    pattern = "^"
    idx = 0
    for match in PARAM_REGEX.finditer(path):
        name = match.group(1)
        convertor = convertors.get(name)
        scanned = _SCANNED.get(type(convertor))  # type: ignore[call-overload]
        if scanned is None or getattr(convertor, "regex", None) != scanned[0]:
            return None
        literal = path[idx : match.start()]
        if names and not literal.startswith("/"):
            return None
        literals.append(literal)
        names.append(name)
        used.append(convertor)
        kinds.append(scanned[1])
        pattern += re.escape(literal) + f"(?P<{name}>{scanned[0]})"
        idx = match.end()
    tail = path[idx:]
    if not names or (tail and not tail.startswith("/")):
        return None
    literals.append(tail)
    pattern += re.escape(tail) + "$"
    if regex.pattern != pattern or len(convertors) != len(names):
        return None
    return regex, tuple(literals), tuple(names), tuple(used), tuple(kinds)


class Router(speedups.CallableApp):
    # Slots: route_for reads them on every request (compiled, straight from the instance).
    __slots__ = ("routes", "_table_for", "__dict__", "__weakref__")

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
        speedups.apps.arm(self)
        self.routes = [] if routes is None else list(routes)
        self.redirect_slashes = redirect_slashes
        self.default = self.not_found if default is None else default

        self.lifespan_context: Lifespan[Any]
        if lifespan is None:
            self.lifespan_context = _DefaultLifespan(self)
        elif inspect.isasyncgenfunction(lifespan):
            warnings.warn(
                "async generator function lifespans are deprecated, "
                "use an @contextlib.asynccontextmanager function instead",
                StarletteDeprecationWarning,
                stacklevel=1,
            )
            self.lifespan_context = asynccontextmanager(lifespan)
        elif inspect.isgeneratorfunction(lifespan):
            warnings.warn(
                "generator function lifespans are deprecated, use an @contextlib.asynccontextmanager function instead",
                StarletteDeprecationWarning,
                stacklevel=1,
            )
            self.lifespan_context = _wrap_gen_lifespan_context(lifespan)
        else:
            self.lifespan_context = lifespan

        self.middleware_stack = _wrap(self.app, middleware, max_body_size)
        # The lookup tables are built on first use and whenever self.routes changes.
        self._table_for: list[Any] | None = None

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            websocket_close = WebSocketClose()
            await websocket_close(scope, receive, send)
            return

        # Inside an application the exception middleware renders it, through the user's handlers.
        if "app" in scope:
            raise HTTPException(status_code=404)
        response = PlainTextResponse("Not Found", status_code=404)
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        app: Any = scope.get("app")
        await receive()
        try:
            async with self.lifespan_context(app) as maybe_state:
                if maybe_state is not None:
                    if "state" not in scope:
                        raise RuntimeError('The server does not support "state" in the lifespan scope.')
                    scope["state"].update(maybe_state)
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()
        except BaseException:
            exc_text = traceback.format_exc()
            if started:
                await send({"type": "lifespan.shutdown.failed", "message": exc_text})
            else:
                await send({"type": "lifespan.startup.failed", "message": exc_text})
            raise
        else:
            await send({"type": "lifespan.shutdown.complete"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.middleware_stack(scope, receive, send)

    def _tables(self) -> list[Any]:
        """[routes, last route, size, http table, fast matchers, first route, (http resolver,
        websocket resolver)]; the websocket table and the direct entries live in the resolvers.

        Rebuilt when self.routes is another list, or its length or either end changed: routes are
        added by append/insert/extend on the plain list (as with the reference), so this catches
        them in O(1). Replacing a middle element in place, same length, is not seen.
        """
        routes = self.routes
        # getattr: a subclass may skip Router.__init__ and still expect routing to work.
        cached = getattr(self, "_table_for", None)
        if (
            cached is not None
            and cached[0] is routes
            and cached[2] == len(routes)
            and (not routes or (cached[1] is routes[-1] and cached[5] is routes[0]))
        ):
            return cached
        http_keys: list[Any] = []
        websocket_keys: list[Any] = []
        fast: list[Any] = []
        direct: list[Any] = []
        plans: list[tuple[int, BaseRoute, Any]] = []
        module: Any = speedups.routing
        segment_keys = getattr(module, "SEGMENT_KEYS", False)
        for route in routes:
            direct.append(_direct(route))
            served = _known(route)
            if served is None:
                http_keys.append(None)
                websocket_keys.append(None)
                fast.append(None)
                plans.append((module.OPAQUE, route, None))
                continue
            key = route._table_key if segment_keys else route._table_key[:2]  # type: ignore[attr-defined]
            http_keys.append(key if "http" in served else False)
            websocket_keys.append(key if "websocket" in served else False)
            fast.append(route._match_path)  # type: ignore[attr-defined]
            plans.append(_plan(module, route))
        table = module.RouteTable
        first, last = (routes[0], routes[-1]) if routes else (None, None)
        http_table, websocket_table = table(http_keys), table(websocket_keys)
        resolvers = (
            module.Resolver(http_table, plans, Match.FULL, Match.PARTIAL, routes, direct),
            module.Resolver(websocket_table, plans, Match.FULL, Match.PARTIAL, routes, direct),
        )
        cached = [routes, last, len(routes), http_table, fast, first, resolvers]
        self._table_for = cached
        return cached

    def _route_for(self, scope: Scope, scope_type: str) -> tuple[BaseRoute | None, Any]:
        """The route that answers `scope` and, when the dispatcher may call its endpoint itself,
        (the route's app as built, endpoint); the scope gets the route's child scope.

        The first full match wins; failing that the first partial one (wrong method), which answers 405.
        """
        return speedups.routing.route_for(self, scope, scope_type)  # type: ignore[no-any-return]

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        assert scope_type in ("http", "websocket", "lifespan")

        if "router" not in scope:
            scope["router"] = self

        if scope_type == "lifespan":
            await self.lifespan(scope, receive, send)
            return

        route, _ = self._route_for(scope, scope_type)
        if route is not None:
            await route.handle(scope, receive, send)
        else:
            await self._unmatched(scope, receive, send)

    async def _unmatched(self, scope: Scope, receive: Receive, send: Send) -> None:
        """No route matched: redirect to the path with or without its trailing slash, or the default app."""
        redirect_url = self._redirect_for(scope)
        if redirect_url is not None:
            response = RedirectResponse(url=redirect_url)
            await response(scope, receive, send)
            return
        await self.default(scope, receive, send)

    def _redirect_for(self, scope: Scope) -> str | None:
        """Where redirect_slashes sends an unmatched http request, if anywhere."""
        route_path = get_route_path(scope)
        if scope["type"] != "http" or not self.redirect_slashes or route_path == "/":
            return None
        tables = self._tables()
        table, routes, fast = tables[3], tables[0], tables[4]
        redirect_scope = dict(scope)
        if route_path.endswith("/"):
            redirect_scope["path"] = redirect_scope["path"].rstrip("/")
        else:
            redirect_scope["path"] = redirect_scope["path"] + "/"
        redirect_path = get_route_path(redirect_scope)
        for index in table.candidates(redirect_path):
            route = routes[index]
            matcher = fast[index]
            if matcher is None:
                match, _ = route.matches(redirect_scope)
            else:
                match, _ = matcher(redirect_scope, redirect_path)
            if match is not Match.NONE:
                return str(URL(scope=redirect_scope))
        return None

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
        self.routes.append(
            Route(path, endpoint=endpoint, methods=methods, name=name, include_in_schema=include_in_schema)
        )

    def add_websocket_route(
        self,
        path: str,
        endpoint: Callable[[WebSocket], Awaitable[None]],
        name: str | None = None,
    ) -> None:
        self.routes.append(WebSocketRoute(path, endpoint=endpoint, name=name))


speedups.routing.use_route_slots(Route, WebSocketRoute, Router)
