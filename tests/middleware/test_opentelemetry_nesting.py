"""OpenTelemetryMiddleware stacked several times, directly or in mounted apps: one span per
request, an exclusion made further out holds further in, and the scope mark they share is set
and cleared as the reference sets and clears it. Runs on the fake opentelemetry-api of
test_opentelemetry, against the reference."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from starlette.testclient import TestClient as RefTestClient

from tests.middleware.test_opentelemetry import FakeTracerProvider, otel  # noqa: F401 - the fixture

Layout = dict[str, Any]


def build(pkg: str, otel_modules: dict[str, Any], provider: Any, layout: Layout) -> Any:
    applications = importlib.import_module(f"{pkg}.applications")
    middleware = importlib.import_module(f"{pkg}.middleware")
    base = importlib.import_module(f"{pkg}.middleware.base")
    responses = importlib.import_module(f"{pkg}.responses")
    routing = importlib.import_module(f"{pkg}.routing")
    traced = otel_modules[pkg].OpenTelemetryMiddleware

    async def hello(request: Any) -> Any:
        return responses.PlainTextResponse("hi")

    async def passthrough(request: Any, call_next: Any) -> Any:
        return await call_next(request)

    def tracing(excluded: Any = ()) -> Any:
        return middleware.Middleware(traced, tracer_provider=provider, excluded_urls=excluded)

    inner = [tracing(layout.get("inner_excluded", ()))] if layout.get("inner", True) else []
    sub = applications.Starlette(routes=[routing.Route("/item/{i}", hello)], middleware=inner)
    outer = [tracing(layout.get("outer_excluded", ()))] * layout.get("outer", 1)
    if layout.get("base_between"):
        outer.insert(1, middleware.Middleware(base.BaseHTTPMiddleware, dispatch=passthrough))
    return applications.Starlette(routes=[routing.Route("/", hello), routing.Mount("/sub", app=sub)], middleware=outer)


LAYOUTS: dict[str, Layout] = {
    "app and mounted app": {},
    "three stacked": {"outer": 3},
    "stacked around a BaseHTTPMiddleware": {"outer": 2, "base_between": True},
    "excluded further out": {"outer_excluded": "/sub"},
    "excluded further out, stacked": {"outer": 2, "outer_excluded": ["^http://testserver/"]},
    "excluded further in": {"inner_excluded": "/sub"},
    "only the mounted app": {"outer": 0},
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_one_span_per_request(otel: Any, layout: str, anyio_backend: str) -> None:  # noqa: F811
    recorder, modules = otel
    results = []
    for pkg in ("fastframe", "starlette"):
        recorder.spans.clear()
        app = build(pkg, modules, FakeTracerProvider(recorder), LAYOUTS[layout])
        client: Any = (
            importlib.import_module("fastframe.testclient").TestClient(app, backend=anyio_backend)
            if pkg == "fastframe"
            else RefTestClient(app, backend=anyio_backend)
        )
        statuses = [client.get(url).status_code for url in ("/", "/sub/item/3", "/sub/missing")]
        results.append((statuses, [span.snapshot() for span in recorder.spans]))
    assert results[0] == results[1]
    spans = results[0][1]
    assert len(spans) == len({span[2]["url.path"] for span in spans})


def marks_seen(recorder: Any, middleware_class: Any, preset: Any) -> tuple[list[Any], int]:
    recorder.spans.clear()
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope.get("starlette.opentelemetry", "absent"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = middleware_class(app, tracer_provider=FakeTracerProvider(recorder))

    async def outer(scope: Any, receive: Any, send: Any) -> None:
        if preset != "absent":
            scope["starlette.opentelemetry"] = preset
        await middleware(scope, receive, send)
        seen.append(scope.get("starlette.opentelemetry", "absent"))

    RefTestClient(outer).get("/")
    return seen, len(recorder.spans)


@pytest.mark.parametrize("preset", ["absent", None, False, 0, True, "yes"])
def test_the_scope_mark(otel: Any, preset: Any) -> None:  # noqa: F811
    """A request already marked (truthy) further out is left alone; the mark is set while the
    app runs and taken away afterwards."""
    recorder, modules = otel
    ours = marks_seen(recorder, modules["fastframe"].OpenTelemetryMiddleware, preset)
    assert ours == marks_seen(recorder, modules["starlette"].OpenTelemetryMiddleware, preset)
