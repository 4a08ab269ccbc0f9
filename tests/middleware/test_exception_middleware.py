"""ExceptionMiddleware and wrap_app_handling_exceptions, compared against the reference's."""

# Each loop iteration builds and fully exercises its own app before the next one, so the
# closures below never see a later value of the loop variables.
# ruff: noqa: B023

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient as RefTestClient

Factory = Callable[..., Any]
PACKAGES = ("starlette", "fastframe")


def _pkg(name: str) -> SimpleNamespace:
    return SimpleNamespace(
        middleware=importlib.import_module(f"{name}.middleware.exceptions"),
        handler=importlib.import_module(f"{name}._exception_handler"),
        exceptions=importlib.import_module(f"{name}.exceptions"),
        responses=importlib.import_module(f"{name}.responses"),
        requests=importlib.import_module(f"{name}.requests"),
        websockets=importlib.import_module(f"{name}.websockets"),
    )


@pytest.fixture
def clients(test_client_factory: Factory, anyio_backend: str) -> dict[str, Factory]:
    def ref(app: Any, **kwargs: Any) -> Any:
        return RefTestClient(app, backend=anyio_backend, **kwargs)

    return {"starlette": ref, "fastframe": test_client_factory}


def _app_raising(
    pkg: SimpleNamespace, make_exc: Callable[[SimpleNamespace], BaseException], started: bool = False
) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if started:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        raise make_exc(pkg)

    return app


def _outcome(client: Any, method: str = "GET") -> tuple[Any, ...]:
    try:
        response = client.request(method, "/")
    except Exception as exc:
        cause = exc.__cause__
        return ("raised", type(exc).__name__, str(exc), type(cause).__name__ if cause else None)
    return (response.status_code, sorted(response.headers.items()), response.content)


HTTP_EXCEPTIONS = [
    lambda p: p.exceptions.HTTPException(404),
    lambda p: p.exceptions.HTTPException(400, "custom detail"),
    lambda p: p.exceptions.HTTPException(418, headers={"x-tea": "pot"}),
    lambda p: p.exceptions.HTTPException(204, headers={"x-a": "1"}),
    lambda p: p.exceptions.HTTPException(304),
    lambda p: p.exceptions.HTTPException(500),
    lambda p: p.exceptions.HTTPException(599),
    lambda p: p.exceptions.HTTPException(401, "é unicode detail", headers={"WWW-Authenticate": "Bearer"}),
]


@pytest.mark.parametrize("make_exc", HTTP_EXCEPTIONS)
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_http_exception_response(clients: dict[str, Factory], make_exc: Any, method: str) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        app = pkg.middleware.ExceptionMiddleware(_app_raising(pkg, make_exc))
        results.append(_outcome(clients[name](app), method))
    assert results[0] == results[1]


class Parent(Exception):
    pass


class Child(Parent):
    pass


def _handlers(pkg: SimpleNamespace, log: list[str]) -> dict[Any, Any]:
    responses = pkg.responses

    async def by_status(request: Any, exc: Any) -> Any:
        return responses.PlainTextResponse(f"status {exc.status_code} {request.url.path}", status_code=exc.status_code)

    def by_parent(request: Any, exc: Exception) -> Any:
        log.append("parent")
        return responses.JSONResponse({"handled": type(exc).__name__}, status_code=422)

    async def by_value_error(request: Any, exc: Exception) -> Any:
        return responses.PlainTextResponse("value error", status_code=409, headers={"x-h": "v"})

    return {403: by_status, Parent: by_parent, ValueError: by_value_error}


EXCEPTIONS = [
    lambda p: p.exceptions.HTTPException(403),
    lambda p: p.exceptions.HTTPException(404),
    lambda p: Parent("p"),
    lambda p: Child("c"),
    lambda p: ValueError("v"),
    lambda p: UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),  # a ValueError subclass
    lambda p: KeyError("unhandled"),
    lambda p: RuntimeError("unhandled"),
]


@pytest.mark.parametrize("make_exc", EXCEPTIONS)
@pytest.mark.parametrize("started", [False, True])
def test_handler_dispatch(clients: dict[str, Factory], make_exc: Any, started: bool) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        log: list[str] = []
        app = pkg.middleware.ExceptionMiddleware(_app_raising(pkg, make_exc, started), handlers=_handlers(pkg, log))
        results.append((_outcome(clients[name](app, raise_server_exceptions=True)), log))
    assert results[0] == results[1]


@pytest.mark.parametrize("make_exc", EXCEPTIONS)
def test_add_exception_handler_after_construction(clients: dict[str, Factory], make_exc: Any) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        log: list[str] = []
        app = pkg.middleware.ExceptionMiddleware(_app_raising(pkg, make_exc))
        for key, value in _handlers(pkg, log).items():
            app.add_exception_handler(key, value)
        results.append((_outcome(clients[name](app)), log))
    assert results[0] == results[1]


def test_status_handler_overrides_http_exception_default(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)

        def handler(request: Any, exc: Any) -> Any:
            return pkg.responses.PlainTextResponse("replaced", status_code=200)

        app = pkg.middleware.ExceptionMiddleware(
            _app_raising(pkg, lambda p: p.exceptions.HTTPException(404)),
            handlers={pkg.exceptions.HTTPException: handler},
        )
        results.append(_outcome(clients[name](app)))
    assert results[0] == results[1]
    assert results[1][0] == 200


def test_sync_handler_runs_in_threadpool(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        idents: list[int] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            idents.append(threading.get_ident())
            raise Parent("x")

        def handler(request: Any, exc: Exception) -> Any:
            idents.append(threading.get_ident())
            return pkg.responses.PlainTextResponse("ok")

        wrapped = pkg.middleware.ExceptionMiddleware(app, handlers={Parent: handler})
        response = clients[name](wrapped).get("/")
        results.append((response.text, idents[0] != idents[1]))
    assert results[0] == results[1] == ("ok", True)


WEBSOCKET_CASES = [
    ("before_accept", lambda p: p.exceptions.WebSocketException(1008, "policy")),
    ("after_accept", lambda p: p.exceptions.WebSocketException(1003)),
    ("after_accept", lambda p: p.exceptions.WebSocketException(4001, "custom")),
    ("after_accept", lambda p: Parent("ws parent")),
    ("before_accept", lambda p: KeyError("unhandled ws")),
]


@pytest.mark.parametrize(("when", "make_exc"), WEBSOCKET_CASES)
def test_websocket_exceptions(clients: dict[str, Factory], when: str, make_exc: Any) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await receive()
            if when == "after_accept":
                await send({"type": "websocket.accept"})
            raise make_exc(pkg)

        async def ws_handler(websocket: Any, exc: Exception) -> None:
            await websocket.close(code=4321, reason=f"handled {exc}")

        wrapped = pkg.middleware.ExceptionMiddleware(app, handlers={Parent: ws_handler})
        try:
            with clients[name](wrapped).websocket_connect("/ws") as session:
                session.receive_text()
        except Exception as exc:
            results.append((type(exc).__name__, getattr(exc, "code", None), getattr(exc, "reason", str(exc))))
        else:  # pragma: no cover - every case ends the connection
            results.append(None)
    assert results[0] == results[1]


def test_non_http_scopes_pass_through(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        seen: list[Any] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "lifespan":
                seen.append(sorted(k for k in scope if k != "state"))
                await receive()
                await send({"type": "lifespan.startup.complete"})
                await receive()
                await send({"type": "lifespan.shutdown.complete"})
                return
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        with clients[name](pkg.middleware.ExceptionMiddleware(app)) as client:
            results.append((client.get("/").text, seen))
    assert results[0] == results[1]


def test_wrap_app_handling_exceptions_without_middleware(clients: dict[str, Factory]) -> None:
    # Routes call it directly; without an ExceptionMiddleware above there are no handlers.
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)

        async def inner(scope: Any, receive: Any, send: Any) -> None:
            raise pkg.exceptions.HTTPException(404)

        async def app(scope: Any, receive: Any, send: Any) -> None:
            request = pkg.requests.Request(scope, receive, send)
            await pkg.handler.wrap_app_handling_exceptions(inner, request)(scope, receive, send)

        results.append(_outcome(clients[name](app)))
    assert results[0] == results[1]
    assert results[1][:2] == ("raised", "HTTPException")


def test_wrap_app_handling_exceptions_uses_scope_handlers(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)

        async def inner(scope: Any, receive: Any, send: Any) -> None:
            raise Child("routed")

        async def endpoint_app(scope: Any, receive: Any, send: Any) -> None:
            request = pkg.requests.Request(scope, receive, send)
            await pkg.handler.wrap_app_handling_exceptions(inner, request)(scope, receive, send)

        log: list[str] = []
        app = pkg.middleware.ExceptionMiddleware(endpoint_app, handlers=_handlers(pkg, log))
        results.append((_outcome(clients[name](app)), log))
    assert results[0] == results[1]
    assert results[1][0][0] == 422


def test_invalid_handler_keys(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        middleware = _pkg(name).middleware.ExceptionMiddleware(None)
        for key in ("not a class", str):
            try:
                middleware.add_exception_handler(key, lambda r, e: None)
            except Exception as exc:
                results.append((name, type(exc).__name__))
            else:  # pragma: no cover
                results.append((name, None))
    assert [r[1] for r in results[:2]] == [r[1] for r in results[2:]]


def test_scope_keys_seen_by_inner_app(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        pkg = _pkg(name)
        seen: list[Any] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            seen.append(sorted(scope))
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        clients[name](pkg.middleware.ExceptionMiddleware(app)).get("/")
        results.append(seen)
    assert results[0] == results[1]
