"""The subscription protocol with a real websocket client against uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from websockets.sync.client import connect

from fastframe.applications import Starlette
from fastframe.graphql import GraphQLApp
from fastframe.routing import Route, WebSocketRoute
from tests.graphql.schema import build_schema


@pytest.fixture
def server_url() -> Iterator[str]:
    graphql_app = GraphQLApp(build_schema())
    app = Starlette(routes=[Route("/graphql", graphql_app), WebSocketRoute("/graphql", graphql_app)])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_subscription_with_a_real_client(server_url: str) -> None:
    with connect(server_url, subprotocols=["graphql-transport-ws"], open_timeout=5, close_timeout=5) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "graphql-transport-ws"
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=5)) == {"type": "connection_ack"}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "subscription { count(to: 3) }"}}))
        received = [json.loads(ws.recv(timeout=5)) for _ in range(4)]
    assert received == [
        {"id": "1", "type": "next", "payload": {"data": {"count": 1}}},
        {"id": "1", "type": "next", "payload": {"data": {"count": 2}}},
        {"id": "1", "type": "next", "payload": {"data": {"count": 3}}},
        {"id": "1", "type": "complete"},
    ]


def test_protocol_error_closes_the_real_connection(server_url: str) -> None:
    from websockets.exceptions import ConnectionClosedError

    with connect(server_url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ hello }"}}))
        with pytest.raises(ConnectionClosedError) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 4401
