from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import starlette.middleware.cors as ref_cors
from starlette.testclient import TestClient as RefTestClient

import fastframe.middleware.cors as ff_cors
from fastframe.datastructures import MutableHeaders

MODULES = {"fastframe": ff_cors, "starlette": ref_cors}


async def plain_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Homepage"})


async def vary_app(scope: Any, receive: Any, send: Any) -> None:
    # Duplicate and differently-cased headers exercise the header-merging rules.
    headers = [
        (b"vary", b"Accept-Encoding"),
        (b"vary", b"User-Agent"),
        (b"Vary", b"Cookie"),
        (b"access-control-allow-origin", b"https://app.example"),
        (b"x-other", b"1"),
    ]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": b"Created"})


def exchange(client: Any, method: str, headers: dict[str, str] | list[tuple[str, str]]) -> tuple[Any, ...]:
    response = client.request(method, "/", headers=headers)
    return response.status_code, response.headers.multi_items(), response.content


@pytest.fixture
def compare(test_client_factory: Callable[..., Any], anyio_backend: str) -> Callable[..., tuple[Any, ...]]:
    def run(app: Any, options: dict[str, Any], method: str, headers: Any) -> tuple[Any, ...]:
        ours = test_client_factory(ff_cors.CORSMiddleware(app, **options))
        ref = RefTestClient(ref_cors.CORSMiddleware(app, **options), backend=anyio_backend)
        got, expected = exchange(ours, method, headers), exchange(ref, method, headers)
        assert got == expected
        return got

    return run


CONFIGS: dict[str, dict[str, Any]] = {
    "explicit": {"allow_origins": ["https://example.org"], "allow_headers": ["X-Example"]},
    "wildcard": {"allow_origins": ["*"]},
    "wildcard-credentials": {
        "allow_origins": ["*"],
        "allow_methods": ["*"],
        "allow_headers": ["*"],
        "allow_credentials": True,
        "expose_headers": ["X-Status", "x-lower"],
        "max_age": 42,
    },
    "regex": {"allow_origin_regex": r"https://.*\.example\.org", "allow_methods": ["GET", "post"]},
    "private-network": {"allow_origins": ["https://example.org"], "allow_private_network": True},
    "credentials-expose": {
        "allow_origins": ["https://example.org"],
        "allow_credentials": True,
        "expose_headers": ["X-Status"],
    },
    "mixed-star": {"allow_origins": ["https://example.org", "*"], "allow_credentials": True},
    "odd-headers": {"allow_origins": ["https://example.org"], "allow_headers": ["x-foo1bar", "X_Foo-Bar", "ACCEPT"]},
}

REQUESTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "preflight": ("OPTIONS", [("Origin", "https://example.org"), ("Access-Control-Request-Method", "GET")]),
    "preflight-forbidden-origin": (
        "OPTIONS",
        [("Origin", "https://evil.example.com"), ("Access-Control-Request-Method", "GET")],
    ),
    "preflight-regex-origin": (
        "OPTIONS",
        [
            ("Origin", "https://sub.example.org"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "x-example, Content-Type"),
        ],
    ),
    "preflight-bad-method": (
        "OPTIONS",
        [("Origin", "https://example.org"), ("Access-Control-Request-Method", "DELETE")],
    ),
    "preflight-everything-bad": (
        "OPTIONS",
        [
            ("Origin", "https://evil.example.com"),
            ("Access-Control-Request-Method", "BREW"),
            ("Access-Control-Request-Headers", "X-Unknown, accept"),
            ("Access-Control-Request-Private-Network", "true"),
        ],
    ),
    "preflight-headers-spacing": (
        "OPTIONS",
        [
            ("Origin", "https://example.org"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "X-EXAMPLE,  Accept ,"),
        ],
    ),
    "preflight-headers-ok": (
        "OPTIONS",
        [
            ("Origin", "https://example.org"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "X-EXAMPLE,accept"),
        ],
    ),
    "preflight-empty-headers": (
        "OPTIONS",
        [
            ("Origin", "https://example.org"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", ""),
        ],
    ),
    "preflight-private-network": (
        "OPTIONS",
        [
            ("Origin", "https://example.org"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Private-Network", "true"),
        ],
    ),
    "preflight-empty-origin": ("OPTIONS", [("Origin", ""), ("Access-Control-Request-Method", "GET")]),
    "options-without-request-method": ("OPTIONS", [("Origin", "https://example.org")]),
    "options-without-origin": ("OPTIONS", [("Access-Control-Request-Method", "GET")]),
    "simple": ("GET", [("Origin", "https://example.org")]),
    "simple-forbidden": ("GET", [("Origin", "https://evil.example.com")]),
    "simple-regex": ("GET", [("Origin", "https://sub.example.org")]),
    "simple-regex-suffix": ("GET", [("Origin", "https://sub.example.org.evil.com")]),
    "simple-cookie": ("POST", [("Origin", "https://example.org"), ("Cookie", "a=b")]),
    "no-origin": ("GET", []),
    "duplicate-origin": ("GET", [("Origin", "https://example.org"), ("Origin", "https://evil.example.com")]),
}


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("request_name", REQUESTS)
@pytest.mark.parametrize("app", [plain_app, vary_app], ids=["plain", "vary"])
def test_matches_reference(compare: Callable[..., Any], config: str, request_name: str, app: Any) -> None:
    method, headers = REQUESTS[request_name]
    compare(app, CONFIGS[config], method, headers)


def test_preflight_allowed(compare: Callable[..., Any]) -> None:
    status, headers, body = compare(plain_app, CONFIGS["explicit"], *REQUESTS["preflight"])
    assert status == 200
    assert body == b"OK"
    assert ("access-control-allow-origin", "https://example.org") in headers
    assert (
        "access-control-allow-headers",
        "Accept, Accept-Language, Content-Language, Content-Type, X-Example",
    ) in headers
    assert ("access-control-max-age", "600") in headers


def test_preflight_forbidden_origin(compare: Callable[..., Any]) -> None:
    status, headers, body = compare(plain_app, CONFIGS["explicit"], *REQUESTS["preflight-forbidden-origin"])
    assert status == 400
    assert body == b"Disallowed CORS origin"
    assert "access-control-allow-origin" not in dict(headers)


def test_preflight_lists_every_failure(compare: Callable[..., Any]) -> None:
    status, _, body = compare(plain_app, CONFIGS["explicit"], *REQUESTS["preflight-everything-bad"])
    assert status == 400
    assert body == b"Disallowed CORS origin, method, headers, private-network"


def test_credentialed_wildcard_echoes_origin(compare: Callable[..., Any]) -> None:
    status, headers, _ = compare(plain_app, CONFIGS["wildcard-credentials"], *REQUESTS["simple-forbidden"])
    assert status == 200
    assert ("access-control-allow-origin", "https://evil.example.com") in headers
    assert ("access-control-allow-credentials", "true") in headers
    assert ("access-control-expose-headers", "X-Status, x-lower") in headers


def test_simple_forbidden_origin_gets_no_allow_origin(compare: Callable[..., Any]) -> None:
    status, headers, body = compare(plain_app, CONFIGS["explicit"], *REQUESTS["simple-forbidden"])
    assert (status, body) == (200, b"Homepage")
    assert "access-control-allow-origin" not in dict(headers)
    assert ("vary", "Origin") in headers


def test_vary_is_merged(compare: Callable[..., Any]) -> None:
    _, headers, _ = compare(vary_app, CONFIGS["wildcard"], *REQUESTS["simple"])
    assert ("vary", "Accept-Encoding, User-Agent, Origin") in headers
    assert ("access-control-allow-origin", "*") in headers


@pytest.mark.parametrize(
    "options",
    [
        {"allow_origins": ("https://a.example", "https://b.example"), "allow_methods": ["*", "GET"]},
        {"allow_origins": ["*"], "allow_headers": ("B", "a"), "max_age": 5, "allow_methods": ["GET", "GET"]},
        {"allow_origins": ["https://a.example"], "allow_credentials": True, "expose_headers": ["q"]},
        {"allow_origins": ["*"], "allow_headers": ["*"], "allow_private_network": True},
        {"allow_origin_regex": "x+"},
    ],
)
def test_precomputed_attributes_match_reference(options: dict[str, Any]) -> None:
    ours = vars(ff_cors.CORSMiddleware(plain_app, **options))
    ref = vars(ref_cors.CORSMiddleware(plain_app, **options))
    assert {k: v for k, v in ours.items() if not k.startswith("_")} == ref


def test_module_constants() -> None:
    assert ff_cors.ALL_METHODS == ref_cors.ALL_METHODS
    assert ff_cors.SAFELISTED_HEADERS == ref_cors.SAFELISTED_HEADERS


def test_invalid_regex_raises_like_reference() -> None:
    with pytest.raises(Exception) as ours:
        ff_cors.CORSMiddleware(plain_app, allow_origin_regex="(")
    with pytest.raises(Exception) as ref:
        ref_cors.CORSMiddleware(plain_app, allow_origin_regex="(")
    assert type(ours.value) is type(ref.value)
    assert str(ours.value) == str(ref.value)


def test_public_methods() -> None:
    mw = ff_cors.CORSMiddleware(plain_app, allow_origins=["https://example.org"], allow_origin_regex=r"https://\w+\.x")
    assert mw.is_allowed_origin("https://example.org")
    assert mw.is_allowed_origin("https://abc.x")
    assert not mw.is_allowed_origin("https://abc.x.y")
    headers = MutableHeaders(raw=[(b"x", b"1")])
    ff_cors.CORSMiddleware.allow_explicit_origin(headers, "https://o.example")
    assert headers.raw == [(b"x", b"1"), (b"access-control-allow-origin", b"https://o.example"), (b"vary", b"Origin")]


def test_subclass_hooks_are_used(test_client_factory: Callable[..., Any]) -> None:
    class DynamicOrigins(ff_cors.CORSMiddleware):
        def is_allowed_origin(self, origin: str) -> bool:
            return origin.endswith(".trusted")

    client = test_client_factory(DynamicOrigins(plain_app))
    response = client.get("/", headers={"Origin": "https://a.trusted"})
    assert response.headers["access-control-allow-origin"] == "https://a.trusted"
    response = client.get("/", headers={"Origin": "https://a.untrusted"})
    assert "access-control-allow-origin" not in response.headers

    seen: list[str] = []

    class Recording(ff_cors.CORSMiddleware):
        async def send(self, message: Any, send: Any, request_headers: Any) -> None:
            seen.append(message["type"])
            await super().send(message, send, request_headers)

    client = test_client_factory(Recording(plain_app, allow_origins=["*"]))
    response = client.get("/", headers={"Origin": "https://x.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["vary"] == "Origin"
    assert seen == ["http.response.start", "http.response.body"]


def test_non_http_scopes_pass_through(test_client_factory: Callable[..., Any]) -> None:
    async def ws_app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "hello"})
        await send({"type": "websocket.close"})

    client = test_client_factory(ff_cors.CORSMiddleware(ws_app, allow_origins=["https://example.org"]))
    with client.websocket_connect("/", headers={"Origin": "https://evil.example.com"}) as session:
        assert session.receive_text() == "hello"


def test_full_application(test_client_factory: Callable[..., Any], anyio_backend: str) -> None:
    def build(pkg: str) -> Any:
        import importlib

        applications = importlib.import_module(f"{pkg}.applications")
        middleware = importlib.import_module(f"{pkg}.middleware")
        responses = importlib.import_module(f"{pkg}.responses")
        routing = importlib.import_module(f"{pkg}.routing")

        def homepage(request: Any) -> Any:
            return responses.PlainTextResponse("Homepage", headers={"Vary": "Accept-Encoding"})

        return applications.Starlette(
            routes=[routing.Route("/", homepage, methods=["GET", "POST"])],
            middleware=[
                middleware.Middleware(
                    MODULES[pkg].CORSMiddleware,
                    allow_origins=["https://example.org"],
                    allow_methods=["GET", "POST"],
                    allow_credentials=True,
                )
            ],
        )

    ours = test_client_factory(build("fastframe"))
    ref = RefTestClient(build("starlette"), backend=anyio_backend)
    for method, headers in REQUESTS.values():
        assert exchange(ours, method, headers) == exchange(ref, method, headers)
