"""HTTPSRedirectMiddleware against the reference for the addresses a request can carry: no port,
default and odd ports, IPv6 literals, a missing `server`, no Host header. Never a 500."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware as RefHTTPSRedirect

from fastframe.middleware.httpsredirect import HTTPSRedirectMiddleware


async def app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"reached the app"})


def run(middleware: Any, scope: dict[str, Any]) -> list[Any]:
    async def main() -> list[Any]:
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        try:
            await middleware(app)(dict(scope), receive, send)
        except Exception as exc:  # a 500 in the making
            sent.append(("raised", type(exc).__name__))
        return sent

    return anyio.run(main)


def scope_for(host: bytes | None, server: Any = "absent", **extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "http",
        "method": "GET",
        "path": "/some/path",
        "raw_path": b"/some/path",
        "query_string": b"q=1",
        "root_path": "",
        "headers": [] if host is None else [(b"host", host)],
    }
    if server != "absent":
        scope["server"] = server
    scope.update(extra)
    return scope


CASES = {
    "no port": scope_for(b"example.com", ("example.com", 80)),
    "port 80": scope_for(b"example.com:80", ("example.com", 80)),
    "port 443": scope_for(b"example.com:443", ("example.com", 443)),
    "odd port": scope_for(b"example.com:8443", ("example.com", 8443)),
    "ipv6 without port": scope_for(b"[::1]", ("::1", 80)),
    "ipv6 port 80": scope_for(b"[::1]:80", ("::1", 80)),
    "ipv6 odd port": scope_for(b"[2001:db8::1]:8080", ("2001:db8::1", 8080)),
    "no server": scope_for(b"example.com:8000"),
    "server None": scope_for(b"example.com", None),
    "no host header, server": scope_for(None, ("10.0.0.1", 8080)),
    "no host header, ipv6 server": scope_for(None, ("::1", 8000)),
    "no host header, no server": scope_for(None),
    "empty host header, no server": scope_for(b""),
    "not a port": scope_for(b"example.com:http", ("example.com", 80)),
    "websocket": scope_for(b"example.com", ("example.com", 80), type="websocket", scheme="ws"),
    "already https": scope_for(b"example.com", ("example.com", 443), scheme="https"),
    "mounted": scope_for(b"example.com", ("example.com", 80), root_path="/api", path="/api/x"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_the_reference(case: str) -> None:
    ours = run(HTTPSRedirectMiddleware, CASES[case])
    assert ours == run(RefHTTPSRedirect, CASES[case])
    assert not any(isinstance(item, tuple) and item[0] == "raised" for item in ours)


hosts = st.one_of(
    st.from_regex(r"[a-zA-Z0-9.\-]{0,20}(:[0-9]{0,6})?", fullmatch=True),
    st.from_regex(r"\[[0-9a-f:]{2,20}\](:[0-9]{1,5})?", fullmatch=True),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
)
servers = st.one_of(
    st.just("absent"), st.none(), st.tuples(st.sampled_from(["example.com", "::1", "10.1.2.3"]), st.integers(1, 65535))
)


@settings(max_examples=150, deadline=None)
@given(host=st.one_of(st.none(), hosts.map(str.encode)), server=servers)
def test_any_address_matches_the_reference(host: bytes | None, server: Any) -> None:
    scope = scope_for(host, server)
    ours = run(HTTPSRedirectMiddleware, scope)
    assert ours == run(RefHTTPSRedirect, scope)
