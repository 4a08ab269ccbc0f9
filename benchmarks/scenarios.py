"""The benchmark scenarios. Each builds its app from a framework namespace (Starlette's or fastframe's
modules, imported under the same names), so both run the same application code."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from benchmarks import graphql_apps, raw_apps
from benchmarks.driver import Request, Result, WebSocketRequest, WebSocketResult

App = Callable[..., Any]


def load_framework(package: str) -> SimpleNamespace:
    """The public classes a scenario needs, from `starlette` or `fastframe`."""

    def attr(module: str, name: str) -> Any:
        try:
            return getattr(importlib.import_module(f"{package}.{module}"), name)
        except (ImportError, AttributeError):
            return None

    return SimpleNamespace(
        package=package,
        Starlette=attr("applications", "Starlette"),
        Route=attr("routing", "Route"),
        Mount=attr("routing", "Mount"),
        Router=attr("routing", "Router"),
        Middleware=attr("middleware", "Middleware"),
        BaseHTTPMiddleware=attr("middleware.base", "BaseHTTPMiddleware"),
        PlainTextResponse=attr("responses", "PlainTextResponse"),
        JSONResponse=attr("responses", "JSONResponse"),
        StreamingResponse=attr("responses", "StreamingResponse"),
        Response=attr("responses", "Response"),
        FileResponse=attr("responses", "FileResponse"),
        WebSocketRoute=attr("routing", "WebSocketRoute"),
    )


def payload(size: int) -> list[dict[str, Any]]:
    """A structured JSON payload of roughly `size` bytes when encoded compactly."""
    item = {
        "id": 0,
        "name": "widget-0000",
        "active": True,
        "price": 12.5,
        "tags": ["alpha", "beta", "gamma"],
        "owner": {"id": 7, "email": "owner@example.com", "verified": False},
        "note": None,
    }
    one = len(json.dumps(item, separators=(",", ":")))
    items = []
    for i in range(max(1, size // one)):
        entry = dict(item)
        entry["id"] = i
        entry["name"] = f"widget-{i:04d}"
        items.append(entry)
    return items


JSON_1K = payload(1024)
JSON_1M = payload(1024 * 1024)
JSON_1K_BYTES = json.dumps(JSON_1K, separators=(",", ":")).encode()
JSON_1M_BYTES = json.dumps(JSON_1M, separators=(",", ":")).encode()


@dataclass
class Scenario:
    name: str
    group: str
    build: Callable[[SimpleNamespace], App | None]
    request: Request | WebSocketRequest
    expect_status: int
    expect_body: bytes | None = None
    raw: Callable[[], App] | None = None
    batch: int = 200
    needs: tuple[str, ...] = field(default_factory=tuple)

    expect_sent: list[dict[str, Any]] | None = None

    def validate(self, result: Result | WebSocketResult) -> None:
        if isinstance(result, WebSocketResult):
            if result.sent != self.expect_sent:
                raise AssertionError(f"{self.name}: the app sent {result.sent!r}")
            return
        if result.status != self.expect_status:
            raise AssertionError(f"{self.name}: status {result.status}, expected {self.expect_status}")
        if self.expect_body is not None and bytes(result.body) != self.expect_body:
            raise AssertionError(f"{self.name}: unexpected body {bytes(result.body)[:80]!r}")


# --- hello -------------------------------------------------------------------------------------


def build_hello(fw: SimpleNamespace) -> App:
    async def hello(request: Any) -> Any:
        return fw.PlainTextResponse("Hello, world!")

    return fw.Starlette(routes=[fw.Route("/", hello)])


# --- JSON --------------------------------------------------------------------------------------


def build_json(content: Any) -> Callable[[SimpleNamespace], App]:
    def build(fw: SimpleNamespace) -> App:
        async def endpoint(request: Any) -> Any:
            return fw.JSONResponse(content)

        return fw.Starlette(routes=[fw.Route("/json", endpoint)])

    return build


def build_request_json(fw: SimpleNamespace) -> App:
    async def endpoint(request: Any) -> Any:
        data = await request.json()
        return fw.PlainTextResponse(str(len(data)))

    return fw.Starlette(routes=[fw.Route("/json", endpoint, methods=["POST"])])


# --- routing -----------------------------------------------------------------------------------


def route_groups(size: int) -> tuple[int, int]:
    """(groups of 4 routes, filler static routes before them) for a table of `size` routes."""
    groups, filler = divmod(size, 4)
    return groups, filler


def build_routes(size: int) -> Callable[[SimpleNamespace], App]:
    def build(fw: SimpleNamespace) -> App:
        async def endpoint(request: Any) -> Any:
            return fw.PlainTextResponse("ok")

        groups, filler = route_groups(size)
        routes = [fw.Route(f"/filler{i}", endpoint) for i in range(filler)]
        for g in range(groups):
            routes += [
                fw.Route(f"/resources{g}", endpoint),
                fw.Route(f"/resources{g}/{{id:int}}", endpoint),
                fw.Route(f"/resources{g}/{{id:int}}/items", endpoint),
                fw.Route(f"/resources{g}/{{id:int}}/items/{{item}}", endpoint),
            ]
        return fw.Starlette(routes=routes)

    return build


def routing_scenarios(size: int) -> list[Scenario]:
    last = route_groups(size)[0] - 1
    build = build_routes(size)
    group = f"routing-{size}"
    return [
        Scenario(f"route{size}_early_static", group, build, Request("GET", "/resources0"), 200, b"ok"),
        Scenario(f"route{size}_last_static", group, build, Request("GET", f"/resources{last}"), 200, b"ok"),
        Scenario(
            f"route{size}_last_param",
            group,
            build,
            Request("GET", f"/resources{last}/42/items/abc"),
            200,
            b"ok",
        ),
        Scenario(f"route{size}_miss_404", group, build, Request("GET", "/nothing/here"), 404),
        Scenario(f"route{size}_wrong_method_405", group, build, Request("POST", f"/resources{last}"), 405),
    ]


# --- request parsing -------------------------------------------------------------------------------

PARSE_HEADERS = [
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"),
    (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    (b"accept-language", b"en-GB,en;q=0.9,fr;q=0.8"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"connection", b"keep-alive"),
    (b"cache-control", b"no-cache"),
    (b"pragma", b"no-cache"),
    (b"referer", b"https://example.com/some/previous/page?x=1"),
    (b"x-request-id", b"5f0c2b8e-8d3b-4c1e-9a57-3c2d1f0e9b7a"),
    (b"x-forwarded-for", b"203.0.113.7, 198.51.100.2"),
    (b"x-forwarded-proto", b"https"),
    (b"x-api-version", b"2024-06-01"),
    (b"authorization", b"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"),
    (b"sec-fetch-dest", b"document"),
    (b"sec-fetch-mode", b"navigate"),
    (b"sec-fetch-site", b"same-origin"),
    (b"upgrade-insecure-requests", b"1"),
    (b"dnt", b"1"),
    (
        b"cookie",
        b"session=abc123def456; theme=dark; lang=en; tz=Europe%2FLondon; consent=yes; "
        b"ab_test=variant_b; cart=17; last_seen=1700000000; csrftoken=Zm9vYmFy; tracking=off",
    ),
]
PARSE_QUERY = b"page=2&per_page=50&sort=-created&filter=active&q=red+shoes&lang=en&tz=UTC&a=1&b=2&c=3"


def build_parsing(fw: SimpleNamespace) -> App:
    async def endpoint(request: Any) -> Any:
        return fw.PlainTextResponse(raw_apps.parsing_summary(request.headers, request.cookies, request.query_params))

    return fw.Starlette(routes=[fw.Route("/search", endpoint)])


PARSE_BODY = (
    b"Mozilla|5f0c2b8e-8d3b-4c1e-9a57-3c2d1f0e9b7a|en-GB,en;q=0.9,fr;q=0.8|"
    b"abc123def456|Europe%2FLondon|-created|red shoes"
)


# --- middleware --------------------------------------------------------------------------------


class PassThrough:
    """A pure-ASGI middleware that does nothing but call the next app."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def build_three_middlewares(fw: SimpleNamespace) -> App:
    async def hello(request: Any) -> Any:
        return fw.PlainTextResponse("Hello, world!")

    return fw.Starlette(
        routes=[fw.Route("/", hello)],
        middleware=[fw.Middleware(PassThrough), fw.Middleware(PassThrough), fw.Middleware(PassThrough)],
    )


def build_base_http_middleware(fw: SimpleNamespace) -> App | None:
    if fw.BaseHTTPMiddleware is None:
        return None

    class Noop(fw.BaseHTTPMiddleware):  # type: ignore[name-defined,misc]
        async def dispatch(self, request: Any, call_next: Any) -> Any:
            return await call_next(request)

    async def hello(request: Any) -> Any:
        return fw.PlainTextResponse("Hello, world!")

    return fw.Starlette(routes=[fw.Route("/", hello)], middleware=[fw.Middleware(Noop)])


def build_one_pure_middleware(fw: SimpleNamespace) -> App:
    async def hello(request: Any) -> Any:
        return fw.PlainTextResponse("Hello, world!")

    return fw.Starlette(routes=[fw.Route("/", hello)], middleware=[fw.Middleware(PassThrough)])


# --- streaming ---------------------------------------------------------------------------------


def build_streaming(total: int, chunk: int) -> Callable[[SimpleNamespace], App]:
    data = b"x" * chunk

    def build(fw: SimpleNamespace) -> App:
        async def chunks() -> Any:
            for _ in range(total // chunk):
                yield data

        async def endpoint(request: Any) -> Any:
            return fw.StreamingResponse(chunks(), media_type="application/octet-stream")

        return fw.Starlette(routes=[fw.Route("/stream", endpoint)])

    return build


# --- forms -------------------------------------------------------------------------------------

FORM_URLENCODED = "&".join(f"field{i}=value{i}" for i in range(1000)).encode()
MULTIPART_BOUNDARY = "benchboundary7MA4YWxkTrZu0gW"
MULTIPART_BODY = (
    (
        f"--{MULTIPART_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="upload"; filename="data.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    + b"z" * (1024 * 1024)
    + f"\r\n--{MULTIPART_BOUNDARY}--\r\n".encode()
)


def build_urlencoded(fw: SimpleNamespace) -> App:
    async def endpoint(request: Any) -> Any:
        form = await request.form()
        return fw.PlainTextResponse(str(len(form)))

    return fw.Starlette(routes=[fw.Route("/form", endpoint, methods=["POST"])])


def build_multipart(fw: SimpleNamespace) -> App:
    async def endpoint(request: Any) -> Any:
        async with request.form() as form:
            upload = form["upload"]
            data = await upload.read()
        return fw.PlainTextResponse(str(len(data)))

    return fw.Starlette(routes=[fw.Route("/upload", endpoint, methods=["POST"])])


# --- websockets --------------------------------------------------------------------------------

WS_JSON = {"id": 7, "items": ["a", "b"], "ok": True}


def build_ws_echo(mode: str) -> Callable[[SimpleNamespace], App]:
    """accept, receive one message, send it back, close: a complete echo exchange."""

    def build(fw: SimpleNamespace) -> App:
        async def echo(websocket: Any) -> None:
            await websocket.accept()
            if mode == "text":
                await websocket.send_text(await websocket.receive_text())
            elif mode == "bytes":
                await websocket.send_bytes(await websocket.receive_bytes())
            else:
                await websocket.send_json(await websocket.receive_json())
            await websocket.close()

        return fw.Starlette(routes=[fw.WebSocketRoute("/ws", echo)])

    return build


def ws_scenarios() -> list[Scenario]:
    json_text = json.dumps(WS_JSON, separators=(",", ":"))
    cases: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
        "text": ({"type": "websocket.receive", "text": "hello"}, {"type": "websocket.send", "text": "hello"}),
        "bytes": ({"type": "websocket.receive", "bytes": b"\x00\x01hello"}, None),
        "json": ({"type": "websocket.receive", "text": json_text}, {"type": "websocket.send", "text": json_text}),
    }
    scenarios = []
    for mode, (incoming, reply) in cases.items():
        if reply is None:
            reply = {"type": "websocket.send", "bytes": b"\x00\x01hello"}
        expected: list[dict[str, Any]] = [
            {"type": "websocket.accept", "subprotocol": None, "headers": []},
            reply,
            {"type": "websocket.close", "code": 1000, "reason": ""},
        ]
        scenarios.append(
            Scenario(
                f"ws_echo_{mode}", "websocket", build_ws_echo(mode), WebSocketRequest("/ws", [incoming]), 0,
                expect_sent=expected,
            )
        )
    return scenarios


# --- files -------------------------------------------------------------------------------------

FILE_SIZE = 256 * 1024


def bench_file() -> str:
    """A file of FILE_SIZE deterministic bytes, made once per process."""
    import os
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"fastframe-bench-{FILE_SIZE}.bin")
    if not os.path.exists(path) or os.path.getsize(path) != FILE_SIZE:
        with open(path, "wb") as file:
            file.write(bytes(range(256)) * (FILE_SIZE // 256))
    return path


def build_file(fw: SimpleNamespace) -> App:
    path = bench_file()

    async def endpoint(request: Any) -> Any:
        return fw.FileResponse(path, media_type="application/octet-stream")

    return fw.Starlette(routes=[fw.Route("/file", endpoint)])


FILE_BYTES = bytes(range(256)) * (FILE_SIZE // 256)


# --- the list ----------------------------------------------------------------------------------


def all_scenarios() -> list[Scenario]:
    scenarios = [
        Scenario("hello", "hello", build_hello, Request("GET", "/"), 200, b"Hello, world!", raw=raw_apps.hello),
        Scenario(
            "json_response_1k",
            "json",
            build_json(JSON_1K),
            Request("GET", "/json"),
            200,
            JSON_1K_BYTES,
            raw=raw_apps.json_response(JSON_1K),
        ),
        Scenario(
            "json_response_1m",
            "json",
            build_json(JSON_1M),
            Request("GET", "/json"),
            200,
            JSON_1M_BYTES,
            raw=raw_apps.json_response(JSON_1M),
            batch=4,
        ),
        Scenario(
            "request_json_1k",
            "json",
            build_request_json,
            Request("POST", "/json", headers=[(b"content-type", b"application/json")], body=JSON_1K_BYTES),
            200,
            str(len(JSON_1K)).encode(),
            raw=raw_apps.request_json,
        ),
        Scenario(
            "request_json_1m",
            "json",
            build_request_json,
            Request("POST", "/json", headers=[(b"content-type", b"application/json")], body=JSON_1M_BYTES),
            200,
            str(len(JSON_1M)).encode(),
            raw=raw_apps.request_json,
            batch=4,
        ),
    ]
    for size in (10, 120, 1000):
        scenarios += routing_scenarios(size)
    scenarios += [
        Scenario(
            "request_parsing",
            "parsing",
            build_parsing,
            Request("GET", "/search", query=PARSE_QUERY, headers=PARSE_HEADERS),
            200,
            PARSE_BODY,
            raw=raw_apps.parsing,
        ),
        Scenario(
            "middleware_1_asgi",
            "middleware",
            build_one_pure_middleware,
            Request("GET", "/"),
            200,
            b"Hello, world!",
            raw=raw_apps.middlewares(1),
        ),
        Scenario(
            "middleware_3_asgi",
            "middleware",
            build_three_middlewares,
            Request("GET", "/"),
            200,
            b"Hello, world!",
            raw=raw_apps.middlewares(3),
        ),
        Scenario(
            "middleware_base_http",
            "middleware",
            build_base_http_middleware,
            Request("GET", "/"),
            200,
            b"Hello, world!",
        ),
        Scenario(
            "stream_1k",
            "streaming",
            build_streaming(1024, 1024),
            Request("GET", "/stream"),
            200,
            b"x" * 1024,
            raw=raw_apps.streaming(1024, 1024),
        ),
        Scenario(
            "stream_1m_1k_chunks",
            "streaming",
            build_streaming(1024 * 1024, 1024),
            Request("GET", "/stream"),
            200,
            b"x" * (1024 * 1024),
            raw=raw_apps.streaming(1024 * 1024, 1024),
            batch=5,
        ),
        Scenario(
            "stream_1m_64k_chunks",
            "streaming",
            build_streaming(1024 * 1024, 65536),
            Request("GET", "/stream"),
            200,
            b"x" * (1024 * 1024),
            raw=raw_apps.streaming(1024 * 1024, 65536),
            batch=20,
        ),
        Scenario(
            "form_urlencoded_1000",
            "forms",
            build_urlencoded,
            Request(
                "POST",
                "/form",
                headers=[(b"content-type", b"application/x-www-form-urlencoded")],
                body=FORM_URLENCODED,
            ),
            200,
            b"1000",
            batch=20,
        ),
        Scenario(
            "form_multipart_1m",
            "forms",
            build_multipart,
            Request(
                "POST",
                "/upload",
                headers=[(b"content-type", f"multipart/form-data; boundary={MULTIPART_BOUNDARY}".encode())],
                body=MULTIPART_BODY,
            ),
            200,
            str(1024 * 1024).encode(),
            batch=5,
        ),
    ]
    scenarios += ws_scenarios()
    scenarios += [
        Scenario("file_whole_256k", "files", build_file, Request("GET", "/file"), 200, FILE_BYTES, batch=20),
        Scenario(
            "file_range_1k", "files", build_file,
            Request("GET", "/file", headers=[(b"range", b"bytes=1000-1999")]), 206, FILE_BYTES[1000:2000], batch=50,
        ),
    ]
    scenarios.append(
        Scenario(
            "graphql_small_query",
            "graphql",
            graphql_apps.build,
            Request("POST", "/graphql", headers=[(b"content-type", b"application/json")], body=graphql_apps.BODY),
            200,
            graphql_apps.EXPECTED,
            batch=50,
        )
    )
    return scenarios


SCENARIOS = {s.name: s for s in all_scenarios()}
