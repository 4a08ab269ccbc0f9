"""Turning an exception into the response its registered handler makes.

Handlers live in two mappings, by exception class and by HTTP status code, which
ExceptionMiddleware keeps and puts into the scope for the routes below it. A status handler
answers an HTTPException of its status first; otherwise the nearest class in the exception's MRO
that has a handler answers. With no handler the exception goes on up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastframe import speedups
from fastframe._utils import is_async_callable
from fastframe.concurrency import run_in_threadpool
from fastframe.exceptions import HTTPException
from fastframe.types import ASGIApp, ExceptionHandler, Receive, Scope, Send

if TYPE_CHECKING:
    from fastframe.requests import Request
    from fastframe.websockets import WebSocket

ExceptionHandlers = Mapping[Any, ExceptionHandler]
StatusHandlers = Mapping[int, ExceptionHandler]
Handlers = tuple[ExceptionHandlers, StatusHandlers]

# The reference's scope key: handlers registered by either package's middleware reach the other's routes.
SCOPE_KEY = "starlette.exception_handlers"
NO_HANDLERS: Handlers = ({}, {})
_Tracker = speedups.response.Tracker


def _lookup_exception_handler(exc_handlers: ExceptionHandlers, exc: Exception) -> ExceptionHandler | None:
    """The handler of the most specific class `exc` is an instance of, if any has one."""
    return next((exc_handlers[kind] for kind in type(exc).__mro__ if kind in exc_handlers), None)


def handler_for(handlers: Handlers, exc: Exception) -> ExceptionHandler | None:
    by_class, by_status = handlers
    if by_status and isinstance(exc, HTTPException):
        found = by_status.get(exc.status_code)
        if found is not None:
            return found
    return _lookup_exception_handler(by_class, exc) if by_class else None


def connection(scope: Scope, receive: Receive, send: Send) -> Request | WebSocket:
    """The Request or WebSocket a handler is given when the layer that caught the exception had none."""
    if scope["type"] == "websocket":
        from fastframe.websockets import WebSocket

        return WebSocket(scope, receive, send)
    from fastframe.requests import Request

    return Request(scope, receive, send)


async def handle_exception(
    exc: Exception,
    handlers: Handlers,
    conn: Request | WebSocket | None,
    started: bool,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Answer `exc` with its handler's response, or raise it again when it has no handler.

    `started` says whether the response had begun; `conn` is made (see `connection`) only when a
    handler is found, so a layer catching an exception pays for no Request up front.
    """
    handler = handler_for(handlers, exc)
    if handler is None:
        raise exc
    if started:
        raise RuntimeError("Caught handled exception, but response already started.") from exc
    if conn is None:
        conn = connection(scope, receive, send)
    if is_async_callable(handler):
        response = await handler(conn, exc)  # type: ignore[arg-type]
    else:
        response = await run_in_threadpool(handler, conn, exc)  # type: ignore[arg-type]
    if response is not None:
        await response(scope, receive, send)
    # Handled: its traceback (frames and their locals) need not outlive the request. The reference
    # drops it too, and a frame holding the exception would otherwise keep it all in a cycle.
    exc.__traceback__ = None


async def _guarded(
    app: ASGIApp, handlers: Handlers, conn: Request | WebSocket, scope: Scope, receive: Receive, send: Send
) -> None:
    watch = _Tracker(send)
    try:
        await app(scope, receive, watch.track)
    except Exception as exc:
        await handle_exception(exc, handlers, conn, watch.started, scope, receive, send)


if TYPE_CHECKING:

    def wrap_app_handling_exceptions(app: ASGIApp, conn: Request | WebSocket) -> ASGIApp:
        """`app` answering its exceptions with the handlers in `conn`'s scope, as a route does."""

else:
    # The twin's: routes, and FastAPI's for every request, wrap their app without a Python frame.
    wrap_app_handling_exceptions = speedups.response.wrap_app_handling_exceptions
    speedups.response.configure_guard(_guarded, SCOPE_KEY, NO_HANDLERS)
