"""Every error a WebSocket raises for a message out of turn, with its exact type and text.

Each case is run on the plain class (the typed methods' short path) and on a subclass that
hooks send() and receive() (the long path), for both packages; the exception must be the same,
and must be the one written here.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.test_websockets import DISCONNECT, C, data, run_sync, text

Script = Callable[[Any], Awaitable[Any]]

CONNECT_EXPECTED = 'Expected ASGI message "websocket.connect", but got {!r}'
DATA_EXPECTED = 'Expected ASGI message "websocket.receive" or "websocket.disconnect", but got {!r}'
RECEIVE_ENDED = 'Cannot call "receive" once a disconnect message has been received.'
HANDSHAKE_EXPECTED = (
    'Expected ASGI message "websocket.accept", "websocket.close" or "websocket.http.response.start", but got {!r}'
)
OPEN_EXPECTED = 'Expected ASGI message "websocket.send" or "websocket.close", but got {!r}'
BODY_EXPECTED = 'Expected ASGI message "websocket.http.response.body", but got {!r}'
SEND_ENDED = 'Cannot call "send" once a close message has been sent.'
NOT_ACCEPTED = 'WebSocket is not connected. Need to call "accept" first.'
BAD_MODE = 'The "mode" argument should be "text" or "binary".'
NO_DENIAL = "The server doesn't support the Websocket Denial Response extension."

DENIAL = {"extensions": {"websocket.http.response": {}}}
START = {"type": "websocket.http.response.start", "status": 403, "headers": []}


async def _accept_then(ws: Any, call: Callable[[Any], Awaitable[Any]]) -> Any:
    await ws.accept()
    return await call(ws)


async def _closed_then(ws: Any, call: Callable[[Any], Awaitable[Any]]) -> Any:
    await ws.accept()
    await ws.close()
    return await call(ws)


async def _denying_then(ws: Any, call: Callable[[Any], Awaitable[Any]]) -> Any:
    await ws.send(START)
    return await call(ws)


async def _gone_then(ws: Any, call: Callable[[Any], Awaitable[Any]]) -> Any:
    await ws.accept()
    try:
        await ws.receive_text()
    except Exception:
        pass
    return await call(ws)


# name -> (script, incoming messages, scope extra, expected type, expected text)
CASES: dict[str, tuple[Script, list[dict[str, Any]], dict[str, Any], str, str]] = {
    "receive: first message not connect": (
        lambda ws: ws.receive(),
        [text("x")],
        {},
        "RuntimeError",
        CONNECT_EXPECTED.format("websocket.receive"),
    ),
    "accept: first message not connect": (
        lambda ws: ws.accept(),
        [DISCONNECT],
        {},
        "RuntimeError",
        CONNECT_EXPECTED.format("websocket.disconnect"),
    ),
    "accept: first message of unknown type": (
        lambda ws: ws.accept(),
        [{"type": "http.request"}],
        {},
        "RuntimeError",
        CONNECT_EXPECTED.format("http.request"),
    ),
    "receive: connect twice": (
        lambda ws: _accept_then(ws, lambda w: w.receive()),
        [C, C],
        {},
        "RuntimeError",
        DATA_EXPECTED.format("websocket.connect"),
    ),
    "receive_text: connect twice": (
        lambda ws: _accept_then(ws, lambda w: w.receive_text()),
        [C, C],
        {},
        "RuntimeError",
        DATA_EXPECTED.format("websocket.connect"),
    ),
    "receive_bytes: unknown type": (
        lambda ws: _accept_then(ws, lambda w: w.receive_bytes()),
        [C, {"type": "websocket.ping"}],
        {},
        "RuntimeError",
        DATA_EXPECTED.format("websocket.ping"),
    ),
    "receive_json: unknown type": (
        lambda ws: _accept_then(ws, lambda w: w.receive_json()),
        [C, {"type": None}],
        {},
        "RuntimeError",
        DATA_EXPECTED.format(None),
    ),
    "receive: after disconnect": (
        lambda ws: _gone_then(ws, lambda w: w.receive()),
        [C, DISCONNECT],
        {},
        "WebSocketDisconnected",
        RECEIVE_ENDED,
    ),
    "receive_text: after disconnect": (
        lambda ws: _gone_then(ws, lambda w: w.receive_text()),
        [C, DISCONNECT],
        {},
        "WebSocketDisconnected",
        RECEIVE_ENDED,
    ),
    "send: data before accept": (
        lambda ws: ws.send({"type": "websocket.send", "text": "x"}),
        [C],
        {},
        "RuntimeError",
        HANDSHAKE_EXPECTED.format("websocket.send"),
    ),
    "send_text: before accept": (
        lambda ws: ws.send_text("x"),
        [C],
        {},
        "RuntimeError",
        HANDSHAKE_EXPECTED.format("websocket.send"),
    ),
    "send_bytes: before accept": (
        lambda ws: ws.send_bytes(b"x"),
        [C],
        {},
        "RuntimeError",
        HANDSHAKE_EXPECTED.format("websocket.send"),
    ),
    "send_json: before accept": (
        lambda ws: ws.send_json(1),
        [C],
        {},
        "RuntimeError",
        HANDSHAKE_EXPECTED.format("websocket.send"),
    ),
    "accept: twice": (
        lambda ws: _accept_then(ws, lambda w: w.accept()),
        [C],
        {},
        "RuntimeError",
        OPEN_EXPECTED.format("websocket.accept"),
    ),
    "send: response start after accept": (
        lambda ws: _accept_then(ws, lambda w: w.send(START)),
        [C],
        DENIAL,
        "RuntimeError",
        OPEN_EXPECTED.format("websocket.http.response.start"),
    ),
    "send_text: while denying": (
        lambda ws: _denying_then(ws, lambda w: w.send_text("x")),
        [C],
        DENIAL,
        "RuntimeError",
        BODY_EXPECTED.format("websocket.send"),
    ),
    "close: while denying": (
        lambda ws: _denying_then(ws, lambda w: w.close()),
        [C],
        DENIAL,
        "RuntimeError",
        BODY_EXPECTED.format("websocket.close"),
    ),
    "send_text: after close": (
        lambda ws: _closed_then(ws, lambda w: w.send_text("x")),
        [C],
        {},
        "WebSocketDisconnected",
        SEND_ENDED,
    ),
    "send_bytes: after close": (
        lambda ws: _closed_then(ws, lambda w: w.send_bytes(b"x")),
        [C],
        {},
        "WebSocketDisconnected",
        SEND_ENDED,
    ),
    "send_json: after close": (
        lambda ws: _closed_then(ws, lambda w: w.send_json([1], "binary")),
        [C],
        {},
        "WebSocketDisconnected",
        SEND_ENDED,
    ),
    "close: twice": (lambda ws: _closed_then(ws, lambda w: w.close()), [C], {}, "WebSocketDisconnected", SEND_ENDED),
    "accept: after close": (
        lambda ws: _closed_then(ws, lambda w: w.accept()),
        [C],
        {},
        "WebSocketDisconnected",
        SEND_ENDED,
    ),
    "send: body after the denial's last part": (
        lambda ws: _denying_then(ws, lambda w: _two_bodies(w)),
        [C],
        DENIAL,
        "WebSocketDisconnected",
        SEND_ENDED,
    ),
    "receive_text: before accept": (lambda ws: ws.receive_text(), [C], {}, "WebSocketDisconnected", NOT_ACCEPTED),
    "receive_bytes: after close": (
        lambda ws: _closed_then(ws, lambda w: w.receive_bytes()),
        [C, data(b"x")],
        {},
        "WebSocketDisconnected",
        NOT_ACCEPTED,
    ),
    "receive_json: while denying": (
        lambda ws: _denying_then(ws, lambda w: w.receive_json()),
        [C],
        DENIAL,
        "WebSocketDisconnected",
        NOT_ACCEPTED,
    ),
    "receive_json: bad mode": (lambda ws: ws.receive_json("xml"), [C], {}, "RuntimeError", BAD_MODE),
    "send_json: bad mode": (
        lambda ws: _accept_then(ws, lambda w: w.send_json({}, "TEXT")),
        [C],
        {},
        "RuntimeError",
        BAD_MODE,
    ),
    "send_denial_response: no extension": (
        lambda ws: ws.send_denial_response(ws.scope["response"]),
        [C],
        {},
        "RuntimeError",
        NO_DENIAL,
    ),
}


async def _two_bodies(ws: Any) -> None:
    await ws.send({"type": "websocket.http.response.body", "body": b"done"})
    await ws.send({"type": "websocket.http.response.body", "body": b"more"})


def _run(pkg: str, hooked: bool, case: str) -> Any:
    websockets = importlib.import_module(f"{pkg}.websockets")
    responses = importlib.import_module(f"{pkg}.responses")
    script, incoming, extra, _, _ = CASES[case]
    cls = websockets.WebSocket
    if hooked:

        class Hooked(cls):  # type: ignore[valid-type,misc]
            async def send(self, message: Any) -> None:
                await super().send(message)

            async def receive(self) -> Any:
                return await super().receive()

        cls = Hooked
    queue = [dict(m) for m in incoming]

    async def receive() -> Any:
        return queue.pop(0)

    async def send(message: Any) -> None:
        pass

    scope = {"type": "websocket", "path": "/", "headers": [], "response": responses.Response("no"), **extra}
    ws = cls(scope, receive, send)
    try:
        run_sync(script(ws))
    except Exception as exc:
        return type(exc).__name__, str(exc), ws.client_state.name, ws.application_state.name
    return None  # pragma: no cover - every case raises


@pytest.mark.parametrize("hooked", [False, True], ids=["plain", "hooked"])
@pytest.mark.parametrize("case", list(CASES))
def test_state_error(case: str, hooked: bool) -> None:
    expected = _run("starlette", hooked, case)
    actual = _run("fastframe", hooked, case)
    assert actual == expected
    assert actual[:2] == CASES[case][3:]
