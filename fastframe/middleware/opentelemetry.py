from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

try:
    from opentelemetry import metrics, propagate, trace
    from opentelemetry.propagators.textmap import Getter
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError:
    raise ImportError("The `opentelemetry-api` package is required to use `OpenTelemetryMiddleware`.") from None

from fastframe._utils import parse_host_header
from fastframe.datastructures import URL
from fastframe.routing import Host, Mount
from fastframe.types import ASGIApp, Message, Receive, Scope, Send

# Spans carry the instrumentation scope the reference reports, so dashboards keep working after a switch.
_TRACER_NAME = "starlette"
_TRACER_VERSION = "1.10.0"


class _HeadersGetter(Getter):  # type: ignore[misc]
    """Reads propagation headers straight from the ASGI header list, names compared case-insensitively."""

    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        needle = key.lower()
        values = [value.decode("latin-1") for name, value in carrier if name.decode("latin-1").lower() == needle]
        return values or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [name.decode("latin-1").lower() for name, _ in carrier]


_getter = _HeadersGetter()


def _server_address(scope: Scope, raw_headers: list[tuple[bytes, bytes]]) -> tuple[str | None, int | None]:
    server = scope.get("server")
    host_header = None
    for name, value in raw_headers:
        if name == b"host":
            host_header = value.decode("latin-1")
            break
    parsed = parse_host_header(host_header)
    if parsed is not None:
        netloc = parsed.host if parsed.port is None else f"{parsed.host}:{parsed.port}"
        try:
            split = urlsplit("//" + netloc)
            port = split.port
        except ValueError:
            pass
        else:
            if port is None and server:
                port = server[1]
            return split.hostname, port
    if not server:
        return None, None
    split = urlsplit(f"//{server[0]}:{server[1]}")
    return split.hostname, split.port


def _route_template(scope: Scope) -> str | None:
    route = scope.get("route")
    if route is None or isinstance(route, Host):
        return None
    root_path = scope.get("root_path", "")
    if isinstance(route, Mount):
        return root_path or "/"
    path_format = getattr(route, "path_format", None)
    if not isinstance(path_format, str):
        return None
    return (root_path + path_format) or "/"


def _request_attributes(scope: Scope) -> tuple[str, dict[str, Any]]:
    """The span's name (the method) and its attributes, from the request alone."""
    raw_headers = scope["headers"]
    given_method = scope["method"]
    method = given_method.upper()
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "url.path": scope["path"],
        "url.scheme": scope.get("scheme", "http"),
    }
    if method != given_method:
        attributes["http.request.method_original"] = given_method
    query_string = scope.get("query_string")
    if query_string:
        attributes["url.query"] = query_string.decode("utf-8")
    address, port = _server_address(scope, raw_headers)
    if address is not None:
        attributes["server.address"] = address
        if port is not None:
            attributes["server.port"] = port
    if "http_version" in scope:
        attributes["network.protocol.version"] = scope["http_version"]
    client = scope.get("client")
    if client:
        attributes["client.address"] = client[0]
    user_agent = next((value for name, value in raw_headers if name == b"user-agent"), None)
    if user_agent is not None:
        attributes["user_agent.original"] = user_agent.decode("latin-1")
    return method, attributes


def _note_status(span: Any, status_code: int) -> None:
    span.set_attribute("http.response.status_code", status_code)
    if status_code >= 500:
        span.set_attribute("error.type", str(status_code))
        span.set_status(Status(StatusCode.ERROR))


# The scope key the reference sets while a request is inside a middleware of this kind, traced or
# excluded: another one further in (a mounted app with its own) then leaves it alone, so a request
# gets one span at most. The same key, so that stacks mixing both frameworks agree.
_CLAIMED = "starlette.opentelemetry"


class OpenTelemetryMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        excluded_urls: str | Sequence[str] = (),
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.app = app
        self._meter_provider = meter_provider
        if isinstance(excluded_urls, str):
            excluded_urls = [part.strip() for part in excluded_urls.split(",")] if excluded_urls else []
        self._excluded_urls = tuple(map(re.compile, excluded_urls))
        self._tracer_provider = trace.get_tracer_provider() if tracer_provider is None else tracer_provider
        self._tracer: Any = None
        # A no-op provider records nothing: the per-request work is skipped altogether.
        self._disabled = isinstance(self._tracer_provider, trace.NoOpTracerProvider)

    def _is_excluded(self, scope: Scope) -> bool:
        url = str(URL(scope=scope))
        return any(pattern.search(url) for pattern in self._excluded_urls)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._disabled or scope["type"] != "http" or scope.get(_CLAIMED):
            await self.app(scope, receive, send)
            return
        scope[_CLAIMED] = True
        try:
            if self._excluded_urls and self._is_excluded(scope):
                await self.app(scope, receive, send)
            else:
                await self._traced(scope, receive, send)
        finally:
            scope.pop(_CLAIMED, None)

    async def _traced(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracer = self._tracer
        if tracer is None:
            tracer = self._tracer = self._tracer_provider.get_tracer(_TRACER_NAME, _TRACER_VERSION)
        method, attributes = _request_attributes(scope)
        parent = propagate.extract(scope["headers"], getter=_getter)
        with tracer.start_as_current_span(method, context=parent, kind=SpanKind.SERVER, attributes=attributes) as span:

            async def send_noting_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    _note_status(span, message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_noting_status)
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                raise
            finally:
                route = _route_template(scope)
                if route is not None:
                    span.set_attribute("http.route", route)
                    span.update_name(method + " " + route)
