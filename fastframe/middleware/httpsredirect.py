"""HTTPSRedirectMiddleware: sends plain http and ws requests to their https and wss address."""

from __future__ import annotations

from fastframe import speedups
from fastframe.datastructures import URL
from fastframe.responses import PlainTextResponse, RedirectResponse, Response
from fastframe.types import ASGIApp, Receive, Scope, Send

_SECURE = {"http": "https", "ws": "wss"}
_DEFAULT_PORTS = (80, 443)
_header_get = speedups.http.header_get


def _secure_response(scope: Scope, scheme: str) -> Response:
    """The 307 to the same address over `scheme`, or a 400 when the request names no host."""
    url = URL(scope=scope) if _header_get(scope["headers"], "host") or scope.get("server") else None
    if url is None or not url.netloc:
        return PlainTextResponse("Invalid host header", status_code=400)
    # The default ports of either scheme are dropped; any other port is kept as it was given.
    netloc = url.hostname if url.port in _DEFAULT_PORTS else url.netloc
    return RedirectResponse(url.replace(scheme=scheme, netloc=netloc), status_code=307)


class HTTPSRedirectMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scheme = _SECURE.get(scope.get("scheme", "")) if scope["type"] in ("http", "websocket") else None
        if scheme is None:
            await self.app(scope, receive, send)
        else:
            await _secure_response(scope, scheme)(scope, receive, send)
