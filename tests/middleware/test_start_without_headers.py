"""An http.response.start without "headers" (the key is optional in ASGI) passes through every
middleware the reference has, and comes out as the reference's does."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import anyio
import pytest


def stacks(pkg: str) -> dict[str, Callable[[Any], Any]]:
    def module(name: str) -> Any:
        return importlib.import_module(f"{pkg}.middleware.{name}")

    async def passthrough(request: Any, call_next: Any) -> Any:
        return await call_next(request)

    async def add_header(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-added"] = "1"
        return response

    return {
        "cors, any origin": lambda app: module("cors").CORSMiddleware(app, allow_origins=["*"]),
        "cors, credentials": lambda app: module("cors").CORSMiddleware(
            app, allow_origins=["http://client.example"], allow_credentials=True, expose_headers=["x-a"]
        ),
        "gzip": lambda app: module("gzip").GZipMiddleware(app, minimum_size=10),
        "gzip, small body": lambda app: module("gzip").GZipMiddleware(app, minimum_size=100_000),
        "sessions": lambda app: module("sessions").SessionMiddleware(app, secret_key="not secret"),
        "trusted hosts": lambda app: module("trustedhost").TrustedHostMiddleware(app, allowed_hosts=["example.com"]),
        "base, passthrough": lambda app: module("base").BaseHTTPMiddleware(app, passthrough),
        "base, header added": lambda app: module("base").BaseHTTPMiddleware(app, add_header),
        "all of them": lambda app: module("cors").CORSMiddleware(
            module("gzip").GZipMiddleware(
                module("sessions").SessionMiddleware(
                    module("base").BaseHTTPMiddleware(app, add_header), secret_key="not secret"
                ),
                minimum_size=10,
            ),
            allow_origins=["*"],
        ),
    }


async def app(scope: Any, receive: Any, send: Any) -> None:
    if "session" in scope:
        scope["session"]["seen"] = True
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": b"a body long enough to be compressed " * 20})


def run(wrap: Callable[[Any], Any]) -> list[Any]:
    async def main() -> list[Any]:
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            headers = message.get("headers")
            if headers is not None:
                # Set-Cookie carries a timestamp: compare its name only.
                headers = [(k, v.split(b"=")[0] if k == b"set-cookie" else v) for k, v in headers]
            sent.append({**message, "headers": headers} if headers is not None else message)

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "root_path": "",
            "scheme": "http",
            "server": ("example.com", 80),
            "headers": [
                (b"host", b"example.com"),
                (b"origin", b"http://client.example"),
                (b"accept-encoding", b"gzip"),
            ],
        }
        await wrap(app)(scope, receive, send)
        return sent

    return anyio.run(main)


@pytest.mark.parametrize("stack", list(stacks("fastframe")))
def test_matches_the_reference(stack: str) -> None:
    ours = run(stacks("fastframe")[stack])
    assert ours == run(stacks("starlette")[stack])
    assert ours[0]["type"] == "http.response.start"
