from __future__ import annotations

from collections.abc import Sequence

from fastframe import speedups
from fastframe._utils import parse_host_header
from fastframe.datastructures import URL
from fastframe.responses import PlainTextResponse, RedirectResponse, Response
from fastframe.types import ASGIApp, Receive, Scope, Send

ENFORCE_DOMAIN_WILDCARD = "Domain wildcard patterns must be like '*.example.com'."


class TrustedHostMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] | None = None,
        www_redirect: bool = True,
    ) -> None:
        if allowed_hosts is None:
            allowed_hosts = ["*"]

        for pattern in allowed_hosts:
            assert "*" not in pattern[1:], ENFORCE_DOMAIN_WILDCARD
            if pattern.startswith("*") and pattern != "*":
                assert pattern.startswith("*."), ENFORCE_DOMAIN_WILDCARD

        self.app = app
        self.allowed_hosts = [pattern.lower() for pattern in allowed_hosts]
        self.allow_any = "*" in self.allowed_hosts
        self.www_redirect = www_redirect
        # Split once so a request costs a set lookup plus one suffix test per wildcard.
        self._exact = frozenset(p for p in self.allowed_hosts if not p.startswith("*"))
        self._suffixes = tuple(p[1:] for p in self.allowed_hosts if p.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        parsed = parse_host_header(speedups.http.header_get(scope["headers"], "host"))
        found_www_redirect = False
        if parsed is not None:
            host = parsed.host.lower()
            if host in self._exact or (self._suffixes and host.endswith(self._suffixes)):
                await self.app(scope, receive, send)
                return
            found_www_redirect = self.www_redirect and ("www." + host) in self._exact

        response: Response
        if found_www_redirect:
            url = URL(scope=scope)
            redirect_url = url.replace(netloc="www." + url.netloc)
            response = RedirectResponse(url=str(redirect_url))
        else:
            response = PlainTextResponse("Invalid host header", status_code=400)
        await response(scope, receive, send)
