"""The common request path in one coroutine frame.

An application built from the default stack (ServerErrorMiddleware, the user's middleware,
ExceptionMiddleware, Router, a Route over a plain endpoint) would otherwise cross seven frames and
three send wrappers per request. `serve` is Starlette.__call__ and ExceptionMiddleware.__call__; it
does what ExceptionMiddleware, the Router and the route's request_response/websocket_session wrapper
do, in their order and with their exception semantics: the route-level handler first (it sees the
endpoint's Request), then the middleware-level one, then, with no user middleware,
ServerErrorMiddleware's 500. Anything unusual (a route with its own middleware, a Mount, a user route
class, a replaced `route.app`) is handed to the route's `handle` inside the same frame, so only the
wrappers are skipped, never the behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastframe import speedups
from fastframe._exception_handler import SCOPE_KEY, handle_exception
from fastframe.exceptions import HTTPException
from fastframe.middleware.errors import ServerErrorMiddleware
from fastframe.responses import PlainTextResponse, RedirectResponse, Response
from fastframe.routing import Route, Router
from fastframe.websockets import WebSocket

if TYPE_CHECKING:
    from fastframe.types import Receive, Scope, Send

_RESPONSE_CALL = Response.__call__
_ROUTE_HANDLE = Route.handle
_NOT_FOUND = Router.not_found
_route_for = speedups.routing.route_for
_new_request = speedups.http.new_request
Tracker = speedups.response.Tracker
# The start message and body of a PlainTextResponse, without making one: the 404 and 405 answers.
_answer = speedups.response.plain_answer

# What Starlette.__call__ makes of its middleware stack (see stack_plan).
FUSED = "fused"
OUTER = "outer"
OPAQUE = "opaque"
# The plan of an app whose stack is not planned yet: its first item is no middleware stack.
UNPLANNED = (object(), OPAQUE, None, None)


async def serve(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
    """Starlette.__call__ and ExceptionMiddleware.__call__: both are this function.

    As the app (`self._outermost`), it sets scope["app"] and runs the stack, doing
    ServerErrorMiddleware's work itself when that is the stack's outer layer; as the exception
    middleware, it dispatches to its router. Either way, when nothing but a plain Router lies
    below, the exception middleware, the router and the route run here, in this frame.
    """
    scope_type = scope["type"]
    errors: ServerErrorMiddleware | None = None
    if self._outermost:
        scope["app"] = self
        stack, kind, handlers, router = self._stack_plan
        if stack is not self.middleware_stack:
            stack, kind, handlers, router = self._plan_stack()
        if kind is not FUSED or (scope_type != "http" and scope_type != "websocket"):
            if kind is not OPAQUE and scope_type == "http":
                outer = Tracker(send)
                try:
                    await stack.app(scope, receive, outer.track)
                except Exception as exc:
                    await stack.answer(exc, scope, receive, send, outer.started)
                    raise
                return
            await stack(scope, receive, send)
            return
        if scope_type == "http":
            errors = stack
    else:
        if scope_type != "http" and scope_type != "websocket":
            await self.app(scope, receive, send)
            return
        router = self._router
        handlers = self._handlers
        if router is None or self.app is not router:
            await self._handle(scope, receive, send)
            return
    scope[SCOPE_KEY] = handlers
    if "router" not in scope:
        scope["router"] = router
    # Whether the response started, as every layer's send wrapper would tell (they all see the same
    # messages). The common path keeps it in `started` and wraps nothing; any other path sends
    # through a Tracker, handed on as its bound `track` (cheaper to call than the instance).
    started = False
    tracker: Any = None
    try:
        try:
            route, direct = _route_for(router, scope, scope_type)
            if direct is not None:
                if scope_type == "http":
                    # route_for gives a direct entry only for a route it matched itself, method included,
                    # whose app is still the one the entry was made from.
                    # Request only hands `send` to send_push_promise, whose messages never start a response.
                    request = _new_request(scope, receive, send)
                    try:
                        response = await direct[1](request)
                        if type(response).__call__ is _RESPONSE_CALL:
                            # Response.__call__ without its frame; the start marks the response begun.
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
                            tracker = Tracker(send)
                            await response(scope, receive, tracker.track)
                    except Exception as exc:
                        # Kept in `tracker`: the handler's response may start before it fails, and the
                        # error layer below must then know.
                        if tracker is None:
                            tracker = Tracker(send, started)
                        await handle_exception(exc, handlers, request, tracker.started, scope, receive, tracker.track)
                    return
                else:
                    # Websocket messages never start an http response: nothing to track.
                    session = WebSocket(scope, receive, send)
                    try:
                        await direct[1](session)
                    except Exception as exc:
                        await handle_exception(exc, handlers, session, False, scope, receive, send)
                    return
            if route is not None:
                if scope_type == "http" and type(route).handle is _ROUTE_HANDLE:
                    methods = route.methods
                    if (
                        methods
                        and scope["method"] not in methods
                        and 405 not in handlers[1]
                        and getattr(handlers[0].get(HTTPException), "__func__", None)
                        is _exception_middleware.ExceptionMiddleware.http_exception
                    ):
                        # What Route.handle's HTTPException(405) comes back as, without raising it.
                        start, body = _answer(
                            405,
                            "Method Not Allowed",
                            ", ".join(methods),
                            PlainTextResponse.media_type,
                            PlainTextResponse.charset,
                        )
                        started = True
                        await send(start)
                        await send({"type": "http.response.body", "body": body})
                        return
                tracker = Tracker(send)
                await route.handle(scope, receive, tracker.track)
                return
            if getattr(router.default, "__func__", None) is _NOT_FOUND and scope_type == "http":
                redirect_url = router._redirect_for(scope)
                if redirect_url is not None:
                    tracker = Tracker(send)
                    await RedirectResponse(url=redirect_url)(scope, receive, tracker.track)
                    return
                if (
                    404 not in handlers[1]
                    and getattr(handlers[0].get(HTTPException), "__func__", None)
                    is _exception_middleware.ExceptionMiddleware.http_exception
                ):
                    start, body = _answer(
                        404, "Not Found", None, PlainTextResponse.media_type, PlainTextResponse.charset
                    )
                    started = True
                    await send(start)
                    await send({"type": "http.response.body", "body": body})
                    return
            tracker = Tracker(send)
            await router._unmatched(scope, receive, tracker.track)
        except Exception as exc:
            if tracker is None:
                tracker = Tracker(send, started)
            await handle_exception(exc, handlers, None, tracker.started, scope, receive, tracker.track)
    except Exception as exc:
        if errors is None:
            raise
        await errors.answer(exc, scope, receive, send, started if tracker is None else tracker.started)
        raise


def stack_plan(stack: Any) -> tuple[Any, str, Any, Any]:
    """(stack, kind, exception handlers, router) for Starlette's middleware stack: FUSED when it is
    the default one with nothing between its error and exception middleware and a plain Router below;
    OUTER when only its outer layer is a plain ServerErrorMiddleware; else OPAQUE."""
    if not isinstance(stack, ServerErrorMiddleware) or type(stack).__call__ is not ServerErrorMiddleware.__call__:
        return stack, OPAQUE, None, None
    inner = stack.app
    exception_middleware = _exception_middleware.ExceptionMiddleware
    if isinstance(inner, exception_middleware) and type(inner).__call__ is exception_middleware.__call__:
        router = inner._router
        if router is not None and inner.app is router:
            return stack, FUSED, inner._handlers, router
    return stack, OUTER, None, None


def plain_router(app: Any) -> Router | None:
    """`app` when it is a Router whose dispatch is ours, with no middleware of its own, else None."""
    kind = type(app)
    if not isinstance(app, Router) or kind.__call__ is not Router.__call__ or kind.app is not Router.app:
        return None
    if kind._route_for is not Router._route_for or kind._unmatched is not Router._unmatched:
        return None
    stack = getattr(app, "middleware_stack", None)
    if getattr(stack, "__func__", None) is not Router.app or getattr(stack, "__self__", None) is not app:
        return None
    return app


# Last: fastframe.middleware.exceptions takes `serve` from this module as it is made.
from fastframe.middleware import exceptions as _exception_middleware  # noqa: E402
