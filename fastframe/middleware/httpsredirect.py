from __future__ import annotations

from fastframe.datastructures import URL
from fastframe.responses import RedirectResponse
from fastframe.types import ASGIApp, Receive, Scope, Send

_SECURE_SCHEME = {"http": "https", "ws": "wss"}


class HTTPSRedirectMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["scheme"] in _SECURE_SCHEME:
            url = URL(scope=scope)
            netloc = url.hostname if url.port in (80, 443) else url.netloc
            url = url.replace(scheme=_SECURE_SCHEME[url.scheme], netloc=netloc)
            response = RedirectResponse(url, status_code=307)
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)
