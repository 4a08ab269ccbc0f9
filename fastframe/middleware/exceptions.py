from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A module import: fastframe._dispatch imports this module too.
from fastframe import _dispatch, speedups
from fastframe._exception_handler import (
    SCOPE_KEY,
    ExceptionHandlers,
    StatusHandlers,
    handle_exception,
    wrap_app_handling_exceptions,
)
from fastframe.exceptions import HTTPException, WebSocketException
from fastframe.requests import Request
from fastframe.responses import PlainTextResponse, Response
from fastframe.types import ASGIApp, ExceptionHandler, Receive, Scope, Send
from fastframe.websockets import WebSocket

__all__ = ["ExceptionMiddleware", "ExceptionHandlers", "StatusHandlers", "wrap_app_handling_exceptions"]

_NO_BODY_STATUS = frozenset({204, 304})
Tracker = speedups.response.Tracker


class ExceptionMiddleware(speedups.CallableApp):
    def __init__(
        self,
        app: ASGIApp,
        handlers: Mapping[Any, ExceptionHandler] | None = None,
        debug: bool = False,
    ) -> None:
        speedups.apps.arm(self)
        self.app = app
        self.debug = debug  # kept for API compatibility; not used for the responses here
        self._status_handlers: dict[int, ExceptionHandler] = {}
        self._exception_handlers: dict[type[Exception], ExceptionHandler] = {
            HTTPException: self.http_exception,
            WebSocketException: self.websocket_exception,  # type: ignore[dict-item]
        }
        if handlers is not None:
            for key, value in handlers.items():
                self.add_exception_handler(key, value)
        # one tuple shared by every request; the dicts are live, so later
        # add_exception_handler calls are still seen
        self._handlers = (self._exception_handlers, self._status_handlers)
        self._router = _dispatch.plain_router(app)

    def add_exception_handler(
        self,
        exc_class_or_status_code: int | type[Exception],
        handler: ExceptionHandler,
    ) -> None:
        if isinstance(exc_class_or_status_code, int):
            self._status_handlers[exc_class_or_status_code] = handler
        else:
            assert issubclass(exc_class_or_status_code, Exception)
            self._exception_handlers[exc_class_or_status_code] = handler

    # fastframe._dispatch.serve: over a plain Router it runs the router and the route in its own frame;
    # over anything else it calls _handle.
    __call__ = _dispatch.serve
    _outermost = False

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[SCOPE_KEY] = handlers = self._handlers
        tracker = Tracker(send)
        try:
            await self.app(scope, receive, tracker.track)
        except Exception as exc:
            await handle_exception(exc, handlers, None, tracker.started, scope, receive, send)

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in _NO_BODY_STATUS:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)

    async def websocket_exception(self, websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketException)
        await websocket.close(code=exc.code, reason=exc.reason)
