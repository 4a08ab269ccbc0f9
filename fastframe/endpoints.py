"""Class-based endpoints: a method per HTTP verb, or callbacks for a websocket's life.

A route calls the class like any ASGI app, `Endpoint(scope, receive, send)`, and awaits the
instance; awaiting runs `dispatch`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import Any, Literal

from fastframe import status
from fastframe._utils import is_async_callable
from fastframe.concurrency import run_in_threadpool
from fastframe.exceptions import HTTPException
from fastframe.requests import Request
from fastframe.responses import PlainTextResponse, Response
from fastframe.types import Message, Receive, Scope, Send
from fastframe.websockets import WebSocket, _json_loads_text

# The verbs an endpoint may answer, in the order its Allow header lists them. Only these reach a
# method of the endpoint: a request for "DISPATCH" does not call `dispatch`.
_VERBS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY")


class HTTPEndpoint:
    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.scope, self.receive, self.send = scope, receive, send
        answered = {verb for verb in _VERBS if getattr(self, verb.lower(), None) is not None}
        if "GET" in answered:
            answered.add("HEAD")  # a GET handler answers HEAD when there is no head()
        self._allowed_methods = [verb for verb in _VERBS if verb in answered]

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        request = Request(self.scope, receive=self.receive)
        verb = request.method
        handler: Callable[[Request], Any] = self.method_not_allowed
        if verb in self._allowed_methods:
            name = "get" if verb == "HEAD" and not hasattr(self, "head") else verb.lower()
            handler = getattr(self, name, self.method_not_allowed)
        if is_async_callable(handler):
            response = await handler(request)
        else:
            response = await run_in_threadpool(handler, request)
        await response(self.scope, self.receive, self.send)

    def method_not_allowed(self, request: Request) -> Response:
        allow = {"Allow": ", ".join(self._allowed_methods)}
        if "app" not in self.scope:
            return PlainTextResponse("Method Not Allowed", status_code=405, headers=allow)
        # Inside an application the exception middleware renders it, through the user's handlers.
        raise HTTPException(status_code=405, headers=allow)


class WebSocketEndpoint:
    encoding: Literal["text", "bytes", "json"] | None = None

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        self.scope, self.receive, self.send = scope, receive, send

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        websocket = WebSocket(self.scope, self.receive, self.send)
        await self.on_connect(websocket)
        # What on_disconnect is told: the client's code, or 1011 when a callback failed.
        code = status.WS_1000_NORMAL_CLOSURE
        try:
            code = await self._conversation(websocket)
        except Exception:
            code = status.WS_1011_INTERNAL_ERROR
            raise
        finally:
            await self.on_disconnect(websocket, code)

    async def _conversation(self, websocket: WebSocket) -> int:
        """Hands each received message to on_receive until the client disconnects; its close code."""
        while True:
            message = await websocket.receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                return int(message.get("code") or status.WS_1000_NORMAL_CLOSURE)
            if kind == "websocket.receive":
                await self.on_receive(websocket, await self.decode(websocket, message))

    async def decode(self, websocket: WebSocket, message: Message) -> Any:
        encoding = self.encoding
        if encoding is None:
            text = message.get("text")
            return message["bytes"] if text is None else text
        if encoding == "text" or encoding == "bytes":
            value = message.get(encoding)
            if value is None:
                await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
                other = "bytes" if encoding == "text" else "text"
                raise RuntimeError(f"Expected {encoding} websocket messages, but got {other}")
            return value
        assert encoding == "json", f"Unsupported 'encoding' attribute {encoding}"
        text = message.get("text")
        if text is None:
            text = message["bytes"].decode("utf-8")
        try:
            return _json_loads_text(text)
        except json.JSONDecodeError:
            await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
            raise RuntimeError("Malformed JSON data received.")

    async def on_connect(self, websocket: WebSocket) -> None:
        """Called first: accepts the connection unless overridden."""
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        """Called with each received message, decoded as `encoding` says."""

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        """Called last, with the close code."""
