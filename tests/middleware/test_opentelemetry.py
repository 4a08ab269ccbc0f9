from __future__ import annotations

import contextlib
import enum
import importlib
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient as RefTestClient

MIDDLEWARE_MODULES = {
    "fastframe": "fastframe.middleware.opentelemetry",
    "starlette": "starlette.middleware.opentelemetry",
}
OTEL_MODULES = ["opentelemetry", "opentelemetry.trace", "opentelemetry.metrics", "opentelemetry.propagate"]
OTEL_MODULES += ["opentelemetry.propagators", "opentelemetry.propagators.textmap"]


def _fresh_import(name: str) -> Any:
    sys.modules.pop(name, None)
    try:
        return importlib.import_module(name)
    finally:
        sys.modules.pop(name, None)


def test_import_matches_reference_without_fakes() -> None:
    """Without opentelemetry-api both raise the same ImportError; with it, both import."""

    def outcome(name: str) -> Any:
        try:
            module = _fresh_import(name)
        except ImportError as exc:
            return ("ImportError", str(exc), exc.__suppress_context__)
        return ("imported", hasattr(module, "OpenTelemetryMiddleware"))

    ours, ref = outcome(MIDDLEWARE_MODULES["fastframe"]), outcome(MIDDLEWARE_MODULES["starlette"])
    assert ours == ref
    if ours[0] == "ImportError":
        assert ours[1] == "The `opentelemetry-api` package is required to use `OpenTelemetryMiddleware`."


def test_framework_does_not_import_opentelemetry_eagerly() -> None:
    # The optional dependency is only loaded by the middleware module itself.
    import subprocess

    code = (
        "import sys, fastframe.applications, fastframe.middleware, fastframe.routing, fastframe.requests; "
        "sys.exit(1 if any(name.split('.')[0] == 'opentelemetry' for name in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# A small in-memory stand-in for opentelemetry-api, recording what the middleware does with it. The reference
# and fastframe run against the same fake, so any difference in spans is a difference in the middleware.


class SpanKind(enum.Enum):
    INTERNAL = 0
    SERVER = 1


class StatusCode(enum.Enum):
    UNSET = 0
    OK = 1
    ERROR = 2


class Status:
    def __init__(self, status_code: StatusCode = StatusCode.UNSET, description: str | None = None) -> None:
        self.status_code = status_code
        self.description = description


class FakeSpan:
    def __init__(self, name: str, context: Any, kind: Any, attributes: Any) -> None:
        self.name = name
        self.parent = context
        self.kind = kind
        self.attributes = dict(attributes or {})
        self.status: tuple[Any, ...] = (StatusCode.UNSET, None)
        self.exceptions: list[str] = []
        self.ended = False

    def set_attribute(self, key: str, value: Any) -> None:
        # Like the SDK: re-setting a key moves it to the end.
        self.attributes.pop(key, None)
        self.attributes[key] = value

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def set_status(self, status: Any, description: str | None = None) -> None:
        if isinstance(status, Status):
            self.status = (status.status_code, status.description)
        else:
            self.status = (status, description)

    def update_name(self, name: str) -> None:
        self.name = name

    def record_exception(self, exception: BaseException, *args: Any, **kwargs: Any) -> None:
        self.exceptions.append(repr(exception))

    def is_recording(self) -> bool:
        return True

    def end(self, *args: Any, **kwargs: Any) -> None:
        self.ended = True

    def snapshot(self) -> tuple[Any, ...]:
        return (self.name, self.kind, self.attributes, self.status, self.exceptions, self.parent, self.ended)


class Recorder:
    def __init__(self) -> None:
        self.spans: list[FakeSpan] = []
        self.tracers: list[tuple[Any, ...]] = []
        self.current: list[FakeSpan] = []


class FakeTracer:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def start_span(
        self, name: str, context: Any = None, kind: Any = SpanKind.INTERNAL, attributes: Any = None, **_: Any
    ) -> FakeSpan:
        span = FakeSpan(name, context, kind, attributes)
        self.recorder.spans.append(span)
        return span

    @contextlib.contextmanager
    def start_as_current_span(
        self,
        name: str,
        context: Any = None,
        kind: Any = SpanKind.INTERNAL,
        attributes: Any = None,
        links: Any = None,
        start_time: Any = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[FakeSpan]:
        span = self.start_span(name, context, kind, attributes)
        self.recorder.current.append(span)
        try:
            yield span
        except Exception as exc:
            if record_exception:
                span.record_exception(exc)
            if set_status_on_exception:
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            self.recorder.current.pop()
            if end_on_exit:
                span.end()


class FakeTracerProvider:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def get_tracer(self, name: str, version: str | None = None, *args: Any, **kwargs: Any) -> FakeTracer:
        self.recorder.tracers.append((name, version))
        return FakeTracer(self.recorder)


class NoOpTracerProvider(FakeTracerProvider):
    def __init__(self) -> None:
        super().__init__(Recorder())


class Getter:
    def get(self, carrier: Any, key: str) -> Any:  # pragma: no cover
        raise NotImplementedError

    def keys(self, carrier: Any) -> Any:  # pragma: no cover
        raise NotImplementedError


class DefaultGetter(Getter):
    def get(self, carrier: Any, key: str) -> Any:
        value = carrier.get(key)
        if value is None:
            return None
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def keys(self, carrier: Any) -> Any:
        return list(carrier.keys())


def fake_extract(carrier: Any, context: Any = None, getter: Any = None) -> Any:
    values = (getter or DefaultGetter()).get(carrier, "traceparent")
    return {"traceparent": values[0]} if values else {}


def make_fake_opentelemetry(recorder: Recorder) -> dict[str, types.ModuleType]:
    default_provider = FakeTracerProvider(recorder)

    root = types.ModuleType("opentelemetry")
    trace = types.ModuleType("opentelemetry.trace")
    trace.SpanKind = SpanKind  # type: ignore[attr-defined]
    trace.Status = Status  # type: ignore[attr-defined]
    trace.StatusCode = StatusCode  # type: ignore[attr-defined]
    trace.TracerProvider = FakeTracerProvider  # type: ignore[attr-defined]
    trace.Tracer = FakeTracer  # type: ignore[attr-defined]
    trace.Span = FakeSpan  # type: ignore[attr-defined]
    trace.NoOpTracerProvider = NoOpTracerProvider  # type: ignore[attr-defined]
    trace.ProxyTracerProvider = type("ProxyTracerProvider", (FakeTracerProvider,), {})  # type: ignore[attr-defined]
    trace.get_tracer_provider = lambda: default_provider  # type: ignore[attr-defined]
    trace.get_tracer = lambda name, version=None, tracer_provider=None, *a, **k: (  # type: ignore[attr-defined]
        tracer_provider or default_provider
    ).get_tracer(name, version)
    trace.get_current_span = lambda context=None: recorder.current[-1] if recorder.current else None  # type: ignore[attr-defined]

    metrics = types.ModuleType("opentelemetry.metrics")
    metrics.MeterProvider = type("MeterProvider", (), {})  # type: ignore[attr-defined]
    metrics.Meter = type("Meter", (), {})  # type: ignore[attr-defined]
    metrics.get_meter_provider = lambda: None  # type: ignore[attr-defined]

    propagate = types.ModuleType("opentelemetry.propagate")
    propagate.extract = fake_extract  # type: ignore[attr-defined]
    propagate.inject = lambda *a, **k: None  # type: ignore[attr-defined]

    propagators = types.ModuleType("opentelemetry.propagators")
    textmap = types.ModuleType("opentelemetry.propagators.textmap")
    textmap.Getter = Getter  # type: ignore[attr-defined]
    textmap.DefaultGetter = DefaultGetter  # type: ignore[attr-defined]
    textmap.default_getter = DefaultGetter()  # type: ignore[attr-defined]

    root.trace = trace  # type: ignore[attr-defined]
    root.metrics = metrics  # type: ignore[attr-defined]
    root.propagate = propagate  # type: ignore[attr-defined]
    root.propagators = propagators  # type: ignore[attr-defined]
    propagators.textmap = textmap  # type: ignore[attr-defined]
    return dict(zip(OTEL_MODULES, [root, trace, metrics, propagate, propagators, textmap], strict=True))


@pytest.fixture
def otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Recorder, dict[str, Any]]]:
    recorder = Recorder()
    for name, module in make_fake_opentelemetry(recorder).items():
        monkeypatch.setitem(sys.modules, name, module)
    modules = {pkg: _fresh_import(name) for pkg, name in MIDDLEWARE_MODULES.items()}
    yield recorder, modules
    for name in MIDDLEWARE_MODULES.values():
        sys.modules.pop(name, None)


def build_app(pkg: str, middleware_module: Any, **options: Any) -> Any:
    applications = importlib.import_module(f"{pkg}.applications")
    middleware = importlib.import_module(f"{pkg}.middleware")
    responses = importlib.import_module(f"{pkg}.responses")
    routing = importlib.import_module(f"{pkg}.routing")

    async def hello(request: Any) -> Any:
        return responses.PlainTextResponse("hi")

    async def fail(request: Any) -> Any:
        raise RuntimeError("kaboom")

    async def status(request: Any) -> Any:
        return responses.PlainTextResponse("s", status_code=request.path_params["code"])

    async def raw(scope: Any, receive: Any, send: Any) -> None:
        await responses.PlainTextResponse("raw")(scope, receive, send)

    async def ws(websocket: Any) -> None:
        await websocket.accept()
        await websocket.send_text("ws")
        await websocket.close()

    sub = applications.Starlette(routes=[routing.Route("/item/{id:int}", hello)])
    api = applications.Starlette(routes=[routing.Route("/v/{x}", hello)])
    return applications.Starlette(
        routes=[
            routing.Route("/", hello),
            routing.Route("/hello/{name}", hello, methods=["GET", "POST"]),
            routing.Route("/fail", fail),
            routing.Route("/status/{code:int}", status),
            routing.Route("/files/{rest:path}", hello),
            routing.Mount("/sub", app=sub),
            routing.Mount("/users/{uid}", routes=[routing.Route("/posts/{pid:int}", hello)]),
            routing.Mount("/raw", app=raw),
            routing.Host("api.example.com", app=api),
            routing.WebSocketRoute("/ws", ws),
        ],
        middleware=[middleware.Middleware(middleware_module.OpenTelemetryMiddleware, **options)],
    )


REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/", {}),
    ("POST", "/hello/bob?x=1&y=%20", {"user-agent": "ua/1.0"}),
    ("FOO", "/", {}),
    ("PUT", "/hello/x", {}),
    ("GET", "/fail", {}),
    ("GET", "/status/404", {}),
    ("GET", "/status/503", {}),
    ("GET", "/files/a/b.txt", {}),
    ("GET", "/sub/item/3", {}),
    ("GET", "/users/5/posts/7", {}),
    ("GET", "/users/5/posts/x", {}),
    ("GET", "/raw/anything", {}),
    ("GET", "/v/1", {"host": "api.example.com"}),
    ("GET", "/missing", {}),
    ("GET", "/", {"host": "EXAMPLE.org:8080"}),
    ("GET", "/", {"host": "[::1]:9000"}),
    ("GET", "/", {"host": "bad host"}),
    ("GET", "/", {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}),
]


def spans_for(
    pkg: str, otel: tuple[Recorder, dict[str, Any]], client_factory: Callable[..., Any], **options: Any
) -> list[Any]:
    recorder, modules = otel
    recorder.spans.clear()
    recorder.tracers.clear()
    options.setdefault("tracer_provider", FakeTracerProvider(recorder))
    client = client_factory(build_app(pkg, modules[pkg], **options))
    for method, url, headers in REQUESTS:
        client.request(method, url, headers=headers)
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "ws"
    assert {tracer for tracer in recorder.tracers} <= {("starlette", "1.10.0")}
    return [span.snapshot() for span in recorder.spans]


@pytest.fixture
def factories(test_client_factory: Callable[..., Any], anyio_backend: str) -> dict[str, Callable[..., Any]]:
    def ours(app: Any) -> Any:
        return test_client_factory(app, raise_server_exceptions=False)

    def ref(app: Any) -> Any:
        return RefTestClient(app, backend=anyio_backend, raise_server_exceptions=False)

    return {"fastframe": ours, "starlette": ref}


@pytest.mark.parametrize(
    "excluded_urls",
    [(), "", "/hello,/raw", "/hello, /raw", ["^http://testserver/files"], "a,,b", ["x=1"], "testserver"],
)
def test_spans_match_reference(otel: Any, factories: Any, excluded_urls: Any) -> None:
    ours = spans_for("fastframe", otel, factories["fastframe"], excluded_urls=excluded_urls)
    ref = spans_for("starlette", otel, factories["starlette"], excluded_urls=excluded_urls)
    assert ours == ref


def test_span_contents(otel: Any, factories: Any) -> None:
    spans = spans_for("fastframe", otel, factories["fastframe"])

    def find(path: str, method: str = "GET", address: str = "testserver") -> Any:
        (match,) = [
            span
            for span in spans
            if span[2]["url.path"] == path
            and span[2].get("http.request.method_original", span[2]["http.request.method"]) == method
            and span[2].get("server.address") == address
        ]
        return match

    name, kind, attributes, status, exceptions, parent, ended = find("/hello/bob", "POST")
    assert name == "POST /hello/{name}"
    assert kind is SpanKind.SERVER
    assert attributes["url.query"] == "x=1&y=%20"
    assert attributes["user_agent.original"] == "ua/1.0"
    assert attributes["http.route"] == "/hello/{name}"
    assert attributes["http.response.status_code"] == 200
    assert ended

    name, _, attributes, status, exceptions, _, _ = find("/fail")
    assert attributes["error.type"] == "RuntimeError"
    assert status == (StatusCode.ERROR, "RuntimeError: kaboom")
    assert exceptions == ["RuntimeError('kaboom')"]

    assert find("/status/503")[2]["error.type"] == "503"
    assert find("/status/503")[3] == (StatusCode.ERROR, None)
    assert find("/sub/item/3")[0] == "GET /sub/item/{id}"
    assert find("/users/5/posts/7")[0] == "GET /users/5/posts/{pid}"
    assert find("/raw/anything")[0] == "GET /raw"
    assert find("/v/1", address="api.example.com")[0] == "GET /v/{x}"
    assert find("/missing")[0] == "GET"
    assert find("/", address="example.org")[2]["server.port"] == 8080
    assert find("/", address="::1")[2]["server.port"] == 9000
    traced = [span for span in spans if span[5]]
    assert [span[5] for span in traced] == [{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}]


def test_websocket_and_lifespan_are_not_traced(otel: Any) -> None:
    import asyncio

    recorder, modules = otel
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    middleware = modules["fastframe"].OpenTelemetryMiddleware(app, tracer_provider=FakeTracerProvider(recorder))
    for scope_type in ("websocket", "lifespan"):
        asyncio.run(middleware({"type": scope_type, "headers": []}, None, None))
    assert seen == ["websocket", "lifespan"]
    assert recorder.spans == []


def test_signature_matches_reference(otel: Any) -> None:
    import inspect

    _, modules = otel
    ours = inspect.signature(modules["fastframe"].OpenTelemetryMiddleware)
    ref = inspect.signature(modules["starlette"].OpenTelemetryMiddleware)
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
        (p.name, p.kind, p.default) for p in ref.parameters.values()
    ]


def test_invalid_exclusion_pattern_raises_like_reference(otel: Any) -> None:
    _, modules = otel
    errors = []
    for pkg in ("fastframe", "starlette"):
        with pytest.raises(Exception) as info:
            modules[pkg].OpenTelemetryMiddleware(None, excluded_urls="(")
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("provider", ["noop", "recording"])
def test_noop_provider_skips_tracing_like_reference(otel: Any, provider: str) -> None:
    import asyncio

    recorder, modules = otel
    outcomes = []
    for pkg in ("fastframe", "starlette"):
        called: list[bool] = []

        async def app(scope: Any, receive: Any, send: Any, called: list[bool] = called) -> None:
            called.append(True)

        tracer_provider = NoOpTracerProvider() if provider == "noop" else FakeTracerProvider(recorder)
        middleware = modules[pkg].OpenTelemetryMiddleware(app, tracer_provider=tracer_provider)
        # Undecodable query bytes only matter when the middleware builds span attributes.
        scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"a=\xff", "headers": []}
        try:
            asyncio.run(middleware(scope, None, None))
            outcomes.append(("ok", called))
        except Exception as exc:
            outcomes.append((type(exc).__name__, called))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0] == (("ok", [True]) if provider == "noop" else ("UnicodeDecodeError", []))


RAW_SCOPES: list[dict[str, Any]] = [
    {},
    {"method": "get"},
    {"method": "Purge", "query_string": b"a=%C3%A9"},
    {"headers": []},
    {"headers": [], "server": None},
    {"headers": [], "server": ("/tmp/socket", None)},
    {"headers": [(b"host", b"EXAMPLE.com:81")], "server": None},
    {"headers": [(b"host", b"[::FFFF:1.2.3.4]")]},
    {"headers": [(b"host", b"h:99999")]},
    {"headers": [(b"Host", b"upper-name.example")]},
    {"headers": [(b"host", b"h"), (b"user-agent", b"UA1"), (b"user-agent", b"UA2")]},
    {"headers": [(b"Traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]},
    {"client": None, "scheme": "https", "http_version": "2"},
    {"root_path": "/api", "path": "/api/p"},
]


@pytest.mark.parametrize("overrides", RAW_SCOPES)
@pytest.mark.parametrize("statuses", [(200,), (503,), (503, 200), ()])
def test_raw_scopes_match_reference(otel: Any, overrides: dict[str, Any], statuses: tuple[int, ...]) -> None:
    import asyncio

    recorder, modules = otel
    results = []
    for pkg in ("fastframe", "starlette"):
        recorder.spans.clear()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            for status in statuses:
                await send({"type": "http.response.start", "status": status, "headers": []})
            if not statuses:
                raise KeyError("no response")

        async def send(message: Any) -> None:
            pass

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/p",
            "root_path": "",
            "scheme": "http",
            "query_string": b"",
            "headers": [(b"host", b"example.com")],
            "server": ("srv", 8000),
            "client": ("1.2.3.4", 5555),
            "http_version": "1.1",
        }
        scope.update(overrides)
        middleware = modules[pkg].OpenTelemetryMiddleware(app, tracer_provider=FakeTracerProvider(recorder))
        try:
            asyncio.run(middleware(scope, None, send))
            outcome = "ok"
        except Exception as exc:
            outcome = repr(exc)
        results.append((outcome, [span.snapshot() for span in recorder.spans]))
    assert results[0] == results[1]
    assert len(results[0][1]) == 1
