"""AuthenticationMiddleware: runs an AuthenticationBackend and puts its answer in the scope."""

from __future__ import annotations

from collections.abc import Callable

from fastframe.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    UnauthenticatedUser,
)
from fastframe.requests import HTTPConnection
from fastframe.responses import PlainTextResponse, Response
from fastframe.types import ASGIApp, Receive, Scope, Send

ErrorHandler = Callable[[HTTPConnection, AuthenticationError], Response]


class AuthenticationMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        backend: AuthenticationBackend,
        on_error: Callable[[HTTPConnection, AuthenticationError], Response] | None = None,
    ) -> None:
        self.app = app
        self.backend = backend
        self.on_error: ErrorHandler = self.default_on_error if on_error is None else on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        try:
            outcome = await self.backend.authenticate(connection)
        except AuthenticationError as error:
            # The handler runs for websockets too; they are closed rather than answered.
            response = self.on_error(connection, error)
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            else:
                await response(scope, receive, send)
            return
        credentials, user = (AuthCredentials(), UnauthenticatedUser()) if outcome is None else outcome
        scope["auth"] = credentials
        scope["user"] = user
        await self.app(scope, receive, send)

    @staticmethod
    def default_on_error(conn: HTTPConnection, exc: Exception) -> Response:
        return PlainTextResponse(str(exc), status_code=400)
