"""A fastframe websocket app behind a real server (uvicorn) and a real client (websockets).

uvicorn only speaks the websocket protocol when the `websockets` (or `wsproto`) package
is installed; it is part of the test extra.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
import websockets.sync.client as ws_client
from websockets.exceptions import ConnectionClosed, InvalidStatus

from fastframe.endpoints import WebSocketEndpoint
from fastframe.responses import PlainTextResponse
from fastframe.websockets import WebSocket, WebSocketDisconnect

TIMEOUT = 10.0

# What the server saw, for assertions after the client is done.
events: list[Any] = []


async def echo(ws: WebSocket) -> None:
    protocols = ws.scope.get("subprotocols") or []
    await ws.accept(subprotocol=protocols[0] if protocols else None, headers=[(b"x-served-by", b"fastframe")])
    try:
        async for message in ws.iter_text():
            if message == "close-me":
                await ws.close(code=4001, reason="as requested")
                events.append(("server closed", 4001))
                return
            await ws.send_text(message.upper())
    finally:
        events.append(("echo finished", ws.client_state.name, ws.application_state.name))


async def mixed(ws: WebSocket) -> None:
    await ws.accept()
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                events.append(("mixed disconnect", message.get("code")))
                return
            if message.get("bytes") is not None:
                await ws.send_bytes(message["bytes"][::-1])
            else:
                value = json.loads(message["text"])
                await ws.send_json({"echo": value})
    except WebSocketDisconnect as exc:  # pragma: no cover - defensive
        events.append(("mixed disconnect", exc.code))


class JSONEndpoint(WebSocketEndpoint):
    encoding = "json"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_json({"got": data}, mode="binary")

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        events.append(("endpoint disconnect", close_code))


async def app(scope: Any, receive: Any, send: Any) -> None:
    assert scope["type"] == "websocket"
    path = scope["path"]
    if path == "/echo":
        await echo(WebSocket(scope, receive, send))
    elif path == "/mixed":
        await mixed(WebSocket(scope, receive, send))
    elif path == "/endpoint":
        await JSONEndpoint(scope, receive, send)
    elif path == "/deny":
        ws = WebSocket(scope, receive, send)
        await ws.send_denial_response(PlainTextResponse("no entry", status_code=403))
    else:
        ws = WebSocket(scope, receive, send)
        await ws.close(code=1008)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", ws="websockets-sansio", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "uvicorn did not stop"


def wait_for(predicate: Any) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"server never reported it; events: {events}")
        time.sleep(0.01)


def connect(url: str, **kwargs: Any) -> Any:
    return ws_client.connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, **kwargs)


def test_echo_text_and_client_close(server_url: str) -> None:
    events.clear()
    with connect(f"{server_url}/echo", subprotocols=["chat", "other"]) as conn:
        assert conn.subprotocol == "chat"
        assert conn.response.headers["x-served-by"] == "fastframe"
        conn.send("hello")
        assert conn.recv(timeout=TIMEOUT) == "HELLO"
        conn.send("ünïcode")
        assert conn.recv(timeout=TIMEOUT) == "ÜNÏCODE"
    wait_for(lambda: ("echo finished", "DISCONNECTED", "CONNECTED") in events)


def test_server_close_code_reaches_client(server_url: str) -> None:
    events.clear()
    with connect(f"{server_url}/echo") as conn:
        conn.send("close-me")
        with pytest.raises(ConnectionClosed) as info:
            conn.recv(timeout=TIMEOUT)
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "as requested")


def test_bytes_and_json(server_url: str) -> None:
    events.clear()
    with connect(f"{server_url}/mixed") as conn:
        conn.send(b"\x00\x01\x02")
        assert conn.recv(timeout=TIMEOUT) == b"\x02\x01\x00"
        conn.send('{"a": [1, "é"]}')
        # Compact separators and raw UTF-8, as the reference sends.
        assert conn.recv(timeout=TIMEOUT) == '{"echo":{"a":[1,"é"]}}'
        conn.close(code=4002)
    wait_for(lambda: ("mixed disconnect", 4002) in events)


def test_websocket_endpoint_json(server_url: str) -> None:
    events.clear()
    with connect(f"{server_url}/endpoint") as conn:
        conn.send('{"k": null}')
        assert conn.recv(timeout=TIMEOUT) == b'{"got":{"k":null}}'
        conn.send("not json")
        with pytest.raises(ConnectionClosed) as info:
            conn.recv(timeout=TIMEOUT)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1003
    wait_for(lambda: ("endpoint disconnect", 1011) in events)


def test_denial_response(server_url: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        with connect(f"{server_url}/deny"):
            pass  # pragma: no cover - the handshake is refused
    assert info.value.response.status_code == 403
    assert info.value.response.body == b"no entry"


def test_close_before_accept_rejects_handshake(server_url: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        with connect(f"{server_url}/nowhere"):
            pass  # pragma: no cover
    assert info.value.response.status_code == 403
