"""Routing, compared with Starlette 1.10: same route picked, same params, same 404/405/redirect."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import starlette.responses
import starlette.routing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastframe import responses as ff_responses
from fastframe import routing as ff_routing

STARLETTE = SimpleNamespace(routing=starlette.routing, responses=starlette.responses)
FASTFRAME = SimpleNamespace(routing=ff_routing, responses=ff_responses)
BOTH = [STARLETTE, FASTFRAME]


# --- building the same app twice from a spec --------------------------------------------------

# spec nodes:
#   ("route", tag, path, methods, name)   ("ws", tag, path, name)   ("custom", tag, path, methods)
#   ("mount", tag, path, children, name)  ("host", tag, pattern, children, name)


def make_endpoint(mod: Any, tag: str) -> Callable[..., Any]:
    async def endpoint(request: Any) -> Any:
        scope = request.scope
        params = sorted((k, repr(v)) for k, v in scope["path_params"].items())
        text = f"{tag}|{params}|{scope.get('root_path')}|{scope.get('app_root_path')}|{scope['path']}"
        if scope["type"] == "websocket":
            await request.close(reason=text)
            return None
        return mod.responses.PlainTextResponse(text)

    endpoint.__name__ = f"endpoint_{tag}"
    return endpoint


def custom_route_class(mod: Any) -> type:
    class CustomRoute(mod.routing.Route):  # type: ignore[name-defined,misc]
        # Stands for third-party routes (FastAPI's APIRoute) that override matches.
        def matches(self, scope: Any) -> Any:
            match, child = super().matches(scope)
            return match, child

    return CustomRoute


def build(mod: Any, spec: list[Any]) -> list[Any]:
    routing = mod.routing
    out = []
    for node in spec:
        kind, tag = node[0], node[1]
        if kind == "route":
            _, _, path, methods, name = node
            out.append(routing.Route(path, make_endpoint(mod, tag), methods=methods, name=name))
        elif kind == "custom":
            _, _, path, methods = node
            out.append(custom_route_class(mod)(path, make_endpoint(mod, tag), methods=methods, name=tag))
        elif kind == "ws":
            _, _, path, name = node
            out.append(routing.WebSocketRoute(path, make_endpoint(mod, tag), name=name))
        elif kind == "mount":
            _, _, path, children, name = node
            out.append(routing.Mount(path, routes=build(mod, children), name=name))
        elif kind == "host":
            _, _, pattern, children, name = node
            out.append(routing.Host(pattern, app=routing.Router(build(mod, children)), name=name))
    return out


def http_scope(path: str, method: str = "GET", host: str = "example.org", **extra: Any) -> dict[str, Any]:
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"q=1",
        "headers": [(b"host", host.encode())],
        "scheme": "http",
        "server": ("example.org", 80),
        "client": ("127.0.0.1", 1234),
    }
    scope.update(extra)
    return scope


async def drive(app: Any, scope: dict[str, Any]) -> list[Any]:
    """Raw ASGI call; the outcome as comparable data (messages, or the exception raised)."""
    sent: list[Any] = []
    inbox = [{"type": "http.request", "body": b"", "more_body": False}]
    if scope["type"] == "websocket":
        inbox = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        if inbox:
            return inbox.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    try:
        await app(dict(scope), receive, send)
    except Exception as exc:
        sent.append(("raised", type(exc).__name__, str(exc), getattr(exc, "headers", None)))
    return sent


def outcomes(spec: list[Any], scopes: list[dict[str, Any]], **router_kwargs: Any) -> list[list[list[Any]]]:
    async def run_all() -> list[list[list[Any]]]:
        results = []
        for mod in BOTH:
            router = mod.routing.Router(build(mod, spec), **router_kwargs)
            results.append([await drive(router, scope) for scope in scopes])
        return results

    return asyncio.run(run_all())


def assert_same(spec: list[Any], scopes: list[dict[str, Any]], **router_kwargs: Any) -> list[list[Any]]:
    reference, ours = outcomes(spec, scopes, **router_kwargs)
    for scope, expected, got in zip(scopes, reference, ours, strict=True):
        assert got == expected, (scope["type"], scope.get("method"), scope["path"])
    return ours


# --- strategies --------------------------------------------------------------------------------

LITERALS = ["a", "b", "users", "1"]
PARAMS = ["{%s}", "{%s:int}", "{%s:path}", "{%s:float}", "{%s:str}", "v{%s}"]


@st.composite
def template(draw: Any, allow_empty: bool = False) -> str:
    parts = []
    for i in range(draw(st.integers(0 if allow_empty else 1, 3))):
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(LITERALS)))
        else:
            parts.append(draw(st.sampled_from(PARAMS)) % f"p{i}")
    path = "/" + "/".join(parts)
    if parts and draw(st.booleans()):
        path += "/"
    if allow_empty and path == "/":
        return draw(st.sampled_from(["", "/"]))
    return path


methods_st = st.one_of(st.none(), st.lists(st.sampled_from(["GET", "POST", "put", "DELETE"]), max_size=2))


@st.composite
def leaf(draw: Any, counter: list[int]) -> Any:
    counter[0] += 1
    tag = f"r{counter[0]}"
    kind = draw(st.sampled_from(["route", "route", "route", "custom", "ws"]))
    path = draw(template())
    if kind == "route":
        name = draw(st.sampled_from([tag, "same", None]))
        return ("route", tag, path, draw(methods_st), name)
    if kind == "custom":
        return ("custom", tag, path, draw(methods_st))
    return ("ws", tag, path, draw(st.sampled_from([tag, None])))


@st.composite
def route_spec(draw: Any) -> list[Any]:
    counter = [0]
    spec: list[Any] = []
    for _ in range(draw(st.integers(0, 8))):
        choice = draw(st.integers(0, 9))
        if choice < 6:
            spec.append(draw(leaf(counter)))
            continue
        counter[0] += 1
        tag = f"m{counter[0]}"
        children = draw(st.lists(leaf(counter), max_size=4))
        if choice < 9:
            spec.append(("mount", tag, draw(template(allow_empty=True)), children, draw(st.sampled_from([tag, None]))))
        else:
            pattern = draw(st.sampled_from(["api.example.org", "{sub}.example.org", "example.org:8000"]))
            spec.append(("host", tag, pattern, children, draw(st.sampled_from([tag, None]))))
    return spec


request_path = st.lists(st.sampled_from(["a", "b", "users", "1", "42", "3.5", "v7", "zz", ""]), max_size=4).flatmap(
    lambda parts: st.sampled_from(["/" + "/".join(parts), "/" + "/".join(parts) + "/"])
)
request_st = st.tuples(
    request_path,
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE"]),
    st.sampled_from(["example.org", "api.example.org", "x.example.org:8000"]),
)


# --- property tests ----------------------------------------------------------------------------


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=route_spec(), requests=st.lists(request_st, min_size=1, max_size=8), redirect=st.booleans())
def test_random_http_routing_matches_reference(spec: list[Any], requests: list[Any], redirect: bool) -> None:
    scopes = [http_scope(path, method, host) for path, method, host in requests]
    assert_same(spec, scopes, redirect_slashes=redirect)
    # Behind a proxy prefix, and inside a mounted sub-application.
    rooted = [http_scope("/r" + path, method, host, root_path="/r") for path, method, host in requests]
    assert_same(spec, rooted + [dict(scope, app_root_path="/r") for scope in rooted], redirect_slashes=redirect)
    # Inside an application 404 and 405 are raised as HTTPException instead.
    assert_same(spec, [dict(scope, app=object()) for scope in scopes], redirect_slashes=redirect)


@settings(max_examples=100, deadline=None)
@given(spec=route_spec(), paths=st.lists(request_path, min_size=1, max_size=6))
def test_random_websocket_routing_matches_reference(spec: list[Any], paths: list[str]) -> None:
    def ws_scope(path: str) -> dict[str, Any]:
        scope = http_scope(path)
        scope.update(type="websocket", scheme="ws")
        del scope["method"]
        return scope

    ours = assert_same(spec, [ws_scope(path) for path in paths])
    assert all(sent and sent[-1]["type"] == "websocket.close" for sent in ours)


def all_names(spec: list[Any], prefix: str = "") -> list[str]:
    names = []
    for node in spec:
        name = node[-1] if node[0] in ("route", "ws", "mount", "host") else node[1]
        if node[0] in ("mount", "host"):
            if name is None:
                names += all_names(node[3], prefix)
            else:
                names.append(prefix + name)
                names += all_names(node[3], prefix + name + ":")
        elif name is not None:
            names.append(prefix + name)
    return names


# Values that would make a URL start with "//" are left out: URLPath escapes those (datastructures' job).
param_values = st.sampled_from([1, 42, "7", "a", "x/y", 2.5, uuid.UUID(int=3), -1, "b c"])
path_values = st.sampled_from(["7", "a", "x/y", "", "/lead"])


def outcome(fn: Callable[[], Any]) -> Any:
    try:
        url = fn()
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))
    return (str(url), url.protocol, url.host)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), spec=route_spec())
def test_url_path_for_matches_reference(data: Any, spec: list[Any]) -> None:
    names = all_names(spec) + ["missing", "same"]
    routers = [mod.routing.Router(build(mod, spec)) for mod in BOTH]
    for _ in range(5):
        name = data.draw(st.sampled_from(names))
        keys = data.draw(st.lists(st.sampled_from(["p0", "p1", "p2", "path", "sub", "zz"]), unique=True, max_size=3))
        # A non-str "path" reaches URLPath's own validation (datastructures), not routing.
        params = {key: data.draw(path_values if key == "path" else param_values) for key in keys}
        expected, got = (outcome(functools.partial(r.url_path_for, name, **params)) for r in routers)
        assert got == expected, (name, params)


# --- scenarios ---------------------------------------------------------------------------------


def test_scope_keys_and_params_seen_by_endpoint() -> None:
    spec = [
        ("route", "a", "/a/{x:int}", None, "a"),
        ("mount", "m", "/m/{v}", [("route", "c", "/c/{y}", None, "c")], "mm"),
        ("mount", "n", "/n", [("mount", "n2", "/deep", [("route", "d", "/{z:path}", None, None)], None)], None),
    ]
    scopes = [http_scope(p) for p in ["/a/3", "/m/q/c/zz", "/n/deep/x/y", "/n/deep/", "/x/m/q/c/zz"]]
    scopes.append(http_scope("/root/a/3", root_path="/root"))
    scopes.append(http_scope("/root/m/q/c/zz", root_path="/root", app_root_path="/root"))
    ours = assert_same(spec, scopes)
    assert ours[0][1]["body"] == b"a|[('x', '3')]||None|/a/3"


def test_route_key_set_by_router() -> None:
    seen: list[Any] = []
    results = []
    routers: list[Any] = []
    for mod in BOTH:

        async def endpoint(request: Any, mod: Any = mod) -> Any:
            seen.append((request.scope["route"].path, request.scope["router"] is routers[-1]))
            return mod.responses.PlainTextResponse("ok")

        inner = mod.routing.Route("/c", endpoint)
        routers.append(mod.routing.Router([mod.routing.Mount("/m", routes=[inner])]))
        results.append(asyncio.run(drive(routers[-1], http_scope("/m/c"))))
    assert results[0] == results[1]
    assert seen == [("/c", True), ("/c", True)]


@pytest.mark.parametrize(
    "path,method",
    [
        ("/a", "GET"),
        ("/a/", "GET"),
        ("/b/", "POST"),
        ("/b//", "GET"),
        ("/c", "GET"),
        ("/c///", "GET"),
        ("/", "GET"),
        ("", "GET"),
        ("/m", "GET"),
        ("/m/", "GET"),
        ("/q/z/", "GET"),
        ("/b\n", "GET"),
        ("/m/x\n", "GET"),
        ("/nope", "GET"),
        ("//", "GET"),
        ("/b", "head"),
        ("/b", "HEAD"),
        ("/b", "OPTIONS"),
    ],
)
def test_redirects_404_and_405(path: str, method: str) -> None:
    spec = [
        ("route", "a", "/a/", None, None),
        ("route", "b", "/b", None, None),
        ("route", "c", "/c//", None, None),
        ("route", "p", "/{p:path}/z", None, None),
        ("route", "post", "/b", ["POST"], None),
        ("mount", "m", "/m", [("route", "mr", "/", None, None)], None),
    ]
    assert_same(spec, [http_scope(path, method), http_scope(path, method, app=1)])
    assert_same(spec, [http_scope(path, method)], redirect_slashes=False)
    assert_same(spec, [http_scope("/r" + path, method, root_path="/r")])


def test_405_only_when_no_later_full_match() -> None:
    spec = [
        ("route", "post", "/x", ["POST"], None),
        ("route", "get", "/x", ["GET"], None),
        ("route", "put", "/y", ["PUT"], None),
        ("route", "delete", "/y", ["DELETE"], None),
        ("route", "any", "/z", [], None),
    ]
    scopes = [http_scope(p, m) for p in ["/x", "/y", "/z"] for m in ["GET", "POST", "PUT", "PATCH"]]
    ours = assert_same(spec, scopes)
    # GET /y: two routes match the path only; the first of them answers.
    assert ours[4][0]["status"] == 405
    assert dict(ours[4][0]["headers"])[b"allow"] == b"PUT"


def test_host_routing() -> None:
    spec = [
        ("host", "h1", "{sub}.example.org", [("route", "a", "/a", None, "a")], "h"),
        ("host", "h2", "example.org:8000", [("route", "b", "/b", None, "b")], None),
        ("route", "c", "/a", None, None),
    ]
    hosts = ["api.example.org", "API.Example.org:80", "example.org", "example.org:8000", "", "bad host", "[::1]:80"]
    assert_same(spec, [http_scope(p, host=h) for h in hosts for p in ["/a", "/b"]])
    scope = http_scope("/a")
    del scope["headers"]
    assert_same(spec, [scope])


def test_websocket_not_found_closes() -> None:
    scope = http_scope("/nope")
    scope.update(type="websocket")
    assert_same([("route", "a", "/nope", None, None)], [scope, dict(scope, app=1)])


def test_unknown_scope_type_is_refused() -> None:
    assert_same([], [{"type": "unknown", "path": "/"}])


def test_route_used_directly_as_app() -> None:
    for mod in BOTH:
        route = mod.routing.Route("/a/{x}", make_endpoint(mod, "t"), methods=["POST"])
        mount = mod.routing.Mount("/m", routes=[route])
        scopes = [http_scope("/a/1"), http_scope("/a/1", "POST"), http_scope("/b"), http_scope("/b", app=1)]
        ws = dict(http_scope("/b"), type="websocket")
        apps = [route, route, route, route, route, mount]
        mod.results = asyncio.run(_gather(apps, scopes + [ws, http_scope("/m/a/1")]))
    assert STARLETTE.results == FASTFRAME.results


async def _gather(apps: list[Any], scopes: list[Any]) -> list[Any]:
    return [await drive(app, scope) for app, scope in zip(apps, scopes, strict=False)]


# --- construction, introspection, errors -------------------------------------------------------


async def async_endpoint(request: Any) -> Any:
    return None  # pragma: no cover


def sync_endpoint(request: Any) -> Any:
    return None  # pragma: no cover


class EndpointClass:
    def __init__(self, scope: Any, receive: Any, send: Any) -> None:
        pass  # pragma: no cover

    def method(self, request: Any) -> Any:
        return None  # pragma: no cover


class CallableInstance:
    def __call__(self, request: Any) -> Any:
        return None  # pragma: no cover


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    pass  # pragma: no cover


def construct(mod: Any, kind: str, *args: Any, **kwargs: Any) -> Any:
    try:
        route = getattr(mod.routing, kind)(*args, **kwargs)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))
    info = {
        "repr": repr(route).split(" object at ")[0].split(" at 0x")[0],
        "name": getattr(route, "name", None),
        "methods": sorted(getattr(route, "methods", None) or []) if hasattr(route, "methods") else "-",
        "methods_none": getattr(route, "methods", "-") is None,
        "path": getattr(route, "path", None),
        "path_format": getattr(route, "path_format", getattr(route, "host_format", None)),
        "regex": getattr(route, "path_regex", getattr(route, "host_regex", None)),
        "convertors": sorted((k, type(v).__name__) for k, v in getattr(route, "param_convertors", {}).items()),
        "app_is_endpoint": getattr(route, "app", None) is args[1] if len(args) > 1 else None,
    }
    if info["regex"] is not None:
        info["regex"] = (info["regex"].pattern, info["regex"].flags)
    return info


CONSTRUCTIONS = [
    ("Route", ("a", async_endpoint), {}),
    ("Route", ("/a", async_endpoint), {}),
    ("Route", ("/a", sync_endpoint), {"methods": ["get", "Post"]}),
    ("Route", ("/a", sync_endpoint), {"methods": []}),
    ("Route", ("/a", sync_endpoint), {"methods": ("HEAD",)}),
    ("Route", ("/a", EndpointClass), {}),
    ("Route", ("/a", EndpointClass), {"methods": ["GET"]}),
    ("Route", ("/a", CallableInstance()), {}),
    ("Route", ("/a", EndpointClass.method), {}),
    ("Route", ("/a", functools.partial(async_endpoint)), {}),
    ("Route", ("/a", functools.partial(EndpointClass)), {}),
    ("Route", ("/a", lambda request: None), {"name": "named"}),
    ("Route", ("/{a}/{a}", async_endpoint), {}),
    ("Route", ("/{b}/{a}/{b}/{a}", async_endpoint), {}),
    ("Route", ("/{a:foo}", async_endpoint), {}),
    ("Route", ("/{a:}/{1a}/{a}{b}", async_endpoint), {}),
    ("Route", ("/f/{x:float}/{u:uuid}/{p:path}/b[c]*.+?", async_endpoint), {}),
    ("Route", ("/a", async_endpoint), {"include_in_schema": False}),
    ("WebSocketRoute", ("a", asgi_app), {}),
    ("WebSocketRoute", ("/a/{x:int}", asgi_app), {}),
    ("WebSocketRoute", ("/a", EndpointClass), {}),
    ("Mount", ("a", asgi_app), {}),
    ("Mount", ("/a",), {}),
    ("Mount", ("/a/", asgi_app), {}),
    ("Mount", ("", asgi_app), {}),
    ("Mount", ("/a/{x:int}", asgi_app), {"name": "m"}),
    ("Host", ("/a", asgi_app), {}),
    ("Host", ("{sub}.A.com:{port:int}", asgi_app), {"name": "h"}),
    ("Host", ("a.com:80", asgi_app), {}),
]


@pytest.mark.parametrize("kind,args,kwargs", CONSTRUCTIONS)
def test_construction_matches_reference(kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    expected, got = (construct(mod, kind, *args, **kwargs) for mod in BOTH)
    assert got == expected


@pytest.mark.parametrize(
    "path",
    ["/a/{b}/{c:path}.{d:float}", "{sub}.a.com", "a.com:{p:int}", "/a/{b:uuid}", "/{x}/{x}/{y}/{y}", "/{q:nope}"],
)
def test_compile_path(path: str) -> None:
    def compiled(mod: Any) -> Any:
        try:
            regex, fmt, convertors = mod.routing.compile_path(path)
        except Exception as exc:
            return ("raised", type(exc).__name__, str(exc))
        return regex.pattern, regex.flags, fmt, sorted((k, type(v).__name__) for k, v in convertors.items())

    assert compiled(FASTFRAME) == compiled(STARLETTE)


def test_get_name_and_replace_params() -> None:
    for endpoint in [async_endpoint, EndpointClass, CallableInstance(), EndpointClass.method, print]:
        assert ff_routing.get_name(endpoint) == starlette.routing.get_name(endpoint)
    assert ff_routing.get_name(functools.partial(async_endpoint)) == "partial"

    def replaced(mod: Any, path: str, params: dict[str, Any]) -> Any:
        convertors = {"a": mod.routing.compile_path("/{a:int}")[2]["a"], "b": mod.routing.compile_path("/{b}")[2]["b"]}
        try:
            result = mod.routing.replace_params(path, convertors, params)
        except Exception as exc:
            return ("raised", type(exc).__name__, str(exc))
        return result, result[1] is params, params

    for path, params in [
        ("/x/{a}/{b}/{a}", {"a": 1, "b": "x", "c": 3}),
        ("/{a}/{b}", {"b": "{a}", "a": 2}),
        ("/x/{z}", {"z": 1}),
        ("/x/{a}", {}),
    ]:
        assert replaced(FASTFRAME, path, dict(params)) == replaced(STARLETTE, path, dict(params))


def test_equality_and_hashing() -> None:
    r = ff_routing
    assert r.Route("/a", async_endpoint) == r.Route("/a", async_endpoint, methods=["GET"], name="x")
    assert r.Route("/a", async_endpoint) != r.Route("/a", async_endpoint, methods=["POST"])
    assert r.Route("/a", async_endpoint) != r.WebSocketRoute("/a", async_endpoint)
    assert r.Mount("/a", routes=[]) == r.Mount("/a", routes=[])
    assert r.Host("a", app=asgi_app) == r.Host("a", app=asgi_app, name="n")
    assert r.Router([r.Route("/a", async_endpoint)]) == r.Router([r.Route("/a", async_endpoint)])
    assert r.Router() == r.Router(redirect_slashes=False)
    for obj in [r.Route("/a", async_endpoint), r.Router(), r.Mount("/a", app=asgi_app)]:
        with pytest.raises(TypeError):
            hash(obj)


def test_no_match_found_message() -> None:
    for mod in BOTH:
        exc = mod.routing.NoMatchFound("n", {"a": 1, "b": 2})
        assert str(exc) == 'No route exists for name "n" and params "a, b".'
        assert isinstance(exc, Exception)
    assert [m.name for m in ff_routing.Match] == ["NONE", "PARTIAL", "FULL"]
    assert [m.value for m in ff_routing.Match] == [0, 1, 2]


def test_base_route_is_abstract() -> None:
    route = ff_routing.BaseRoute()
    with pytest.raises(NotImplementedError):
        route.matches({})
    with pytest.raises(NotImplementedError):
        route.url_path_for("x")
    with pytest.raises(NotImplementedError):
        asyncio.run(route.handle({}, None, None))  # type: ignore[arg-type]


def test_mount_and_host_routes_property() -> None:
    r = ff_routing
    child = r.Route("/a", async_endpoint)
    assert r.Mount("/m", routes=[child]).routes == [child]
    assert r.Mount("/m", app=asgi_app).routes == []
    assert r.Host("a.com", app=r.Router([child])).routes == [child]
    assert r.Host("a.com", app=asgi_app).routes == []


def test_router_helpers_add_routes() -> None:
    results = []
    for mod in BOTH:
        router = mod.routing.Router()
        router.add_route("/a", make_endpoint(mod, "a"), methods=["POST"], name="a")
        router.add_websocket_route("/ws", asgi_app, name="ws")
        router.mount("/m", mod.routing.Router([mod.routing.Route("/x", make_endpoint(mod, "x"), name="x")]), name="m")
        router.host("h.example.org", mod.routing.Router([mod.routing.Route("/y", make_endpoint(mod, "y"))]), name="h")
        urls = [router.url_path_for("a"), router.url_path_for("ws"), router.url_path_for("m:x")]
        scopes = [http_scope("/a", "POST"), http_scope("/m/x"), http_scope("/y", host="h.example.org")]
        out = asyncio.run(_gather([router] * 3, scopes))
        results.append(([repr(x) for x in router.routes][:2], urls, [u.protocol for u in urls], out))
    assert results[0] == results[1]


def test_route_middleware_and_body_limit() -> None:
    results = []
    for mod in BOTH:
        calls: list[str] = []

        def recorder(app: Any, label: str, calls: list[str] = calls) -> Any:
            async def wrapped(scope: Any, receive: Any, send: Any) -> None:
                calls.append(label)
                await app(scope, receive, send)

            return wrapped

        middleware_cls = __import__(mod.routing.__name__.split(".")[0] + ".middleware", fromlist=["Middleware"])
        mw = [middleware_cls.Middleware(recorder, label="outer"), middleware_cls.Middleware(recorder, label="inner")]
        router = mod.routing.Router(
            [
                mod.routing.Route("/a", make_endpoint(mod, "a"), middleware=mw, methods=["POST"]),
                mod.routing.Route("/small", make_endpoint(mod, "s"), methods=["POST"], max_body_size=3),
                mod.routing.Mount("/m", routes=[mod.routing.Route("/b", make_endpoint(mod, "b"))], middleware=mw),
            ],
            middleware=[middleware_cls.Middleware(recorder, label="router")],
        )
        big = http_scope("/small", "POST", headers=[(b"host", b"example.org"), (b"content-length", b"10")])
        out = asyncio.run(_gather([router] * 3, [http_scope("/a", "POST"), http_scope("/m/b"), big]))
        results.append((out, calls))
    assert results[0] == results[1]


# --- through an application and its TestClient -------------------------------------------------


def build_app(mod: Any) -> Any:
    routing = mod.routing

    async def item(request: Any) -> Any:
        return mod.responses.JSONResponse(
            {
                "id": request.path_params["id"],
                "route": request.scope["route"].path,
                "url": str(request.url_for("item", id=7)),
            }
        )

    async def echo(websocket: Any) -> None:
        await websocket.accept()
        await websocket.send_text(f"{websocket.path_params} {websocket.url_for('ws', room='x')}")
        await websocket.close()

    async def upload(request: Any) -> Any:
        return mod.responses.PlainTextResponse(str(len(await request.body())))

    app = mod.applications.Starlette(
        routes=[
            routing.Route("/items/{id:int}", item, name="item"),
            routing.Route("/items/", item, methods=["POST"]),
            routing.Route("/upload", upload, methods=["POST"], max_body_size=4),
            routing.WebSocketRoute("/ws/{room}", echo, name="ws"),
            routing.Mount("/api", routes=[routing.Route("/items/{id:int}", item, name="api_item")], name="api"),
        ]
    )
    app.routes.append(routing.Route("/late/{id:int}", item, name="late"))
    return app


REQUESTS = [
    ("GET", "/items/3"),
    ("HEAD", "/items/3"),
    ("POST", "/items/3"),
    ("GET", "/items/"),
    ("GET", "/items/x"),
    ("GET", "/api/items/5"),
    ("GET", "/api/items/5/"),
    ("GET", "/api"),
    ("GET", "/late/9"),
    ("GET", "/nowhere"),
    ("DELETE", "/items/"),
    ("POST", "/upload"),
]


def test_application_routing_matches_reference(test_client_factory: Callable[..., Any], anyio_backend: str) -> None:
    import starlette.applications
    import starlette.testclient

    from fastframe import applications as ff_applications

    reference = SimpleNamespace(
        routing=starlette.routing, responses=starlette.responses, applications=starlette.applications
    )
    ours = SimpleNamespace(routing=ff_routing, responses=ff_responses, applications=ff_applications)
    clients = [
        starlette.testclient.TestClient(build_app(reference), backend=anyio_backend),
        test_client_factory(build_app(ours)),
    ]
    for method, path in REQUESTS:
        results = []
        for client in clients:
            response = client.request(
                method, path, follow_redirects=False, content=b"123456" if path == "/upload" else None
            )
            results.append((response.status_code, response.headers.multi_items(), response.content))
        assert results[0] == results[1], (method, path)
    texts = []
    for client in clients:
        with client.websocket_connect("/ws/lobby") as session:
            texts.append(session.receive_text())
    assert texts[0] == texts[1]


def test_custom_default_app() -> None:
    results = []
    for mod in BOTH:

        async def default(scope: Any, receive: Any, send: Any, mod: Any = mod) -> None:
            await mod.responses.PlainTextResponse(f"default {scope.get('route')}", status_code=418)(
                scope, receive, send
            )

        router = mod.routing.Router([mod.routing.Route("/a", make_endpoint(mod, "a"))], default=default)
        scopes = [
            http_scope("/zz"),
            http_scope("/a/"),
            http_scope("/zz", app=1),
            dict(http_scope("/zz"), type="websocket"),
        ]
        results.append(asyncio.run(_gather([router] * 4, scopes)))
    assert results[0] == results[1]
