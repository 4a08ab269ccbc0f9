from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import starlette.middleware.httpsredirect as ref_httpsredirect
from starlette.testclient import TestClient as RefTestClient

import fastframe.middleware.httpsredirect as ff_httpsredirect
from fastframe.testclient import WebSocketDenialResponse


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": scope["scheme"]})
        await send({"type": "websocket.close"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": scope["scheme"].encode()})


def exchange(client: Any, url: str, host: str | None) -> tuple[Any, ...]:
    headers = {"host": host} if host is not None else {}
    response = client.get(url, headers=headers, follow_redirects=False)
    return response.status_code, response.headers.multi_items(), response.content


@pytest.fixture
def compare(test_client_factory: Callable[..., Any], anyio_backend: str) -> Callable[..., tuple[Any, ...]]:
    def run(base_url: str, url: str = "/", host: str | None = None) -> Any:
        ours = test_client_factory(ff_httpsredirect.HTTPSRedirectMiddleware(ok_app), base_url=base_url)
        ref = RefTestClient(ref_httpsredirect.HTTPSRedirectMiddleware(ok_app), backend=anyio_backend, base_url=base_url)
        got, expected = exchange(ours, url, host), exchange(ref, url, host)
        assert got == expected
        return got

    return run


@pytest.mark.parametrize(
    "base_url, url, host",
    [
        ("http://testserver", "/", None),
        ("http://testserver", "/p q?a=1&b=%20", None),
        ("http://testserver:80", "/", None),
        ("http://testserver:443", "/", None),
        ("http://testserver:8080", "/x", None),
        ("https://testserver", "/", None),
        ("https://testserver:8443", "/", None),
        ("http://testserver", "/", "example.com:80"),
        ("http://testserver", "/", "Example.COM:8000"),
        ("http://testserver", "/", "[::1]:80"),
        ("http://testserver", "/", "[::1]:8080"),
        ("http://testserver", "/", "example.com"),
    ],
)
def test_matches_reference(compare: Callable[..., Any], base_url: str, url: str, host: str | None) -> None:
    compare(base_url, url, host)


def test_redirects_http_to_https(compare: Callable[..., Any]) -> None:
    status, headers, body = compare("http://testserver", "/path?q=1")
    assert status == 307
    assert dict(headers)["location"] == "https://testserver/path?q=1"
    assert body == b""


def test_keeps_non_default_port(compare: Callable[..., Any]) -> None:
    assert dict(compare("http://testserver:8080", "/")[1])["location"] == "https://testserver:8080/"
    assert dict(compare("http://testserver:443", "/")[1])["location"] == "https://testserver/"


def test_https_passes_through(compare: Callable[..., Any]) -> None:
    assert compare("https://testserver", "/")[2] == b"https"


@pytest.mark.parametrize("url", ["/ws", "ws://testserver:8000/ws?x=1", "ws://testserver:80/ws"])
def test_websocket_redirect(test_client_factory: Callable[..., Any], anyio_backend: str, url: str) -> None:
    from starlette.testclient import WebSocketDenialResponse as RefDenial

    client = test_client_factory(ff_httpsredirect.HTTPSRedirectMiddleware(ok_app))
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect(url):
            pass  # pragma: no cover
    ref_client = RefTestClient(ref_httpsredirect.HTTPSRedirectMiddleware(ok_app), backend=anyio_backend)
    with pytest.raises(RefDenial) as ref_info:
        with ref_client.websocket_connect(url):
            pass  # pragma: no cover
    assert info.value.status_code == ref_info.value.status_code == 307
    assert info.value.headers["location"] == ref_info.value.headers["location"]
    assert info.value.headers["location"].startswith("wss://testserver")


def test_secure_websocket_passes_through(test_client_factory: Callable[..., Any]) -> None:
    client = test_client_factory(ff_httpsredirect.HTTPSRedirectMiddleware(ok_app))
    with client.websocket_connect("wss://testserver/ws") as session:
        assert session.receive_text() == "wss"


def test_lifespan_passes_through() -> None:
    import asyncio

    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(ff_httpsredirect.HTTPSRedirectMiddleware(app)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]
