"""Drives an ASGI app in-process the way a server would: a fresh scope per call, the body once,
and a disconnect only after the response is complete (so disconnect listeners behave as in production)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

Headers = Sequence[tuple[bytes, bytes]]


class Request:
    __slots__ = ("scope", "body", "chunk")

    def __init__(
        self,
        method: str,
        path: str,
        query: bytes = b"",
        headers: Headers = (),
        body: bytes = b"",
        chunk: int = 65536,
    ) -> None:
        raw_headers = [(b"host", b"bench")] + [(k.lower(), v) for k, v in headers]
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        self.scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "extensions": {},
            "state": {},
        }
        self.body = body
        self.chunk = chunk


class Result:
    __slots__ = ("status", "headers", "body")

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()


async def call(app: Callable[..., Any], request: Request, keep_body: bool = True) -> Result:
    result = Result()
    body = request.body
    chunk = request.chunk
    offset = 0
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal offset
        if offset < len(body) or (offset == 0 and not body):
            part = body[offset : offset + chunk]
            offset += max(len(part), 1)
            return {"type": "http.request", "body": part, "more_body": offset < len(body)}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            result.status = message["status"]
            result.headers = list(message.get("headers", ()))
        elif kind == "http.response.body":
            if keep_body:
                result.body += message.get("body", b"")
            if not message.get("more_body", False):
                done.set()

    await app(dict(request.scope), receive, send)
    done.set()
    return result


def batch_runner(app: Callable[..., Any], request: Request | WebSocketRequest, batch: int) -> Callable[[], None]:
    """A callable that serves `batch` requests on one event loop: per-request cost dominates the loop's."""
    loop = asyncio.new_event_loop()

    async def many() -> None:
        if isinstance(request, WebSocketRequest):
            for _ in range(batch):
                await call_websocket(app, request)
        else:
            for _ in range(batch):
                await call(app, request, keep_body=False)

    def run() -> None:
        loop.run_until_complete(many())

    return run


def call_once(app: Callable[..., Any], request: Request | WebSocketRequest) -> Any:
    loop = asyncio.new_event_loop()
    try:
        if isinstance(request, WebSocketRequest):
            return loop.run_until_complete(call_websocket(app, request))
        return loop.run_until_complete(call(app, request))
    finally:
        loop.close()


class WebSocketRequest:
    """A websocket session: the client connects, sends `messages`, and waits for the app to close."""

    __slots__ = ("scope", "messages")

    def __init__(self, path: str, messages: Sequence[dict[str, Any]]) -> None:
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"bench"), (b"sec-websocket-version", b"13")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "subprotocols": [],
            "extensions": {},
            "state": {},
        }
        self.messages = [{"type": "websocket.connect"}, *messages]


class WebSocketResult:
    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []


async def call_websocket(app: Callable[..., Any], request: WebSocketRequest) -> WebSocketResult:
    result = WebSocketResult()
    incoming = iter(request.messages)
    closed = asyncio.Event()

    async def receive() -> dict[str, Any]:
        message = next(incoming, None)
        if message is not None:
            return message
        await closed.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        result.sent.append(message)
        if message["type"] == "websocket.close":
            closed.set()

    await app(dict(request.scope), receive, send)
    return result
