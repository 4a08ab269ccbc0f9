"""WebSocket's typed methods when a subclass hooks receive()/send(), and transport failures.

fastframe's accept/receive_*/send_*/close talk to the ASGI callables directly; a subclass that
overrides receive(), send() or _raise_on_disconnect() must still see every message, as it does
in the reference. Each test builds the same subclass over both packages and compares what the
hooks saw, what went over the wire and what was raised.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.test_websockets import DISCONNECT, C, data, describe, normalize, run_sync, text

PACKAGES = ("starlette", "fastframe")

Script = Callable[[Any], Awaitable[Any]]


def make_subclass(pkg: str, hooks: str, log: list[Any]) -> type:
    base = importlib.import_module(f"{pkg}.websockets").WebSocket
    namespace: dict[str, Any] = {}
    if "send" in hooks:

        async def send(self: Any, message: Any) -> None:
            log.append(("send", message["type"], self.application_state.name))
            await super(cls, self).send(message)

        namespace["send"] = send
    if "receive" in hooks:

        async def receive(self: Any) -> Any:
            message = await super(cls, self).receive()
            log.append(("receive", message["type"], self.client_state.name))
            return message

        namespace["receive"] = receive
    if "raise" in hooks:

        def _raise_on_disconnect(self: Any, message: Any) -> None:
            log.append(("check", message["type"]))
            if message["type"] == "websocket.disconnect":
                raise ValueError(f"gone {message.get('code')}")

        namespace["_raise_on_disconnect"] = _raise_on_disconnect
    if "text" in hooks:

        async def send_text(self: Any, data: str) -> None:
            log.append(("send_text", data))
            await super(cls, self).send_text(data.upper())

        namespace["send_text"] = send_text
    cls = type(f"Hooked_{hooks}", (base,), namespace)
    return cls


def drive(pkg: str, hooks: str, script: Script, incoming: list[dict[str, Any]], levels: int = 1) -> Any:
    log: list[Any] = []
    cls = make_subclass(pkg, hooks, log)
    for _ in range(levels - 1):
        cls = type("Deeper", (cls,), {})
    queue = [dict(m) for m in incoming]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    ws = cls({"type": "websocket", "path": "/", "headers": [], "query_string": b""}, receive, send)
    try:
        outcome: Any = ("returned", normalize(run_sync(script(ws))))
    except Exception as exc:
        outcome = describe(exc)
    return outcome, sent, log, ws.client_state.name, ws.application_state.name


async def full_exchange(ws: Any) -> Any:
    await ws.accept("proto", [(b"x", b"1")])
    got = [await ws.receive_text(), await ws.receive_bytes(), await ws.receive_json()]
    got.append(await ws.receive_json("binary"))
    await ws.send_text("t")
    await ws.send_bytes(b"b")
    await ws.send_json({"é": 1})
    await ws.send_json([2], mode="binary")
    await ws.close(4001, "bye")
    return got


async def iterate_then_disconnect(ws: Any) -> Any:
    await ws.accept()
    return [item async for item in ws.iter_text()]


async def receive_on_disconnect(ws: Any) -> Any:
    await ws.accept()
    return await ws.receive_bytes()


async def receive_json_on_disconnect(ws: Any) -> Any:
    await ws.accept()
    return await ws.receive_json()


EXCHANGE = [C, text("a"), data(b"b"), text('{"c": [3]}'), data(b'"d"')]
SCRIPTS: dict[str, tuple[Script, list[dict[str, Any]]]] = {
    "full exchange": (full_exchange, EXCHANGE),
    "iter_text": (iterate_then_disconnect, [C, text("1"), text("2"), DISCONNECT]),
    "receive_bytes on disconnect": (receive_on_disconnect, [C, DISCONNECT]),
    "receive_json on disconnect": (receive_json_on_disconnect, [C, DISCONNECT]),
}


@pytest.mark.parametrize("hooks", ["send", "receive", "raise", "send+receive", "text", "text+send", "none"])
@pytest.mark.parametrize("name", list(SCRIPTS))
@pytest.mark.parametrize("levels", [1, 2])
def test_hooked_subclass_matches_reference(hooks: str, name: str, levels: int) -> None:
    script, incoming = SCRIPTS[name]
    expected = drive("starlette", hooks, script, incoming, levels)
    assert drive("fastframe", hooks, script, incoming, levels) == expected


def test_hooks_see_every_message() -> None:
    outcome, sent, log, _, _ = drive("fastframe", "send+receive", full_exchange, EXCHANGE)
    assert outcome[0] == "returned"
    assert [entry[1] for entry in log if entry[0] == "send"] == [
        "websocket.accept",
        "websocket.send",
        "websocket.send",
        "websocket.send",
        "websocket.send",
        "websocket.close",
    ]
    assert [entry[1] for entry in log if entry[0] == "receive"] == ["websocket.connect"] + ["websocket.receive"] * 4
    assert len(sent) == 6


def test_subclass_overriding_a_typed_method_keeps_its_own() -> None:
    outcome, sent, log, _, _ = drive("fastframe", "text+send", full_exchange, EXCHANGE)
    assert ("send_text", "t") in log
    assert {"type": "websocket.send", "text": "T"} in sent


def test_subclass_hooking_raise_on_disconnect() -> None:
    outcome, _, log, client_state, _ = drive("fastframe", "raise", receive_on_disconnect, [C, DISCONNECT])
    assert outcome[1] == "ValueError"
    assert outcome[3] == "gone 1001"
    assert ("check", "websocket.disconnect") in log
    assert client_state == "DISCONNECTED"


# --- the connection attributes a WebSocket starts with ------------------------------------------


def test_websocket_starts_like_an_http_connection() -> None:
    """WebSocket sets HTTPConnection's slots itself; they must stay in step with HTTPConnection."""
    from fastframe.requests import HTTPConnection
    from fastframe.websockets import WebSocket

    scope = {"type": "websocket", "path": "/", "headers": []}
    ws = WebSocket(scope, None, None)  # type: ignore[arg-type]
    reference = WebSocket.__new__(WebSocket)
    HTTPConnection.__init__(reference, scope)
    missing = object()
    for name in HTTPConnection.__slots__:
        if name in ("__dict__", "__weakref__"):
            continue
        assert getattr(ws, name, missing) == getattr(reference, name, missing), name
    assert ws.__dict__ == reference.__dict__ == {}


# --- the transport failing under a typed send ---------------------------------------------------


def transport_failure(pkg: str, op: str, accepted: bool) -> Any:
    websockets = importlib.import_module(f"{pkg}.websockets")
    calls: list[str] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        calls.append(message["type"])
        if message["type"] != "websocket.accept":
            raise OSError("connection reset")

    ws = websockets.WebSocket({"type": "websocket", "path": "/", "headers": []}, receive, send)

    async def script() -> None:
        if accepted:
            await ws.accept()
        if op == "send_text":
            await ws.send_text("x")
        elif op == "send_bytes":
            await ws.send_bytes(b"x")
        elif op == "send_json":
            await ws.send_json({"a": 1})
        elif op == "send_json binary":
            await ws.send_json({"a": 1}, "binary")
        else:
            await ws.close(4000, "r")

    try:
        run_sync(script())
        outcome: Any = ("returned",)
    except Exception as exc:
        outcome = describe(exc) + (type(exc.__context__).__name__,)
    return outcome, ws.client_state.name, ws.application_state.name, calls


@pytest.mark.parametrize("op", ["send_text", "send_bytes", "send_json", "send_json binary", "close"])
@pytest.mark.parametrize("accepted", [True, False])
def test_transport_failure_matches_reference(op: str, accepted: bool) -> None:
    assert transport_failure("fastframe", op, accepted) == transport_failure("starlette", op, accepted)


def test_transport_failure_after_accept_is_abnormal_closure() -> None:
    outcome, _, app_state, _ = transport_failure("fastframe", "send_json binary", True)
    assert outcome[1] == "WebSocketDisconnect"
    assert outcome[5] == 1006
    assert outcome[-1] == "OSError"
    assert app_state == "DISCONNECTED"


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_send_patched_on_the_class_matches_reference(name: str) -> None:
    """Instrumentation that wraps WebSocket.send/receive on the class sees every message."""
    from unittest import mock

    script, incoming = SCRIPTS[name]

    def run(pkg: str) -> Any:
        base = importlib.import_module(f"{pkg}.websockets").WebSocket
        seen: list[Any] = []
        original_send, original_receive = base.send, base.receive

        async def send(self: Any, message: Any) -> None:
            seen.append(("send", message["type"]))
            await original_send(self, message)

        async def receive(self: Any) -> Any:
            message = await original_receive(self)
            seen.append(("receive", message["type"]))
            return message

        with mock.patch.object(base, "send", send), mock.patch.object(base, "receive", receive):
            queue = [dict(m) for m in incoming]
            sent: list[Any] = []

            async def asgi_receive() -> dict[str, Any]:
                return queue.pop(0)

            async def asgi_send(message: Any) -> None:
                sent.append(dict(message))

            ws = base({"type": "websocket", "path": "/", "headers": []}, asgi_receive, asgi_send)
            try:
                outcome: Any = ("returned", normalize(run_sync(script(ws))))
            except Exception as exc:
                outcome = describe(exc)
        return outcome, sent, seen

    expected = run("starlette")
    assert expected[2]
    assert run("fastframe") == expected
