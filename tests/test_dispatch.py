"""The request path (Starlette's planned default stack, or ExceptionMiddleware over its router)
against the reference's layered one.

Each case builds the same application with starlette and with fastframe, with and without a
user middleware (with one, Starlette.__call__ no longer runs the exception layer and the router
itself), and compares what a client sees: status, headers, body, or the exception the TestClient
raises.
"""

# Each test builds and exercises its app before the next one; closures see their own loop values.
# ruff: noqa: B023

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient as RefTestClient

Factory = Callable[..., Any]
PACKAGES = ("starlette", "fastframe")


class Boom(Exception):
    pass


def _pkg(name: str) -> SimpleNamespace:
    def mod(path: str) -> Any:
        return importlib.import_module(f"{name}.{path}")

    return SimpleNamespace(
        Starlette=mod("applications").Starlette,
        Middleware=mod("middleware").Middleware,
        Route=mod("routing").Route,
        Mount=mod("routing").Mount,
        Router=mod("routing").Router,
        WebSocketRoute=mod("routing").WebSocketRoute,
        responses=mod("responses"),
        HTTPException=mod("exceptions").HTTPException,
        WebSocketException=mod("exceptions").WebSocketException,
        BackgroundTask=mod("background").BackgroundTask,
    )


@pytest.fixture
def clients(test_client_factory: Factory, anyio_backend: str) -> dict[str, Factory]:
    def ref(app: Any, **kwargs: Any) -> Any:
        return RefTestClient(app, backend=anyio_backend, **kwargs)

    return {"starlette": ref, "fastframe": test_client_factory}


class PassThrough:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _outcome(client: Any, method: str, path: str) -> tuple[Any, ...]:
    try:
        response = client.request(method, path)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))
    return (response.status_code, sorted(response.headers.items()), response.content)


def build(pkg: SimpleNamespace, log: list[str], handlers: dict[Any, Any], middleware: bool) -> Any:
    r = pkg.responses

    async def hello(request: Any) -> Any:
        return r.PlainTextResponse("hello")

    async def raises_boom(request: Any) -> Any:
        raise Boom("boom")

    async def raises_http(request: Any) -> Any:
        raise pkg.HTTPException(status_code=409, detail="conflict", headers={"x-why": "because"})

    async def stream_then_fail(request: Any) -> Any:
        async def body() -> AsyncIterator[bytes]:
            yield b"first"
            raise Boom("mid-stream")

        return r.StreamingResponse(body())

    async def with_background(request: Any) -> Any:
        async def task() -> None:
            log.append("background ran")

        return r.PlainTextResponse("bg", background=pkg.BackgroundTask(task))

    async def failing_background(request: Any) -> Any:
        async def task() -> None:
            raise Boom("in background")

        return r.PlainTextResponse("bg", background=pkg.BackgroundTask(task))

    class Teapot(r.Response):  # type: ignore[name-defined,misc]
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 418, "headers": [(b"x-own", b"call")]})
            await send({"type": "http.response.body", "body": b"own call"})

    async def own_call(request: Any) -> Any:
        return Teapot()

    async def not_a_response(request: Any) -> Any:
        return {"not": "a response"}

    def sync_endpoint(request: Any) -> Any:
        return r.JSONResponse({"sync": request.path_params})

    async def scope_view(request: Any) -> Any:
        scope = request.scope
        return r.JSONResponse(
            {
                "keys": sorted(k for k in scope if k != "fastframe.route"),
                "route": scope["route"].path if "route" in scope else None,
                "endpoint": scope["endpoint"].__name__,
                "router": scope["router"] is scope["app"].router,
                "path_params": scope["path_params"],
                "handlers": "starlette.exception_handlers" in scope,
            }
        )

    async def ws_boom(websocket: Any) -> None:
        await websocket.accept()
        raise Boom("ws")

    async def ws_close(websocket: Any) -> None:
        raise pkg.WebSocketException(code=1008, reason="policy")

    class AnyMethod(pkg.Route):  # type: ignore[name-defined,misc]
        """Claims a full match whatever the method: the method is then the route's handle's to check."""

        def matches(self, scope: Any) -> tuple[Any, Any]:
            match, child_scope = super().matches(scope)
            return (type(match).FULL if match is not type(match).NONE else match), child_scope

    routes = [
        pkg.Route("/hello", hello),
        AnyMethod("/any-method", hello, methods=["POST"]),
        pkg.Route("/only-post", hello, methods=["POST"]),
        pkg.Route("/boom", raises_boom),
        pkg.Route("/http", raises_http),
        pkg.Route("/stream-fail", stream_then_fail),
        pkg.Route("/background", with_background),
        pkg.Route("/failing-background", failing_background),
        pkg.Route("/own-call", own_call),
        pkg.Route("/not-a-response", not_a_response),
        pkg.Route("/sync/{n:int}", sync_endpoint),
        pkg.Route("/scope/{name}", scope_view, methods=["GET", "PUT"]),
        pkg.Route("/trailing/", hello),
        pkg.Mount("/mounted", routes=[pkg.Route("/boom", raises_boom), pkg.Route("/hello", hello)]),
        pkg.WebSocketRoute("/ws-boom", ws_boom),
        pkg.WebSocketRoute("/ws-close", ws_close),
    ]
    stack = [pkg.Middleware(PassThrough)] if middleware else []
    return pkg.Starlette(routes=routes, exception_handlers=handlers, middleware=stack)


def handler_sets(pkg: SimpleNamespace, log: list[str]) -> dict[str, dict[Any, Any]]:
    r = pkg.responses

    async def boom_handler(request: Any, exc: Exception) -> Any:
        log.append(f"boom handler {request.url.path}")
        return r.PlainTextResponse(f"handled {exc}", status_code=503)

    async def reraising_handler(request: Any, exc: Exception) -> Any:
        raise pkg.HTTPException(status_code=422, detail=f"from handler: {exc}")

    async def status_handler(request: Any, exc: Any) -> Any:
        return r.JSONResponse({"status": exc.status_code, "detail": exc.detail}, status_code=exc.status_code)

    async def server_handler(request: Any, exc: Exception) -> Any:
        return r.PlainTextResponse(f"server {type(exc).__name__}", status_code=500)

    return {
        "none": {},
        "boom": {Boom: boom_handler},
        "reraise": {Boom: reraising_handler},
        "status": {404: status_handler, 405: status_handler, 409: status_handler},
        "http-class": {pkg.HTTPException: status_handler},
        "server": {500: server_handler},
    }


PATHS = [
    ("GET", "/hello"),
    ("GET", "/any-method"),
    ("POST", "/any-method"),
    ("HEAD", "/hello"),
    ("GET", "/only-post"),
    ("DELETE", "/scope/x"),
    ("GET", "/missing"),
    ("GET", "/hello/"),
    ("GET", "/trailing"),
    ("GET", "/boom"),
    ("GET", "/http"),
    ("GET", "/stream-fail"),
    ("GET", "/background"),
    ("GET", "/failing-background"),
    ("GET", "/own-call"),
    ("GET", "/not-a-response"),
    ("GET", "/sync/12"),
    ("PUT", "/scope/abc"),
    ("GET", "/mounted/boom"),
    ("GET", "/mounted/hello"),
    ("GET", "/mounted/missing"),
]


@pytest.mark.parametrize("handlers", ["none", "boom", "reraise", "status", "http-class", "server"])
@pytest.mark.parametrize("middleware", [False, True])
@pytest.mark.parametrize("raise_server_exceptions", [False, True])
def test_http_outcomes_match_reference(
    clients: dict[str, Factory], handlers: str, middleware: bool, raise_server_exceptions: bool
) -> None:
    seen: dict[str, list[Any]] = {}
    for name in PACKAGES:
        pkg = _pkg(name)
        log: list[str] = []
        app = build(pkg, log, handler_sets(pkg, log)[handlers], middleware)
        client = clients[name](app, raise_server_exceptions=raise_server_exceptions)
        seen[name] = [(method, path, _outcome(client, method, path)) for method, path in PATHS] + [log]
    for ours, theirs in zip(seen["fastframe"], seen["starlette"], strict=True):
        assert ours == theirs


@pytest.mark.parametrize("handlers", ["none", "boom"])
@pytest.mark.parametrize("middleware", [False, True])
def test_websocket_outcomes_match_reference(clients: dict[str, Factory], handlers: str, middleware: bool) -> None:
    seen: dict[str, list[Any]] = {}
    for name in PACKAGES:
        pkg = _pkg(name)
        log: list[str] = []
        app = build(pkg, log, handler_sets(pkg, log)[handlers], middleware)
        client = clients[name](app)
        outcomes: list[Any] = []
        for path in ("/ws-boom", "/ws-close", "/missing"):
            try:
                with client.websocket_connect(path) as session:
                    outcomes.append(("connected", session.receive()))
                    outcomes.append(("next", session.receive()))
            except Exception as exc:
                outcomes.append(
                    ("raised", type(exc).__name__, getattr(exc, "code", None), getattr(exc, "reason", None))
                )
        seen[name] = outcomes + [log]
    assert seen["fastframe"] == seen["starlette"]


@pytest.mark.parametrize("middleware", [False, True])
def test_changes_after_the_first_request_are_seen(clients: dict[str, Factory], middleware: bool) -> None:
    seen: dict[str, list[Any]] = {}
    for name in PACKAGES:
        pkg = _pkg(name)
        r = pkg.responses
        log: list[str] = []
        app = build(pkg, log, {}, middleware)
        client = clients[name](app)
        outcomes = [_outcome(client, "GET", "/hello")]

        # A route's app replaced after the app started serving, as instrumentation libraries do.
        route = next(route for route in app.routes if getattr(route, "path", "") == "/hello")
        original = route.app

        async def wrapped(scope: Any, receive: Any, send: Any) -> None:
            log.append("wrapped")
            await original(scope, receive, send)

        route.app = wrapped
        outcomes.append(_outcome(client, "GET", "/hello"))

        async def added(request: Any) -> Any:
            return r.PlainTextResponse("added later")

        app.add_route("/added", added)
        outcomes.append(_outcome(client, "GET", "/added"))

        async def teapot(scope: Any, receive: Any, send: Any) -> None:
            await r.PlainTextResponse("custom default", status_code=418)(scope, receive, send)

        app.router.default = teapot
        outcomes.append(_outcome(client, "GET", "/nowhere"))

        async def gone(request: Any, exc: Exception) -> Any:
            return r.PlainTextResponse("gone", status_code=410)

        app.router.default = app.router.not_found
        app.add_exception_handler(404, gone)  # added after start: the reference ignores it
        outcomes.append(_outcome(client, "GET", "/nowhere"))
        seen[name] = outcomes + [log]
    assert seen["fastframe"] == seen["starlette"]


def test_router_subclass_not_found_is_used(clients: dict[str, Factory]) -> None:
    seen = []
    for name in PACKAGES:
        pkg = _pkg(name)
        r = pkg.responses

        class OwnRouter(pkg.Router):  # type: ignore[name-defined,misc]
            async def not_found(self, scope: Any, receive: Any, send: Any) -> None:
                await r.PlainTextResponse("own not found", status_code=404)(scope, receive, send)

        async def hello(request: Any) -> Any:
            return r.PlainTextResponse("hello")

        app = pkg.Starlette(routes=[pkg.Mount("/api", app=OwnRouter([pkg.Route("/hello", hello)]))])
        client = clients[name](app)
        seen.append([_outcome(client, "GET", path) for path in ("/api/hello", "/api/missing", "/missing")])
    assert seen[0] == seen[1]


def test_stack_replaced_and_rebuilt_after_start(clients: dict[str, Factory]) -> None:
    """Starlette.__call__ plans its middleware stack once; a stack set or cleared later is planned anew."""
    seen = []
    for name in PACKAGES:
        pkg = _pkg(name)
        log: list[str] = []
        app = build(pkg, log, {}, False)
        client = clients[name](app)
        outcomes = [_outcome(client, "GET", "/hello"), _outcome(client, "GET", "/boom")]
        built = app.middleware_stack

        async def outer(scope: Any, receive: Any, send: Any) -> None:
            log.append(f"outer {scope['type']}")
            await built(scope, receive, send)

        app.middleware_stack = outer
        outcomes += [_outcome(client, "GET", "/hello"), _outcome(client, "GET", "/only-post")]
        app.middleware_stack = None
        app.user_middleware.insert(0, pkg.Middleware(PassThrough))
        outcomes += [_outcome(client, "GET", "/hello"), _outcome(client, "GET", "/boom")]
        seen.append(outcomes + [log])
    assert seen[0] == seen[1]


def test_middleware_that_starts_the_response_then_raises(clients: dict[str, Factory]) -> None:
    """With user middleware, the 500 is sent only if nothing started the response first."""
    seen = []
    for name in PACKAGES:
        pkg = _pkg(name)
        r = pkg.responses

        class StartsThenRaises:
            def __init__(self, app: Any) -> None:
                self.app = app

            async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
                if scope["type"] == "http" and scope["path"] == "/started":
                    await send({"type": "http.response.start", "status": 202, "headers": []})
                    raise Boom("after start")
                if scope["type"] == "http" and scope["path"] == "/not-started":
                    raise Boom("before start")
                await self.app(scope, receive, send)

        async def hello(request: Any) -> Any:
            return r.PlainTextResponse("hello")

        app = pkg.Starlette(routes=[pkg.Route("/hello", hello)], middleware=[pkg.Middleware(StartsThenRaises)])
        client = clients[name](app, raise_server_exceptions=False)
        seen.append([_outcome(client, "GET", path) for path in ("/hello", "/not-started")])
        raising = clients[name](app)
        seen.append([_outcome(raising, "GET", path) for path in ("/started", "/not-started")])
    assert seen[0] == seen[2]
    assert seen[1] == seen[3]


@pytest.mark.parametrize("middleware", [False, True])
@pytest.mark.parametrize("raise_server_exceptions", [False, True])
def test_handler_response_that_fails_after_starting(
    clients: dict[str, Factory], middleware: bool, raise_server_exceptions: bool
) -> None:
    """The error layer must know that an exception handler's response started before it failed."""
    seen: dict[str, Any] = {}
    for name in PACKAGES:
        pkg = _pkg(name)

        async def boom(request: Any) -> Any:
            raise Boom("endpoint")

        async def breaking_handler(request: Any, exc: Exception) -> Any:
            async def body() -> AsyncIterator[bytes]:
                yield b"partial"
                raise Boom("handler stream")

            return pkg.responses.StreamingResponse(body())

        stack = [pkg.Middleware(PassThrough)] if middleware else []
        app = pkg.Starlette(
            routes=[pkg.Route("/", boom)], exception_handlers={Boom: breaking_handler}, middleware=stack
        )
        client = clients[name](app, raise_server_exceptions=raise_server_exceptions)
        seen[name] = _outcome(client, "GET", "/")
    assert seen["fastframe"] == seen["starlette"]
