"""WebSocket.send_denial_response with every kind of response, against the reference.

Two views: what a client sees through the TestClient (status, headers, body of the
WebSocketDenialResponse it raises), and the raw ASGI messages the session sends, with the
states it ends in.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest

Make = Callable[[ModuleType, Path], Any]


def _background_log(log: list[str]) -> Callable[[], None]:
    def note() -> None:
        log.append("background ran")

    return note


def _plain(r: ModuleType, tmp: Path) -> Any:
    return r.Response(b"raw bytes", status_code=400, headers={"x-kind": "plain"}, media_type="application/x-thing")


def _empty(r: ModuleType, tmp: Path) -> Any:
    return r.Response(status_code=401)


def _text(r: ModuleType, tmp: Path) -> Any:
    return r.PlainTextResponse("go away é", status_code=403)


def _html(r: ModuleType, tmp: Path) -> Any:
    return r.HTMLResponse("<p>no</p>", status_code=451)


def _json(r: ModuleType, tmp: Path) -> Any:
    return r.JSONResponse({"error": "forbidden", "codes": [1, 2]}, status_code=403, headers={"x-a": "1"})


def _redirect(r: ModuleType, tmp: Path) -> Any:
    return r.RedirectResponse("/login?next=/ws", status_code=307)


def _with_cookie(r: ModuleType, tmp: Path) -> Any:
    response = r.PlainTextResponse("cookie", status_code=403)
    response.set_cookie("session", "gone", max_age=0)
    response.set_cookie("other", "x", httponly=True)
    return response


def _stream_async(r: ModuleType, tmp: Path) -> Any:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two,", b"three"):
            yield part

    return r.StreamingResponse(parts(), status_code=429, media_type="text/plain")


def _stream_sync(r: ModuleType, tmp: Path) -> Any:
    def parts() -> Iterator[str]:
        yield from ("a", "b", "é")

    return r.StreamingResponse(parts(), status_code=503, headers={"retry-after": "5"})


def _stream_empty(r: ModuleType, tmp: Path) -> Any:
    return r.StreamingResponse(iter([]), status_code=403)


# A fixed modification time: both frameworks' runs then give the same Last-Modified and ETag.
_MTIME = 1_700_000_000


def _written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    os.utime(path, (_MTIME, _MTIME))
    return path


def _file(r: ModuleType, tmp: Path) -> Any:
    path = _written(tmp / "denied.txt", b"file body " * 1000)
    return r.FileResponse(path, status_code=403, filename="denied.txt")


def _file_head_only(r: ModuleType, tmp: Path) -> Any:
    path = _written(tmp / "small.bin", bytes(range(256)))
    return r.FileResponse(path, status_code=404, media_type="application/octet-stream")


RESPONSES: dict[str, Make] = {
    "Response": _plain,
    "empty Response": _empty,
    "PlainTextResponse": _text,
    "HTMLResponse": _html,
    "JSONResponse": _json,
    "RedirectResponse": _redirect,
    "cookies": _with_cookie,
    "StreamingResponse async": _stream_async,
    "StreamingResponse sync": _stream_sync,
    "StreamingResponse empty": _stream_empty,
    "FileResponse": _file,
    "FileResponse binary": _file_head_only,
}


def kinds(view: str) -> list[Any]:
    return list(RESPONSES)


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    # A FileResponse's last-modified and etag come from the file, which both packages read.
    return [(k.lower(), v) for k, v in headers.multi_items()]


def _through_client(pkg: str, backend: str, make: Make, tmp: Path, background: bool) -> Any:
    websockets = importlib.import_module(f"{pkg}.websockets")
    responses = importlib.import_module(f"{pkg}.responses")
    background_module = importlib.import_module(f"{pkg}.background")
    testclient = importlib.import_module(f"{pkg}.testclient")
    log: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        ws = websockets.WebSocket(scope, receive, send)
        response = make(responses, tmp)
        if background:
            response.background = background_module.BackgroundTask(_background_log(log))
        await ws.send_denial_response(response)
        log.append((ws.client_state.name, ws.application_state.name))

    client = testclient.TestClient(app, backend=backend)
    try:
        with client.websocket_connect("/ws"):
            pass  # pragma: no cover - the handshake is refused
    except Exception as exc:
        outcome = (
            type(exc).__name__,
            exc.status_code,  # type: ignore[attr-defined]
            _header_pairs(exc.headers),  # type: ignore[attr-defined]
            exc.content,  # type: ignore[attr-defined]
            isinstance(exc, testclient.WebSocketDisconnect),
        )
    else:  # pragma: no cover - a failure of the test itself
        outcome = ("no denial",)
    return outcome, log


@pytest.mark.parametrize("background", [False, True], ids=["", "background"])
@pytest.mark.parametrize("kind", kinds("client"))
def test_denial_through_the_client(anyio_backend: str, tmp_path: Path, kind: str, background: bool) -> None:
    expected = _through_client("starlette", anyio_backend, RESPONSES[kind], tmp_path, background)
    actual = _through_client("fastframe", anyio_backend, RESPONSES[kind], tmp_path, background)
    assert actual[0] == expected[0]
    if not background:
        assert actual[1] == expected[1]
    # Whether the reference's app gets to finish its background task before the client closes is
    # a race (a FileResponse, with more awaits, often loses it); fastframe's client waits for it.
    assert actual[0][0] == "WebSocketDenialResponse"
    # The background task runs inside send_denial_response, before it returns.
    assert actual[1] == (["background ran"] if background else []) + [("CONNECTING", "DISCONNECTED")]


def _raw(pkg: str, backend: str, make: Make, tmp: Path, extensions: dict[str, Any] | None) -> Any:
    websockets = importlib.import_module(f"{pkg}.websockets")
    responses = importlib.import_module(f"{pkg}.responses")
    scope: dict[str, Any] = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    if extensions is not None:
        scope["extensions"] = extensions
    sent: list[Any] = []
    incoming = [{"type": "websocket.connect"}]

    async def receive() -> Any:
        if incoming:
            return incoming.pop(0)
        await anyio.sleep_forever()  # pragma: no cover - nothing else is read

    async def send(message: Any) -> None:
        sent.append(dict(message))

    async def main() -> Any:
        ws = websockets.WebSocket(scope, receive, send)
        try:
            await ws.send_denial_response(make(responses, tmp))
            outcome: Any = "returned"
        except Exception as exc:
            outcome = (type(exc).__name__, str(exc))
        return outcome, ws.client_state.name, ws.application_state.name

    outcome = anyio.run(main, backend=backend)
    for message in sent:
        message.pop("headers", None)  # compared through the client above
    return outcome, sent


@pytest.mark.parametrize(
    "extensions",
    [{"websocket.http.response": {}}, {"websocket.http.response": {}, "http.response.trailers": {}}],
    ids=["denial", "denial and more"],
)
@pytest.mark.parametrize("kind", kinds("raw"))
def test_denial_raw_messages(anyio_backend: str, tmp_path: Path, kind: str, extensions: Any) -> None:
    expected = _raw("starlette", anyio_backend, RESPONSES[kind], tmp_path, extensions)
    actual = _raw("fastframe", anyio_backend, RESPONSES[kind], tmp_path, extensions)
    assert actual == expected
    assert actual[0] == ("returned", "CONNECTING", "DISCONNECTED")
    assert actual[1][0]["type"] == "websocket.http.response.start"
    assert all(m["type"] == "websocket.http.response.body" for m in actual[1][1:])
    assert actual[1][-1].get("more_body", False) is False


@pytest.mark.parametrize("extensions", [None, {}, {"websocket.other": {}}], ids=["none", "empty", "other"])
@pytest.mark.parametrize("kind", list(RESPONSES))
def test_denial_needs_the_extension(anyio_backend: str, tmp_path: Path, kind: str, extensions: Any) -> None:
    expected = _raw("starlette", anyio_backend, RESPONSES[kind], tmp_path, extensions)
    actual = _raw("fastframe", anyio_backend, RESPONSES[kind], tmp_path, extensions)
    assert actual == expected
    message = "The server doesn't support the Websocket Denial Response extension."
    assert actual == ((("RuntimeError", message), "CONNECTING", "CONNECTING"), [])


def _denial_in_wrong_state(pkg: str, before: str) -> Any:
    websockets = importlib.import_module(f"{pkg}.websockets")
    responses = importlib.import_module(f"{pkg}.responses")
    scope = {"type": "websocket", "path": "/", "headers": [], "extensions": {"websocket.http.response": {}}}
    sent: list[str] = []

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message["type"])

    async def main() -> Any:
        ws = websockets.WebSocket(scope, receive, send)
        if before in ("accept", "close"):
            await ws.accept()
        if before == "close":
            await ws.close()
        if before == "denied":
            await ws.send_denial_response(responses.PlainTextResponse("first", status_code=403))
        try:
            await ws.send_denial_response(responses.PlainTextResponse("no", status_code=403))
        except Exception as exc:
            return type(exc).__name__, str(exc), sent
        return "returned", sent  # pragma: no cover - every case here raises

    return anyio.run(main)


@pytest.mark.parametrize("before", ["accept", "close", "denied"])
def test_denial_after_the_handshake_is_decided(before: str) -> None:
    assert _denial_in_wrong_state("fastframe", before) == _denial_in_wrong_state("starlette", before)


@pytest.mark.parametrize(
    "kind",
    [
        "JSONResponse",
        "StreamingResponse async",
        "FileResponse",
    ],
)
def test_denial_goes_through_a_hooked_send(tmp_path: Path, kind: str) -> None:
    """send_denial_response hands the response this session's send(): a subclass's hook sees it."""

    def run(pkg: str) -> Any:
        websockets = importlib.import_module(f"{pkg}.websockets")
        responses = importlib.import_module(f"{pkg}.responses")
        seen: list[str] = []

        class Recording(websockets.WebSocket):  # type: ignore[name-defined,misc]
            async def send(self, message: Any) -> None:
                seen.append(message["type"])
                await super().send(message)

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await Recording(scope, receive, send).send_denial_response(RESPONSES[kind](responses, tmp_path))

        client = importlib.import_module(f"{pkg}.testclient").TestClient(app)
        with pytest.raises(Exception) as info:
            with client.websocket_connect("/ws"):
                pass  # pragma: no cover
        return seen, info.value.status_code  # type: ignore[attr-defined]

    assert run("fastframe") == run("starlette")
    assert run("fastframe")[0][0] == "websocket.http.response.start"
