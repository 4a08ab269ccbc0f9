from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fastframe.applications import Starlette
from fastframe.graphql import GraphQLApp
from fastframe.routing import Route, WebSocketRoute
from fastframe.websockets import WebSocketDisconnect
from tests.graphql.schema import build_schema

PROTOCOL = ["graphql-transport-ws"]


def make_client(test_client_factory: Callable[..., Any], **options: Any) -> Any:
    graphql_app = GraphQLApp(build_schema(), **options)
    app = Starlette(routes=[Route("/graphql", graphql_app), WebSocketRoute("/graphql", graphql_app)])
    return test_client_factory(app)


def connect(client: Any) -> Any:
    return client.websocket_connect("/graphql", subprotocols=PROTOCOL)


def init(ws: Any) -> None:
    ws.send_json({"type": "connection_init"})
    assert ws.receive_json() == {"type": "connection_ack"}


def closed_with(ws: Any) -> tuple[int, str]:
    message = ws.receive()
    assert message["type"] == "websocket.close"
    return message["code"], message.get("reason", "")


def test_subscription_streams_then_completes(test_client_factory: Callable[..., Any]) -> None:
    with connect(make_client(test_client_factory)) as ws:
        assert ws.accepted_subprotocol == "graphql-transport-ws"
        init(ws)
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": "subscription { count(to: 3) }"}})
        assert [ws.receive_json() for _ in range(4)] == [
            {"id": "1", "type": "next", "payload": {"data": {"count": 1}}},
            {"id": "1", "type": "next", "payload": {"data": {"count": 2}}},
            {"id": "1", "type": "next", "payload": {"data": {"count": 3}}},
            {"id": "1", "type": "complete"},
        ]


def test_query_and_mutation_over_the_socket(test_client_factory: Callable[..., Any]) -> None:
    with connect(make_client(test_client_factory)) as ws:
        init(ws)
        ws.send_json(
            {
                "id": "q",
                "type": "subscribe",
                "payload": {"query": "mutation M($a: Int!) { add(a: $a, b: 1) }", "variables": {"a": 41}},
            }
        )
        assert ws.receive_json() == {"id": "q", "type": "next", "payload": {"data": {"add": 42}}}
        assert ws.receive_json() == {"id": "q", "type": "complete"}


def test_validation_error_is_an_error_message(test_client_factory: Callable[..., Any]) -> None:
    with connect(make_client(test_client_factory)) as ws:
        init(ws)
        ws.send_json({"id": "e", "type": "subscribe", "payload": {"query": "subscription { nope }"}})
        message = ws.receive_json()
        assert message["id"] == "e" and message["type"] == "error"
        assert "nope" in message["payload"][0]["message"]
        ws.send_json({"type": "ping", "payload": {"still": "open"}})
        assert ws.receive_json() == {"type": "pong", "payload": {"still": "open"}}


def test_ping_pong(test_client_factory: Callable[..., Any]) -> None:
    with connect(make_client(test_client_factory)) as ws:
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_client_complete_stops_a_subscription(test_client_factory: Callable[..., Any]) -> None:
    with connect(make_client(test_client_factory)) as ws:
        init(ws)
        query = "subscription { count(to: 1000, delay: 20) }"
        ws.send_json({"id": "s", "type": "subscribe", "payload": {"query": query}})
        assert ws.receive_json() == {"id": "s", "type": "next", "payload": {"data": {"count": 1}}}
        ws.send_json({"id": "s", "type": "complete"})
        ws.send_json({"type": "ping"})
        # Events already in flight may arrive; then the pong, and no completion for a cancelled operation.
        while (message := ws.receive_json())["type"] == "next":
            assert message["id"] == "s"
        assert message == {"type": "pong"}


@pytest.mark.parametrize(
    ("messages", "code", "reason"),
    [
        ([{"id": "1", "type": "subscribe", "payload": {"query": "{ hello }"}}], 4401, "Unauthorized"),
        ([{"type": "connection_init"}, {"type": "connection_init"}], 4429, "Too many initialisation requests"),
        (["not json"], 4400, "Invalid message received"),
        ([{"no": "type"}], 4400, "Invalid message received"),
        ([{"type": "connection_init"}, {"type": "mystery"}], 4400, "Invalid message type 'mystery'"),
        ([{"type": "connection_init"}, {"id": "", "type": "subscribe", "payload": {"query": "{ hello }"}}], 4400, ""),
        ([{"type": "connection_init"}, {"id": "1", "type": "subscribe", "payload": {}}], 4400, "no 'query'"),
    ],
)
def test_protocol_violations_close_with_the_protocols_codes(
    test_client_factory: Callable[..., Any], messages: list[Any], code: int, reason: str
) -> None:
    with connect(make_client(test_client_factory)) as ws:
        for message in messages:
            if isinstance(message, str):
                ws.send_text(message)
            else:
                ws.send_json(message)
            if isinstance(message, dict) and message.get("type") == "connection_init" and message is messages[0]:
                if len(messages) > 1:
                    assert ws.receive_json() == {"type": "connection_ack"}
        got_code, got_reason = closed_with(ws)
        assert got_code == code
        assert reason in got_reason


def test_duplicate_subscription_id(test_client_factory: Callable[..., Any]) -> None:
    with connect(make_client(test_client_factory)) as ws:
        init(ws)
        query = {"query": "subscription { count(to: 1000, delay: 50) }"}
        ws.send_json({"id": "dup", "type": "subscribe", "payload": query})
        ws.send_json({"id": "dup", "type": "subscribe", "payload": query})
        while (message := ws.receive())["type"] == "websocket.send":
            pass
        assert message["code"] == 4409
        assert message["reason"] == "Subscriber for dup already exists"


def test_connection_init_timeout(test_client_factory: Callable[..., Any]) -> None:
    with connect(make_client(test_client_factory, connection_init_wait_timeout=0.05)) as ws:
        assert closed_with(ws) == (4408, "Connection initialisation timeout")


def test_without_the_subprotocol_the_connection_is_refused(test_client_factory: Callable[..., Any]) -> None:
    client = make_client(test_client_factory)
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/graphql"):
            pass  # pragma: no cover
    assert info.value.code == 4406


def test_on_connect_can_refuse_and_acknowledge_with_a_payload(test_client_factory: Callable[..., Any]) -> None:
    def on_connect(websocket: Any, payload: Any) -> Any:
        if not payload or payload.get("token") != "secret":
            return False
        return {"user": "ada"}

    client = make_client(test_client_factory, on_connect=on_connect)
    with connect(client) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": "secret"}})
        assert ws.receive_json() == {"type": "connection_ack", "payload": {"user": "ada"}}
    with connect(client) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": "wrong"}})
        assert closed_with(ws) == (4403, "Forbidden")
