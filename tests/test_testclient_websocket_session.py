"""WebSocketTestSession against the reference: close codes and reasons in both directions,
errors of the app and when the test sees them, what the app sees when the session ends, the
JSON helpers and the handshake headers. Where the reference waits forever, fastframe's answer
is tested on its own (listed in docs/differences.md)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import anyio
import pytest

PACKAGES = ("starlette", "fastframe")


def client_for(pkg: str, app: Any, backend: str, **kwargs: Any) -> Any:
    return importlib.import_module(f"{pkg}.testclient").TestClient(app, backend=backend, **kwargs)


def outcome(run: Callable[[], Any]) -> Any:
    try:
        return ("returned", run())
    except Exception as exc:
        return ("raised", type(exc).__name__, exc.args, getattr(exc, "code", None), getattr(exc, "reason", None))


def _closing_app(when: str, message: dict[str, Any], log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        log.append((await receive())["type"])
        if when == "after accept":
            await send({"type": "websocket.accept"})
        await send(message)

    return app


CLOSES = {
    "bare": {"type": "websocket.close"},
    "code": {"type": "websocket.close", "code": 4001},
    "code and reason": {"type": "websocket.close", "code": 4002, "reason": "bye"},
    "reason None": {"type": "websocket.close", "code": 1001, "reason": None},
    "empty reason": {"type": "websocket.close", "code": 1000, "reason": ""},
}


@pytest.mark.parametrize("read", ["enter", "receive", "receive_text", "receive_bytes", "receive_json"])
@pytest.mark.parametrize("when", ["before accept", "after accept"])
@pytest.mark.parametrize("close", list(CLOSES))
def test_app_closes(anyio_backend: str, close: str, when: str, read: str) -> None:
    def run(pkg: str) -> Any:
        log: list[Any] = []
        client = client_for(pkg, _closing_app(when, CLOSES[close], log), anyio_backend)

        def script() -> Any:
            with client.websocket_connect("/ws") as session:
                return None if read == "enter" else getattr(session, read)()

        return outcome(script), log

    results = [run(pkg) for pkg in PACKAGES]
    assert results[1] == results[0]
    if when == "before accept" or read not in ("enter", "receive"):
        assert results[1][0][1] == "WebSocketDisconnect"


def _recording_app(log: list[Any], after: str = "return") -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            log.append(message)
            if message["type"] == "websocket.disconnect":
                break
            await send({"type": "websocket.send", **{k: v for k, v in message.items() if k in ("text", "bytes")}})
        if after == "raise":
            raise ValueError("after the disconnect")
        if after == "sleep":
            await anyio.sleep(5)
            log.append("slept")  # pragma: no cover - cancelled first
        if after == "receive again":
            log.append(await receive())  # pragma: no cover - cancelled first
        if after == "send":
            await send({"type": "websocket.send", "text": "to nobody"})
            log.append("sent to nobody")

    return app


CLIENT_CLOSES: dict[str, Callable[[Any], None]] = {
    "exit": lambda session: None,
    "close()": lambda session: session.close(),
    "close(code)": lambda session: session.close(4005),
    "close(code, reason)": lambda session: session.close(4006, "client reason"),
    "raw disconnect": lambda session: session.send({"type": "websocket.disconnect", "code": 1001}),
}


@pytest.mark.parametrize("after", ["return", "raise", "sleep", "receive again"])
@pytest.mark.parametrize("close", list(CLIENT_CLOSES))
def test_client_closes(anyio_backend: str, close: str, after: str) -> None:
    def run(pkg: str) -> Any:
        log: list[Any] = []
        client = client_for(pkg, _recording_app(log, after), anyio_backend)

        def script() -> Any:
            with client.websocket_connect("/ws") as session:
                session.send_text("hello")
                echoed = session.receive_text()
                CLIENT_CLOSES[close](session)
                return echoed

        return outcome(script), log

    results = [run(pkg) for pkg in PACKAGES]
    assert results[1] == results[0]
    disconnects = [m for m in results[1][1] if isinstance(m, dict) and m["type"] == "websocket.disconnect"]
    assert disconnects, "the app never heard the session end"


@pytest.mark.parametrize("raise_server_exceptions", [True, False])
@pytest.mark.parametrize("when", ["before accept", "after accept"])
def test_app_errors_reach_the_test_once(anyio_backend: str, when: str, raise_server_exceptions: bool) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if when == "after accept":
            await send({"type": "websocket.accept"})
        raise KeyError("app failed")

    def run(pkg: str) -> Any:
        client = client_for(pkg, app, anyio_backend, raise_server_exceptions=raise_server_exceptions)
        seen: list[Any] = []
        try:
            with client.websocket_connect("/ws") as session:
                try:
                    session.receive()
                except KeyError as exc:
                    seen.append(exc.args)
        except KeyError as exc:
            seen.append(exc.args)
        return seen

    # Where an app that fails right after accepting is reported (entering the session, or the first
    # receive) depends on the reference's scheduling; that it is reported, once, does not.
    results = [run(pkg) for pkg in PACKAGES]
    assert results[1] == results[0] == [("app failed",)]


def test_json_helpers_and_modes(anyio_backend: str) -> None:
    def run(pkg: str) -> Any:
        log: list[Any] = []
        client = client_for(pkg, _recording_app(log), anyio_backend)
        received = []
        with client.websocket_connect("/ws") as session:
            for data, mode in (({"a": "é", "b": [1, 2.5, None]}, "text"), ([1], "binary"), ("x", "other")):
                session.send_json(data, mode=mode)  # type: ignore[arg-type]
                received.append(outcome(lambda: session.receive_json(mode=mode)))  # noqa: B023
        return received, log

    results = [run(pkg) for pkg in PACKAGES]
    assert results[1] == results[0]
    assert results[1][1][0] == {"type": "websocket.receive", "text": '{"a":"é","b":[1,2.5,null]}'}


def test_handshake_headers(anyio_backend: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": (scope["subprotocols"] or [None])[0]})
        await send({"type": "websocket.send", "text": repr((scope["headers"], scope["subprotocols"]))})
        await send({"type": "websocket.close"})

    def run(pkg: str) -> Any:
        client = client_for(pkg, app, anyio_backend)
        rows = []
        for subprotocols, headers in (
            (None, None),
            (["one", "two"], {"X-Extra": "1"}),
            (None, {"sec-websocket-protocol": "a,  b ,c", "Connection": "keep-alive"}),
            (["p"], {"sec-websocket-protocol": "given"}),
        ):
            kwargs = {} if headers is None else {"headers": headers}
            with client.websocket_connect("/ws", subprotocols=subprotocols, **kwargs) as session:
                rows.append((session.accepted_subprotocol, session.extra_headers, session.receive_text(), headers))
        return rows

    results = [run(pkg) for pkg in PACKAGES]
    assert results[1] == results[0]


def test_a_url_that_is_not_a_websocket(anyio_backend: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"plain"})

    results = [
        outcome(lambda: client_for(pkg, app, anyio_backend).websocket_connect("http://testserver/x"))  # noqa: B023
        for pkg in PACKAGES
    ]
    assert results[1] == results[0] == ("raised", "RuntimeError", ("Expected WebSocket upgrade",), None, None)


def test_session_in_the_clients_portal(anyio_backend: str) -> None:
    """Inside ``with client:`` sessions run beside the lifespan, in the client's portal."""

    def run(pkg: str) -> Any:
        log: list[Any] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "lifespan":
                await receive()
                scope["state"]["ready"] = True
                await send({"type": "lifespan.startup.complete"})
                await receive()
                log.append("shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return
            log.append(("state", dict(scope["state"])))
            await _recording_app(log)(scope, receive, send)

        with client_for(pkg, app, anyio_backend) as client:
            with client.websocket_connect("/ws") as session:
                session.send_text("x")
                session.receive_text()
            log.append(("portal kept", client.portal is not None))
        return log

    results = [run(pkg) for pkg in PACKAGES]
    assert results[1] == results[0]
    assert results[1][-1] == "shutdown"


# --- where the reference waits forever ------------------------------------------------------------


def test_app_returning_before_accepting(test_client_factory: Callable[..., Any]) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()

    with pytest.raises(importlib.import_module("fastframe.websockets").WebSocketDisconnect) as info:
        with test_client_factory(app).websocket_connect("/ws"):
            pass  # pragma: no cover
    assert (info.value.code, info.value.reason) == (1006, "")


def test_reading_after_the_app_returned(test_client_factory: Callable[..., Any]) -> None:
    from fastframe.websockets import WebSocketDisconnect

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "only"})

    with test_client_factory(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "only"
        assert session.receive() == {"type": "websocket.close", "code": 1006, "reason": ""}
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
        assert info.value.code == 1006


def test_reading_after_the_app_closed_and_returned(test_client_factory: Callable[..., Any]) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 4000})

    with test_client_factory(app).websocket_connect("/ws") as session:
        assert session.receive() == {"type": "websocket.close", "code": 4000}
        assert session.receive()["code"] == 1006


def test_the_app_winds_down_deterministically(test_client_factory: Callable[..., Any]) -> None:
    """Listed in docs/differences.md: after the session ends the app runs on until it returns or
    waits (for a message that will not come, or anything else); only then is it cancelled. The
    reference cancels it wherever the event loop happens to be."""
    log: list[Any] = []
    with test_client_factory(_recording_app(log, after="send")).websocket_connect("/ws") as session:
        session.send_text("hello")
        session.receive_text()
    assert log[-1] == "sent to nobody"
    log.clear()
    with test_client_factory(_recording_app(log, after="sleep")).websocket_connect("/ws"):
        pass
    assert log == [{"type": "websocket.disconnect", "code": 1000, "reason": None}]
