"""fastframe.websockets against the reference.

Two layers: raw ASGI (a scripted receive queue and a recording send, so every state
transition and wrong-state error can be provoked), and the TestClient, which is how
users drive websocket apps.
"""

from __future__ import annotations

import enum
import functools
import importlib
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

import pytest
import starlette.websockets as st_ws
from hypothesis import given, settings
from hypothesis import strategies as st

import fastframe.websockets as ff_ws

PACKAGES = ("starlette", "fastframe")

C = {"type": "websocket.connect"}
DISCONNECT = {"type": "websocket.disconnect", "code": 1001}


def text(value: str) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": value}


def data(value: bytes) -> dict[str, Any]:
    return {"type": "websocket.receive", "bytes": value}


def normalize(value: Any) -> Any:
    """Make results from both packages comparable (enum members of different classes)."""
    if isinstance(value, enum.Enum):
        return (type(value).__name__, value.name, value.value)
    if isinstance(value, (list, tuple)):
        return type(value)(normalize(v) for v in value)
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    return value


def describe(exc: BaseException) -> tuple[Any, ...]:
    return (
        "raised",
        type(exc).__name__,
        [cls.__name__ for cls in type(exc).__mro__],
        str(exc),
        exc.args,
        getattr(exc, "code", None),
        getattr(exc, "reason", None),
    )


def run_sync(coro: Awaitable[Any]) -> Any:
    """Run a coroutine that never truly suspends (our fake receive/send don't)."""
    gen = coro.__await__()
    try:
        gen.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("coroutine suspended")


Script = Callable[[Any, ModuleType], Awaitable[Any]]


def drive(
    pkg: str, script: Script, incoming: list[dict[str, Any]], scope_extra: dict[str, Any] | None = None
) -> tuple[Any, ...]:
    websockets = importlib.import_module(f"{pkg}.websockets")
    responses = importlib.import_module(f"{pkg}.responses")
    scope: dict[str, Any] = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"a=1",
        "headers": [(b"host", b"testserver"), (b"x-token", b"t")],
        "server": ("testserver", 80),
        "client": ("testclient", 5000),
        "subprotocols": [],
    }
    scope.update(scope_extra or {})
    queue = [dict(m) for m in incoming]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not queue:
            raise LookupError("script read past its input")
        return queue.pop(0)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    ws = websockets.WebSocket(scope, receive, send)
    try:
        outcome: tuple[Any, ...] = ("returned", normalize(run_sync(script(ws, responses))))
    except Exception as exc:
        outcome = describe(exc)
    return normalize(sent), outcome, ws.client_state.name, ws.application_state.name


SCENARIOS: dict[str, tuple[list[dict[str, Any]], Script, dict[str, Any] | None]] = {}


def scenario(name: str, incoming: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> Any:
    def register(fn: Script) -> Script:
        SCENARIOS[name] = (incoming, fn, extra)
        return fn

    return register


DENIAL = {"extensions": {"websocket.http.response": {}}}


# --- receive() state machine ------------------------------------------------------------


@scenario("receive connect then connect", [C, C])
async def _s1(ws: Any, r: ModuleType) -> Any:
    first = await ws.receive()
    return first, await ws.receive()


@scenario("receive first message not connect", [text("x")])
async def _s2(ws: Any, r: ModuleType) -> Any:
    return await ws.receive()


@scenario("receive disconnect while connecting", [DISCONNECT])
async def _s3(ws: Any, r: ModuleType) -> Any:
    return await ws.receive()


@scenario("receive unknown type when connected", [C, {"type": "foo"}])
async def _s4(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    return await ws.receive()


@scenario("receive after disconnect", [C, DISCONNECT, DISCONNECT])
async def _s5(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.receive()
    return await ws.receive()


@scenario("receive after app close still reads", [C, text("late")])
async def _s6(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.close()
    return await ws.receive()


@scenario("receive returns messages unchanged", [C, {"type": "websocket.receive", "text": "t", "x": 1}])
async def _s7(ws: Any, r: ModuleType) -> Any:
    return await ws.receive(), await ws.receive()


# --- send() state machine ------------------------------------------------------------------


@scenario("send websocket.send before accept", [C])
async def _t1(ws: Any, r: ModuleType) -> Any:
    await ws.send({"type": "websocket.send", "text": "x"})


@scenario("send unknown type before accept", [C])
async def _t2(ws: Any, r: ModuleType) -> Any:
    await ws.send({"type": "foo"})


@scenario("send accept twice", [C])
async def _t3(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.accept()


@scenario("send unknown type when connected", [C])
async def _t4(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.send({"type": "foo"})


@scenario("send after close", [C])
async def _t5(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.close()
    await ws.send_text("x")


@scenario("close before accept", [C])
async def _t6(ws: Any, r: ModuleType) -> Any:
    await ws.close(1008, "policy")
    return ws.client_state, ws.application_state


@scenario("close twice", [C])
async def _t7(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.close()
    await ws.close()


@scenario("raw close message", [C])
async def _t8(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.send({"type": "websocket.close"})
    return ws.application_state


@scenario("send after client disconnect is passed on", [C, DISCONNECT])
async def _t9(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.receive()
    await ws.send_text("x")
    await ws.close()


@scenario("http response start without extension is passed on", [C])
async def _t10(ws: Any, r: ModuleType) -> Any:
    await ws.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
    return ws.application_state


@scenario("http response body sequence", [C], DENIAL)
async def _t11(ws: Any, r: ModuleType) -> Any:
    states = []
    await ws.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
    states.append(ws.application_state)
    await ws.send({"type": "websocket.http.response.body", "body": b"a", "more_body": True})
    states.append(ws.application_state)
    await ws.send({"type": "websocket.http.response.body", "body": b"b"})
    states.append(ws.application_state)
    return states


@scenario("http response then more body", [C], DENIAL)
async def _t12(ws: Any, r: ModuleType) -> Any:
    await ws.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
    await ws.send({"type": "websocket.http.response.body", "body": b""})
    await ws.send({"type": "websocket.http.response.body", "body": b""})


@scenario("http response then websocket.send", [C], DENIAL)
async def _t13(ws: Any, r: ModuleType) -> Any:
    await ws.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
    await ws.send({"type": "websocket.send", "text": "x"})


@scenario("close without reading connect", [])
async def _t14(ws: Any, r: ModuleType) -> Any:
    await ws.close(1008)


# --- accept / close arguments ----------------------------------------------------------------


@scenario("accept with subprotocol and headers", [C])
async def _a1(ws: Any, r: ModuleType) -> Any:
    await ws.accept("chat", [(b"x-a", b"1")])
    return ws.client_state, ws.application_state


@scenario("accept with headers as tuple", [C])
async def _a2(ws: Any, r: ModuleType) -> Any:
    await ws.accept(headers=((b"x-a", b"1"),))


@scenario("accept with empty headers", [C])
async def _a3(ws: Any, r: ModuleType) -> Any:
    await ws.accept(subprotocol=None, headers=())


@scenario("accept after explicit receive of connect", [C])
async def _a4(ws: Any, r: ModuleType) -> Any:
    message = await ws.receive()
    await ws.accept()
    return message


@scenario("accept when client already gone", [DISCONNECT])
async def _a5(ws: Any, r: ModuleType) -> Any:
    await ws.accept()


@scenario("close with code and reason", [C])
async def _a6(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.close(code=4001, reason="bye")


@scenario("close with reason None", [C])
async def _a7(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.close(reason=None)


# --- typed receive -------------------------------------------------------------------------


def _receiver(method: str, *args: Any, accept: bool = True) -> Script:
    async def script(ws: Any, r: ModuleType) -> Any:
        if accept:
            await ws.accept()
        return await getattr(ws, method)(*args)

    return script


for _method in ("receive_text", "receive_bytes", "receive_json"):
    scenario(f"{_method} before accept", [C])(_receiver(_method, accept=False))
    scenario(f"{_method} on disconnect", [C, DISCONNECT])(_receiver(_method))
    scenario(
        f"{_method} on disconnect with reason",
        [C, {"type": "websocket.disconnect", "code": 4000, "reason": "gone"}],
    )(_receiver(_method))
    scenario(f"{_method} on disconnect without code", [C, {"type": "websocket.disconnect"}])(_receiver(_method))
    scenario(f"{_method} of text", [C, text('{"a": [1, "é"]}')])(_receiver(_method))
    scenario(f"{_method} of bytes", [C, data(b'{"a": 1}')])(_receiver(_method))
    scenario(f"{_method} when client already disconnected", [C, DISCONNECT])(_receiver(_method))

scenario("receive_text text None", [C, {"type": "websocket.receive", "text": None, "bytes": b"x"}])(
    _receiver("receive_text")
)
scenario("receive_json binary", [C, data('{"é": null}'.encode())])(_receiver("receive_json", "binary"))
scenario("receive_json binary of text", [C, text("1")])(_receiver("receive_json", "binary"))
scenario("receive_json binary invalid utf8", [C, data(b"\xff")])(_receiver("receive_json", "binary"))
scenario("receive_json invalid", [C, text("{a")])(_receiver("receive_json"))
scenario("receive_json NaN literal", [C, text("NaN")])(_receiver("receive_json"))
scenario("receive_json bad mode", [C, text("1")])(_receiver("receive_json", "other"))
scenario("receive_json bad mode before accept", [C])(_receiver("receive_json", "other", accept=False))
scenario("receive_json disconnect binary", [C, DISCONNECT])(_receiver("receive_json", "binary"))


@scenario("receive_text after app closed", [C, text("x")])
async def _r1(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.close()
    return await ws.receive_text()


@scenario("receive_text after client disconnect", [C, DISCONNECT])
async def _r2(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.receive()
    return await ws.receive_text()


# --- iterators -------------------------------------------------------------------------------


def _iterate(method: str) -> Script:
    async def script(ws: Any, r: ModuleType) -> Any:
        await ws.accept()
        out = []
        async for item in getattr(ws, method)():
            out.append(item)
        return out, ws.client_state, ws.application_state

    return script


scenario("iter_text", [C, text("a"), text("b"), DISCONNECT])(_iterate("iter_text"))
scenario("iter_bytes", [C, data(b"a"), data(b""), DISCONNECT])(_iterate("iter_bytes"))
scenario("iter_json", [C, text("1"), text('{"a": [2]}'), DISCONNECT])(_iterate("iter_json"))
scenario("iter_json invalid", [C, text("1"), text("{")])(_iterate("iter_json"))
scenario("iter_text wrong type", [C, data(b"x")])(_iterate("iter_text"))


@scenario("iter_text before accept", [C])
async def _i1(ws: Any, r: ModuleType) -> Any:
    return [t async for t in ws.iter_text()]


# --- typed send -------------------------------------------------------------------------------


@scenario("send_text and send_bytes", [C])
async def _o1(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.send_text("héllo")
    await ws.send_bytes(b"\x00\xff")
    await ws.send_text("")
    await ws.send_bytes(b"")


@scenario("send_json text and binary", [C])
async def _o2(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.send_json({"a": "é", "b": [1, 2.5, None, True], "c": "\u2028<>&'\"\\"})
    await ws.send_json({"x": "é"}, "binary")
    await ws.send_json("s", mode="binary")


@scenario("send_json non-finite floats and odd keys", [C])
async def _o3(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.send_json(float("nan"))
    await ws.send_json([float("inf"), float("-inf"), 1e16, 2**70, -0.0])
    await ws.send_json({1: 2, None: 3, False: 4, 1.5: 5})


@scenario("send_json unserializable", [C])
async def _o4(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.send_json({1, 2})


@scenario("send_json bad mode", [C])
async def _o5(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.send_json({}, "other")


@scenario("send_json bad mode before accept", [C])
async def _o6(ws: Any, r: ModuleType) -> Any:
    await ws.send_json({1}, "other")


@scenario("send_json before accept", [C])
async def _o7(ws: Any, r: ModuleType) -> Any:
    await ws.send_json({"a": 1})


@scenario("send_json circular", [C])
async def _o8(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    loop: list[Any] = []
    loop.append(loop)
    await ws.send_json(loop)


# --- denial response -------------------------------------------------------------------------


@scenario("denial without extension", [C])
async def _d1(ws: Any, r: ModuleType) -> Any:
    await ws.send_denial_response(r.PlainTextResponse("no", status_code=403))


@scenario("denial with extension", [C], DENIAL)
async def _d2(ws: Any, r: ModuleType) -> Any:
    await ws.send_denial_response(r.PlainTextResponse("no", status_code=403, headers={"x-why": "1"}))
    return ws.client_state, ws.application_state


@scenario("denial after accept", [C], DENIAL)
async def _d3(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.send_denial_response(r.PlainTextResponse("no", status_code=403))


@scenario("denial with other extensions only", [C], {"extensions": {"websocket.other": {}}})
async def _d4(ws: Any, r: ModuleType) -> Any:
    await ws.send_denial_response(r.PlainTextResponse("no", status_code=403))


@scenario("denial JSON response", [C], DENIAL)
async def _d5(ws: Any, r: ModuleType) -> Any:
    await ws.send_denial_response(r.JSONResponse({"error": "forbidden"}, status_code=401))


# --- JSON corners of the fast encoder/decoder ---------------------------------------------------
# jsonenc answers only where it provably gives the stdlib's result; these inputs sit on the
# edges of that proof (BOMs, NUL sniffing, surrogates, long integers, deep nesting, NaN).

RECEIVE_JSON_TEXTS: dict[str, Any] = {
    "bom": "\ufeff{}",
    "nul sniffed as utf-16": "\x00[\x00]",
    "nul after space": " \x00",
    "raw lone surrogate": '"\ud800"',
    "escaped lone surrogate": '"\\ud800"',
    "30 digits": "1" * 30,
    "19 digits": "-" + "9" * 19,
    "300 brackets": "[" * 300 + "]" * 300,
    "duplicate keys": '{"a":1,"a":2}',
    "surrounding whitespace": " \t1\n ",
    "huge exponent": "1e400",
    "negative zero": "-0",
    "too many float digits": "1.0000000000000000001",
    "non-ascii and separators": '{"é":"\u2028","k":[1,2.5,null,true,false]}',
    "empty": "",
    "trailing comma": "[1,]",
    "Infinity": "[Infinity,-Infinity]",
    "bytes in text field": b"[1]",
    "None in text field": None,
    "int in text field": 5,
}
RECEIVE_JSON_BINARY: dict[str, Any] = {
    "bom": b"\xef\xbb\xbf{}",
    "bytearray": bytearray(b"[1]"),
    "str in bytes field": "[1]",
    "encoded surrogate": b'"\xed\xa0\x80"',
    "nul sniffed as utf-16": b"\x00[\x00]",
    "30 digits": b"1" * 30,
    "non-ascii": '{"é":["ü"]}'.encode(),
}
for _name, _value in RECEIVE_JSON_TEXTS.items():
    scenario(f"receive_json {_name}", [C, text(_value)])(_receiver("receive_json"))
for _name, _value in RECEIVE_JSON_BINARY.items():
    scenario(f"receive_json binary {_name}", [C, data(_value)])(_receiver("receive_json", "binary"))


class _IntKind(enum.IntEnum):
    ONE = 1


class _Dict(dict):  # type: ignore[type-arg]
    pass


class _Str(str):
    pass


def _nested(leaf: Any, depth: int) -> Any:
    for i in range(depth):
        leaf = [leaf] if i % 2 else {"k": leaf}
    return leaf


SEND_JSON_VALUES: dict[str, Any] = {
    "lone surrogate": "\ud800",
    "surrogate in key": {"\udfff": 1},
    "NaN in dict": {"a": float("nan"), "b": [float("-inf")]},
    "NaN before unserializable": [float("nan"), {1}],
    "unserializable before NaN": [{1}, float("nan")],
    "tuple key": {(1, 2): 3},
    "big int": 2**70,
    "negative big int": -(2**64),
    "small float": 1e-5,
    "floats": [0.1, 1e16, 1e-7, 123456789.123, -0.0, 5e-324],
    "dict subclass": _Dict(a=1),
    "str subclass": _Str("x"),
    "int enum": [_IntKind.ONE, True],
    "tuple": ("a", (1, 2)),
    "nested mix": _nested({"a": [1, "é"]}, 20),
    "200 levels": _nested([], 200),
    "escapes": "\u2028\u2029<>&'\"\\\x00\x1f\x7f",
}


def _send_json_script(value: Any, mode: str) -> Script:
    async def script(ws: Any, r: ModuleType) -> Any:
        await ws.accept()
        await ws.send_json(value, mode)
        return ws.application_state

    return script


for _name, _value in SEND_JSON_VALUES.items():
    for _mode in ("text", "binary"):
        scenario(f"send_json {_mode} {_name}", [C])(_send_json_script(_value, _mode))


# --- typed calls in the less common states --------------------------------------------------------


@scenario("receive_text after raw accept without connect", [C, text("x")])
async def _f1(ws: Any, r: ModuleType) -> Any:
    await ws.send({"type": "websocket.accept"})
    return await ws.receive_text()


@scenario("receive_bytes after raw accept without connect", [C, data(b"x")])
async def _f2(ws: Any, r: ModuleType) -> Any:
    await ws.send({"type": "websocket.accept"})
    return await ws.receive_bytes()


@scenario("receive_json after raw accept without connect", [C, text("1")])
async def _f3(ws: Any, r: ModuleType) -> Any:
    await ws.send({"type": "websocket.accept"})
    return await ws.receive_json()


for _method in ("receive_text", "receive_bytes", "receive_json"):
    scenario(f"{_method} unknown type", [C, {"type": "websocket.foo"}])(_receiver(_method))
    scenario(f"{_method} second connect", [C, C])(_receiver(_method))
    scenario(f"{_method} of the other kind", [C, {"type": "websocket.receive"}])(_receiver(_method))


@scenario("receive_bytes after client disconnect", [C, DISCONNECT])
async def _f4(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.receive()
    return await ws.receive_bytes()


@scenario("receive_json after client disconnect", [C, DISCONNECT])
async def _f5(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.receive()
    return await ws.receive_json()


def _sender(method: str, *args: Any, before: str = "accept") -> Script:
    async def script(ws: Any, r: ModuleType) -> Any:
        if before == "accept":
            await ws.accept()
        elif before == "close":
            await ws.accept()
            await ws.close()
        elif before == "denial":
            await ws.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await getattr(ws, method)(*args)
        return ws.client_state, ws.application_state

    return script


for _before in ("nothing", "close", "denial"):
    _extra = DENIAL if _before == "denial" else None
    scenario(f"send_text after {_before}", [C], _extra)(_sender("send_text", "x", before=_before))
    scenario(f"send_bytes after {_before}", [C], _extra)(_sender("send_bytes", b"x", before=_before))
    scenario(f"send_json after {_before}", [C], _extra)(_sender("send_json", [1], before=_before))
    scenario(f"send_json binary after {_before}", [C], _extra)(_sender("send_json", [1], "binary", before=_before))
    scenario(f"close after {_before}", [C], _extra)(_sender("close", 4000, "r", before=_before))
    scenario(f"accept after {_before}", [C], _extra)(_sender("accept", before=_before))


@scenario("accept after receive of disconnect", [C, DISCONNECT])
async def _f6(ws: Any, r: ModuleType) -> Any:
    await ws.receive()
    await ws.receive()
    await ws.accept("p", [(b"a", b"b")])
    return ws.client_state, ws.application_state


@scenario("accept with falsy and generator headers", [C, C])
async def _f7(ws: Any, r: ModuleType) -> Any:
    await ws.accept(headers=[])
    return ws.client_state, ws.application_state


@scenario("close with empty reason and code 0", [C])
async def _f8(ws: Any, r: ModuleType) -> Any:
    await ws.accept()
    await ws.close(0, "")


# --- connection attributes ---------------------------------------------------------------------


@scenario("connection attributes", [C])
async def _c1(ws: Any, r: ModuleType) -> Any:
    return (
        str(ws.url),
        ws.headers["x-token"],
        dict(ws.query_params),
        ws.path_params,
        ws.scope["type"],
        tuple(ws.client) if ws.client else None,
        ws["path"],
    )


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_raw_asgi_matches_reference(name: str) -> None:
    incoming, script, extra = SCENARIOS[name]
    expected = drive("starlette", script, incoming, extra)
    actual = drive("fastframe", script, incoming, extra)
    assert actual == expected


# --- explicit expectations (so a shared mistake can't hide behind the differential) --------------


def test_state_machine_happy_path() -> None:
    async def script(ws: Any, r: ModuleType) -> Any:
        states = [(ws.client_state, ws.application_state)]
        await ws.accept()
        states.append((ws.client_state, ws.application_state))
        assert await ws.receive_text() == "hi"
        await ws.send_text("back")
        await ws.close(1001, "done")
        states.append((ws.client_state, ws.application_state))
        return states

    sent, outcome, client_state, app_state = drive("fastframe", script, [C, text("hi")])
    S = "WebSocketState"
    assert outcome == (
        "returned",
        [
            ((S, "CONNECTING", 0), (S, "CONNECTING", 0)),
            ((S, "CONNECTED", 1), (S, "CONNECTED", 1)),
            ((S, "CONNECTED", 1), (S, "DISCONNECTED", 2)),
        ],
    )
    assert sent == [
        {"type": "websocket.accept", "subprotocol": None, "headers": []},
        {"type": "websocket.send", "text": "back"},
        {"type": "websocket.close", "code": 1001, "reason": "done"},
    ]


def test_wrong_state_errors_are_explicit() -> None:
    _, outcome, _, _ = drive("fastframe", SCENARIOS["send after close"][1], [C])
    assert outcome[1] == "WebSocketDisconnected"
    assert outcome[3] == 'Cannot call "send" once a close message has been sent.'
    _, outcome, _, _ = drive("fastframe", SCENARIOS["receive after disconnect"][1], [C, DISCONNECT, DISCONNECT])
    assert outcome[3] == 'Cannot call "receive" once a disconnect message has been received.'
    _, outcome, _, _ = drive("fastframe", _receiver("receive_text", accept=False), [C])
    assert outcome[3] == 'WebSocket is not connected. Need to call "accept" first.'
    _, outcome, _, _ = drive("fastframe", SCENARIOS["send accept twice"][1], [C])
    assert outcome[1:2] == ("RuntimeError",)
    assert outcome[3] == 'Expected ASGI message "websocket.send" or "websocket.close", but got \'websocket.accept\''


def test_send_json_wire_format() -> None:
    async def script(ws: Any, r: ModuleType) -> Any:
        await ws.accept()
        await ws.send_json({"a": "é", "b": [1, None]})
        await ws.send_json({"a": "é"}, mode="binary")

    sent, _, _, _ = drive("fastframe", script, [C])
    assert sent[1] == {"type": "websocket.send", "text": '{"a":"é","b":[1,null]}'}
    assert sent[2] == {"type": "websocket.send", "bytes": '{"a":"é"}'.encode()}


# --- exceptions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((), {}),
        ((1001,), {}),
        ((1001, "bye"), {}),
        ((), {"code": 4000}),
        ((4000,), {"reason": "r"}),
        ((1000, None), {}),
    ],
)
def test_websocket_disconnect_matches_reference(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    ours = ff_ws.WebSocketDisconnect(*args, **kwargs)
    ref = st_ws.WebSocketDisconnect(*args, **kwargs)
    assert (ours.code, ours.reason, ours.args, str(ours), repr(ours)) == (
        ref.code,
        ref.reason,
        ref.args,
        str(ref),
        repr(ref),
    )


def test_exception_hierarchy_and_enum() -> None:
    assert issubclass(ff_ws.WebSocketDisconnected, RuntimeError)
    assert issubclass(ff_ws.WebSocketDisconnect, Exception)
    assert not issubclass(ff_ws.WebSocketDisconnect, RuntimeError)
    assert [(m.name, m.value) for m in ff_ws.WebSocketState] == [(m.name, m.value) for m in st_ws.WebSocketState]
    assert repr(ff_ws.WebSocketDisconnected("x")) == repr(st_ws.WebSocketDisconnected("x"))


def test_public_names_match_reference() -> None:
    for name in ("WebSocket", "WebSocketClose", "WebSocketDisconnect", "WebSocketDisconnected", "WebSocketState"):
        assert hasattr(ff_ws, name)
    ref_methods = {n for n in dir(st_ws.WebSocket) if not n.startswith("__")}
    ours = {n for n in dir(ff_ws.WebSocket) if not n.startswith("__")}
    assert ref_methods - ours <= {"_abc_impl", "_is_protocol"}


@pytest.mark.parametrize("scope_type", ["http", "lifespan"])
def test_non_websocket_scope_rejected(scope_type: str) -> None:
    with pytest.raises(AssertionError):
        ff_ws.WebSocket({"type": scope_type, "headers": []}, None, None)  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        st_ws.WebSocket({"type": scope_type, "headers": []}, None, None)  # type: ignore[arg-type]


def _transport_failure(pkg: str, op: str) -> tuple[Any, ...]:
    websockets = importlib.import_module(f"{pkg}.websockets")
    scope = {"type": "websocket", "path": "/", "headers": [], "query_string": b""}
    if op == "denial":
        scope["extensions"] = {"websocket.http.response": {}}
    accepted = op in ("send_text", "close")
    calls = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        calls.append(message["type"])
        if message["type"] != "websocket.accept" or not accepted:
            raise OSError("connection reset")

    ws = websockets.WebSocket(scope, receive, send)

    async def script() -> None:
        if accepted:
            await ws.accept()
        if op == "send_text":
            await ws.send_text("x")
        elif op == "close":
            await ws.close()
        elif op == "accept":
            await ws.accept()
        else:
            await ws.send({"type": "websocket.http.response.start", "status": 403, "headers": []})

    try:
        run_sync(script())
        outcome: tuple[Any, ...] = ("returned",)
    except Exception as exc:
        outcome = describe(exc) + (type(exc.__context__).__name__,)
    return outcome, ws.application_state.name, calls


@pytest.mark.parametrize("op", ["send_text", "close", "accept", "denial"])
def test_transport_oserror_matches_reference(op: str) -> None:
    assert _transport_failure("fastframe", op) == _transport_failure("starlette", op)


def test_oserror_on_send_becomes_abnormal_closure() -> None:
    outcome, state, _ = _transport_failure("fastframe", "send_text")
    assert outcome[1] == "WebSocketDisconnect"
    assert outcome[5] == 1006
    assert state == "DISCONNECTED"


@pytest.mark.parametrize("args", [(), (4001,), (4001, "bye"), (1000, None)])
def test_websocket_close_app(args: tuple[Any, ...]) -> None:
    def run(mod: ModuleType) -> list[Any]:
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        app = mod.WebSocketClose(*args)
        run_sync(app({"type": "websocket"}, None, send))
        return [sent, app.code, app.reason]

    assert run(ff_ws) == run(st_ws)


# --- JSON bytes on the wire, property-based --------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=5) | st.integers() | st.booleans(), children, max_size=4)
    ),
    max_leaves=12,
)


def _send_json_bytes(mod: ModuleType, value: Any, mode: str) -> Any:
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    ws = mod.WebSocket({"type": "websocket", "headers": []}, receive, send)

    async def script() -> None:
        await ws.accept()
        await ws.send_json(value, mode)

    run_sync(script())
    return sent[-1]


@settings(max_examples=200, deadline=None)
@given(value=json_values, mode=st.sampled_from(["text", "binary"]))
def test_send_json_bytes_equal_reference(value: Any, mode: str) -> None:
    assert _send_json_bytes(ff_ws, value, mode) == _send_json_bytes(st_ws, value, mode)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_receive_json_round_trip_matches_reference(value: Any) -> None:
    import json

    encoded = json.dumps(value)

    def run(pkg: str) -> Any:
        result = drive(pkg, _receiver("receive_json"), [C, text(encoded)])
        return repr(result)  # repr so NaN compares equal to NaN

    assert run("fastframe") == run("starlette")


# Any text at all (surrogates, NULs, BOMs included) and JSON-looking fragments: receive_json must
# decode or fail exactly as the reference, in both modes.
any_char = st.characters(blacklist_categories=())
json_ish = st.lists(
    st.sampled_from(["[", "]", "{", "}", ",", ":", '"', "1", "-", "e", ".", "0", " ", "\\", "\ufeff", "\x00", "é"])
    | any_char,
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(value=st.text(alphabet=any_char, max_size=12) | json_ish)
def test_receive_json_any_text_matches_reference(value: str) -> None:
    def run(pkg: str, message: dict[str, Any], mode: str) -> Any:
        return repr(drive(pkg, _receiver("receive_json", mode), [C, message]))

    assert run("fastframe", text(value), "text") == run("starlette", text(value), "text")
    encoded = value.encode("utf-8", "surrogatepass")
    assert run("fastframe", data(encoded), "binary") == run("starlette", data(encoded), "binary")


@settings(max_examples=200, deadline=None)
@given(value=st.recursive(st.text(alphabet=any_char, max_size=6), lambda c: st.lists(c, max_size=3), max_leaves=6))
def test_send_json_any_text_matches_reference(value: Any) -> None:
    def run(pkg: str, mode: str) -> Any:
        return repr(drive(pkg, _send_json_script(value, mode), [C]))

    for mode in ("text", "binary"):
        assert run("fastframe", mode) == run("starlette", mode)


# --- through the TestClient ---------------------------------------------------------------------------


@pytest.fixture
def client_factories(test_client_factory: Callable[..., Any], anyio_backend: str) -> dict[str, Any]:
    import starlette.testclient

    return {
        "fastframe": test_client_factory,
        "starlette": functools.partial(starlette.testclient.TestClient, backend=anyio_backend),
    }


AppScript = Callable[[Any, ModuleType, list[Any]], Awaitable[None]]
ClientScript = Callable[[Any], Any]


def run_client(factory: Callable[..., Any], pkg: str, app_script: AppScript, client_script: ClientScript) -> Any:
    websockets = importlib.import_module(f"{pkg}.websockets")
    log: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        ws = websockets.WebSocket(scope, receive, send)
        await app_script(ws, websockets, log)

    client = factory(app)
    try:
        outcome: tuple[Any, ...] = ("returned", normalize(client_script(client)))
    except Exception as exc:
        outcome = describe(exc)
    return outcome, normalize(log)


def compare(client_factories: dict[str, Any], app_script: AppScript, client_script: ClientScript) -> Any:
    expected = run_client(client_factories["starlette"], "starlette", app_script, client_script)
    actual = run_client(client_factories["fastframe"], "fastframe", app_script, client_script)
    assert actual == expected
    return actual


async def echo_text(ws: Any, mod: ModuleType, log: list[Any]) -> None:
    await ws.accept()
    try:
        while True:
            message = await ws.receive_text()
            await ws.send_text(message.upper())
    except mod.WebSocketDisconnect as exc:
        log.append(("disconnect", exc.code, exc.reason, ws.client_state, ws.application_state))


def test_client_echo_text(client_factories: dict[str, Any]) -> None:
    def client_script(client: Any) -> Any:
        with client.websocket_connect("/ws") as session:
            session.send_text("hello")
            first = session.receive_text()
            session.send_text("é")
            return first, session.receive_text()

    outcome, log = compare(client_factories, echo_text, client_script)
    assert outcome == ("returned", ("HELLO", "É"))
    assert log[0][:3] == ("disconnect", 1000, "")


def test_client_closes_with_code_and_reason(client_factories: dict[str, Any]) -> None:
    def client_script(client: Any) -> Any:
        with client.websocket_connect("/ws") as session:
            session.close(4005, "see you")

    _, log = compare(client_factories, echo_text, client_script)
    assert log[0][:3] == ("disconnect", 4005, "see you")


def test_client_echo_bytes_and_json(client_factories: dict[str, Any]) -> None:
    async def app_script(ws: Any, mod: ModuleType, log: list[Any]) -> None:
        await ws.accept()
        await ws.send_bytes(await ws.receive_bytes() + b"!")
        value = await ws.receive_json()
        await ws.send_json({"got": value})
        value = await ws.receive_json(mode="binary")
        await ws.send_json({"got": value}, mode="binary")
        await ws.close()

    def client_script(client: Any) -> Any:
        with client.websocket_connect("/ws") as session:
            session.send_bytes(b"\x00\x01")
            raw = session.receive_bytes()
            session.send_json({"a": [1, "é"]})
            as_text = session.receive()
            session.send_json(["x"], mode="binary")
            as_bytes = session.receive()
            closing = session.receive()
            return raw, as_text, as_bytes, closing

    outcome, _ = compare(client_factories, app_script, client_script)
    assert outcome[1][1] == {"type": "websocket.send", "text": '{"got":{"a":[1,"é"]}}'}
    assert outcome[1][2] == {"type": "websocket.send", "bytes": b'{"got":["x"]}'}


def test_client_subprotocol_and_accept_headers(client_factories: dict[str, Any]) -> None:
    async def app_script(ws: Any, mod: ModuleType, log: list[Any]) -> None:
        log.append(list(ws.scope["subprotocols"]))
        await ws.accept(subprotocol=ws.scope["subprotocols"][-1], headers=[(b"x-extra", b"yes")])
        await ws.close()

    def client_script(client: Any) -> Any:
        with client.websocket_connect("/ws", subprotocols=["soap", "wamp"]) as session:
            return session.accepted_subprotocol, session.extra_headers

    outcome, log = compare(client_factories, app_script, client_script)
    assert outcome[1][0] == "wamp"
    assert log == [["soap", "wamp"]]


def test_client_close_before_accept(client_factories: dict[str, Any]) -> None:
    async def app_script(ws: Any, mod: ModuleType, log: list[Any]) -> None:
        await ws.close(code=4003, reason="forbidden")

    def client_script(client: Any) -> Any:
        with client.websocket_connect("/ws"):
            pass  # pragma: no cover - the handshake is refused

    outcome, _ = compare(client_factories, app_script, client_script)
    assert outcome[1] == "WebSocketDisconnect"
    assert outcome[5:] == (4003, "forbidden")


def test_client_app_closes_after_accept(client_factories: dict[str, Any]) -> None:
    async def app_script(ws: Any, mod: ModuleType, log: list[Any]) -> None:
        await ws.accept()
        await ws.close(code=1001, reason="going away")

    def client_script(client: Any) -> Any:
        with client.websocket_connect("/ws") as session:
            return session.receive_text()

    outcome, _ = compare(client_factories, app_script, client_script)
    assert outcome[1] == "WebSocketDisconnect"
    assert outcome[5:] == (1001, "going away")


def test_client_sees_app_error(client_factories: dict[str, Any]) -> None:
    async def app_script(ws: Any, mod: ModuleType, log: list[Any]) -> None:
        await ws.receive_text()

    def client_script(client: Any) -> Any:
        with client.websocket_connect("/ws"):
            pass  # pragma: no cover

    outcome, _ = compare(client_factories, app_script, client_script)
    assert outcome[1] == "WebSocketDisconnected"


def test_client_denial_response(client_factories: dict[str, Any]) -> None:
    async def app_script(ws: Any, mod: ModuleType, log: list[Any]) -> None:
        responses = importlib.import_module(mod.__name__.split(".")[0] + ".responses")
        await ws.send_denial_response(responses.PlainTextResponse("go away", status_code=403))

    def client_script(client: Any) -> Any:
        try:
            with client.websocket_connect("/ws"):
                pass  # pragma: no cover
        except Exception as exc:
            return type(exc).__name__, exc.status_code, exc.text, dict(exc.headers)

    outcome, _ = compare(client_factories, app_script, client_script)
    assert outcome[1][:3] == ("WebSocketDenialResponse", 403, "go away")


def test_client_iter_json(client_factories: dict[str, Any]) -> None:
    async def app_script(ws: Any, mod: ModuleType, log: list[Any]) -> None:
        await ws.accept()
        async for value in ws.iter_json():
            log.append(value)
            await ws.send_json(value)
        log.append(("done", ws.client_state, ws.application_state))

    def client_script(client: Any) -> Any:
        with client.websocket_connect("/ws") as session:
            replies = []
            for value in (1, {"a": None}, ["é"]):
                session.send_json(value)
                replies.append(session.receive_json())
            return replies

    outcome, log = compare(client_factories, app_script, client_script)
    assert outcome == ("returned", [1, {"a": None}, ["é"]])
    assert log[-1][0] == "done"


def test_client_connection_attributes(client_factories: dict[str, Any]) -> None:
    async def app_script(ws: Any, mod: ModuleType, log: list[Any]) -> None:
        await ws.accept()
        await ws.send_json(
            {
                "url": str(ws.url),
                "header": ws.headers.get("x-token"),
                "query": dict(ws.query_params),
                "cookies": ws.cookies,
                "client": list(ws.client) if ws.client else None,
                "path_params": ws.path_params,
            }
        )
        await ws.close()

    def client_script(client: Any) -> Any:
        with client.websocket_connect(
            "/ws/room?x=1&y=2", headers={"x-token": "abc", "cookie": "session=s1"}
        ) as session:
            return session.receive_json()

    outcome, _ = compare(client_factories, app_script, client_script)
    assert outcome[1]["query"] == {"x": "1", "y": "2"}
    assert outcome[1]["cookies"] == {"session": "s1"}


def test_websocket_close_app_through_client(client_factories: dict[str, Any]) -> None:
    def run(pkg: str) -> Any:
        mod = importlib.import_module(f"{pkg}.websockets")
        client = client_factories[pkg](mod.WebSocketClose(code=4404, reason="no route"))
        try:
            with client.websocket_connect("/ws"):
                pass  # pragma: no cover
        except Exception as exc:
            return describe(exc)
        return None  # pragma: no cover

    assert run("fastframe") == run("starlette")
    assert run("fastframe")[5:] == (4404, "no route")
