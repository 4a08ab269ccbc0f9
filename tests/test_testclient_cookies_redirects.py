"""Cookies and redirects through the TestClient, for several base URLs, against the reference:
what the app is asked for (scheme, host, path, cookies) after relative and absolute URLs,
redirects within the base URL and to other hosts, and cookies scoped by domain and Secure."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

BASE_URLS = [
    "http://testserver",
    "https://testserver",
    "http://testserver/prefix",
    "http://testserver/prefix/",
    "https://example.org:8443/api/",
    "http://example.org",
]


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    headers = dict(scope["headers"])
    response_headers: list[tuple[bytes, bytes]] = []
    status = 200
    if path.endswith("/set"):
        response_headers = [
            (b"set-cookie", b"plain=1; Path=/"),
            (b"set-cookie", b"secure=2; Path=/; Secure"),
            (b"set-cookie", b"scoped=3; Domain=example.org; Path=/"),
            (b"set-cookie", b"deep=4; Path=/prefix/deeper"),
        ]
    elif path.endswith("/clear"):
        response_headers = [(b"set-cookie", b"plain=; Max-Age=0; Path=/")]
    elif path.endswith("/redirect"):
        status = int(dict(pair.split("=") for pair in scope["query_string"].decode().split("&"))["status"])
        location = scope["query_string"].decode().partition("to=")[2] or "/echo"
        response_headers = [(b"location", location.encode())]
    body = b"|".join(
        [
            scope["method"].encode(),
            scope["scheme"].encode(),
            headers[b"host"],
            path.encode(),
            scope["query_string"],
            headers.get(b"cookie", b"-"),
        ]
    )
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": body})


def session(pkg: str, backend: str, base_url: str, follow_redirects: bool) -> list[Any]:
    testclient = importlib.import_module(f"{pkg}.testclient")
    client = testclient.TestClient(app, base_url=base_url, backend=backend, follow_redirects=follow_redirects)
    seen: list[Any] = []

    def note(response: Any) -> None:
        seen.append((response.status_code, str(response.url), response.text, [str(r.url) for r in response.history]))

    note(client.get("/set"))
    for url in ("echo", "/echo", "/prefix/deeper/x", "http://example.org/echo", "https://sub.example.org/echo"):
        note(client.get(url))
    for status in (301, 302, 303, 307, 308):
        for to in ("", "http://example.org/elsewhere", "relative", "//other.host/x"):
            note(client.post(f"/redirect?status={status}&to={to}", content=b"body"))
    note(client.get("/redirect?status=302", follow_redirects=not follow_redirects))
    note(client.get("/clear"))
    note(client.get("/echo"))
    seen.append(sorted((c.name, c.value, c.domain, c.path, c.secure) for c in client.cookies.jar))
    return seen


@pytest.mark.parametrize("follow_redirects", [True, False])
@pytest.mark.parametrize("base_url", BASE_URLS)
def test_cookies_and_redirects_match_reference(anyio_backend: str, base_url: str, follow_redirects: bool) -> None:
    expected = session("starlette", anyio_backend, base_url, follow_redirects)
    assert session("fastframe", anyio_backend, base_url, follow_redirects) == expected


def test_cookies_follow_the_host(test_client_factory: Any) -> None:
    client = test_client_factory(app, base_url="https://example.org:8443/api/")
    client.get("/set")
    cookies = client.get("/echo").text.rpartition("|")[2]
    assert sorted(cookies.split("; ")) == ["plain=1", "scoped=3", "secure=2"]
    assert client.get("http://other.org/echo").text.endswith("|-")
