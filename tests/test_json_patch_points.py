"""A patched ``json.dumps`` or ``json.loads`` is honoured as the reference honours it.

FastAPI's tests and tools that wrap JSON patch the stdlib's ``json.dumps``/``json.loads`` (reached
as ``<module>.json``), or replace a module's ``json`` outright. JSONResponse (made, or its render
called), Request.json() and WebSocket's send_json/receive_json (WebSocketEndpoint's "json" encoding
too) then call the patch with the reference's arguments and use its answer;
once the patch is undone the fast encoder answers again, with the reference's bytes. Each case runs
against the reference and against fastframe, and both must see the same calls and results.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import starlette.applications as s_applications
import starlette.endpoints as s_endpoints
import starlette.requests as s_requests
import starlette.responses as s_responses
import starlette.routing as s_routing
import starlette.testclient as s_testclient

import fastframe.applications as f_applications
import fastframe.endpoints as f_endpoints
import fastframe.requests as f_requests
import fastframe.responses as f_responses
import fastframe.routing as f_routing
import fastframe.testclient as f_testclient

STDLIB_DUMPS = json.dumps
STDLIB_LOADS = json.loads

SIDES = {
    "reference": (s_responses, s_requests, s_applications, s_routing, s_testclient),
    "fastframe": (f_responses, f_requests, f_applications, f_routing, f_testclient),
}
ENDPOINTS = {"reference": s_endpoints, "fastframe": f_endpoints}

CONTENTS: list[Any] = [{"a": 1, "b": [1, 2.5, None, True]}, "é ☃", [], 0, None]


class Recorder:
    """A stand-in for json.dumps/json.loads: notes each call and answers with `answer(*args, **kwargs)`."""

    def __init__(self, answer: Callable[..., Any]) -> None:
        self.answer = answer
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        return self.answer(*args, **kwargs)


def outcome(make: Callable[[], Any]) -> Any:
    try:
        return ("value", make())
    except Exception as exc:
        return ("raised", type(exc), str(exc))


def response_state(response: Any) -> tuple[Any, ...]:
    return (bytes(response.body), response.status_code, list(response.raw_headers))


def made_with(side: str, content: Any, **kwargs: Any) -> Any:
    responses = SIDES[side][0]
    return outcome(lambda: response_state(responses.JSONResponse(content, **kwargs)))


# --- JSONResponse and a patched json.dumps ----------------------------------------------------------


def dumps_cases() -> dict[str, Callable[..., Any]]:
    return {
        "constant": lambda *args, **kwargs: "patched",
        "indented": lambda content, **kwargs: STDLIB_DUMPS(content, indent=2, sort_keys=True),
        "through": lambda *args, **kwargs: STDLIB_DUMPS(*args, **kwargs),
        "bytes": lambda *args, **kwargs: b"not text",
        "raises": lambda *args, **kwargs: (_ for _ in ()).throw(TypeError("refused by the patch")),
    }


@pytest.mark.parametrize("case", sorted(dumps_cases()))
@pytest.mark.parametrize("content", CONTENTS, ids=repr)
def test_patched_dumps_makes_the_body(monkeypatch: pytest.MonkeyPatch, case: str, content: Any) -> None:
    seen = {}
    for side in SIDES:
        # Made once unpatched first: whatever was learned about the class must not outlive the patch.
        SIDES[side][0].JSONResponse({"warm": 1})
        recorder = Recorder(dumps_cases()[case])
        with monkeypatch.context() as patch:
            patch.setattr(SIDES[side][0].json, "dumps", recorder)
            result = made_with(side, content, status_code=201, headers={"x-a": "b"})
        seen[side] = (result, recorder.calls)
    assert seen["fastframe"] == seen["reference"]
    assert seen["fastframe"][1], "the patch was not called"


@pytest.mark.parametrize("content", CONTENTS, ids=repr)
def test_patched_dumps_is_called_by_render(monkeypatch: pytest.MonkeyPatch, content: Any) -> None:
    seen = {}
    for side in SIDES:
        response = SIDES[side][0].JSONResponse(None)
        recorder = Recorder(lambda *args, **kwargs: "rendered")
        with monkeypatch.context() as patch:
            patch.setattr(SIDES[side][0].json, "dumps", recorder)
            seen[side] = (outcome(lambda response=response: response.render(content)), recorder.calls)
    assert seen["fastframe"] == seen["reference"]
    assert seen["fastframe"][0] == ("value", b"rendered")


def test_patched_dumps_reaches_subclasses_and_their_own_render(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}
    for side in SIDES:
        responses = SIDES[side][0]

        class Plain(responses.JSONResponse):  # type: ignore[name-defined,misc]
            media_type = "application/vnd.plain+json"

        class Wrapped(responses.JSONResponse):  # type: ignore[name-defined,misc]
            def render(self, content: Any) -> bytes:
                return b"[" + super().render(content) + b"]"

        recorder = Recorder(lambda *args, **kwargs: "P")
        with monkeypatch.context() as patch:
            patch.setattr(responses.json, "dumps", recorder)
            made = [response_state(cls({"k": "v"})) for cls in (Plain, Wrapped)]
        seen[side] = (made, recorder.calls)
    assert seen["fastframe"] == seen["reference"]
    assert [state[0] for state in seen["fastframe"][0]] == [b"P", b"[P]"]


def test_replacing_the_modules_json_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeJson:
        calls: list[Any] = []

        @staticmethod
        def dumps(*args: Any, **kwargs: Any) -> str:
            FakeJson.calls.append((args, kwargs))
            return "from the module"

    seen = {}
    for side in SIDES:
        FakeJson.calls = []
        with monkeypatch.context() as patch:
            patch.setattr(SIDES[side][0], "json", FakeJson)
            result = made_with(side, {"x": [1]})
        seen[side] = (result, FakeJson.calls)
    assert seen["fastframe"] == seen["reference"]
    assert seen["fastframe"][0][1][0] == b"from the module"


@pytest.mark.parametrize("content", CONTENTS + [{"deep": [{"é": "\u2028"}] * 3}, float("nan")], ids=repr)
def test_undone_patch_gives_the_reference_bytes_again(monkeypatch: pytest.MonkeyPatch, content: Any) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(json, "dumps", lambda *args, **kwargs: "patched")
        assert made_with("fastframe", content) == made_with("reference", content)
    assert json.dumps is STDLIB_DUMPS
    assert made_with("fastframe", content) == made_with("reference", content)
    if content == content:  # NaN is refused by both
        assert made_with("fastframe", content)[1][0] == STDLIB_DUMPS(
            content, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")


def test_patched_dumps_seen_by_a_served_app(monkeypatch: pytest.MonkeyPatch, anyio_backend: str) -> None:
    bodies = {}
    for side in SIDES:
        responses, _, applications, routing, testclient = SIDES[side]

        async def endpoint(request: Any, responses: Any = responses) -> Any:
            return responses.JSONResponse({"path": request.url.path})

        app = applications.Starlette(routes=[routing.Route("/", endpoint)])
        client = testclient.TestClient(app, backend=anyio_backend)
        before = client.get("/").content
        recorder = Recorder(lambda content, **kwargs: "<" + STDLIB_DUMPS(content) + ">")
        with monkeypatch.context() as patch:
            patch.setattr(responses.json, "dumps", recorder)
            during = client.get("/")
        after = client.get("/").content
        bodies[side] = (before, during.content, during.headers["content-length"], after, recorder.calls)
    assert bodies["fastframe"] == bodies["reference"]
    assert bodies["fastframe"][1] == b'<{"path": "/"}>'


# --- Request.json() and a patched json.loads --------------------------------------------------------


def served_json(side: str, backend: str, body: bytes, reads: int = 2) -> Any:
    """What an app's endpoint gets from request.json() (read `reads` times), as the client sees it."""
    _, _, applications, routing, testclient = SIDES[side]
    responses = SIDES[side][0]

    async def endpoint(request: Any) -> Any:
        try:
            values = [await request.json() for _ in range(reads)]
        except Exception as exc:
            return responses.PlainTextResponse(f"raised {type(exc).__name__}: {exc}", status_code=500)
        return responses.PlainTextResponse(repr(values))

    app = applications.Starlette(routes=[routing.Route("/", endpoint, methods=["POST"])])
    client = testclient.TestClient(app, backend=backend)
    response = client.post("/", content=body)
    return response.status_code, response.text


def loads_cases() -> dict[str, Callable[..., Any]]:
    return {
        "constant": lambda *args, **kwargs: {"patched": True},
        "through": lambda *args, **kwargs: STDLIB_LOADS(*args, **kwargs),
        "floats_as_text": lambda body, **kwargs: STDLIB_LOADS(body, parse_float=str),
        "raises": lambda *args, **kwargs: (_ for _ in ()).throw(ValueError("refused by the patch")),
    }


@pytest.mark.parametrize("case", sorted(loads_cases()))
@pytest.mark.parametrize("body", [b'{"a": 1.5, "b": [true, null]}', b"[1, 2]", b"not json", b""], ids=repr)
def test_patched_loads_decodes_the_request(
    monkeypatch: pytest.MonkeyPatch, anyio_backend: str, case: str, body: bytes
) -> None:
    backend = anyio_backend
    seen = {}
    for side in SIDES:
        served_json(side, backend, b"[0]")  # served once unpatched first
        recorder = Recorder(loads_cases()[case])
        with monkeypatch.context() as patch:
            patch.setattr(SIDES[side][1].json, "loads", recorder)
            result = served_json(side, backend, body)
        seen[side] = (result, recorder.calls)
    assert seen["fastframe"] == seen["reference"]
    assert seen["fastframe"][1], "the patch was not called"


def test_replacing_the_requests_modules_json_is_honoured(monkeypatch: pytest.MonkeyPatch, anyio_backend: str) -> None:
    class FakeJson:
        @staticmethod
        def loads(body: Any) -> Any:
            return ["fake", bytes(body)]

    backend = anyio_backend
    seen = {}
    for side in SIDES:
        with monkeypatch.context() as patch:
            patch.setattr(SIDES[side][1], "json", FakeJson)
            seen[side] = served_json(side, backend, b'{"k": 1}')
    assert seen["fastframe"] == seen["reference"]
    assert "fake" in seen["fastframe"][1]


def test_undone_loads_patch_decodes_as_the_reference(monkeypatch: pytest.MonkeyPatch, anyio_backend: str) -> None:
    backend = anyio_backend
    body = b'{"n": 12345678901234567890123, "f": 1e400, "s": "\\ud800"}'
    with monkeypatch.context() as patch:
        patch.setattr(json, "loads", lambda *args, **kwargs: "patched")
        assert served_json("fastframe", backend, body) == served_json("reference", backend, body)
    assert json.loads is STDLIB_LOADS
    assert served_json("fastframe", backend, body) == served_json("reference", backend, body)


# --- WebSocket JSON and patched json.dumps / json.loads ---------------------------------------------


def websocket_json(side: str, backend: str) -> Any:
    """What a client sees from an app that reads and writes JSON over a websocket in both modes, and
    from a WebSocketEndpoint with encoding = "json"."""
    _, _, applications, routing, testclient = SIDES[side]
    endpoints = ENDPOINTS[side]

    async def echo(websocket: Any) -> None:
        await websocket.accept()
        first = await websocket.receive_json()
        second = await websocket.receive_json(mode="binary")
        await websocket.send_json({"first": first, "second": second})
        await websocket.send_json(["é", 1.5], mode="binary")
        await websocket.close()

    class Endpoint(endpoints.WebSocketEndpoint):  # type: ignore[name-defined,misc]
        encoding = "json"

        async def on_receive(self, websocket: Any, data: Any) -> None:
            await websocket.send_json({"got": data})
            await websocket.close()

    app = applications.Starlette(routes=[routing.WebSocketRoute("/", echo), routing.WebSocketRoute("/ep", Endpoint)])
    client = testclient.TestClient(app, backend=backend)
    seen: list[Any] = []
    with client.websocket_connect("/") as websocket:
        websocket.send_text('{"a": [1, 2]}')
        websocket.send_bytes(b'{"b": null}')
        seen += [websocket.receive_text(), websocket.receive_bytes()]
    with client.websocket_connect("/ep") as websocket:
        websocket.send_text('{"c": true}')
        seen.append(websocket.receive_text())
    return seen


@pytest.mark.parametrize("patched", ["dumps", "loads", "both"])
def test_patched_json_on_websockets(monkeypatch: pytest.MonkeyPatch, anyio_backend: str, patched: str) -> None:
    seen = {}
    for side in SIDES:
        dumps = Recorder(lambda *args, **kwargs: "<" + STDLIB_DUMPS(*args, **kwargs) + ">")
        loads = Recorder(lambda text, **kwargs: {"decoded": STDLIB_LOADS(text, **kwargs)})
        with monkeypatch.context() as patch:
            if patched in ("dumps", "both"):
                patch.setattr(SIDES[side][0].json, "dumps", dumps)
            if patched in ("loads", "both"):
                patch.setattr(SIDES[side][1].json, "loads", loads)
            seen[side] = (outcome(lambda side=side: websocket_json(side, anyio_backend)), dumps.calls, loads.calls)
    assert seen["fastframe"] == seen["reference"]
    assert seen["fastframe"][1 if patched == "dumps" else 2]
    assert seen["fastframe"][0][0] == "value"
    assert websocket_json("fastframe", anyio_backend) == websocket_json("reference", anyio_backend)
