"""OpenTelemetry's ASGI instrumentation reports on a fastframe app what it reports on the reference.

The same app is built with each framework, wrapped in
``opentelemetry.instrumentation.asgi.OpenTelemetryMiddleware`` with its own TracerProvider (never the
global one) exporting to memory, and driven through the same requests: the finished spans (names,
kinds, status, attributes, exception events) must be the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import starlette.applications as s_applications
import starlette.responses as s_responses
import starlette.routing as s_routing
import starlette.testclient as s_testclient
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import fastframe.applications as f_applications
import fastframe.responses as f_responses
import fastframe.routing as f_routing
import fastframe.testclient as f_testclient

SIDES = {
    "reference": (s_applications, s_responses, s_routing, s_testclient),
    "fastframe": (f_applications, f_responses, f_routing, f_testclient),
}

# Attributes whose values name the request as the server saw it, not when or where it ran.
KEY_ATTRIBUTES = (
    "http.route",
    "http.status_code",
    "http.response.status_code",
    "http.method",
    "http.request.method",
    "http.target",
    "http.url",
    "url.path",
    "http.scheme",
    "asgi.event.type",
)


def build_app(side: str) -> Any:
    applications, responses, routing, _ = SIDES[side]

    async def hello(request: Any) -> Any:
        return responses.PlainTextResponse("hello " + request.path_params.get("name", ""))

    async def as_json(request: Any) -> Any:
        return responses.JSONResponse({"root_path": request.scope.get("root_path", "")}, status_code=201)

    async def fails(request: Any) -> Any:
        raise RuntimeError("the endpoint failed")

    async def teapot(request: Any) -> Any:
        return responses.PlainTextResponse("short and stout", status_code=418)

    async def echo(websocket: Any) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(text.upper())
        await websocket.close(code=1001)

    async def refuse(websocket: Any) -> None:
        await websocket.close(code=1008)

    inner = applications.Starlette(routes=[routing.Route("/item/{id:int}", as_json)])
    return applications.Starlette(
        routes=[
            routing.Route("/hello/{name}", hello),
            routing.Route("/json", as_json, methods=["POST"]),
            routing.Route("/fails", fails),
            routing.Route("/teapot", teapot),
            routing.WebSocketRoute("/ws", echo),
            routing.WebSocketRoute("/refuse", refuse),
            routing.Mount("/sub", app=inner),
        ]
    )


def span_view(span: Any) -> tuple[Any, ...]:
    attributes = dict(span.attributes or {})
    events = [
        (event.name, {k: v for k, v in (event.attributes or {}).items() if k != "exception.stacktrace"})
        for event in span.events
    ]
    return (
        span.name,
        span.kind,
        span.status.status_code,
        span.status.description,
        sorted(attributes.items()),
        events,
        span.parent is not None,
    )


def key_view(span: Any) -> tuple[Any, ...]:
    attributes = dict(span.attributes or {})
    return (
        span.name,
        span.kind,
        span.status.status_code,
        {k: attributes[k] for k in KEY_ATTRIBUTES if k in attributes},
    )


@pytest.fixture
def traced() -> Iterator[Any]:
    """A function that wraps an app in the middleware and returns (wrapped app, exporter)."""
    providers: list[TracerProvider] = []

    def wrap(app: Any) -> tuple[Any, InMemorySpanExporter]:
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        providers.append(provider)
        return OpenTelemetryMiddleware(app, tracer_provider=provider), exporter

    yield wrap
    for provider in providers:
        provider.shutdown()


def run_http(side: str, traced: Any, backend: str, method: str, path: str, **kwargs: Any) -> Any:
    wrapped, exporter = traced(build_app(side))
    client = SIDES[side][3].TestClient(wrapped, backend=backend, raise_server_exceptions=False)
    response = client.request(method, path, **kwargs)
    return (response.status_code, response.content), exporter.get_finished_spans()


HTTP_CASES = {
    "route": ("GET", "/hello/ada?x=1", {}),
    "json": ("POST", "/json", {"content": b"{}"}),
    "not_found": ("GET", "/nowhere", {}),
    "wrong_method": ("DELETE", "/hello/ada", {}),
    "raised": ("GET", "/fails", {}),
    "teapot": ("GET", "/teapot", {}),
    "mounted": ("GET", "/sub/item/7", {}),
    "redirected_slash": ("GET", "/hello/ada/", {"follow_redirects": False}),
}


@pytest.mark.parametrize("case", sorted(HTTP_CASES))
def test_http_spans_match_the_reference(traced: Any, anyio_backend: str, case: str) -> None:
    method, path, kwargs = HTTP_CASES[case]
    seen = {side: run_http(side, traced, anyio_backend, method, path, **kwargs) for side in SIDES}
    (ours_answer, ours), (theirs_answer, theirs) = seen["fastframe"], seen["reference"]
    assert ours_answer == theirs_answer
    assert [key_view(span) for span in ours] == [key_view(span) for span in theirs]
    assert [span_view(span) for span in ours] == [span_view(span) for span in theirs]
    server = [span for span in ours if span.kind.name == "SERVER"]
    assert len(server) == 1
    assert server[0].attributes["http.status_code"] == ours_answer[0]


def test_a_raised_exception_is_recorded_as_on_the_reference(traced: Any, anyio_backend: str) -> None:
    recorded = {}
    for side in SIDES:
        wrapped, exporter = traced(build_app(side))
        client = SIDES[side][3].TestClient(wrapped, backend=anyio_backend)
        with pytest.raises(RuntimeError, match="the endpoint failed"):
            client.get("/fails")
        recorded[side] = [span_view(span) for span in exporter.get_finished_spans()]
    assert recorded["fastframe"] == recorded["reference"]
    server = recorded["fastframe"][-1]
    assert server[2].name == "ERROR"


@pytest.mark.parametrize("path", ["/ws", "/refuse", "/nowhere"])
def test_websocket_spans_match_the_reference(traced: Any, anyio_backend: str, path: str) -> None:
    seen = {}
    for side in SIDES:
        wrapped, exporter = traced(build_app(side))
        client = SIDES[side][3].TestClient(wrapped, backend=anyio_backend)
        try:
            with client.websocket_connect(path) as websocket:
                websocket.send_text("hi")
                answer: Any = websocket.receive_text()
                try:
                    websocket.receive_text()
                except Exception as exc:  # the close that follows
                    answer = (answer, type(exc).__name__, getattr(exc, "code", None))
        except Exception as exc:
            answer = (type(exc).__name__, getattr(exc, "code", None))
        seen[side] = answer, [span_view(span) for span in exporter.get_finished_spans()]
    assert seen["fastframe"] == seen["reference"]
    assert any(view[1].name == "SERVER" for view in seen["fastframe"][1])
