"""CORSMiddleware: answers CORS preflight requests and adds the CORS headers to responses."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from fastframe.datastructures import Headers, MutableHeaders
from fastframe.responses import PlainTextResponse, Response
from fastframe.types import ASGIApp, Message, Receive, Scope, Send

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
SAFELISTED_HEADERS = {"Accept", "Accept-Language", "Content-Language", "Content-Type"}

# What a preflight answer depends on, for caches between the browser and us.
_PREFLIGHT_VARY = ", ".join(
    [
        "Origin",
        "Access-Control-Request-Method",
        "Access-Control-Request-Headers",
        "Access-Control-Request-Private-Network",
    ]
)


def _response_headers(star_origin: bool, credentials: bool, exposed: Iterable[str]) -> dict[str, str]:
    """The headers every response to a cross-origin request gets."""
    headers = {"Access-Control-Allow-Origin": "*"} if star_origin else {}
    if credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    exposed_list = ", ".join(exposed)
    if exposed_list:
        headers["Access-Control-Expose-Headers"] = exposed_list
    return headers


def _preflight_base(
    echo_origin: bool, methods: Iterable[str], max_age: int, listed: Iterable[str] | None, credentials: bool
) -> dict[str, str]:
    """The headers of every preflight answer, before what the request itself asks for."""
    headers = {"Vary": _PREFLIGHT_VARY}
    if not echo_origin:
        headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Allow-Methods"] = ", ".join(methods)
    headers["Access-Control-Max-Age"] = str(max_age)
    if listed is not None:
        headers["Access-Control-Allow-Headers"] = ", ".join(listed)
    if credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


def _preflight_wanted(raw: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether the request carries both an Origin and an Access-Control-Request-Method."""
    seen = 0
    for name, _ in raw:
        if name == b"origin":
            seen |= 1
        elif name == b"access-control-request-method":
            seen |= 2
    return seen == 3


class CORSMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        methods = ALL_METHODS if "*" in allow_methods else allow_methods
        star_origin = "*" in allow_origins
        any_header = "*" in allow_headers
        # A browser refuses "*" together with credentials: then each allowed origin is echoed.
        echo_origin = allow_credentials or not star_origin
        listed = sorted(SAFELISTED_HEADERS.union(allow_headers))

        self.app = app
        self.allow_credentials = allow_credentials
        self.allow_private_network = allow_private_network
        self.allow_origins = allow_origins
        self.allow_all_origins = star_origin
        self.allow_origin_regex = re.compile(allow_origin_regex) if allow_origin_regex is not None else None
        self.allow_methods = methods
        self.allow_all_headers = any_header
        self.allow_headers = [name.lower() for name in listed]
        self.preflight_explicit_allow_origin = echo_origin
        self.simple_headers = _response_headers(star_origin, allow_credentials, expose_headers)
        self.preflight_headers = _preflight_base(
            echo_origin, methods, max_age, None if any_header else listed, allow_credentials
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and _preflight_wanted(scope["headers"]):
            await self.preflight_response(request_headers=request_headers)(scope, receive, send)
        else:
            await self.simple_response(scope, receive, send, request_headers=request_headers)

    def is_allowed_origin(self, origin: str) -> bool:
        if self.allow_all_origins or origin in self.allow_origins:
            return True
        pattern = self.allow_origin_regex
        return pattern is not None and pattern.fullmatch(origin) is not None

    def preflight_response(self, request_headers: Headers) -> Response:
        origin = request_headers["origin"]
        asked_headers = request_headers.get("access-control-request-headers")
        asked_private = request_headers.get("access-control-request-private-network")
        headers = dict(self.preflight_headers)
        refused = []

        if not self.is_allowed_origin(origin=origin):
            refused.append("origin")
        elif self.preflight_explicit_allow_origin:
            headers["Access-Control-Allow-Origin"] = origin
        if request_headers["access-control-request-method"] not in self.allow_methods:
            refused.append("method")
        if asked_headers is not None and self.allow_all_headers:
            headers["Access-Control-Allow-Headers"] = asked_headers
        elif asked_headers is not None:
            allowed = self.allow_headers
            if any(name.strip() not in allowed for name in asked_headers.lower().split(",")):
                refused.append("headers")
        if asked_private is not None and self.allow_private_network:
            headers["Access-Control-Allow-Private-Network"] = "true"
        elif asked_private is not None:
            refused.append("private-network")

        if refused:
            return PlainTextResponse(f"Disallowed CORS {', '.join(refused)}", status_code=400, headers=headers)
        return PlainTextResponse("OK", headers=headers)

    async def simple_response(self, scope: Scope, receive: Receive, send: Send, request_headers: Headers) -> None:
        async def send_with_cors(message: Message) -> None:
            await self.send(message, send=send, request_headers=request_headers)

        await self.app(scope, receive, send_with_cors)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        if message["type"] == "http.response.start":
            # A start without headers gets a list of its own to take them.
            message.setdefault("headers", [])
            self._decorate(MutableHeaders(scope=message), request_headers.get("origin"))
        await send(message)

    def _decorate(self, headers: MutableHeaders, origin: str | None) -> None:
        """The CORS headers of a response; it varies by Origin whatever the request."""
        if origin is not None:
            headers.update(self.simple_headers)
            if self.preflight_explicit_allow_origin and self.is_allowed_origin(origin=origin):
                self.allow_explicit_origin(headers, origin)
                return
        headers.add_vary_header("Origin")

    @staticmethod
    def allow_explicit_origin(headers: MutableHeaders, origin: str) -> None:
        headers["Access-Control-Allow-Origin"] = origin
        headers.add_vary_header("Origin")
