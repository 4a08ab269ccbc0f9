"""ExceptionMiddleware: the layer that turns exceptions into the responses of their handlers.

It registers the handlers by class and by status code, hands them to the routes below through the
scope, and answers what escapes the app beneath it. Over a plain Router (the usual case inside an
application) it does the router's dispatch in its own frame: the router resolves the route through
its table, and a route whose handling is only calling its endpoint has the endpoint called here,
its Response sent here; anything else goes through the route's own `handle`. The behaviour, order
and exception semantics are those of the layers one above the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastframe import speedups
from fastframe._exception_handler import (
    SCOPE_KEY,
    ExceptionHandlers,
    StatusHandlers,
    handle_exception,
    wrap_app_handling_exceptions,
)
from fastframe.exceptions import HTTPException, WebSocketException
from fastframe.requests import Request
from fastframe.responses import PLAIN_CALL, PlainTextResponse, Response
from fastframe.routing import _OWN_APP as _ROUTER_APP
from fastframe.routing import _OWN_CALL as _ROUTER_CALL
from fastframe.routing import Route, Router
from fastframe.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send
from fastframe.websockets import WebSocket

__all__ = ["ExceptionHandlers", "ExceptionMiddleware", "StatusHandlers", "wrap_app_handling_exceptions"]

_Tracker = speedups.response.Tracker
_new_request = speedups.http.new_request
_plain_answer = speedups.response.plain_answer
_EMPTY_STATUSES = (204, 304)
# HTTPException's detail for the statuses answered without raising it (see _quick_answer).
_PHRASES = {status: HTTPStatus(status).phrase for status in (404, 405)}


def plain_router(app: Any) -> Router | None:
    """`app` when it is a Router dispatching with Router's own methods and no middleware of its own.

    Router's own: the ones its class defined (kept in fastframe.routing), so that a __call__ or app
    replaced on the class itself is called, as on the reference."""
    cls = type(app)
    if not isinstance(app, Router) or cls.__call__ is not _ROUTER_CALL or cls.app is not _ROUTER_APP:
        return None
    stack = getattr(app, "middleware_stack", None)
    if getattr(stack, "__func__", None) is not _ROUTER_APP or getattr(stack, "__self__", None) is not app:
        return None
    return app


class ExceptionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        handlers: Mapping[Any, ExceptionHandler] | None = None,
        debug: bool = False,
    ) -> None:
        self.app = app
        self.debug = debug  # the reference's too: its responses do not depend on it
        self._status_handlers: dict[int, ExceptionHandler] = {}
        self._exception_handlers: dict[type[Exception], ExceptionHandler] = {
            HTTPException: self.http_exception,
            WebSocketException: self.websocket_exception,  # type: ignore[dict-item]
        }
        for key, handler in (handlers or {}).items():
            self.add_exception_handler(key, handler)
        # One pair for every request: the dicts stay live, so later registrations are seen.
        self._handlers = (self._exception_handlers, self._status_handlers)
        self._router = plain_router(app)
        # _quick_answer's answers, by route.
        self._answers: dict[int, tuple[Any, ...]] = {}

    def add_exception_handler(
        self,
        exc_class_or_status_code: int | type[Exception],
        handler: ExceptionHandler,
    ) -> None:
        if isinstance(exc_class_or_status_code, int):
            self._status_handlers[exc_class_or_status_code] = handler
            return
        assert issubclass(exc_class_or_status_code, Exception)
        self._exception_handlers[exc_class_or_status_code] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        router = self._router
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        scope[SCOPE_KEY] = handlers = self._handlers
        if router is None or self.app is not router:
            below = _Tracker(send)
            try:
                await self.app(scope, receive, below.track)
            except Exception as exc:
                await handle_exception(exc, handlers, None, below.started, scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = router
        started = False
        watch: Any = None
        try:
            # The router's table, as Router._resolve reads it (without that call's frame).
            try:
                table = router.routes.table
            except AttributeError:
                table = None
            route, run = (table or router._route_table()).resolve(scope, kind)
            if run is None:
                answer = self._quick_answer(route, router, scope)
                if answer is not None:
                    started = True
                    await send(answer[0])
                    await send(answer[1])
                    return
                watch = _Tracker(send)
                await self._dispatch(route, router, scope, receive, watch.track)
            elif kind == "http":
                request = _new_request(scope, receive, send)
                try:
                    response = await run(request)
                    if type(response) in PLAIN_CALL:
                        started = True
                        await send(
                            {
                                "type": "http.response.start",
                                "status": response.status_code,
                                "headers": response.raw_headers,
                            }
                        )
                        await send({"type": "http.response.body", "body": response.body})
                        if response.background is not None:
                            await response.background()
                    else:
                        watch = _Tracker(send)
                        await response(scope, receive, watch.track)
                except Exception as exc:
                    watch = watch or _Tracker(send, started)
                    await handle_exception(exc, handlers, request, watch.started, scope, receive, watch.track)
            else:
                websocket = WebSocket(scope, receive, send)
                try:
                    await run(websocket)
                except Exception as exc:
                    # A websocket's messages never start an http response.
                    await handle_exception(exc, handlers, websocket, False, scope, receive, send)
        except Exception as exc:
            watch = watch or _Tracker(send, started)
            await handle_exception(exc, handlers, None, watch.started, scope, receive, watch.track)

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in _EMPTY_STATUSES:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)

    async def websocket_exception(self, websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketException)
        await websocket.close(code=exc.code, reason=exc.reason)

    # --- what an application's planned stack shares with __call__ above ---------------------------

    def _quick_answer(self, route: Any, router: Router, scope: Scope) -> tuple[Message, Message] | None:
        """The messages of the 404 or 405 the layers below would end in, when nothing but their
        default behaviour is involved: the router's own not_found or a Route's own handle raising
        the HTTPException, which this middleware's own http_exception turns into plain text.
        None otherwise: the dispatch then runs those layers."""
        if scope["type"] != "http":
            return None
        methods = None
        if route is None:
            if getattr(router.default, "__func__", None) is not Router.not_found or router._redirect_for(scope):
                return None
            status = 404
        else:
            if type(route).handle is not Route.handle:
                return None
            methods = route.methods
            if not methods or scope["method"] in methods:
                return None
            status = 405
        if status in self._status_handlers:
            return None
        handler = self._exception_handlers.get(HTTPException)
        if getattr(handler, "__func__", None) is not ExceptionMiddleware.http_exception or handler.__self__ is not self:  # type: ignore[union-attr]
            return None
        media_type, charset = PlainTextResponse.media_type, PlainTextResponse.charset
        # The answer per route (None: the 404), kept while what made it is unchanged.
        made = self._answers.get(id(route))
        if made is None or made[0] is not route or made[1] != methods or made[2:4] != (media_type, charset):
            allow = None if methods is None else ", ".join(methods)
            start, body = _plain_answer(status, _PHRASES[status], allow, media_type, charset)
            if len(self._answers) >= 256:
                self._answers.clear()
            kept = None if methods is None else frozenset(methods)
            made = self._answers[id(route)] = (route, kept, media_type, charset, tuple(start["headers"]), body)
        return (
            {"type": "http.response.start", "status": status, "headers": list(made[4])},
            {"type": "http.response.body", "body": made[5]},
        )

    async def _dispatch(self, route: Any, router: Router, scope: Scope, receive: Receive, send: Send) -> None:
        """The router's work for a route that is not run directly: its own handle, or no route."""
        if route is not None:
            await route.handle(scope, receive, send)
        else:
            await router._unmatched(scope, receive, send)


# The class's own __call__, kept before anything can replace it on the class: Starlette.__call__
# stands in for this layer only while the class still has it (see fastframe.applications).
_OWN_CALL = ExceptionMiddleware.__call__
