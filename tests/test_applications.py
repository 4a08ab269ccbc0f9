"""Starlette/FastFrame application objects, compared against the reference for the same app definitions."""

# Each loop iteration builds and fully exercises its own app before the next one, so the
# closures below never see a later value of the loop variables.
# ruff: noqa: B023

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient as RefTestClient

Factory = Callable[..., Any]
PACKAGES = ("starlette", "fastframe")


def _pkg(name: str) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        applications=importlib.import_module(f"{name}.applications"),
        middleware=importlib.import_module(f"{name}.middleware"),
        routing=importlib.import_module(f"{name}.routing"),
        responses=importlib.import_module(f"{name}.responses"),
        exceptions=importlib.import_module(f"{name}.exceptions"),
    )


@pytest.fixture
def clients(test_client_factory: Factory, anyio_backend: str) -> dict[str, Factory]:
    def ref(app: Any, **kwargs: Any) -> Any:
        return RefTestClient(app, backend=anyio_backend, **kwargs)

    return {"starlette": ref, "fastframe": test_client_factory}


class CustomError(Exception):
    pass


def build_app(pkg: SimpleNamespace, **kwargs: Any) -> Any:
    r = pkg.responses
    routing = pkg.routing

    async def homepage(request: Any) -> Any:
        return r.PlainTextResponse(f"home {request.url} {request.app is app}")

    def sync_page(request: Any) -> Any:
        return r.JSONResponse({"path": request.url.path, "root_path": request.scope.get("root_path")})

    async def user(request: Any) -> Any:
        return r.PlainTextResponse(f"user {request.path_params['user_id']} {request.url_for('user', user_id=7)}")

    async def http_error(request: Any) -> Any:
        raise pkg.exceptions.HTTPException(status_code=int(request.path_params["code"]), detail="nope")

    async def server_error(request: Any) -> Any:
        raise RuntimeError("boom <b>")

    async def custom_error(request: Any) -> Any:
        raise CustomError("custom")

    async def ws_endpoint(websocket: Any) -> None:
        await websocket.accept()
        await websocket.send_text(f"ws {websocket.url.path}")
        await websocket.close()

    async def sub_page(request: Any) -> Any:
        return r.PlainTextResponse(f"sub {request.url.path} {request.scope['root_path']}")

    sub = routing.Router([routing.Route("/page", sub_page, name="sub_page")])
    routes = [
        routing.Route("/", homepage, name="home"),
        routing.Route("/sync", sync_page, methods=["GET", "POST"]),
        routing.Route("/users/{user_id:int}", user, name="user"),
        routing.Route("/http-error/{code:int}", http_error),
        routing.Route("/server-error", server_error),
        routing.Route("/custom-error", custom_error),
        routing.WebSocketRoute("/ws", ws_endpoint),
        routing.Mount("/sub", app=sub, name="sub"),
        routing.Host("api.example.org", app=routing.Router([routing.Route("/", sub_page)]), name="api"),
    ]
    app = pkg.applications.Starlette(routes=routes, **kwargs)
    return app


def _outcome(client: Any, method: str, path: str, **kwargs: Any) -> tuple[Any, ...]:
    try:
        response = client.request(method, path, **kwargs)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))
    content_type = response.headers.get("content-type", "")
    body = response.content if "html" not in content_type else b"<html page>"
    if content_type.startswith("text/plain") and response.content.startswith(b"Traceback"):
        body = response.content.rstrip().splitlines()[-1]
    return (response.status_code, sorted((k, v) for k, v in response.headers.items() if k != "content-length"), body)


REQUESTS = [
    ("GET", "/"),
    ("GET", "/sync"),
    ("POST", "/sync"),
    ("DELETE", "/sync"),
    ("GET", "/users/42"),
    ("GET", "/users/abc"),
    ("GET", "/http-error/404"),
    ("GET", "/http-error/418"),
    ("GET", "/http-error/204"),
    ("GET", "/server-error"),
    ("GET", "/custom-error"),
    ("GET", "/missing"),
    ("GET", "/sub/page"),
    ("GET", "/sub/missing"),
    ("GET", "http://api.example.org/"),
]


@pytest.mark.parametrize(("method", "path"), REQUESTS)
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("accept", ["*/*", "text/html"])
def test_requests_match_reference(
    clients: dict[str, Factory], method: str, path: str, debug: bool, accept: str
) -> None:
    results = []
    for name in PACKAGES:
        client = clients[name](build_app(_pkg(name), debug=debug), raise_server_exceptions=False)
        outcome = _outcome(client, method, path, headers={"accept": accept})
        results.append(outcome)
    assert results[0] == results[1]


@pytest.mark.parametrize("path", ["/server-error", "/custom-error", "/http-error/500"])
def test_server_exceptions_are_raised(clients: dict[str, Factory], path: str) -> None:
    results = [_outcome(clients[name](build_app(_pkg(name))), "GET", path) for name in PACKAGES]
    assert results[0] == results[1]


def _handlers(pkg: SimpleNamespace, keys: list[Any]) -> dict[Any, Any]:
    r = pkg.responses

    def sync_handler(request: Any, exc: Exception) -> Any:
        return r.PlainTextResponse(f"sync {type(exc).__name__} {request.url.path}", status_code=599)

    async def async_handler(request: Any, exc: Exception) -> Any:
        return r.JSONResponse({"async": type(exc).__name__, "detail": str(exc)}, status_code=422)

    handlers: dict[Any, Any] = {}
    for index, key in enumerate(keys):
        resolved = pkg.exceptions.HTTPException if key == "HTTPException" else key
        handlers[resolved] = sync_handler if index % 2 == 0 else async_handler
    return handlers


HANDLER_SETS = [
    [500],
    [Exception],
    [500, Exception],
    [Exception, 500],
    [CustomError],
    [404, 418],
    ["HTTPException"],
    [RuntimeError, CustomError, 404],
]


@pytest.mark.parametrize("keys", HANDLER_SETS)
@pytest.mark.parametrize("path", ["/server-error", "/custom-error", "/http-error/404", "/http-error/418", "/missing"])
@pytest.mark.parametrize("via", ["init", "add_exception_handler"])
def test_exception_handler_dispatch(clients: dict[str, Factory], keys: list[Any], path: str, via: str) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        if via == "init":
            app = build_app(pkg, exception_handlers=_handlers(pkg, keys))
        else:
            app = build_app(pkg)
            for key, handler in _handlers(pkg, keys).items():
                app.add_exception_handler(key, handler)
        results.append(_outcome(clients[name](app, raise_server_exceptions=False), "GET", path))
    assert results[0] == results[1]


def _recording_middleware(log: list[str], label: str) -> Any:
    class Recorder:
        def __init__(self, app: Any, suffix: str = "") -> None:
            self.app = app
            self.suffix = suffix
            log.append(f"init {label}{suffix}")

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                log.append(f"call {label}{self.suffix}")
            await self.app(scope, receive, send)

    Recorder.__name__ = f"Recorder{label}"
    return Recorder


def test_middleware_order_and_single_build(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        log: list[str] = []
        first, second, third = (_recording_middleware(log, label) for label in "ABC")
        app = build_app(
            pkg, middleware=[pkg.middleware.Middleware(first), pkg.middleware.Middleware(second, suffix="!")]
        )
        app.add_middleware(third, suffix="?")
        client = clients[name](app)
        client.get("/")
        client.get("/sync")
        results.append(log)
    assert results[0] == results[1]
    assert results[1][:3] == ["init B!", "init A", "init C?"]


def test_add_middleware_after_start_raises(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        app = build_app(pkg)
        clients[name](app).get("/")
        with pytest.raises(RuntimeError) as info:
            app.add_middleware(_recording_middleware([], "X"))
        results.append(str(info.value))
    assert results[0] == results[1] == "Cannot add middleware after an application has started"


def _stack_shape(app: Any) -> list[str]:
    names = []
    node = app.build_middleware_stack()
    while node is not None and type(node).__name__ != "Router":
        names.append(type(node).__name__)
        node = getattr(node, "app", None)
    return names


@pytest.mark.parametrize("max_body_size", [None, 1024])
def test_build_middleware_stack_shape(max_body_size: int | None) -> None:
    shapes = []
    for name in PACKAGES:
        pkg = _pkg(name)
        log: list[str] = []
        app = build_app(
            pkg,
            middleware=[pkg.middleware.Middleware(_recording_middleware(log, "A"))],
            exception_handlers={500: lambda r, e: None, CustomError: lambda r, e: None},
            max_body_size=max_body_size,
        )
        stack = app.build_middleware_stack()
        shapes.append((_stack_shape(app), stack.handler is not None, stack.debug))
    assert shapes[0] == shapes[1]


def test_max_body_size(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        app = build_app(_pkg(name), max_body_size=4)
        client = clients[name](app, raise_server_exceptions=False)
        results.append([_outcome(client, "POST", "/sync", content=body) for body in (b"1234", b"12345")])
    assert results[0] == results[1]


def test_lifespan_and_state(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        events: list[str] = []

        @contextlib.asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
            events.append(f"startup {type(app).__name__}")
            yield {"resource": "db"}
            events.append("shutdown")

        async def show_state(request: Any) -> Any:
            return pkg.responses.PlainTextResponse(f"{request.state.resource} {request.app.state.flag}")

        app = pkg.applications.Starlette(routes=[pkg.routing.Route("/", show_state)], lifespan=lifespan)
        app.state.flag = "on"
        with clients[name](app) as client:
            events.append(client.get("/").text)
        results.append(events)
    assert results[0] == results[1] == ["startup Starlette", "db on", "shutdown"]


@pytest.mark.parametrize("where", ["startup", "shutdown"])
def test_lifespan_failure(clients: dict[str, Factory], where: str) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)

        @contextlib.asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[None]:
            if where == "startup":
                raise CustomError("failed at startup")
            yield
            raise CustomError("failed at shutdown")

        app = pkg.applications.Starlette(lifespan=lifespan)
        try:
            with clients[name](app):
                pass
        except BaseException as exc:
            results.append((type(exc).__name__, str(exc)))
        else:
            results.append(None)
    assert results[0] == results[1]


def test_url_path_for_routes_mount_host_add_route(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        app = build_app(pkg)

        async def added(request: Any) -> Any:
            return pkg.responses.PlainTextResponse("added")

        app.add_route("/added", added, methods=["POST"], name="added", include_in_schema=False)
        app.mount("/mounted", pkg.routing.Router([pkg.routing.Route("/x", added, name="x")]), name="mounted")
        app.host("other.example.org", pkg.routing.Router([pkg.routing.Route("/", added)]), name="other")
        client = clients[name](app)
        results.append(
            (
                str(app.url_path_for("home")),
                str(app.url_path_for("user", user_id=3)),
                str(app.url_path_for("sub:sub_page")),
                str(app.url_path_for("added")),
                str(app.url_path_for("mounted:x")),
                [type(route).__name__ for route in app.routes],
                app.routes is app.router.routes,
                client.post("/added").text,
                client.get("/added").status_code,
                client.get("/mounted/x").status_code,
                client.get("http://other.example.org/").status_code,
            )
        )
        with pytest.raises(Exception) as info:
            app.url_path_for("does-not-exist")
        results.append((type(info.value).__name__, str(info.value)))
    assert results[:2] == results[2:]


def test_websocket_through_app(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        with clients[name](build_app(_pkg(name))).websocket_connect("/ws") as session:
            results.append(session.receive_text())
    assert results[0] == results[1] == "ws /ws"


@pytest.mark.parametrize("root_path", ["", "/api", "/api/v1"])
@pytest.mark.parametrize("path", ["/", "/sync", "/users/5", "/sub/page", "/missing"])
def test_root_path(clients: dict[str, Factory], root_path: str, path: str) -> None:
    results = []
    for name in PACKAGES:
        client = clients[name](build_app(_pkg(name)), root_path=root_path)
        results.append(_outcome(client, "GET", path))
    assert results[0] == results[1]


def test_application_attributes() -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        app = pkg.applications.Starlette(debug=True)
        results.append(
            (
                app.debug,
                app.user_middleware,
                app.exception_handlers,
                app.max_body_size,
                app.middleware_stack,
                type(app.state).__name__,
                type(app.router).__name__,
            )
        )
        app.debug = False
        assert app.debug is False
    assert results[0] == results[1]


def test_fastframe_alias() -> None:
    from fastframe.applications import FastFrame, Starlette

    assert FastFrame is Starlette


def test_middleware_class_repr_and_iter() -> None:
    results = []
    for name in PACKAGES:
        Middleware = _pkg(name).middleware.Middleware

        class Named:
            def __init__(self, app: Any, *args: Any, **kwargs: Any) -> None:
                self.app = app

        class Anonymous:
            def __call__(self, app: Any) -> Any:
                return app

        items = [
            Middleware(Named),
            Middleware(Named, 1, "two", flag=True, values=[1, 2]),
            Middleware(Anonymous()),
            Middleware(Anonymous(), 3),
            Middleware(lambda app: app),
        ]
        results.append([(repr(m), list(m)[1:]) for m in items])
        cls, args, kwargs = Middleware(Named, 1, k="v")
        assert (cls, args, kwargs) == (Named, (1,), {"k": "v"})
    assert results[0] == results[1]


def test_handlers_added_after_start_are_not_used(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        app = build_app(pkg)
        client = clients[name](app, raise_server_exceptions=False)
        before = _outcome(client, "GET", "/custom-error")
        app.add_exception_handler(CustomError, lambda request, exc: pkg.responses.PlainTextResponse("late", 299))
        results.append((before, _outcome(client, "GET", "/custom-error"), app.middleware_stack is not None))
    assert results[0] == results[1]


def test_scope_app_is_innermost_application(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        inner = build_app(pkg)
        outer = pkg.applications.Starlette(routes=[pkg.routing.Mount("/inner", app=inner)])
        response = clients[name](outer).get("/inner/")
        results.append((response.status_code, response.text.endswith("True")))
    assert results[0] == results[1] == (200, True)


@pytest.mark.parametrize("kind", ["ws_exception", "custom_handled", "custom_unhandled", "http_exception"])
def test_websocket_exception_handling_through_app(clients: dict[str, Factory], kind: str) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)

        async def endpoint(websocket: Any) -> None:
            await websocket.accept()
            if kind == "ws_exception":
                raise pkg.exceptions.WebSocketException(code=1008, reason="policy")
            if kind == "http_exception":
                raise pkg.exceptions.HTTPException(400)
            raise CustomError("ws custom")

        async def handler(websocket: Any, exc: Exception) -> None:
            await websocket.close(code=4004, reason=f"handled {exc}")

        handlers = {CustomError: handler} if kind == "custom_handled" else {}
        app = pkg.applications.Starlette(
            routes=[pkg.routing.WebSocketRoute("/ws", endpoint)], exception_handlers=handlers
        )
        try:
            with clients[name](app).websocket_connect("/ws") as session:
                session.receive_text()
        except Exception as exc:
            results.append((type(exc).__name__, getattr(exc, "code", None), getattr(exc, "reason", str(exc))))
        else:  # pragma: no cover
            results.append(None)
    assert results[0] == results[1]


@pytest.mark.parametrize(
    ("layer", "method"), [("errors", "__call__"), ("exceptions", "__call__"), ("router", "__call__"), ("router", "app")]
)
def test_call_replaced_on_the_layer_class_is_called(
    clients: dict[str, Factory], monkeypatch: pytest.MonkeyPatch, layer: str, method: str
) -> None:
    # sentry-sdk's middleware spans replace ServerErrorMiddleware.__call__ and
    # ExceptionMiddleware.__call__ on the classes themselves, before any application is called.
    results = []
    for name in PACKAGES:
        if layer == "router":
            cls = importlib.import_module(f"{name}.routing").Router
        else:
            module = importlib.import_module(f"{name}.middleware.{layer}")
            cls = module.ServerErrorMiddleware if layer == "errors" else module.ExceptionMiddleware
        original = getattr(cls, method)
        seen: list[tuple[str, str]] = []

        async def spy(self: Any, scope: Any, receive: Any, send: Any) -> None:
            seen.append((type(self).__name__, scope["path"]))

            async def sending(message: Any) -> None:
                seen.append(("send", message["type"]))
                await send(message)

            await original(self, scope, receive, sending)

        monkeypatch.setattr(cls, method, spy)
        client = clients[name](build_app(_pkg(name)), raise_server_exceptions=False)
        outcomes = [_outcome(client, "GET", path) for path in ("/", "/missing", "/server-error", "/custom-error")]
        with client.websocket_connect("/ws") as websocket:
            outcomes.append(websocket.receive_text())
        results.append((outcomes, seen))
        monkeypatch.undo()
    assert results[0] == results[1]
    assert results[1][1]
