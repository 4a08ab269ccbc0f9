"""ServerErrorMiddleware, compared against the reference's for the same apps."""

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
        errors=importlib.import_module(f"{name}.middleware.errors"),
        responses=importlib.import_module(f"{name}.responses"),
    )


@pytest.fixture
def clients(test_client_factory: Factory, anyio_backend: str) -> dict[str, Factory]:
    def ref(app: Any, **kwargs: Any) -> Any:
        return RefTestClient(app, backend=anyio_backend, **kwargs)

    return {"starlette": ref, "fastframe": test_client_factory}


def _raising_app(kind: str = "before") -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if kind == "after_start":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("bad <value> & more")

    return app


def _outcome(client: Any, **kwargs: Any) -> tuple[Any, ...]:
    try:
        response = client.get("/", **kwargs)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))
    return (response.status_code, response.headers.get("content-type"), response.content)


@pytest.mark.parametrize("raise_server_exceptions", [True, False])
@pytest.mark.parametrize("kind", ["before", "after_start"])
def test_error_response_matches_reference(
    clients: dict[str, Factory], raise_server_exceptions: bool, kind: str
) -> None:
    results = []
    for name in PACKAGES:
        app = _pkg(name).errors.ServerErrorMiddleware(_raising_app(kind))
        client = clients[name](app, raise_server_exceptions=raise_server_exceptions)
        results.append(_outcome(client))
    assert results[0] == results[1]


def test_plain_500_body(clients: dict[str, Factory]) -> None:
    for name in PACKAGES:
        app = _pkg(name).errors.ServerErrorMiddleware(_raising_app())
        response = clients[name](app, raise_server_exceptions=False).get("/")
        assert (response.status_code, response.text) == (500, "Internal Server Error")
        assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("accept", [None, "text/plain", "application/json", "text/html", "text/html,*/*;q=0.8"])
def test_debug_response_format(clients: dict[str, Factory], accept: str | None) -> None:
    results = []
    for name in PACKAGES:
        app = _pkg(name).errors.ServerErrorMiddleware(_raising_app(), debug=True)
        headers = {} if accept is None else {"accept": accept}
        response = clients[name](app, raise_server_exceptions=False).get("/", headers=headers)
        body = response.text
        if "html" in response.headers["content-type"]:
            summary = ("<h2>ValueError: bad &lt;value&gt; &amp; more</h2>" in body, "500 Server Error" in body)
        else:
            summary = (body.startswith("Traceback (most recent call last):"), body.rstrip().splitlines()[-1])
        results.append((response.status_code, response.headers["content-type"], summary))
    assert results[0] == results[1]
    assert all(results[1][2])


def test_debug_html_shows_frames_innermost_first(test_client_factory: Factory) -> None:
    from fastframe.middleware.errors import ServerErrorMiddleware

    async def raiser(scope: Any, receive: Any, send: Any) -> None:
        innermost_function_name()

    def innermost_function_name() -> None:
        raise RuntimeError("<script>")

    app = ServerErrorMiddleware(raiser, debug=True)
    body = test_client_factory(app, raise_server_exceptions=False).get("/", headers={"accept": "text/html"}).text
    assert "<script>" not in body.split("<h2>")[1].split("</h2>")[0]
    assert body.index("<code>innermost_function_name</code>") < body.index("<code>raiser</code>")
    assert "&lt;script&gt;" in body


@pytest.mark.parametrize("sync", [True, False])
def test_custom_handler(clients: dict[str, Factory], sync: bool) -> None:
    results = []
    for name in PACKAGES:
        responses = _pkg(name).responses
        threads: list[bool] = []
        loop_thread: list[int] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            loop_thread.append(threading.get_ident())
            raise ValueError("bad <value> & more")

        def sync_handler(request: Any, exc: Exception) -> Any:
            # sync handlers run in a worker thread, not on the event loop
            threads.append(threading.get_ident() != loop_thread[0])
            return responses.JSONResponse({"path": request.url.path, "error": repr(exc)}, status_code=503)

        async def async_handler(request: Any, exc: Exception) -> Any:
            return responses.JSONResponse({"path": request.url.path, "error": repr(exc)}, status_code=503)

        handler = sync_handler if sync else async_handler
        wrapped = _pkg(name).errors.ServerErrorMiddleware(app, handler=handler)
        client = clients[name](wrapped, raise_server_exceptions=False)
        response = client.get("/some/path")
        results.append((response.status_code, response.json(), threads))
    assert results[0] == results[1]
    assert results[1][2] == ([True] if sync else [])


def test_debug_takes_precedence_over_handler(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        responses = _pkg(name).responses

        def handler(request: Any, exc: Exception) -> Any:
            return responses.PlainTextResponse("handled", status_code=503)

        app = _pkg(name).errors.ServerErrorMiddleware(_raising_app(), handler=handler, debug=True)
        response = clients[name](app, raise_server_exceptions=False).get("/")
        results.append((response.status_code, response.headers["content-type"]))
    assert results[0] == results[1] == (500, "text/plain; charset=utf-8")


def test_exception_is_reraised_after_responding(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:
        app = _pkg(name).errors.ServerErrorMiddleware(_raising_app())
        with pytest.raises(ValueError) as info:
            clients[name](app).get("/")
        results.append(str(info.value))
    assert results[0] == results[1] == "bad <value> & more"


def test_websocket_scope_passes_through(clients: dict[str, Factory]) -> None:
    results = []
    for name in PACKAGES:

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await receive()
            raise KeyError("websocket failure")

        wrapped = _pkg(name).errors.ServerErrorMiddleware(app)
        with pytest.raises(KeyError) as info:
            with clients[name](wrapped).websocket_connect("/ws"):
                pass  # pragma: no cover
        results.append(str(info.value))
    assert results[0] == results[1]


def test_successful_response_untouched(clients: dict[str, Factory]) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 202, "headers": [(b"x-ok", b"1")]})
        await send({"type": "http.response.body", "body": b"fine"})

    results = []
    for name in PACKAGES:
        response = clients[name](_pkg(name).errors.ServerErrorMiddleware(app, debug=True)).get("/")
        results.append((response.status_code, response.headers["x-ok"], response.content))
    assert results[0] == results[1] == (202, "1", b"fine")
