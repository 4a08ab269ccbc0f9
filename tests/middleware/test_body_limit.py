from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import starlette.middleware.body_limit as ref_mod
from starlette.requests import Request as RefRequest
from starlette.testclient import TestClient as RefTestClient

import fastframe.middleware.body_limit as ff_mod
from fastframe.requests import Request

MODULES = {"fastframe": (ff_mod, Request), "starlette": (ref_mod, RefRequest)}


def scope(headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": headers or [],
        "query_string": b"",
        "http_version": "1.1",
        "scheme": "http",
        "server": ("testserver", 80),
        "root_path": "",
    }


def body(data: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.request", "body": data, "more_body": more}


async def drive(app: Any, sc: dict[str, Any], chunks: list[dict[str, Any]]) -> tuple[Any, ...]:
    """Run an ASGI app on scripted input; return what was sent, received and raised."""
    pending = list(chunks)
    events: list[Any] = []

    async def receive() -> dict[str, Any]:
        events.append("server-receive")
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        events.append(dict(message))

    try:
        await app(sc, receive, send)
        error = None
    except Exception as exc:
        error = (type(exc).__name__, getattr(exc, "status_code", None), getattr(exc, "detail", None))
    return events, error


def make_apps(request_cls: Any) -> dict[str, Any]:
    async def echo(sc: Any, receive: Any, send: Any) -> None:
        data = await request_cls(sc, receive).body()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": data})

    async def raw(sc: Any, receive: Any, send: Any) -> None:
        total = b""
        while True:
            message = await receive()
            total += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": total})

    async def no_read(sc: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def catches(sc: Any, receive: Any, send: Any) -> None:
        try:
            await request_cls(sc, receive).body()
        except Exception as exc:
            status = 400 if exc.__class__.__name__ == "_RequestBodyTooLarge" else 500
        else:
            status = 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"handled"})

    async def started_then_read(sc: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await request_cls(sc, receive).body()
        await send({"type": "http.response.body", "body": b"b"})

    return {
        "echo": echo,
        "raw": raw,
        "no_read": no_read,
        "catches": catches,
        "started_then_read": started_then_read,
    }


CL = b"content-length"
CASES: dict[str, tuple[list[tuple[bytes, bytes]], list[dict[str, Any]]]] = {
    "at-limit-with-length": ([(CL, b"10")], [body(b"x" * 10)]),
    "one-over-with-length": ([(CL, b"11")], [body(b"x" * 11)]),
    "one-over-no-length": ([], [body(b"x" * 5, True), body(b"x" * 6)]),
    "at-limit-no-length": ([], [body(b"x" * 5, True), body(b"x" * 5)]),
    "length-lies-small": ([(CL, b"5")], [body(b"x" * 11)]),
    "length-lies-big-but-body-small": ([(CL, b"50")], [body(b"x" * 3)]),
    "invalid-length": ([(CL, b"abc")], [body(b"x" * 3)]),
    "negative-length": ([(CL, b"-1")], [body(b"x" * 3)]),
    "padded-length": ([(CL, b" 11 ")], [body(b"x" * 3)]),
    "duplicate-length-first-wins": ([(CL, b"5"), (CL, b"50")], [body(b"x" * 3)]),
    "duplicate-length-first-too-big": ([(CL, b"50"), (CL, b"5")], [body(b"x" * 3)]),
    "empty": ([], [body(b"")]),
    "disconnect": ([], [body(b"xx", True)]),
}


@pytest.mark.anyio
@pytest.mark.parametrize("app_name", ["echo", "raw", "no_read", "catches", "started_then_read"])
@pytest.mark.parametrize("case", list(CASES))
async def test_raw_asgi_matches_reference(app_name: str, case: str) -> None:
    headers, chunks = CASES[case]
    results = {}
    for name, (module, request_cls) in MODULES.items():
        app = module.RequestBodyLimitMiddleware(make_apps(request_cls)[app_name], 10)
        results[name] = await drive(app, scope(list(headers)), [dict(c) for c in chunks])
    assert results["fastframe"] == results["starlette"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "outer, inner, chunks",
    [
        (10, 100, [body(b"x" * 50)]),
        (100, 10, [body(b"x" * 50)]),
        (100, 10, [body(b"x" * 5, True), body(b"x" * 6)]),
    ],
)
async def test_nested_limits_innermost_wins(outer: int, inner: int, chunks: list[dict[str, Any]]) -> None:
    results = {}
    for name, (module, request_cls) in MODULES.items():
        seen: list[Any] = []

        def spy(app: Any, seen: list[Any] = seen, key: str = module.MAX_BODY_SIZE_SCOPE_KEY) -> Any:
            async def middle(sc: Any, receive: Any, send: Any) -> None:
                seen.append(sc.get(key))
                await app(sc, receive, send)

            return middle

        leaf = make_apps(request_cls)["echo"]
        app = module.RequestBodyLimitMiddleware(spy(module.RequestBodyLimitMiddleware(spy(leaf), inner)), outer)
        results[name] = (await drive(app, scope(), [dict(c) for c in chunks]), seen)
    assert results["fastframe"] == results["starlette"]


@pytest.mark.anyio
async def test_bytes_read_further_out_count_against_an_inner_limit() -> None:
    results = {}
    for name, (module, request_cls) in MODULES.items():

        def reads_first(app: Any) -> Any:
            async def middle(sc: Any, receive: Any, send: Any) -> None:
                first = await receive()
                replay = [first]

                async def again() -> Any:
                    return replay.pop() if replay else await receive()

                await app(sc, again, send)

            return middle

        leaf = make_apps(request_cls)["echo"]
        app = module.RequestBodyLimitMiddleware(reads_first(module.RequestBodyLimitMiddleware(leaf, 5)), 10)
        results[name] = await drive(app, scope(), [body(b"x" * 8, True), body(b"x")])
    assert results["fastframe"] == results["starlette"]
    assert results["fastframe"][0][-1]["body"] == b"Content Too Large"


@pytest.mark.anyio
async def test_non_http_scopes_pass_through() -> None:
    called = []

    async def app(sc: Any, receive: Any, send: Any) -> None:
        called.append(sc["type"])

    await ff_mod.RequestBodyLimitMiddleware(app, 1)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    await ff_mod.RequestBodyLimitMiddleware(app, 1)({"type": "websocket", "headers": []}, None, None)  # type: ignore[arg-type]
    assert called == ["lifespan", "websocket"]


def test_exception_type_is_an_http_exception() -> None:
    from fastframe.exceptions import HTTPException

    exc = ff_mod._RequestBodyTooLarge()
    assert isinstance(exc, HTTPException)
    assert (exc.status_code, exc.detail) == (413, "Content Too Large")


def _endpoint_app(module: Any, request_cls: Any, limit: int) -> Any:
    async def app(sc: Any, receive: Any, send: Any) -> None:
        data = await request_cls(sc, receive).body()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"got %d" % len(data)})

    return module.RequestBodyLimitMiddleware(app, limit)


def _chunks(data: bytes) -> Iterator[bytes]:
    yield data[:4]
    yield data[4:]


@pytest.mark.parametrize("size", [99, 100, 101])
@pytest.mark.parametrize("with_length", [True, False])
def test_client_one_byte_over(
    test_client_factory: Callable[..., Any], anyio_backend: str, size: int, with_length: bool
) -> None:
    data = b"x" * size
    outcomes = []
    for client in (
        test_client_factory(_endpoint_app(ff_mod, Request, 100)),
        RefTestClient(_endpoint_app(ref_mod, RefRequest, 100), backend=anyio_backend),
    ):
        content: Any = data if with_length else _chunks(data)
        response = client.post("/", content=content)
        outcomes.append((response.status_code, response.headers.multi_items(), response.content))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == (413 if size > 100 else 200)
