"""TrustedHostMiddleware: answers 400 to requests whose Host header names no allowed host."""

from __future__ import annotations

from collections.abc import Sequence

from fastframe import speedups
from fastframe._utils import parse_host_header
from fastframe.datastructures import URL
from fastframe.responses import PlainTextResponse, RedirectResponse, Response
from fastframe.types import ASGIApp, Receive, Scope, Send

ENFORCE_DOMAIN_WILDCARD = "Domain wildcard patterns must be like '*.example.com'."
_header_get = speedups.http.header_get


def _pattern(text: str) -> str:
    """A host pattern, lower-cased: "*", a host, or "*." followed by a domain."""
    wildcard_ok = "*" not in text[1:] and (text[:1] != "*" or text == "*" or text[:2] == "*.")
    assert wildcard_ok, ENFORCE_DOMAIN_WILDCARD
    return text.lower()


class TrustedHostMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] | None = None,
        www_redirect: bool = True,
    ) -> None:
        patterns = ["*"] if allowed_hosts is None else [_pattern(text) for text in allowed_hosts]
        self.app = app
        self.www_redirect = www_redirect
        self.allowed_hosts = patterns
        self.allow_any = "*" in patterns
        # Exact names in a set; "*.example.com" kept as ".example.com", a suffix to test.
        self._names = frozenset(p for p in patterns if p[:1] != "*")
        self._domains = tuple(p[1:] for p in patterns if p[:2] == "*.")

    def _allows(self, host: str) -> bool:
        return host in self._names or (bool(self._domains) and host.endswith(self._domains))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        parsed = parse_host_header(_header_get(scope["headers"], "host"))
        host = None if parsed is None else parsed.host.lower()
        if host is not None and self._allows(host):
            await self.app(scope, receive, send)
            return
        response: Response
        if host is not None and self.www_redirect and "www." + host in self._names:
            url = URL(scope=scope)
            response = RedirectResponse(url=str(url.replace(netloc="www." + url.netloc)))
        else:
            response = PlainTextResponse("Invalid host header", status_code=400)
        await response(scope, receive, send)
