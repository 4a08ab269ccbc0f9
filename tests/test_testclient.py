"""Differential tests: fastframe's TestClient against starlette's, driving the same raw ASGI apps."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient as RefTestClient

from fastframe.testclient import TestClient, WebSocketDenialResponse, WebSocketTestSession
from fastframe.websockets import WebSocketDisconnect

Factory = Callable[..., Any]


@pytest.fixture
def ref_client_factory(anyio_backend: str) -> Factory:
    def factory(app: Any, **kwargs: Any) -> RefTestClient:
        return RefTestClient(app, backend=anyio_backend, **kwargs)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def factories(test_client_factory: Factory, ref_client_factory: Factory) -> list[Factory]:
    return [ref_client_factory, test_client_factory]


@pytest.fixture
def both(test_client_factory: Factory, ref_client_factory: Factory) -> Callable[..., list[Any]]:
    """Build the reference client and ours for the same app and options."""

    def make(app: Any, **kwargs: Any) -> list[Any]:
        return [ref_client_factory(app, **kwargs), test_client_factory(app, **kwargs)]

    return make


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "b:" + value.decode("latin-1")
    if isinstance(value, tuple):
        return {"tuple": [_jsonable(v) for v in value]}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k != "app"}
    return value


async def scope_echo(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(_jsonable(dict(scope)))})
        await send({"type": "websocket.close"})
        return
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if not message.get("more_body", False):
            break
    body = json.dumps({"scope": _jsonable(dict(scope)), "messages": _jsonable(messages), "keys": list(scope)})
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body.encode()})


URLS = [
    "/",
    "/path/to",
    "/a%20b/c?x=1&y=2",
    "/a%3Fb/%E2%82%AC?q=%20x&q=2",
    "http://testserver:80/x",
    "http://localhost:8000/x",
    "https://testserver/x",
    "https://example.org:8443/deep/path/",
    "http://[::1]:9/v6",
    "?only=query",
]


@pytest.mark.parametrize("url", URLS)
def test_http_scope_matches_reference(both: Callable[..., list[Any]], url: str) -> None:
    results = [client.get(url).json() for client in both(scope_echo)]
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "options",
    [
        {"root_path": "/root"},
        {"base_url": "https://api.example.com:444"},
        {"base_url": "http://testserver/prefix/"},
        {"client": ("1.2.3.4", 1234)},
        {"headers": {"X-Default": "d", "User-Agent": "custom"}},
        {"headers": {"authorization": "Bearer x"}},
    ],
)
def test_http_scope_with_client_options(both: Callable[..., list[Any]], options: dict[str, Any]) -> None:
    results = [client.get("sub?q=1").json() for client in both(scope_echo, **options)]
    assert results[0] == results[1]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_methods_and_request_headers(both: Callable[..., list[Any]], method: str) -> None:
    results = [
        client.request(method, "/m", headers=[("X-Multi", "1"), ("x-multi", "2"), ("Host", "other.host:5")]).json()
        for client in both(scope_echo)
    ]
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "make_kwargs",
    [
        lambda: {},
        lambda: {"content": b"raw bytes"},
        lambda: {"content": "text content"},
        lambda: {"content": iter([b"chunk-1", b"chunk-2"])},
        lambda: {"json": {"a": [1, 2, {"b": None}], "é": "ü"}},
        lambda: {"data": {"field": "value", "other": ["1", "2"]}},
        lambda: {"params": {"p": "1", "q": ["x", "y"]}},
    ],
)
def test_request_body_messages(both: Callable[..., list[Any]], make_kwargs: Callable[[], dict[str, Any]]) -> None:
    results = [client.post("/body", **make_kwargs()).json() for client in both(scope_echo)]
    assert results[0] == results[1]


def test_websocket_scope_matches_reference(both: Callable[..., list[Any]]) -> None:
    results = []
    for client in both(scope_echo, root_path="/r"):
        with client.websocket_connect("/ws/a%20b?x=1", subprotocols=["one", "two"]) as session:
            results.append(json.loads(session.receive_text()))
        with client.websocket_connect("wss://other:444/w", headers={"X-Extra": "1"}) as session:
            results.append(json.loads(session.receive_text()))
    assert results[:2] == results[2:]


def test_lifespan_state_is_copied_into_each_request(both: Callable[..., list[Any]]) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    scope["state"]["started"] = True
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        state = scope["state"]
        body = repr(sorted(state.items())).encode()
        state["per_request"] = state.get("per_request", 0) + 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    results = []
    for client in both(app):
        with client:
            results.append([client.get("/").text, client.get("/").text])
        # outside the context manager lifespan never ran
        results.append([client.get("/").text])
    assert results[0] == results[2] == ["[('started', True)]", "[('started', True)]"]
    assert results[1] == results[3]


def _lifespan_app(kind: str, events: list[str]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            if kind == "unsupported":
                raise RuntimeError("lifespan not supported")
            message = await receive()
            events.append(message["type"])
            if kind == "raise_startup":
                raise RuntimeError("startup boom")
            if kind == "startup_failed_then_raise":
                await send({"type": "lifespan.startup.failed", "message": "nope"})
                raise RuntimeError("after failed")
            if kind == "return_early":
                return
            await send({"type": "lifespan.startup.complete"})
            if kind == "return_after_startup":
                return
            message = await receive()
            events.append(message["type"])
            if kind == "raise_shutdown":
                raise RuntimeError("shutdown boom")
            if kind == "shutdown_failed":
                await send({"type": "lifespan.shutdown.failed", "message": "sd"})
                return
            await send({"type": "lifespan.shutdown.complete"})
            return
        events.append("request")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


@pytest.mark.parametrize(
    "kind",
    [
        "ok",
        "unsupported",
        "raise_startup",
        "startup_failed_then_raise",
        "return_early",
        "return_after_startup",
        "raise_shutdown",
        "shutdown_failed",
    ],
)
def test_lifespan_outcomes(test_client_factory: Factory, ref_client_factory: Factory, kind: str) -> None:
    outcomes = []
    for factory in (ref_client_factory, test_client_factory):
        events: list[str] = []
        error = None
        try:
            with factory(_lifespan_app(kind, events)) as client:
                client.get("/")
        except Exception as exc:
            error = (type(exc), str(exc))
        outcomes.append((events, error))
    assert outcomes[0] == outcomes[1]


def test_lifespan_startup_failed_message_does_not_raise(test_client_factory: Factory) -> None:
    # The reference enters the block after lifespan.startup.failed when the app then returns.
    events: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            events.append((await receive())["type"])
            await send({"type": "lifespan.startup.failed", "message": "nope"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"served"})

    with test_client_factory(app) as client:
        assert client.get("/").text == "served"
    assert events == ["lifespan.startup"]


def _raising_app(kind: str) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if kind == "before_start":
            raise ValueError("before start")
        if kind == "no_response":
            return
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-h", b"1")]})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        if kind == "mid_body":
            raise KeyError("mid body")
        await send({"type": "http.response.body", "body": b"-rest"})
        if kind == "after_body":
            raise LookupError("background")

    return app


@pytest.mark.parametrize("kind", ["before_start", "no_response", "mid_body", "after_body", "fine"])
@pytest.mark.parametrize("raise_server_exceptions", [True, False])
def test_raise_server_exceptions(both: Callable[..., list[Any]], kind: str, raise_server_exceptions: bool) -> None:
    outcomes = []
    for client in both(_raising_app(kind), raise_server_exceptions=raise_server_exceptions):
        try:
            response = client.get("/")
        except Exception as exc:
            outcomes.append(("raised", type(exc), str(exc)))
        else:
            outcomes.append((response.status_code, response.headers.get("x-h"), response.content))
    assert outcomes[0] == outcomes[1]


def test_streaming_response_is_incremental(test_client_factory: Factory) -> None:
    log: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for index in range(3):
            log.append(f"sent {index}")
            await send({"type": "http.response.body", "body": b"chunk%d" % index, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    client = test_client_factory(app)
    with client.stream("GET", "/") as response:
        chunks = []
        for chunk in response.iter_raw():
            chunks.append(chunk)
            log.append(f"got {chunk.decode()}")
    assert chunks == [b"chunk0", b"chunk1", b"chunk2"]
    # the app never runs more than one chunk ahead of the reader
    assert log.index("got chunk0") < log.index("sent 2")


def test_closing_stream_early_cancels_app(factories: list[Factory]) -> None:
    for factory in factories:
        _check_early_close(factory)


def _check_early_close(factory: Factory) -> None:
    finalised: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x" * 10, "more_body": True})
        finally:
            finalised.append("done")

    client = factory(app)
    with client.stream("GET", "/") as response:
        assert next(response.iter_bytes()) == b"x" * 10
    assert finalised == ["done"]


def test_head_has_no_body_and_disconnect_after_response(both: Callable[..., list[Any]]) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        first = await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4")]})
        await send({"type": "http.response.body", "body": b"body"})
        second = await receive()
        seen.append((first["type"], second["type"]))

    seen: list[tuple[str, str]] = []
    results = []
    for client in both(app):
        head = client.head("/")
        get = client.get("/")
        results.append((head.content, head.headers["content-length"], get.content))
    assert results[0] == results[1] == (b"", "4", b"body")
    assert seen == [("http.request", "http.disconnect")] * 4


def test_debug_extension_sets_template_and_context(both: Callable[..., list[Any]]) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert "http.response.debug" in scope["extensions"]
        await send({"type": "http.response.debug", "info": {"template": "index.html", "context": {"a": 1}}})
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x"})

    results = [(r.template, r.context, r.text) for r in (c.get("/") for c in both(app))]
    assert results[0] == results[1] == ("index.html", {"a": 1}, "x")


def _cookie_redirect_app() -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        path = scope["path"]
        headers: list[tuple[bytes, bytes]] = []
        status = 200
        body = b""
        if path == "/set":
            headers = [(b"set-cookie", b"session=abc; Path=/"), (b"set-cookie", b"other=1; Path=/")]
        elif path == "/redirect":
            status, headers = 307, [(b"location", b"/target?from=redirect")]
        elif path == "/redirect-abs":
            status, headers = 302, [(b"location", b"http://otherhost/target")]
        elif path == "/clear":
            headers = [(b"set-cookie", b"session=; Max-Age=0; Path=/")]
        else:
            cookie = dict(scope["headers"]).get(b"cookie", b"")
            body = b"|".join([path.encode(), scope["query_string"], cookie, dict(scope["headers"])[b"host"]])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def test_cookies_persist_between_requests(both: Callable[..., list[Any]]) -> None:
    results = []
    for client in both(_cookie_redirect_app()):
        client.get("/set")
        first = client.get("/echo").text
        client.get("/clear")
        second = client.get("/echo").text
        results.append((first, second, sorted(client.cookies.items())))
    assert results[0] == results[1]
    assert "session=abc" in results[1][0]


def test_client_cookies_argument(both: Callable[..., list[Any]]) -> None:
    results = [c.get("/echo").text for c in both(_cookie_redirect_app(), cookies={"preset": "yes"})]
    assert results[0] == results[1] == "/echo||preset=yes|testserver"


@pytest.mark.parametrize("follow_redirects", [True, False])
@pytest.mark.parametrize("path", ["/redirect", "/redirect-abs"])
def test_redirects(both: Callable[..., list[Any]], follow_redirects: bool, path: str) -> None:
    results = []
    for client in both(_cookie_redirect_app(), follow_redirects=follow_redirects):
        response = client.get(path)
        results.append(
            (response.status_code, str(response.url), response.text, [r.status_code for r in response.history])
        )
        per_request = client.get(path, follow_redirects=not follow_redirects)
        results.append((per_request.status_code, per_request.text))
    assert results[:2] == results[2:]


def test_asgi2_applications(both: Callable[..., list[Any]]) -> None:
    class ClassApp:
        def __init__(self, scope: Any) -> None:
            self.scope = scope

        async def __call__(self, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"class " + self.scope["path"].encode()})

    def function_app(scope: Any) -> Any:
        async def instance(receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"function"})

        return instance

    for app in (ClassApp, function_app):
        results = [client.get("/x").text for client in both(app)]
        assert results[0] == results[1]


def test_default_headers(test_client_factory: Factory) -> None:
    client = test_client_factory(scope_echo)
    assert client.headers["user-agent"] == "testclient"
    headers = dict(pair["tuple"] for pair in client.get("/").json()["scope"]["headers"])
    assert headers["b:user-agent"] == "b:testclient"


def _ws_app(kind: str) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        await receive()
        if kind == "deny":
            await send({"type": "websocket.http.response.start", "status": 403, "headers": [(b"x-a", b"1")]})
            await send({"type": "websocket.http.response.body", "body": b"den", "more_body": True})
            await send({"type": "websocket.http.response.body", "body": b"ied"})
            return
        if kind == "close_before_accept":
            await send({"type": "websocket.close", "code": 1001, "reason": "bye"})
            return
        if kind == "raise_before_accept":
            raise ValueError("ws boom")
        await send({"type": "websocket.accept", "subprotocol": "p1", "headers": [(b"x-b", b"2")]})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                received.append(message)
                return
            if kind == "raise_after_accept":
                raise KeyError("later")
            if message.get("text") == "close":
                await send({"type": "websocket.close", "code": 4000, "reason": "asked"})
                return
            reply = {k: v for k, v in message.items() if k in ("text", "bytes")}
            await send({"type": "websocket.send", **reply})

    received: list[Any] = []
    app.received = received  # type: ignore[attr-defined]
    return app


def _exc_info(exc: BaseException) -> tuple[Any, ...]:
    return (
        type(exc).__name__,
        getattr(exc, "code", None),
        getattr(exc, "reason", None),
        getattr(exc, "status_code", None),
    )


def test_websocket_session_round_trip(factories: list[Factory]) -> None:
    results = []
    for factory in factories:
        app = _ws_app("echo")
        client = factory(app)
        with client.websocket_connect("/ws", subprotocols=["p1", "p2"]) as session:
            row: list[Any] = [session.accepted_subprotocol, session.extra_headers]
            session.send_text("hello")
            row.append(session.receive_text())
            session.send_bytes(b"\x00\x01")
            row.append(session.receive_bytes())
            session.send_json({"a": "é", "b": [1, 2]})
            row.append(session.receive_text())
            session.send_json({"a": 1}, mode="binary")
            row.append(session.receive_bytes())
            session.send_text('{"z": 1}')
            row.append(session.receive_json())
            session.send_bytes(b'{"z": 2}')
            row.append(session.receive_json(mode="binary"))
            session.send_text("raw")
            row.append(session.receive())
        results.append((row, app.received))
    assert results[0] == results[1]
    assert results[1][1] == [{"type": "websocket.disconnect", "code": 1000, "reason": None}]


def test_websocket_explicit_close_and_server_close(factories: list[Factory]) -> None:
    results = []
    for factory in factories:
        app = _ws_app("echo")
        client = factory(app)
        with client.websocket_connect("/ws") as session:
            session.close(1002, "r")
        with client.websocket_connect("/ws") as session:
            session.send_text("close")
            with pytest.raises(Exception) as info:
                session.receive_text()
            results.append(_exc_info(info.value))
        results.append(app.received)
    assert results[:2] == results[2:]
    assert results[0] == ("WebSocketDisconnect", 4000, "asked", None)


@pytest.mark.parametrize("kind", ["deny", "close_before_accept", "raise_before_accept", "raise_after_accept"])
def test_websocket_failures(both: Callable[..., list[Any]], kind: str) -> None:
    results = []
    for client in both(_ws_app(kind)):
        try:
            with client.websocket_connect("/ws") as session:
                session.send_text("x")
                session.receive_text()
        except Exception as exc:
            info = _exc_info(exc)
            if kind == "deny":
                info += (exc.content, exc.headers.get("x-a"))  # type: ignore[attr-defined]
            results.append(info)
        else:
            results.append(None)
    assert results[0] == results[1]
    assert results[1] is not None


def test_websocket_denial_response_types(test_client_factory: Factory) -> None:
    client = test_client_factory(_ws_app("deny"))
    with pytest.raises(WebSocketDenialResponse) as info:
        client.websocket_connect("/ws").__enter__()
    assert isinstance(info.value, WebSocketDisconnect)
    assert info.value.status_code == 403
    assert info.value.text == "denied"


def test_websocket_connect_returns_session(test_client_factory: Factory) -> None:
    session = test_client_factory(_ws_app("echo")).websocket_connect("/ws")
    assert isinstance(session, WebSocketTestSession)
    with session:
        session.send_text("hi")
        assert session.receive_text() == "hi"


def test_websocket_app_returning_without_close_does_not_hang(test_client_factory: Factory) -> None:
    # The reference blocks forever here; fastframe reports an abnormal closure instead.
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()

    with pytest.raises(WebSocketDisconnect) as info:
        with test_client_factory(app).websocket_connect("/ws"):
            pass  # pragma: no cover
    assert info.value.code == 1006


def test_portal_only_exists_inside_context(test_client_factory: Factory) -> None:
    client = test_client_factory(_lifespan_app("ok", []))
    assert client.portal is None
    with client:
        assert client.portal is not None
        assert client.get("/").status_code == 204
    assert client.portal is None


def test_testclient_is_not_collected_by_pytest() -> None:
    assert TestClient.__test__ is False


def test_final_body_reaches_client_when_app_watches_for_disconnect(both: Callable[..., list[Any]]) -> None:
    # Responses such as FileResponse listen for http.disconnect while sending; the
    # disconnect must only be reported once the client holds the final chunk.
    import anyio

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(watch)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"first-", "more_body": True})
            await send({"type": "http.response.body", "body": b"last"})
            await anyio.sleep_forever()

    results = [client.get("/").content for client in both(app)]
    assert results[0] == results[1] == b"first-last"


def test_timeout_argument_warns(factories: list[Factory]) -> None:
    import warnings

    results = []
    for factory in factories:
        client = factory(scope_echo)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            client.request("GET", "/", timeout=5)
            client.get("/")
        # ResourceWarnings come from whatever the garbage collector happens to finalise meanwhile.
        warned = [w for w in caught if not issubclass(w.category, ResourceWarning)]
        results.append([(w.category.__name__, str(w.message), w.filename == __file__) for w in warned])
    assert results[0] == results[1]
    assert len(results[1]) == 1


_START = {"type": "http.response.start", "status": 200, "headers": []}
_START_TRAILERS = {"type": "http.response.start", "status": 200, "headers": [], "trailers": True}
_BODY = {"type": "http.response.body", "body": b"abc"}
_BODY_MORE = {"type": "http.response.body", "body": b"abc", "more_body": True}
_TRAILERS = {"type": "http.response.trailers", "headers": [(b"x-t", b"1")]}
_TRAILERS_MORE = {"type": "http.response.trailers", "headers": [(b"x-u", b"2")], "more_trailers": True}
_DEBUG = {"type": "http.response.debug", "info": {"template": "t.html", "context": {"k": 1}}}
_UNKNOWN = {"type": "unknown.message"}

PROTOCOL_CASES = {
    "trailers": [_START_TRAILERS, _BODY, _TRAILERS],
    "trailers_in_parts": [_START_TRAILERS, _BODY_MORE, _BODY, _TRAILERS_MORE, _TRAILERS],
    "trailers_undeclared": [_START, _BODY, _TRAILERS],
    "trailers_before_body": [_START_TRAILERS, _TRAILERS],
    "trailers_before_body_done": [_START_TRAILERS, _BODY_MORE, _TRAILERS],
    "trailers_declared_never_sent": [_START_TRAILERS, _BODY],
    "trailers_twice": [_START_TRAILERS, _BODY, _TRAILERS, _TRAILERS],
    "body_after_trailers": [_START_TRAILERS, _BODY, _TRAILERS, _BODY],
    "body_after_body_with_trailers_pending": [_START_TRAILERS, _BODY, _BODY],
    "unknown_messages_ignored": [_UNKNOWN, _START, _BODY, _UNKNOWN],
    "body_without_start": [_BODY],
    "debug_then_body_without_start": [_DEBUG, _BODY],
    "start_twice": [_START, _START, _BODY],
    "body_after_complete": [_START, _BODY, _BODY],
    "start_after_body": [_START, _BODY, _START],
    "debug_after_start": [_START, _DEBUG, _BODY],
    "trailers_without_start": [_TRAILERS],
}


@pytest.mark.parametrize("case", sorted(PROTOCOL_CASES))
@pytest.mark.parametrize("raise_server_exceptions", [True, False])
def test_response_protocol_checks(both: Callable[..., list[Any]], case: str, raise_server_exceptions: bool) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        for message in PROTOCOL_CASES[case]:
            await send(dict(message))

    outcomes = []
    for client in both(app, raise_server_exceptions=raise_server_exceptions):
        try:
            response = client.get("/")
        except Exception as exc:
            outcomes.append(("raised", type(exc).__name__, str(exc)))
        else:
            outcomes.append(
                (response.status_code, response.content, response.extensions, getattr(response, "template", None))
            )
    assert outcomes[0] == outcomes[1]


def test_non_ascii_response_headers_are_kept(test_client_factory: Factory) -> None:
    # The reference fails on these (it decodes as UTF-8 and re-encodes as ASCII);
    # fastframe hands the raw bytes to httpx.
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"x-utf8", "é".encode()), (b"x-latin", "é".encode("latin-1"))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    response = test_client_factory(app).get("/")
    assert response.headers.raw == [(b"x-utf8", b"\xc3\xa9"), (b"x-latin", b"\xe9")]
