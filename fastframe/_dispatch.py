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

# fastframe.middleware.exceptions imports this module: its ExceptionMiddleware is read at call time.
from fastframe.middleware import exceptions as _exception_middleware
from fastframe.requests import Request
from fastframe.responses import PlainTextResponse, RedirectResponse, Response
from fastframe.routing import Route, Router
from fastframe.websockets import WebSocket

if TYPE_CHECKING:
    from fastframe.middleware.errors import ServerErrorMiddleware
    from fastframe.types import Message, Receive, Scope, Send

_RESPONSE_CALL = Response.__call__
_ROUTE_HANDLE = Route.handle
_NOT_FOUND = Router.not_found


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
    # Whether the response started, as every layer's send wrapper would tell (they all see the same
    # messages). The common path tracks it in `started` and wraps nothing; any other path gets a
    # tracking send, with the flag in `state`.
    started = False
    state: list[bool] | None = None
    try:
        try:
            route, direct = router._route_for(scope, scope_type)
            if direct is not None and route.app is direct[0]:  # type: ignore[union-attr]
                if scope_type == "http":
                    methods = route.methods  # type: ignore[union-attr]
                    if not methods or scope["method"] in methods:
                        # Request only hands `send` to send_push_promise, whose messages never start a response.
                        request = Request(scope, receive, send)
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
                                state = [False]
                                await response(scope, receive, _tracking(send, state))
                        except Exception as exc:
                            if state is None:
                                state = [started]
                            await handle_exception(
                                exc, handlers, request, state[0], scope, receive, _tracking(send, state)
                            )
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
                    methods = route.methods  # type: ignore[attr-defined]
                    if methods and scope["method"] not in methods and _default_answer(handlers, 405):
                        # What Route.handle's HTTPException(405) comes back as, without raising it.
                        answer = PlainTextResponse(
                            "Method Not Allowed", status_code=405, headers={"Allow": ", ".join(methods)}
                        )
                        started = True
                        await send(_start(answer))
                        await send({"type": "http.response.body", "body": answer.body})
                        return
                state = [False]
                await route.handle(scope, receive, _tracking(send, state))
                return
            if getattr(router.default, "__func__", None) is _NOT_FOUND and scope_type == "http":
                redirect_url = router._redirect_for(scope)
                if redirect_url is not None:
                    state = [False]
                    await RedirectResponse(url=redirect_url)(scope, receive, _tracking(send, state))
                    return
                if _default_answer(handlers, 404):
                    answer = PlainTextResponse("Not Found", status_code=404)
                    started = True
                    await send(_start(answer))
                    await send({"type": "http.response.body", "body": answer.body})
                    return
            state = [False]
            await router._unmatched(scope, receive, _tracking(send, state))
        except Exception as exc:
            if state is None:
                state = [started]
            await handle_exception(exc, handlers, None, state[0], scope, receive, _tracking(send, state))
    except Exception as exc:
        if errors is None:
            raise
        await errors.answer(exc, scope, receive, send, started if state is None else state[0])
        raise


def _start(response: Response) -> Message:
    return {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}


def _tracking(send: Send, state: list[bool]) -> Send:
    """`send`, recording in state[0] when the response starts."""

    def sender(message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            state[0] = True
        return send(message)

    return sender


def _default_answer(handlers: tuple[Any, Any], status_code: int) -> bool:
    """Whether an HTTPException with this status would reach ExceptionMiddleware's own handler."""
    if status_code in handlers[1]:
        return False
    handler = handlers[0].get(HTTPException)
    return getattr(handler, "__func__", None) is _exception_middleware.ExceptionMiddleware.http_exception


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
