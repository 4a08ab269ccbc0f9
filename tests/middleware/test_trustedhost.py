from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
import starlette.middleware.trustedhost as ref_trustedhost
from starlette.testclient import TestClient as RefTestClient

import fastframe.middleware.trustedhost as ff_trustedhost


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "connected"})
        await send({"type": "websocket.close"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"OK"})


def exchange(client: Any, host: str | None, path: str = "/") -> tuple[Any, ...]:
    headers = {"host": host} if host is not None else {}
    response = client.get(path, headers=headers, follow_redirects=False)
    return response.status_code, response.headers.multi_items(), response.content


def without_host(app: Any) -> Any:
    # httpx always sends a Host header; drop it to see a request that has none.
    async def strip_host(scope: Any, receive: Any, send: Any) -> None:
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"]
        await app(scope, receive, send)

    return strip_host


@pytest.fixture
def compare(test_client_factory: Callable[..., Any], anyio_backend: str) -> Callable[..., tuple[Any, ...]]:
    def run(options: dict[str, Any], host: str | None, path: str = "/", base_url: str = "http://testserver") -> Any:
        def wrap(app: Any) -> Any:
            return without_host(app) if host is None else app

        ours = test_client_factory(wrap(ff_trustedhost.TrustedHostMiddleware(ok_app, **options)), base_url=base_url)
        ref = RefTestClient(
            wrap(ref_trustedhost.TrustedHostMiddleware(ok_app, **options)), backend=anyio_backend, base_url=base_url
        )
        got, expected = exchange(ours, host, path), exchange(ref, host, path)
        assert got == expected
        return got

    return run


HOST_CONFIGS = [
    ["example.com"],
    ["*.example.com"],
    ["*"],
    ["www.example.com"],
    ["[::1]", "127.0.0.1"],
    ["EXAMPLE.com", "*.Example.org"],
    ["*.example.com", "example.com"],
    [],
]
HOSTS = [
    "example.com",
    "EXAMPLE.COM",
    "example.com:8000",
    "www.example.com",
    "a.b.example.com",
    "sub.example.org",
    "evil.com",
    "evil-example.com",
    "[::1]",
    "[::1]:80",
    "::1",
    "127.0.0.1:99",
    "example.com.",
    "",
    None,
    "example.com:abc",
    "[::1",
    "ex ample.com",
]


@pytest.mark.parametrize("allowed_hosts", HOST_CONFIGS, ids=[",".join(h) or "none" for h in HOST_CONFIGS])
@pytest.mark.parametrize("host", HOSTS, ids=[repr(h) for h in HOSTS])
def test_matches_reference(compare: Callable[..., Any], allowed_hosts: list[str], host: str | None) -> None:
    compare({"allowed_hosts": allowed_hosts}, host)


def test_invalid_host_header(compare: Callable[..., Any]) -> None:
    status, headers, body = compare({"allowed_hosts": ["example.com"]}, "evil.com")
    assert status == 400
    assert body == b"Invalid host header"
    assert ("content-type", "text/plain; charset=utf-8") in headers


def test_wildcard_subdomains(compare: Callable[..., Any]) -> None:
    assert compare({"allowed_hosts": ["*.example.com"]}, "a.b.example.com")[0] == 200
    assert compare({"allowed_hosts": ["*.example.com"]}, "example.com")[0] == 400


def test_www_redirect(compare: Callable[..., Any]) -> None:
    status, headers, body = compare({"allowed_hosts": ["www.example.com"]}, "example.com", "/a b/?x=1&y=%20")
    assert status == 307
    assert dict(headers)["location"] == "http://www.example.com/a%20b/?x=1&y=%20"
    status, headers, _ = compare({"allowed_hosts": ["www.example.com"]}, "Example.com:8000", "/p")
    assert dict(headers)["location"] == "http://www.Example.com:8000/p"
    compare({"allowed_hosts": ["www.example.com"]}, "example.com", "/p", base_url="https://testserver")


def test_www_redirect_disabled(compare: Callable[..., Any]) -> None:
    assert compare({"allowed_hosts": ["www.example.com"], "www_redirect": False}, "example.com")[0] == 400


def test_default_allows_any_host(compare: Callable[..., Any]) -> None:
    assert compare({}, "anything.invalid")[0] == 200


@pytest.mark.parametrize("pattern", ["example.*", "*example.com", "a.*.com", "*.*.com", "**"])
def test_bad_wildcard_patterns(pattern: str) -> None:
    with pytest.raises(AssertionError) as ours:
        ff_trustedhost.TrustedHostMiddleware(ok_app, allowed_hosts=[pattern])
    with pytest.raises(AssertionError) as ref:
        ref_trustedhost.TrustedHostMiddleware(ok_app, allowed_hosts=[pattern])
    assert str(ours.value) == str(ref.value) == ff_trustedhost.ENFORCE_DOMAIN_WILDCARD


@pytest.mark.parametrize("allowed_hosts", [None, ["*"], ["EXAMPLE.com", "*.Example.ORG"], [], "example.com"])
def test_attributes_match_reference(allowed_hosts: Any) -> None:
    ours = vars(ff_trustedhost.TrustedHostMiddleware(ok_app, allowed_hosts, www_redirect=False))
    ref = vars(ref_trustedhost.TrustedHostMiddleware(ok_app, allowed_hosts, www_redirect=False))
    assert {k: v for k, v in ours.items() if not k.startswith("_")} == ref


@pytest.mark.parametrize("host, expected", [("example.com", "connected"), ("evil.com", 400), ("ex.org", 307)])
def test_websocket(test_client_factory: Callable[..., Any], host: str, expected: Any) -> None:
    testclient = importlib.import_module("fastframe.testclient")
    app = ff_trustedhost.TrustedHostMiddleware(ok_app, allowed_hosts=["example.com", "www.ex.org"])
    client = test_client_factory(app)
    if expected == "connected":
        with client.websocket_connect("/", headers={"host": host}) as session:
            assert session.receive_text() == "connected"
        return
    with pytest.raises(testclient.WebSocketDenialResponse) as info:
        with client.websocket_connect("/", headers={"host": host}):
            pass  # pragma: no cover
    assert info.value.status_code == expected
    if expected == 307:
        assert info.value.headers["location"] == "ws://www.ex.org/"


def test_lifespan_passes_through() -> None:
    import asyncio

    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(ff_trustedhost.TrustedHostMiddleware(app, ["example.com"])({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]


def test_missing_host_header_is_invalid(compare: Callable[..., Any]) -> None:
    assert compare({"allowed_hosts": ["testserver"]}, "testserver")[0] == 200
    assert compare({"allowed_hosts": ["testserver"]}, None)[0] == 400
