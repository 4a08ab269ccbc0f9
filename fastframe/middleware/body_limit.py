from __future__ import annotations

from typing import cast

from fastframe.exceptions import HTTPException
from fastframe.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_SIZE_SCOPE_KEY = "starlette.max_body_size"
_BODY_LIMIT_RESPONDER_SCOPE_KEY = "starlette._body_limit_responder"

# The 413 is sent as raw messages: identical bytes to PlainTextResponse("Content Too Large", 413).
_TOO_LARGE_BODY = b"Content Too Large"
_TOO_LARGE_START: Message = {
    "type": "http.response.start",
    "status": 413,
    "headers": [(b"content-length", b"17"), (b"content-type", b"text/plain; charset=utf-8")],
}


class _Missing:
    __slots__ = ()


_MISSING = _Missing()


class _RequestBodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Content Too Large")


class _RequestBodyLimitResponseSent(Exception):
    pass


def _get_content_length(scope: Scope) -> int | None:
    # The first Content-Length header counts; anything int() rejects is ignored.
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestBodyLimitResponder:
    """Per-request state. A nested limit (a Route inside a Router) updates this same
    responder, so the innermost limit wins and bytes already counted still count."""

    __slots__ = ("app", "max_body_size", "_scope", "_receive", "_send", "_received", "_started", "_cl")

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size
        self._received = 0
        self._started = False
        self._cl: int | None | _Missing = _MISSING

    @property
    def scope(self) -> Scope:
        return self._scope

    @property
    def receive(self) -> Receive:
        return self._receive

    @property
    def send(self) -> Send:
        return self._send

    def _declared_too_large(self) -> bool:
        cl = self._cl
        if cl is _MISSING:
            cl = self._cl = _get_content_length(self._scope)
        return cl is not None and cast(int, cl) > self.max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._scope = scope = {
            **scope,
            MAX_BODY_SIZE_SCOPE_KEY: self.max_body_size,
            _BODY_LIMIT_RESPONDER_SCOPE_KEY: self,
        }
        self._receive = receive
        self._send = send
        try:
            await self.app(scope, self.receive_with_limit, self.send_with_limit)
        except _RequestBodyLimitResponseSent:
            pass
        except _RequestBodyTooLarge:
            if self._started:
                raise
            await self._send_413()

    async def _send_413(self) -> None:
        self._started = True
        await self._send(dict(_TOO_LARGE_START, headers=list(_TOO_LARGE_START["headers"])))
        await self._send({"type": "http.response.body", "body": _TOO_LARGE_BODY})

    async def receive_with_limit(self) -> Message:
        if self._declared_too_large():
            raise _RequestBodyTooLarge()
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self.max_body_size:
                raise _RequestBodyTooLarge()
        return message

    async def send_with_limit(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self._declared_too_large():
                await self._send_413()
                raise _RequestBodyLimitResponseSent()
            self._started = True
        await self._send(message)


class RequestBodyLimitMiddleware:
    """Limit the total size of an HTTP request body."""

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        responder = scope.get(_BODY_LIMIT_RESPONDER_SCOPE_KEY)
        if responder is None:
            await RequestBodyLimitResponder(self.app, self.max_body_size)(scope, receive, send)
            return
        # Already limited further out: the innermost limit replaces the outer one.
        responder.max_body_size = self.max_body_size
        scope[MAX_BODY_SIZE_SCOPE_KEY] = self.max_body_size
        if responder._received > self.max_body_size:
            raise _RequestBodyTooLarge()
        await self.app(scope, receive, send)
