"""A request (through BaseHTTPMiddleware or not) leaves no reference cycles behind: everything it
made goes with its last reference, not at the cycle collector's next pass."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from fastframe.applications import Starlette
from fastframe.middleware import Middleware
from fastframe.middleware.base import BaseHTTPMiddleware
from fastframe.requests import Request
from fastframe.responses import PlainTextResponse, StreamingResponse
from fastframe.routing import Route


class Passing(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Any) -> Any:
        return await call_next(request)


class Replacing(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        body = b"".join([chunk async for chunk in response.body_iterator])
        return PlainTextResponse(body.decode() + "!")


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


async def stream(request: Request) -> StreamingResponse:
    async def chunks() -> Any:
        yield b"a"
        yield b"b"

    return StreamingResponse(chunks())


async def serve(app: Any, path: str) -> bytes:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    body = bytearray()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    return bytes(body)


@pytest.mark.parametrize("middleware", [None, Passing, Replacing])
@pytest.mark.parametrize("path", ["/", "/stream"])
def test_no_cyclic_garbage_per_request(middleware: type | None, path: str) -> None:
    stack = [] if middleware is None else [Middleware(middleware)]
    app = Starlette(routes=[Route("/", hello), Route("/stream", stream)], middleware=stack)

    async def requests() -> list[bytes]:
        return [await serve(app, path) for _ in range(20)]

    asyncio.run(requests())  # warm: first-use caches are not per-request garbage
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        bodies = asyncio.run(requests())
        gc.collect()
        left = [f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    expected = b"hello" if path == "/" else b"ab"
    assert bodies == [expected + (b"!" if middleware is Replacing else b"")] * 20
    assert [name for name in left if name.startswith("fastframe.")] == []
