"""An application whose exception middleware wraps something other than its router (FastAPI's
stack puts a layer of its own there): handled exceptions, status handlers, exceptions after the
response started, unhandled ones reaching the server-error layer, compared with the reference."""

from __future__ import annotations

from typing import Any

import pytest
import starlette.applications
import starlette.exceptions
import starlette.middleware
import starlette.middleware.errors
import starlette.middleware.exceptions
import starlette.responses
import starlette.routing
import starlette.testclient

import fastframe.applications
import fastframe.exceptions
import fastframe.middleware
import fastframe.middleware.errors
import fastframe.middleware.exceptions
import fastframe.responses
import fastframe.routing
import fastframe.testclient


class Boom(Exception):
    pass


def build(pkg: str) -> tuple[Any, list[str]]:
    applications = {"fastframe": fastframe.applications, "starlette": starlette.applications}[pkg]
    errors = {"fastframe": fastframe.middleware.errors, "starlette": starlette.middleware.errors}[pkg]
    exceptions_mw = {"fastframe": fastframe.middleware.exceptions, "starlette": starlette.middleware.exceptions}[pkg]
    middleware = {"fastframe": fastframe.middleware, "starlette": starlette.middleware}[pkg]
    responses = {"fastframe": fastframe.responses, "starlette": starlette.responses}[pkg]
    routing = {"fastframe": fastframe.routing, "starlette": starlette.routing}[pkg]
    exceptions = {"fastframe": fastframe.exceptions, "starlette": starlette.exceptions}[pkg]
    seen: list[str] = []

    class Between:
        """A pass-through layer between the exception middleware and the router."""

        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            seen.append(f"between {scope['type']}")
            try:
                await self.app(scope, receive, send)
            finally:
                seen.append("between done")

    class App(applications.Starlette):
        def build_middleware_stack(self) -> Any:
            by_key: dict[Any, Any] = {}
            last_resort = None
            for key, value in self.exception_handlers.items():
                if key in (500, Exception):
                    last_resort = value
                else:
                    by_key[key] = value
            layers = [
                middleware.Middleware(errors.ServerErrorMiddleware, handler=last_resort, debug=self.debug),
                *self.user_middleware,
                middleware.Middleware(exceptions_mw.ExceptionMiddleware, handlers=by_key, debug=self.debug),
                middleware.Middleware(Between),
            ]
            app = self.router
            for factory, args, kwargs in reversed(layers):
                app = factory(app, *args, **kwargs)
            return app

    async def ok(request: Any) -> Any:
        return responses.PlainTextResponse("ok")

    async def handled(request: Any) -> Any:
        raise Boom("handled")

    async def teapot(request: Any) -> Any:
        raise exceptions.HTTPException(418, "short and stout", headers={"x-t": "1"})

    async def unhandled(request: Any) -> Any:
        raise KeyError("nobody")

    class Late:
        """An ASGI app (not a request endpoint) that fails once its response started."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise Boom("after the start")

    async def on_boom(request: Any, exc: Exception) -> Any:
        seen.append(f"handler {exc}")
        return responses.JSONResponse({"boom": str(exc)}, status_code=409)

    async def on_418(request: Any, exc: Exception) -> Any:
        return responses.PlainTextResponse(f"status handler {exc.detail}", status_code=418)  # type: ignore[attr-defined]

    async def on_500(request: Any, exc: Exception) -> Any:
        return responses.PlainTextResponse(f"last resort {type(exc).__name__}", status_code=500)

    app = App(
        routes=[
            routing.Route("/ok", ok),
            routing.Route("/handled", handled),
            routing.Route("/teapot", teapot),
            routing.Route("/unhandled", unhandled),
            routing.Route("/late", Late()),
        ],
        exception_handlers={Boom: on_boom, 418: on_418, 500: on_500},
    )
    return app, seen


def outcome(pkg: str, path: str, method: str = "GET") -> Any:
    app, seen = build(pkg)
    client_class = {"fastframe": fastframe.testclient, "starlette": starlette.testclient}[pkg].TestClient
    with client_class(app, raise_server_exceptions=False) as client:
        response = client.request(method, path)
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length",)}
    return response.status_code, response.text, headers, seen


@pytest.mark.parametrize(
    ("path", "method"),
    [("/ok", "GET"), ("/handled", "GET"), ("/teapot", "GET"), ("/unhandled", "GET"), ("/late", "GET"),
     ("/missing", "GET"), ("/ok", "POST")],
)
def test_exception_layer_over_an_app_matches_the_reference(path: str, method: str) -> None:
    assert outcome("fastframe", path, method) == outcome("starlette", path, method)


def test_exception_after_the_response_started_is_raised_as_the_reference_raises_it() -> None:
    results = []
    for pkg in ("fastframe", "starlette"):
        app, _ = build(pkg)
        client_class = {"fastframe": fastframe.testclient, "starlette": starlette.testclient}[pkg].TestClient
        with client_class(app) as client, pytest.raises(RuntimeError) as caught:
            client.get("/late")
        results.append(str(caught.value))
    assert results[0] == results[1] == "Caught handled exception, but response already started."


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("in_app", [False, True])
async def test_route_handle_awaited_as_routers_that_walk_routes_await_it(method: str, in_app: bool) -> None:
    # FastAPI's router walks the routes itself and awaits route.handle(...); a subclass awaits super().handle.
    results = []
    for routing, responses in ((fastframe.routing, fastframe.responses), (starlette.routing, starlette.responses)):

        async def endpoint(request: Any, responses: Any = responses) -> Any:
            return responses.PlainTextResponse(f"{request.method} answered")

        class Sub(routing.Route):  # type: ignore[name-defined,misc]
            async def handle(self, scope: Any, receive: Any, send: Any) -> None:
                scope["seen"] = True
                await super().handle(scope, receive, send)

        sent: list[Any] = []

        async def send(message: Any, sent: list[Any] = sent) -> None:
            sent.append(message)

        async def receive() -> Any:
            return {"type": "http.request", "body": b""}

        scope: dict[str, Any] = {"type": "http", "method": method, "path": "/", "headers": [], "query_string": b""}
        if in_app:
            scope["app"] = object()
        try:
            await Sub("/", endpoint, methods=["GET"]).handle(scope, receive, send)
            results.append(("sent", [(m.get("status"), m.get("body")) for m in sent], scope["seen"]))
        except Exception as exc:
            status, headers = getattr(exc, "status_code", None), getattr(exc, "headers", None)
            results.append(("raised", type(exc).__name__, status, headers))
    assert results[0] == results[1]
