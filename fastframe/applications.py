"""The application: a router inside error handling, the user's middleware and exception handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from fastframe import speedups
from fastframe._exception_handler import SCOPE_KEY, handle_exception
from fastframe.datastructures import State, URLPath
from fastframe.middleware import Middleware, _MiddlewareFactory
from fastframe.middleware.body_limit import RequestBodyLimitMiddleware
from fastframe.middleware.errors import _OWN_CALL as _ERRORS_CALL
from fastframe.middleware.errors import ServerErrorMiddleware
from fastframe.middleware.exceptions import _OWN_CALL as _EXCEPTIONS_CALL
from fastframe.middleware.exceptions import ExceptionMiddleware
from fastframe.requests import Request
from fastframe.responses import PLAIN_CALL, Response
from fastframe.routing import BaseRoute, Router
from fastframe.types import ASGIApp, ExceptionHandler, Lifespan, Receive, Scope, Send
from fastframe.websockets import WebSocket as _WebSocket

AppType = TypeVar("AppType", bound="Starlette")
P = ParamSpec("P")

__all__ = ["FastFrame", "Starlette"]

_Tracker = speedups.response.Tracker
_new_request = speedups.http.new_request


class _Plan:
    """How Starlette.__call__ runs one middleware stack, worked out once for it.

    `errors` is the stack's ServerErrorMiddleware when it is the outer layer and does what its
    class does: the application then answers a failure with its `answer` itself, around `inner`,
    the layer it wraps. When that layer is an ExceptionMiddleware directly over a plain Router (the
    stack of an application without middleware of its own), `routed` holds those two: the
    application then routes the request itself as the exception middleware would. The plan stands
    in for a layer only while its class's __call__ is the one the class defined (its module's
    _OWN_CALL): one replaced on the class itself (sentry-sdk's middleware spans do that) or overridden
    by a subclass is called, as the reference calls it.
    """

    __slots__ = ("stack", "errors", "inner", "routed")

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.errors: ServerErrorMiddleware | None = None
        self.inner: Any = None
        # (exception middleware, its router, its handlers) when the application routes requests itself.
        self.routed: tuple[ExceptionMiddleware, Router, Any] | None = None
        if not isinstance(stack, ServerErrorMiddleware) or type(stack).__call__ is not _ERRORS_CALL:
            return
        self.errors = stack
        self.inner = inner = stack.app
        if isinstance(inner, ExceptionMiddleware) and type(inner).__call__ is _EXCEPTIONS_CALL:
            if inner._router is not None and inner.app is inner._router:
                self.routed = (inner, inner._router, inner._handlers)


# The stack of an application not yet called: never a middleware_stack, so the first call plans.
_UNBUILT = object()


class Starlette:
    """Creates an application instance."""

    # Subclasses that set the public attributes themselves instead of calling __init__ (FastAPI
    # does) start from this unbuilt plan: the first call plans their stack.
    _plan: _Plan = _Plan(_UNBUILT)

    def __init__(
        self: AppType,
        debug: bool = False,
        routes: Sequence[BaseRoute] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, ExceptionHandler] | None = None,
        lifespan: Lifespan[AppType] | None = None,
        *,
        max_body_size: int | None = None,
    ) -> None:
        self.debug = debug
        self.state = State()
        self.router = Router(routes, lifespan=lifespan)
        self.exception_handlers = dict(exception_handlers or {})
        self.user_middleware = list(middleware or [])
        self.max_body_size = max_body_size
        self.middleware_stack: ASGIApp | None = None
        self._plan = _Plan(_UNBUILT)

    def build_middleware_stack(self) -> ASGIApp:
        # 500 and Exception go to the outermost layer, where nothing can answer after them.
        last_resort = None
        by_key: dict[Any, ExceptionHandler] = {}
        for key, handler in self.exception_handlers.items():
            if key in (500, Exception):
                last_resort = handler
            else:
                by_key[key] = handler
        layers = [Middleware(ServerErrorMiddleware, handler=last_resort, debug=self.debug)]
        if self.max_body_size is not None:
            layers.append(Middleware(RequestBodyLimitMiddleware, max_body_size=self.max_body_size))
        layers += self.user_middleware
        layers.append(Middleware(ExceptionMiddleware, handlers=by_key, debug=self.debug))
        app: ASGIApp = self.router
        for factory, args, kwargs in reversed(layers):
            app = factory(app, *args, **kwargs)
        return app

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self.router.url_path_for(name, **path_params)

    def _replan(self) -> _Plan:
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        self._plan = _Plan(self.middleware_stack)
        return self._plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        plan = self._plan
        if plan.stack is not self.middleware_stack:
            plan = self._replan()
        kind = scope["type"]
        routed = plan.routed
        if routed is None or (kind != "http" and kind != "websocket"):
            errors = plan.errors
            if errors is None or kind != "http":
                await plan.stack(scope, receive, send)
                return
            # ServerErrorMiddleware's part, as its __call__ does it, around the layer it wraps.
            outer = _Tracker(send)
            try:
                await plan.inner(scope, receive, outer.track)
            except Exception as exc:
                await errors.answer(exc, scope, receive, send, outer.started)
                raise
            return
        # The default stack: ServerErrorMiddleware's part (http only, as its __call__), then the
        # exception middleware's over its router, as ExceptionMiddleware.__call__ does it.
        exceptions, router, handlers = routed
        scope[SCOPE_KEY] = handlers
        if "router" not in scope:
            scope["router"] = router
        started = False
        watch: Any = None
        try:
            try:
                # The router's table, as Router._resolve reads it (without that call's frame).
                try:
                    table = router.routes.table
                except AttributeError:
                    table = None
                route, run = (table or router._route_table()).resolve(scope, kind)
                if run is None:
                    answer = exceptions._quick_answer(route, router, scope)
                    if answer is not None:
                        started = True
                        await send(answer[0])
                        await send(answer[1])
                        return
                    watch = _Tracker(send)
                    await exceptions._dispatch(route, router, scope, receive, watch.track)
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
                    websocket = _WebSocket(scope, receive, send)
                    try:
                        await run(websocket)
                    except Exception as exc:
                        # A websocket's messages never start an http response.
                        await handle_exception(exc, handlers, websocket, False, scope, receive, send)
            except Exception as exc:
                watch = watch or _Tracker(send, started)
                await handle_exception(exc, handlers, None, watch.started, scope, receive, watch.track)
        except Exception as exc:
            if kind == "http":
                await plan.errors.answer(exc, scope, receive, send, watch.started if watch else started)  # type: ignore[union-attr]
            raise

    def add_middleware(self, middleware_class: _MiddlewareFactory[P], *args: P.args, **kwargs: P.kwargs) -> None:
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot add middleware after an application has started")
        # Added last, outermost: the user's list is kept outermost first.
        self.user_middleware[:0] = [Middleware(middleware_class, *args, **kwargs)]

    def add_exception_handler(
        self,
        exc_class_or_status_code: int | type[Exception],
        handler: ExceptionHandler,
    ) -> None:
        self.exception_handlers[exc_class_or_status_code] = handler

    # Routes added to the application are the router's.

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        self.router.mount(path, app, name)

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        self.router.host(host, app, name)

    def add_route(
        self,
        path: str,
        route: Callable[[Request], Awaitable[Response] | Response],
        methods: list[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self.router.add_route(path, route, methods, name, include_in_schema)


FastFrame = Starlette
