from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from fastframe import speedups
from fastframe._dispatch import UNPLANNED, serve, stack_plan
from fastframe.datastructures import State, URLPath
from fastframe.middleware import Middleware, _MiddlewareFactory
from fastframe.middleware.errors import ServerErrorMiddleware
from fastframe.middleware.exceptions import ExceptionMiddleware
from fastframe.requests import Request
from fastframe.responses import Response
from fastframe.routing import BaseRoute, Router
from fastframe.types import ASGIApp, ExceptionHandler, Lifespan

AppType = TypeVar("AppType", bound="Starlette")


P = ParamSpec("P")

__all__ = ["Starlette", "FastFrame"]


class Starlette(speedups.CallableApp):
    """The application: a router wrapped in error handling and the user's middleware."""

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
        speedups.apps.arm(self)
        self.debug = debug
        self.state = State()
        self.router = Router(routes, lifespan=lifespan)
        self.max_body_size = max_body_size
        self.exception_handlers = {} if exception_handlers is None else dict(exception_handlers)
        self.user_middleware = [] if middleware is None else list(middleware)
        self.middleware_stack: ASGIApp | None = None

    def build_middleware_stack(self) -> ASGIApp:
        debug = self.debug
        error_handler = None
        exception_handlers: dict[Any, ExceptionHandler] = {}

        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                exception_handlers[key] = value

        middleware = [Middleware(ServerErrorMiddleware, handler=error_handler, debug=debug)]
        if self.max_body_size is not None:
            from fastframe.middleware.body_limit import RequestBodyLimitMiddleware

            middleware.append(Middleware(RequestBodyLimitMiddleware, max_body_size=self.max_body_size))
        middleware += self.user_middleware
        middleware.append(Middleware(ExceptionMiddleware, handlers=exception_handlers, debug=debug))

        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
        return app

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self.router.url_path_for(name, **path_params)

    # fastframe._dispatch.serve: sets scope["app"], then runs the stack, the default one in a single frame.
    __call__ = serve
    _outermost = True
    # (stack, kind, handlers, router) from stack_plan, for the stack it was made from.
    _stack_plan: tuple[Any, str, Any, Any] = UNPLANNED

    def _plan_stack(self) -> tuple[ASGIApp, str, Any, Any]:
        """Build the middleware stack if it is not built yet, and plan how serve runs it."""
        stack = self.middleware_stack
        if stack is None:
            self.middleware_stack = stack = self.build_middleware_stack()
        self._stack_plan = plan = stack_plan(stack)
        return plan

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        self.router.mount(path, app=app, name=name)

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        self.router.host(host, app=app, name=name)

    def add_middleware(
        self,
        middleware_class: _MiddlewareFactory[P],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot add middleware after an application has started")
        self.user_middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    def add_exception_handler(
        self,
        exc_class_or_status_code: int | type[Exception],
        handler: ExceptionHandler,
    ) -> None:
        self.exception_handlers[exc_class_or_status_code] = handler

    def add_route(
        self,
        path: str,
        route: Callable[[Request], Awaitable[Response] | Response],
        methods: list[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self.router.add_route(path, route, methods=methods, name=name, include_in_schema=include_in_schema)


FastFrame = Starlette
