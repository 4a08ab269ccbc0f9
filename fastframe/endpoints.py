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

# Only these verbs ever reach a handler method, so a request method such as
# "DISPATCH" or "__INIT__" cannot call arbitrary attributes of the endpoint.
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class HTTPEndpoint:
    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.scope = scope
        self.receive = receive
        self.send = send
        self._allowed_methods = [
            method
            for method in _HTTP_METHODS
            if getattr(self, method.lower(), None) is not None
            # HEAD is served by get() when no head() exists.
            or (method == "HEAD" and getattr(self, "get", None) is not None)
        ]

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        request = Request(self.scope, receive=self.receive)
        method = request.method
        handler: Callable[[Request], Any]
        if method in self._allowed_methods:
            name = "get" if method == "HEAD" and not hasattr(self, "head") else method.lower()
            handler = getattr(self, name, self.method_not_allowed)
        else:
            handler = self.method_not_allowed
            if type(self).method_not_allowed is HTTPEndpoint.method_not_allowed:
                # The stock handler never blocks; skip the worker-thread hop.
                response = self.method_not_allowed(request)
                await response(self.scope, self.receive, self.send)
                return

        if is_async_callable(handler):
            response = await handler(request)
        else:
            response = await run_in_threadpool(handler, request)
        await response(self.scope, self.receive, self.send)

    def method_not_allowed(self, request: Request) -> Response:
        headers = {"Allow": ", ".join(self._allowed_methods)}
        if "app" in self.scope:
            # Inside an application the exception middleware renders it.
            raise HTTPException(status_code=405, headers=headers)
        return PlainTextResponse("Method Not Allowed", status_code=405, headers=headers)


class WebSocketEndpoint:
    encoding: Literal["text", "bytes", "json"] | None = None

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        self.scope = scope
        self.receive = receive
        self.send = send

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        websocket = WebSocket(self.scope, receive=self.receive, send=self.send)
        await self.on_connect(websocket)

        close_code = status.WS_1000_NORMAL_CLOSURE
        try:
            while True:
                message = await websocket.receive()
                message_type = message["type"]
                if message_type == "websocket.receive":
                    data = await self.decode(websocket, message)
                    await self.on_receive(websocket, data)
                elif message_type == "websocket.disconnect":
                    close_code = int(message.get("code") or status.WS_1000_NORMAL_CLOSURE)
                    break
        except Exception:
            close_code = status.WS_1011_INTERNAL_ERROR
            raise
        finally:
            await self.on_disconnect(websocket, close_code)

    async def decode(self, websocket: WebSocket, message: Message) -> Any:
        encoding = self.encoding
        if encoding == "text":
            text = message.get("text")
            if text is None:
                await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("Expected text websocket messages, but got bytes")
            return text

        if encoding == "bytes":
            data = message.get("bytes")
            if data is None:
                await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("Expected bytes websocket messages, but got text")
            return data

        if encoding == "json":
            text = message.get("text")
            if text is None:
                text = message["bytes"].decode("utf-8")
            try:
                return _json_loads_text(text)
            except json.JSONDecodeError:
                await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("Malformed JSON data received.")

        assert encoding is None, f"Unsupported 'encoding' attribute {encoding}"
        text = message.get("text")
        return text if text is not None else message["bytes"]

    async def on_connect(self, websocket: WebSocket) -> None:
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        pass

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        pass
