"""fastframe.endpoints against the reference: raw ASGI message sequences and TestClient runs."""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from starlette.endpoints import HTTPEndpoint as RefHTTPEndpoint

import fastframe.endpoints as ff_endpoints

PACKAGES = ("starlette", "fastframe")


def modules(pkg: str) -> tuple[ModuleType, ModuleType]:
    return importlib.import_module(f"{pkg}.endpoints"), importlib.import_module(f"{pkg}.responses")


def run_sync(coro: Any) -> Any:
    gen = coro.__await__()
    try:
        gen.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("coroutine suspended")


def describe(exc: BaseException) -> tuple[Any, ...]:
    return (
        "raised",
        type(exc).__name__,
        str(exc),
        getattr(exc, "status_code", None),
        getattr(exc, "detail", None),
        getattr(exc, "headers", None),
    )


# --- HTTPEndpoint --------------------------------------------------------------------------------


def make_http_endpoints(pkg: str) -> dict[str, type]:
    endpoints, responses = modules(pkg)
    P = responses.PlainTextResponse

    class GetPost(endpoints.HTTPEndpoint):
        async def get(self, request: Any) -> Any:
            return P(f"get {request.method} {request.url.path}")

        async def post(self, request: Any) -> Any:
            body = await request.body()
            return P(b"post " + body)

        async def trace(self, request: Any) -> Any:  # not a dispatchable verb
            return P("trace")

        async def custom(self, request: Any) -> Any:
            return P("custom")

    class WithHead(endpoints.HTTPEndpoint):
        async def get(self, request: Any) -> Any:
            return P("get")

        async def head(self, request: Any) -> Any:
            return P("head", headers={"x-head": "1"})

    class OnlyHead(endpoints.HTTPEndpoint):
        async def head(self, request: Any) -> Any:
            return P("head")

    class Nothing(endpoints.HTTPEndpoint):
        pass

    class Others(endpoints.HTTPEndpoint):
        get = None

        async def put(self, request: Any) -> Any:
            return P("put")

        async def patch(self, request: Any) -> Any:
            return P("patch")

        async def delete(self, request: Any) -> Any:
            return P("delete", status_code=202)

        async def options(self, request: Any) -> Any:
            return P("options")

    class SyncGet(endpoints.HTTPEndpoint):
        def get(self, request: Any) -> Any:
            return P("sync " + request.query_params.get("q", ""))

    class CustomNotAllowed(endpoints.HTTPEndpoint):
        async def get(self, request: Any) -> Any:
            return P("get")

        async def method_not_allowed(self, request: Any) -> Any:
            return P("nope " + ",".join(self._allowed_methods), status_code=418)

    class HeadIsNone(endpoints.HTTPEndpoint):
        head = None

        async def get(self, request: Any) -> Any:
            return P("get")

    class Raising(endpoints.HTTPEndpoint):
        async def get(self, request: Any) -> Any:
            raise ValueError("handler failed")

    return {
        c.__name__: c
        for c in (GetPost, WithHead, OnlyHead, Nothing, Others, SyncGet, CustomNotAllowed, HeadIsNone, Raising)
    }


HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "CUSTOM", "get"]
HTTP_CLASSES = list(make_http_endpoints("starlette"))


def call_http(pkg: str, cls_name: str, method: str, in_app: bool) -> Any:
    cls = make_http_endpoints(pkg)[cls_name]
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": "/thing",
        "raw_path": b"/thing",
        "root_path": "",
        "scheme": "http",
        "query_string": b"q=1",
        "headers": [(b"host", b"example.org")],
        "server": ("example.org", 80),
        "http_version": "1.1",
    }
    if in_app:
        scope["app"] = object()
    sent: list[Any] = []
    incoming = [{"type": "http.request", "body": b"payload", "more_body": False}]

    async def receive() -> Any:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    async def main() -> Any:
        endpoint = cls(scope, receive, send)
        allowed = list(endpoint._allowed_methods)
        try:
            await endpoint
        except Exception as exc:
            return allowed, describe(exc), sent
        return allowed, "ok", sent

    import anyio

    return anyio.run(main)


@pytest.mark.parametrize("in_app", [False, True], ids=["bare", "in_app"])
@pytest.mark.parametrize("method", HTTP_METHODS)
@pytest.mark.parametrize("cls_name", HTTP_CLASSES)
def test_http_endpoint_matches_reference(cls_name: str, method: str, in_app: bool) -> None:
    assert call_http("fastframe", cls_name, method, in_app) == call_http("starlette", cls_name, method, in_app)


def test_http_endpoint_405_explicit() -> None:
    allowed, outcome, sent = call_http("fastframe", "GetPost", "PUT", in_app=False)
    assert allowed == ["GET", "HEAD", "POST"]
    assert outcome == "ok"
    assert sent[0]["status"] == 405
    assert (b"allow", b"GET, HEAD, POST") in sent[0]["headers"]
    assert sent[1]["body"] == b"Method Not Allowed"

    allowed, outcome, sent = call_http("fastframe", "Others", "GET", in_app=True)
    assert allowed == ["PUT", "PATCH", "DELETE", "OPTIONS"]
    assert outcome[:2] == ("raised", "HTTPException")
    assert outcome[3] == 405
    assert outcome[5] == {"Allow": "PUT, PATCH, DELETE, OPTIONS"}
    assert sent == []


def test_http_endpoint_head_falls_back_to_get() -> None:
    _, _, sent = call_http("fastframe", "GetPost", "HEAD", in_app=False)
    assert sent[1]["body"] == b"get HEAD /thing"
    _, _, sent = call_http("fastframe", "WithHead", "HEAD", in_app=False)
    assert sent[1]["body"] == b"head"


def test_http_endpoint_rejects_non_http_scope() -> None:
    for cls in (ff_endpoints.HTTPEndpoint, RefHTTPEndpoint):
        with pytest.raises(AssertionError):
            cls({"type": "websocket"}, None, None)  # type: ignore[arg-type]


def test_http_endpoint_is_awaitable_and_attributes() -> None:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    ours = ff_endpoints.HTTPEndpoint(scope, None, None)  # type: ignore[arg-type]
    ref = RefHTTPEndpoint(scope, None, None)  # type: ignore[arg-type]
    assert (ours.scope, ours.receive, ours.send, ours._allowed_methods) == (
        ref.scope,
        ref.receive,
        ref.send,
        ref._allowed_methods,
    )
    assert hasattr(ours, "__await__")


@pytest.mark.anyio
async def test_sync_handlers_run_in_a_worker_thread() -> None:
    from fastframe.responses import PlainTextResponse

    seen: list[int] = []

    class Sync(ff_endpoints.HTTPEndpoint):
        def get(self, request: Any) -> Any:
            seen.append(threading.get_ident())
            return PlainTextResponse("ok")

    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    await Sync(scope, receive, send)
    assert sent[0]["status"] == 200
    assert seen and seen[0] != threading.get_ident()


# Through the TestClient and an application: the 405 becomes an HTTPException rendered by the app.


@pytest.fixture
def client_factories(test_client_factory: Callable[..., Any], anyio_backend: str) -> dict[str, Any]:
    import starlette.testclient

    return {
        "fastframe": test_client_factory,
        "starlette": functools.partial(starlette.testclient.TestClient, backend=anyio_backend),
    }


def app_for(pkg: str, factory: Callable[..., Any]) -> Any:
    applications = importlib.import_module(f"{pkg}.applications")
    routing = importlib.import_module(f"{pkg}.routing")
    classes = make_http_endpoints(pkg)
    routes = [routing.Route(f"/{name}", endpoint=cls) for name, cls in classes.items()]
    return factory(applications.Starlette(routes=routes), raise_server_exceptions=False)


def summarize(response: Any) -> Any:
    return response.status_code, sorted(response.headers.items()), response.content


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
@pytest.mark.parametrize("cls_name", HTTP_CLASSES)
def test_http_endpoint_in_app_matches_reference(client_factories: dict[str, Any], cls_name: str, method: str) -> None:
    results = {}
    for pkg in PACKAGES:
        client = app_for(pkg, client_factories[pkg])
        results[pkg] = summarize(client.request(method, f"/{cls_name}?q=x", content=b"data"))
    assert results["fastframe"] == results["starlette"]


def test_http_endpoint_in_app_405(client_factories: dict[str, Any]) -> None:
    client = app_for("fastframe", client_factories["fastframe"])
    response = client.put("/GetPost")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.text == "Method Not Allowed"


# --- WebSocketEndpoint -----------------------------------------------------------------------------

C = {"type": "websocket.connect"}


def make_ws_endpoint(pkg: str, encoding: Any, log: list[Any], fail: bool = False, accept: bool = True) -> type:
    endpoints, _ = modules(pkg)

    class Endpoint(endpoints.WebSocketEndpoint):
        async def on_connect(self, websocket: Any) -> None:
            if accept:
                await websocket.accept()
            else:
                log.append("connect without accept")

        async def on_receive(self, websocket: Any, data: Any) -> None:
            log.append(("receive", type(data).__name__, data))
            if fail:
                raise ValueError("on_receive failed")
            await websocket.send_text(repr(data))

        async def on_disconnect(self, websocket: Any, close_code: int) -> None:
            log.append(("disconnect", close_code, websocket.client_state.name, websocket.application_state.name))

    Endpoint.encoding = encoding
    return Endpoint


def call_ws(
    pkg: str,
    encoding: Any,
    incoming: list[dict[str, Any]],
    fail: bool = False,
    accept: bool = True,
    scope_type: str = "websocket",
) -> Any:
    log: list[Any] = []
    cls = make_ws_endpoint(pkg, encoding, log, fail, accept)
    scope = {"type": scope_type, "path": "/", "headers": [], "query_string": b""}
    queue = [dict(m) for m in incoming]
    sent: list[Any] = []

    async def receive() -> Any:
        return queue.pop(0) if queue else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    try:
        endpoint = cls(scope, receive, send)
        run_sync(endpoint)
        outcome: Any = "ok"
    except Exception as exc:
        outcome = ("raised", type(exc).__name__, str(exc), type(exc.__context__).__name__)
    return outcome, sent, log


WS_INPUTS = {
    "text": [{"type": "websocket.receive", "text": "hi"}],
    "bytes": [{"type": "websocket.receive", "bytes": b"hi"}],
    "json text": [{"type": "websocket.receive", "text": '{"a": [1, "é"]}'}],
    "json bytes": [{"type": "websocket.receive", "bytes": '{"a": "é"}'.encode()}],
    "bad json text": [{"type": "websocket.receive", "text": "{"}],
    # Edges of the fast JSON decoder: each must decode, or fail with 1003, as json.loads(text) does.
    "json bom text": [{"type": "websocket.receive", "text": "\ufeff[1]"}],
    "json bom bytes": [{"type": "websocket.receive", "bytes": b"\xef\xbb\xbf[1]"}],
    "json nul text": [{"type": "websocket.receive", "text": "\x00[\x00]"}],
    "json lone surrogate": [{"type": "websocket.receive", "text": '["\ud800"]'}],
    "json long integer": [{"type": "websocket.receive", "text": "[" + "7" * 25 + "]"}],
    "json NaN": [{"type": "websocket.receive", "text": "[NaN]"}],
    "json deep": [{"type": "websocket.receive", "text": "[" * 300 + "]" * 300}],
    "json bytes in text": [{"type": "websocket.receive", "text": b"[2]"}],
    "bad utf8": [{"type": "websocket.receive", "bytes": b"\xff"}],
    "empty text": [{"type": "websocket.receive", "text": ""}],
    "empty bytes": [{"type": "websocket.receive", "bytes": b""}],
    "text None": [{"type": "websocket.receive", "text": None, "bytes": b"x"}],
    "bytes None": [{"type": "websocket.receive", "bytes": None, "text": "t"}],
    "both": [{"type": "websocket.receive", "text": "t", "bytes": b"b"}],
    "neither": [{"type": "websocket.receive"}],
    "two messages": [{"type": "websocket.receive", "text": "1"}, {"type": "websocket.receive", "text": "2"}],
    "disconnect 4001": [{"type": "websocket.disconnect", "code": 4001}],
    "disconnect no code": [{"type": "websocket.disconnect"}],
    "disconnect code None": [{"type": "websocket.disconnect", "code": None}],
    "disconnect code str": [{"type": "websocket.disconnect", "code": "4002"}],
    "disconnect code 0": [{"type": "websocket.disconnect", "code": 0}],
    "second connect": [C],
    "unknown type": [{"type": "foo"}],
}


@pytest.mark.parametrize("inputs", list(WS_INPUTS))
@pytest.mark.parametrize("encoding", [None, "text", "bytes", "json", "bogus"])
def test_websocket_endpoint_matches_reference(encoding: Any, inputs: str) -> None:
    incoming = [C, *WS_INPUTS[inputs]]
    assert call_ws("fastframe", encoding, incoming) == call_ws("starlette", encoding, incoming)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fail": True, "incoming": [C, {"type": "websocket.receive", "text": "x"}]},
        {"accept": False, "incoming": [C, {"type": "websocket.receive", "text": "x"}]},
        {"incoming": [{"type": "websocket.receive", "text": "x"}]},
        {"scope_type": "http", "incoming": [C]},
    ],
    ids=["on_receive raises", "never accepted", "no connect", "http scope"],
)
def test_websocket_endpoint_failures_match_reference(kwargs: dict[str, Any]) -> None:
    assert call_ws("fastframe", "text", **kwargs) == call_ws("starlette", "text", **kwargs)


def test_websocket_endpoint_explicit() -> None:
    outcome, sent, log = call_ws("fastframe", "bytes", [C, {"type": "websocket.receive", "text": "x"}])
    assert outcome == ("raised", "RuntimeError", "Expected bytes websocket messages, but got text", "NoneType")
    assert sent[-1] == {"type": "websocket.close", "code": 1003, "reason": ""}
    assert log == [("disconnect", 1011, "CONNECTED", "DISCONNECTED")]

    outcome, sent, log = call_ws("fastframe", "json", [C, {"type": "websocket.receive", "text": "{"}])
    assert outcome == ("raised", "RuntimeError", "Malformed JSON data received.", "JSONDecodeError")

    outcome, sent, log = call_ws("fastframe", None, [C, {"type": "websocket.disconnect", "code": 4001}])
    assert outcome == "ok"
    assert log == [("disconnect", 4001, "DISCONNECTED", "CONNECTED")]


def test_websocket_endpoint_defaults(client_factories: dict[str, Any]) -> None:
    """The stock hooks accept, ignore messages, and let the client close."""

    def run(pkg: str) -> Any:
        endpoints, _ = modules(pkg)

        class Bare(endpoints.WebSocketEndpoint):
            pass

        client = client_factories[pkg](Bare)
        with client.websocket_connect("/") as session:
            session.send_text("ignored")
            session.send_bytes(b"ignored")
        return Bare.encoding

    assert run("fastframe") == run("starlette") is None


@pytest.mark.parametrize("encoding", ["text", "bytes", "json", None])
def test_websocket_endpoint_through_client(client_factories: dict[str, Any], encoding: Any) -> None:
    def run(pkg: str) -> Any:
        endpoints, _ = modules(pkg)
        log: list[Any] = []

        class Echo(endpoints.WebSocketEndpoint):
            async def on_receive(self, websocket: Any, data: Any) -> None:
                log.append(data)
                if isinstance(data, bytes):
                    await websocket.send_bytes(data)
                elif isinstance(data, str):
                    await websocket.send_text(data)
                else:
                    await websocket.send_json(data)

            async def on_disconnect(self, websocket: Any, close_code: int) -> None:
                log.append(("closed", close_code))

        Echo.encoding = encoding
        client = client_factories[pkg](Echo)
        try:
            with client.websocket_connect("/") as session:
                if encoding == "bytes":
                    session.send_bytes(b"\x01")
                    received = session.receive_bytes()
                elif encoding == "json":
                    session.send_json({"k": ["é", 1]})
                    received = session.receive_json()
                else:
                    session.send_text("héllo")
                    received = session.receive_text()
                # The wrong kind of frame for a typed endpoint closes with 1003.
                if encoding == "text":
                    session.send_bytes(b"x")
                    received = (received, session.receive())
                session.close(4000)
        except Exception as exc:
            return ("raised", type(exc).__name__, str(exc)), log
        return received, log

    assert run("fastframe") == run("starlette")


def test_websocket_endpoint_in_app_matches_reference(client_factories: dict[str, Any]) -> None:
    def run(pkg: str) -> Any:
        endpoints, _ = modules(pkg)
        applications = importlib.import_module(f"{pkg}.applications")
        routing = importlib.import_module(f"{pkg}.routing")
        log: list[Any] = []

        class Room(endpoints.WebSocketEndpoint):
            encoding = "json"

            async def on_connect(self, websocket: Any) -> None:
                log.append(websocket.path_params)
                await websocket.accept(subprotocol="v1")

            async def on_receive(self, websocket: Any, data: Any) -> None:
                await websocket.send_json({"room": websocket.path_params["name"], "data": data})

            async def on_disconnect(self, websocket: Any, close_code: int) -> None:
                log.append(close_code)

        app = applications.Starlette(routes=[routing.WebSocketRoute("/rooms/{name}", Room)])
        client = client_factories[pkg](app)
        with client.websocket_connect("/rooms/lobby", subprotocols=["v1"]) as session:
            session.send_json({"hello": "wörld"})
            reply = session.receive()
            protocol = session.accepted_subprotocol
            session.close(4010)
        return reply, protocol, log

    result = run("fastframe")
    assert result == run("starlette")
    assert result[0] == {"type": "websocket.send", "text": '{"room":"lobby","data":{"hello":"wörld"}}'}
    assert result[2] == [{"name": "lobby"}, 4010]


class _Abort(BaseException):
    pass


@pytest.mark.parametrize("pkg", PACKAGES)
def test_websocket_endpoint_base_exception_keeps_close_code(pkg: str) -> None:
    # Only Exception subclasses count as an internal error (1011); e.g. cancellation does not.
    endpoints, _ = modules(pkg)
    log: list[Any] = []

    class Aborting(endpoints.WebSocketEndpoint):
        async def on_receive(self, websocket: Any, data: Any) -> None:
            raise _Abort

        async def on_disconnect(self, websocket: Any, close_code: int) -> None:
            log.append(close_code)

    queue = [C, {"type": "websocket.receive", "text": "x"}]

    async def receive() -> Any:
        return queue.pop(0)

    async def send(message: Any) -> None:
        pass

    with pytest.raises(_Abort):
        run_sync(Aborting({"type": "websocket", "headers": []}, receive, send))
    assert log == [1000]
