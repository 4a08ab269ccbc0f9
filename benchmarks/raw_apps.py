"""The raw-ASGI floor: hand-written apps with no framework, producing the same bytes as the scenarios."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

App = Callable[..., Any]


def _start(content_type: bytes, length: int) -> dict[str, Any]:
    return {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-length", str(length).encode()), (b"content-type", content_type)],
    }


async def _read_body(receive: Any) -> bytes:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def hello() -> App:
    body = b"Hello, world!"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(_start(b"text/plain; charset=utf-8", len(body)))
        await send({"type": "http.response.body", "body": body})

    return app


def json_response(content: Any) -> Callable[[], App]:
    def make() -> App:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
            await send(_start(b"application/json", len(body)))
            await send({"type": "http.response.body", "body": body})

        return app

    return make


def request_json() -> App:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        data = json.loads(await _read_body(receive))
        body = str(len(data)).encode()
        await send(_start(b"text/plain; charset=utf-8", len(body)))
        await send({"type": "http.response.body", "body": body})

    return app


def parsing_summary(headers: Any, cookies: Any, params: Any) -> str:
    """What the parsing scenario's handler reads: 3 headers, 2 cookies, 2 query parameters.

    Shared by the framework scenario and the raw floor, so both do the same reads.
    """
    return "|".join(
        [
            headers["user-agent"][:7],
            headers.get("x-request-id", ""),
            headers.get("accept-language", ""),
            cookies.get("session", ""),
            cookies.get("tz", ""),
            params.get("sort", ""),
            params.get("q", ""),
        ]
    )


def parsing() -> App:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = {}
        for part in headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            cookies[key] = value
        params = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        body = parsing_summary(headers, cookies, params).encode()
        await send(_start(b"text/plain; charset=utf-8", len(body)))
        await send({"type": "http.response.body", "body": body})

    return app


def middlewares(count: int) -> Callable[[], App]:
    def make() -> App:
        app = hello()
        for _ in range(count):
            app = _wrap(app)
        return app

    return make


def _wrap(inner: App) -> App:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await inner(scope, receive, send)

    return app


def streaming(total: int, chunk: int) -> Callable[[], App]:
    data = b"x" * chunk

    def make() -> App:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream")],
                }
            )
            for _ in range(total // chunk):
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b""})

        return app

    return make
