"""The common request path in one coroutine frame.

An application built from the default stack (ServerErrorMiddleware, the user's middleware,
ExceptionMiddleware, Router, a Route over a plain endpoint) would otherwise cross seven frames and
three send wrappers per request. `serve` does what ExceptionMiddleware, the Router and the route's
request_response/websocket_session wrapper do, in their order and with their exception semantics:
the route-level handler first (it sees the endpoint's Request), then the middleware-level one, then,
when `errors` is given, ServerErrorMiddleware's 500. Anything unusual (a route with its own
middleware, a Mount, a user route class, a replaced `route.app`) is handed to the route's `handle`
inside the same frame, so only the wrappers are skipped, never the behaviour.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from fastframe._exception_handler import SCOPE_KEY, handle_exception
from fastframe.exceptions import HTTPException
from fastframe.requests import Request
from fastframe.responses import PlainTextResponse, RedirectResponse, Response
from fastframe.websockets import WebSocket

if TYPE_CHECKING:
    from fastframe.middleware.errors import ServerErrorMiddleware
    from fastframe.routing import Router
    from fastframe.types import Message, Receive, Scope, Send


async def serve(
    router: Router,
    handlers: tuple[Any, Any],
    errors: ServerErrorMiddleware | None,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Dispatch an http or websocket scope; `errors` only for http scopes."""
    scope[SCOPE_KEY] = handlers
    scope_type = scope["type"]
    if "router" not in scope:
        scope["router"] = router
    response_started = False

    # One tracker stands for every layer's: each of them sees the same messages.
    def sender(message: Message) -> Awaitable[None]:
        nonlocal response_started
        if message["type"] == "http.response.start":
            response_started = True
        return send(message)

    try:
        try:
            route, direct = router._route_for(scope, scope_type)
            if direct is not None and route.app is direct[0]:  # type: ignore[union-attr]
                if scope_type == "http":
                    methods = route.methods  # type: ignore[union-attr]
                    if not methods or scope["method"] in methods:
                        request = Request(scope, receive, sender)
                        try:
                            response = await direct[1](request)
                            if type(response).__call__ is _RESPONSE_CALL:
                                # Response.__call__ without its frame; the start marks the response begun.
                                response_started = True
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
                                await response(scope, receive, sender)
                        except Exception as exc:
                            await handle_exception(exc, handlers, request, response_started, scope, receive, sender)
                        return
                else:
                    session = WebSocket(scope, receive, sender)
                    try:
                        await direct[1](session)
                    except Exception as exc:
                        await handle_exception(exc, handlers, session, response_started, scope, receive, sender)
                    return
            if route is not None:
                if scope_type == "http" and type(route).handle is _ROUTE_HANDLE:
                    methods = route.methods  # type: ignore[attr-defined]
                    if methods and scope["method"] not in methods and _default_answer(handlers, 405):
                        # What Route.handle's HTTPException(405) comes back as, without raising it.
                        answer = PlainTextResponse(
                            "Method Not Allowed", status_code=405, headers={"Allow": ", ".join(methods)}
                        )
                        await answer(scope, receive, sender)
                        return
                await route.handle(scope, receive, sender)
                return
            if getattr(router.default, "__func__", None) is _NOT_FOUND and scope_type == "http":
                redirect_url = router._redirect_for(scope)
                if redirect_url is not None:
                    await RedirectResponse(url=redirect_url)(scope, receive, sender)
                    return
                if _default_answer(handlers, 404):
                    await PlainTextResponse("Not Found", status_code=404)(scope, receive, sender)
                    return
            await router._unmatched(scope, receive, sender)
        except Exception as exc:
            await handle_exception(exc, handlers, None, response_started, scope, receive, sender)
    except Exception as exc:
        if errors is None:
            raise
        await errors.answer(exc, scope, receive, send, response_started)
        raise


def _default_answer(handlers: tuple[Any, Any], status_code: int) -> bool:
    """Whether an HTTPException with this status would reach ExceptionMiddleware's own handler."""
    if status_code in handlers[1]:
        return False
    handler = handlers[0].get(HTTPException)
    return getattr(handler, "__func__", None) is _HTTP_EXCEPTION


def plain_router(app: Any) -> Router | None:
    """`app` when it is a Router whose dispatch is ours, with no middleware of its own, else None."""
    from fastframe.routing import Router

    kind = type(app)
    if not isinstance(app, Router) or kind.__call__ is not Router.__call__ or kind.app is not Router.app:
        return None
    if kind._route_for is not Router._route_for or kind._unmatched is not Router._unmatched:
        return None
    stack = getattr(app, "middleware_stack", None)
    if getattr(stack, "__func__", None) is not Router.app or getattr(stack, "__self__", None) is not app:
        return None
    return app


def _bind() -> None:
    """Called once fastframe.routing is loaded (it imports this module, so this can't import it first)."""
    global _ROUTE_HANDLE, _NOT_FOUND, _HTTP_EXCEPTION
    from fastframe.middleware.exceptions import ExceptionMiddleware
    from fastframe.routing import Route, Router

    _ROUTE_HANDLE = Route.handle
    _NOT_FOUND = Router.not_found
    _HTTP_EXCEPTION = ExceptionMiddleware.http_exception


_RESPONSE_CALL = Response.__call__
_ROUTE_HANDLE: Any = None
_NOT_FOUND: Any = None
_HTTP_EXCEPTION: Any = None
