from __future__ import annotations

import functools
import re
from collections.abc import Collection

from fastframe.datastructures import Headers, MutableHeaders
from fastframe.responses import PlainTextResponse, Response
from fastframe.types import ASGIApp, Message, Receive, Scope, Send

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
SAFELISTED_HEADERS = {"Accept", "Accept-Language", "Content-Language", "Content-Type"}

_PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)


def _set_raw(raw: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    # MutableHeaders.__setitem__ semantics on a raw list: replace the first match, drop the rest.
    first = -1
    i = 0
    while i < len(raw):
        if raw[i][0] == name:
            if first < 0:
                first = i
                raw[i] = (name, value)
            else:
                del raw[i]
                continue
        i += 1
    if first < 0:
        raw.append((name, value))


def _add_vary_origin(raw: list[tuple[bytes, bytes]]) -> None:
    existing = [value for name, value in raw if name == b"vary"]
    if existing:
        _set_raw(raw, b"vary", b", ".join(existing) + b", Origin")
    else:
        raw.append((b"vary", b"Origin"))


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
        if "*" in allow_methods:
            allow_methods = ALL_METHODS

        compiled_allow_origin_regex = None
        if allow_origin_regex is not None:
            compiled_allow_origin_regex = re.compile(allow_origin_regex)

        allow_all_origins = "*" in allow_origins
        allow_all_headers = "*" in allow_headers
        preflight_explicit_allow_origin = not allow_all_origins or allow_credentials

        simple_headers: dict[str, str] = {}
        if allow_all_origins:
            simple_headers["Access-Control-Allow-Origin"] = "*"
        if allow_credentials:
            simple_headers["Access-Control-Allow-Credentials"] = "true"
        if expose_headers:
            simple_headers["Access-Control-Expose-Headers"] = ", ".join(expose_headers)

        preflight_headers: dict[str, str] = {"Vary": _PREFLIGHT_VARY}
        if not preflight_explicit_allow_origin:
            preflight_headers["Access-Control-Allow-Origin"] = "*"
        preflight_headers["Access-Control-Allow-Methods"] = ", ".join(allow_methods)
        preflight_headers["Access-Control-Max-Age"] = str(max_age)
        merged_headers = sorted(SAFELISTED_HEADERS | set(allow_headers))
        if not allow_all_headers:
            preflight_headers["Access-Control-Allow-Headers"] = ", ".join(merged_headers)
        if allow_credentials:
            preflight_headers["Access-Control-Allow-Credentials"] = "true"

        self.app = app
        self.allow_origins = allow_origins
        self.allow_methods = allow_methods
        self.allow_headers = [h.lower() for h in merged_headers]
        self.allow_all_origins = allow_all_origins
        self.allow_all_headers = allow_all_headers
        self.allow_credentials = allow_credentials
        self.preflight_explicit_allow_origin = preflight_explicit_allow_origin
        self.allow_origin_regex = compiled_allow_origin_regex
        self.allow_private_network = allow_private_network
        self.simple_headers = simple_headers
        self.preflight_headers = preflight_headers

        self._simple_raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in simple_headers.items()]
        cls = type(self)
        # Subclasses overriding the per-request hooks get them called; otherwise the raw fast path runs.
        self._custom_simple = (
            cls.simple_response is not CORSMiddleware.simple_response or cls.send is not CORSMiddleware.send
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        raw = scope["headers"]
        origin = None
        request_method = None
        for name, value in raw:
            if name == b"origin":
                if origin is None:
                    origin = value.decode("latin-1")
            elif name == b"access-control-request-method" and request_method is None:
                request_method = value

        if scope["method"] == "OPTIONS" and origin is not None and request_method is not None:
            response = self.preflight_response(request_headers=Headers(scope=scope))
            await response(scope, receive, send)
            return

        if self._custom_simple:
            await self.simple_response(scope, receive, send, request_headers=Headers(scope=scope))
            return

        await self.app(scope, receive, self._wrap_send(send, origin))

    def _wrap_send(self, send: Send, origin: str | None) -> Send:
        if origin is None:

            async def send_vary_only(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message["headers"])
                    message["headers"] = headers
                    _add_vary_origin(headers)
                await send(message)

            return send_vary_only

        simple_raw = self._simple_raw
        explicit = self.preflight_explicit_allow_origin and self.is_allowed_origin(origin)
        origin_raw = origin.encode("latin-1")

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message["headers"])
                message["headers"] = headers
                for name, value in simple_raw:
                    _set_raw(headers, name, value)
                if explicit:
                    _set_raw(headers, b"access-control-allow-origin", origin_raw)
                _add_vary_origin(headers)
            await send(message)

        return send_with_cors

    def is_allowed_origin(self, origin: str) -> bool:
        if self.allow_all_origins:
            return True
        if self.allow_origin_regex is not None and self.allow_origin_regex.fullmatch(origin):
            return True
        return origin in self.allow_origins

    def preflight_response(self, request_headers: Headers) -> Response:
        requested_origin = request_headers["origin"]
        requested_method = request_headers["access-control-request-method"]
        requested_headers = request_headers.get("access-control-request-headers")
        requested_private_network = request_headers.get("access-control-request-private-network")

        headers = dict(self.preflight_headers)
        failures = []

        if self.is_allowed_origin(origin=requested_origin):
            if self.preflight_explicit_allow_origin:
                headers["Access-Control-Allow-Origin"] = requested_origin
        else:
            failures.append("origin")

        if requested_method not in self.allow_methods:
            failures.append("method")

        if self.allow_all_headers and requested_headers is not None:
            headers["Access-Control-Allow-Headers"] = requested_headers
        elif requested_headers is not None:
            allowed = self.allow_headers
            for header in requested_headers.lower().split(","):
                if header.strip() not in allowed:
                    failures.append("headers")
                    break

        if requested_private_network is not None:
            if self.allow_private_network:
                headers["Access-Control-Allow-Private-Network"] = "true"
            else:
                failures.append("private-network")

        if failures:
            return PlainTextResponse("Disallowed CORS " + ", ".join(failures), status_code=400, headers=headers)
        return PlainTextResponse("OK", status_code=200, headers=headers)

    async def simple_response(self, scope: Scope, receive: Receive, send: Send, request_headers: Headers) -> None:
        send = functools.partial(self.send, send=send, request_headers=request_headers)
        await self.app(scope, receive, send)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        if message["type"] != "http.response.start":
            await send(message)
            return

        message.setdefault("headers", [])
        headers = MutableHeaders(scope=message)
        origin = request_headers.get("origin")
        if origin is not None:
            headers.update(self.simple_headers)
            if self.preflight_explicit_allow_origin and self.is_allowed_origin(origin=origin):
                self.allow_explicit_origin(headers, origin)
                await send(message)
                return
        headers.add_vary_header("Origin")
        await send(message)

    @staticmethod
    def allow_explicit_origin(headers: MutableHeaders, origin: str) -> None:
        headers["Access-Control-Allow-Origin"] = origin
        headers.add_vary_header("Origin")
