"""The typed WebSocket methods when receive()/send()/_raise_on_disconnect() are replaced.

The reference's typed methods look these up on the instance each time, so a replacement made on
one session (``websocket.send = wrapper``), on a subclass or on the class itself is seen by
accept, receive_*, send_*, iter_* and close. Each test runs the same script over both packages
and compares what the replacement saw, what reached the transport and what was raised.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any
from unittest import mock

import pytest

from tests.test_websockets import DISCONNECT, C, describe, normalize, run_sync, text
from tests.test_websockets_subclass import EXCHANGE, full_exchange

Prepare = Callable[[Any, list[Any]], None]
Script = Callable[[Any], Awaitable[Any]]


def _wrap_send(ws: Any, log: list[Any]) -> None:
    original = ws.send

    async def send(message: Any) -> None:
        log.append(("send", message["type"], ws.application_state.name))
        await original(message)

    ws.send = send


def _wrap_receive(ws: Any, log: list[Any]) -> None:
    original = ws.receive

    async def receive() -> Any:
        message = await original()
        log.append(("receive", message["type"], ws.client_state.name))
        return message

    ws.receive = receive


def _rewrite_outgoing_text(ws: Any, log: list[Any]) -> None:
    original = ws.send

    async def send(message: Any) -> None:
        if "text" in message:
            message = {**message, "text": message["text"] + "!"}
        await original(message)

    ws.send = send


def _fake_receive(ws: Any, log: list[Any]) -> None:
    """A replacement that never calls the original: the transport is not read at all."""
    script = iter([{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "[1]", "bytes": b"[2]"}])

    async def receive() -> Any:
        log.append("fake receive")
        return next(script, {"type": "websocket.disconnect", "code": 4321})

    ws.receive = receive


def _swallow_disconnect(ws: Any, log: list[Any]) -> None:
    def check(message: Any) -> None:
        log.append(("check", message["type"]))

    ws._raise_on_disconnect = check


def _unrelated_attribute(ws: Any, log: list[Any]) -> None:
    ws.user_id = 7  # nothing the typed methods use


def _replace_then_restore(ws: Any, log: list[Any]) -> None:
    _wrap_send(ws, log)
    del ws.send


PREPARE: dict[str, Prepare] = {
    "send": _wrap_send,
    "receive": _wrap_receive,
    "send and receive": lambda ws, log: (_wrap_send(ws, log), _wrap_receive(ws, log)) and None,
    "send rewriting text": _rewrite_outgoing_text,
    "receive that never reads": _fake_receive,
    "_raise_on_disconnect": _swallow_disconnect,
    "unrelated attribute": _unrelated_attribute,
    "replaced then deleted": _replace_then_restore,
}


async def _iterate(ws: Any) -> Any:
    await ws.accept()
    return [item async for item in ws.iter_json()]


async def _read_past_disconnect(ws: Any) -> Any:
    await ws.accept()
    return [await ws.receive_text(), await ws.receive_text()]


async def _replace_mid_session(ws: Any) -> Any:
    await ws.accept()
    log = ws.scope["log"]
    _wrap_send(ws, log)
    _wrap_receive(ws, log)
    await ws.send_text(await ws.receive_text())
    await ws.close()


SCRIPTS: dict[str, tuple[Script, list[dict[str, Any]]]] = {
    "exchange": (full_exchange, EXCHANGE),
    "iter_json": (_iterate, [C, text("1"), text("[2]"), DISCONNECT]),
    "read past disconnect": (_read_past_disconnect, [C, text("x"), DISCONNECT]),
    "replace mid-session": (_replace_mid_session, [C, text("echo")]),
}


def drive(pkg: str, prepare: Prepare | None, script: Script, incoming: list[dict[str, Any]]) -> Any:
    websockets = importlib.import_module(f"{pkg}.websockets")
    log: list[Any] = []
    queue = [dict(m) for m in incoming]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "websocket.disconnect", "code": 1006}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {"type": "websocket", "path": "/", "headers": [], "query_string": b"", "log": log}
    ws = websockets.WebSocket(scope, receive, send)
    if prepare is not None:
        prepare(ws, log)
    try:
        outcome: Any = ("returned", normalize(run_sync(script(ws))))
    except Exception as exc:
        outcome = describe(exc)
    return outcome, sent, log, ws.client_state.name, ws.application_state.name


@pytest.mark.parametrize("script", list(SCRIPTS))
@pytest.mark.parametrize("prepare", list(PREPARE))
def test_instance_replacement_matches_reference(prepare: str, script: str) -> None:
    run, incoming = SCRIPTS[script]
    expected = drive("starlette", PREPARE[prepare], run, incoming)
    assert drive("fastframe", PREPARE[prepare], run, incoming) == expected


def test_a_replaced_send_sees_every_typed_message() -> None:
    outcome, sent, log, _, _ = drive("fastframe", _wrap_send, *SCRIPTS["exchange"])
    assert outcome[0] == "returned"
    assert [entry[1] for entry in log] == ["websocket.accept"] + ["websocket.send"] * 4 + ["websocket.close"]
    assert len(sent) == 6


def test_a_replaced_receive_is_the_only_source() -> None:
    outcome, sent, log, client_state, _ = drive("fastframe", _fake_receive, *SCRIPTS["exchange"])
    # accept, receive_text, then receive_bytes meets the fake's disconnect
    assert log == ["fake receive"] * 3
    assert outcome[1] == "WebSocketDisconnect"
    assert outcome[5] == 4321
    assert client_state == "CONNECTING"  # the session's own receive() never ran
    assert sent[0]["type"] == "websocket.accept"


def test_a_replacement_made_mid_session_is_seen() -> None:
    outcome, sent, log, _, _ = drive("fastframe", None, *SCRIPTS["replace mid-session"])
    assert outcome == ("returned", None)
    assert log == [
        ("receive", "websocket.receive", "CONNECTED"),
        ("send", "websocket.send", "CONNECTED"),
        ("send", "websocket.close", "CONNECTED"),
    ]


# --- patches on a class -----------------------------------------------------------------------------


def _patched(pkg: str, target: str, name: str, script: str) -> Any:
    """Patch `name` on WebSocket or on a subclass defined before the patch; run a session of the subclass."""
    base = importlib.import_module(f"{pkg}.websockets").WebSocket
    subclass = type("Sub", (base,), {})
    owner = base if target == "base" else subclass
    seen: list[Any] = []
    original = getattr(owner, name)

    if name == "receive":

        async def hook(self: Any) -> Any:
            message = await original(self)
            seen.append(message["type"])
            return message

    elif name == "send":

        async def hook(self: Any, message: Any) -> None:  # type: ignore[misc]
            seen.append(message["type"])
            await original(self, message)

    else:

        def hook(self: Any, message: Any) -> None:  # type: ignore[misc]
            seen.append(("check", message["type"]))
            original(self, message)

    run, incoming = SCRIPTS[script]
    queue = [dict(m) for m in incoming]

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    async def send(message: Any) -> None:
        pass

    results = []
    with mock.patch.object(owner, name, hook):
        for cls in (subclass, base):
            queue[:] = [dict(m) for m in incoming]
            ws = cls({"type": "websocket", "path": "/", "headers": [], "log": []}, receive, send)
            try:
                outcome: Any = ("returned", normalize(run_sync(run(ws))))
            except Exception as exc:
                outcome = describe(exc)
            results.append((outcome, list(seen)))
            seen.clear()
    # Unpatched again: sessions made now are plain, and behave as before.
    queue[:] = [dict(m) for m in incoming]
    ws = subclass({"type": "websocket", "path": "/", "headers": [], "log": []}, receive, send)
    results.append((normalize(run_sync(run(ws))), seen))
    return results


@pytest.mark.parametrize("script", ["exchange", "iter_json"])
@pytest.mark.parametrize("name", ["receive", "send", "_raise_on_disconnect"])
@pytest.mark.parametrize("target", ["base", "subclass"])
def test_class_patch_reaches_existing_subclasses(target: str, name: str, script: str) -> None:
    expected = _patched("starlette", target, name, script)
    assert _patched("fastframe", target, name, script) == expected
    assert expected[0][1], "the patched method saw nothing"


def test_class_patch_during_a_session_applies_from_the_next_one() -> None:
    """Listed in docs/differences.md: a session decides its short path when it is made."""
    from fastframe.websockets import WebSocket

    seen: list[str] = []
    original = WebSocket.send

    async def hook(self: Any, message: Any) -> None:
        seen.append(message["type"])
        await original(self, message)

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        pass

    scope = {"type": "websocket", "path": "/", "headers": []}
    before = WebSocket(scope, receive, send)
    run_sync(before.accept())
    with mock.patch.object(WebSocket, "send", hook):
        run_sync(before.send_text("old session"))
        after = WebSocket(scope, receive, send)
        run_sync(after.accept())
        run_sync(after.send_text("new session"))
    assert seen == ["websocket.accept", "websocket.send"]
