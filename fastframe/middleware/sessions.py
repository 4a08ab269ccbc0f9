from __future__ import annotations

import hmac
import json
import typing
from base64 import b64decode, b64encode
from typing import Literal

import itsdangerous
from itsdangerous.encoding import base64_decode, base64_encode, bytes_to_int, int_to_bytes
from itsdangerous.exc import BadSignature
from itsdangerous.signer import HMACAlgorithm

from fastframe import speedups
from fastframe.datastructures import MutableHeaders, Secret
from fastframe.types import ASGIApp, Message, Receive, Scope, Send


class Session(dict[str, typing.Any]):
    """The session: a dict that notes being read (the response then varies by Cookie) and being
    changed (the cookie is then written again)."""

    accessed: bool = False
    modified: bool = False

    def mark_accessed(self) -> None:
        self.accessed = True

    def mark_modified(self) -> None:
        self.accessed = self.modified = True

    # Each mutating method notes the change (when there is one) and lets dict do the rest.

    def __setitem__(self, key: str, value: typing.Any) -> None:
        self.mark_modified()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        self.mark_modified()
        dict.__delitem__(self, key)

    def __ior__(self, other: typing.Any) -> Session:  # type: ignore[override,misc]
        self.mark_modified()
        dict.update(self, other)
        return self

    def update(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.mark_modified()
        dict.update(self, *args, **kwargs)

    def clear(self) -> None:
        self.mark_modified()
        dict.clear(self)

    def setdefault(self, key: str, default: typing.Any = None) -> typing.Any:
        if not dict.__contains__(self, key):
            self.mark_modified()
        return dict.setdefault(self, key, default)

    def pop(self, key: str, *args: typing.Any) -> typing.Any:
        if dict.__contains__(self, key):
            self.mark_modified()
        return dict.pop(self, key, *args)

    def popitem(self) -> tuple[str, typing.Any]:
        pair = dict.popitem(self)  # raises on an empty session, which then stays unmodified
        self.mark_modified()
        return pair


def _flags(same_site: str, https_only: bool, domain: str | None, partitioned: bool) -> str:
    """The attributes every session cookie carries after its value, path and age."""
    parts = ["httponly", "samesite=" + same_site]
    if https_only:
        parts.append("secure")
    if domain is not None:
        parts.append("domain=" + domain)
    if partitioned:
        parts.append("partitioned")
    return "; ".join(parts)


class SessionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | Secret,
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,  # 14 days, in seconds
        path: str = "/",
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
        domain: str | None = None,
        partitioned: bool = False,
    ) -> None:
        self.app = app
        self.session_cookie, self.path, self.max_age = session_cookie, path, max_age
        self.security_flags = _flags(same_site, https_only, domain, partitioned)
        signer = self.signer = itsdangerous.TimestampSigner(str(secret_key))
        # itsdangerous derives the HMAC key on every call: for the usual single key, derive it once.
        self._fast_signer = signer
        algorithm = signer.algorithm
        self._derived_key = signer.derive_key() if isinstance(algorithm, HMACAlgorithm) else None
        self._digest = getattr(algorithm, "digest_method", None)

    def _load(self, raw_headers: typing.Any) -> Session | None:
        """The session the request's cookie carries, when it has a valid one."""
        cookie_header = speedups.http.header_get(raw_headers, "cookie")
        value = None if cookie_header is None else speedups.http.parse_cookie(cookie_header).get(self.session_cookie)
        payload = None if value is None else self._unsign(value.encode("utf-8"))
        return None if payload is None else Session(json.loads(b64decode(payload)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" and scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        loaded = self._load(scope["headers"])
        scope["session"] = Session() if loaded is None else loaded

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._set_cookie(message, scope["session"], loaded is not None)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _set_cookie(self, start: Message, session: Session, came_with_one: bool) -> None:
        """What the session's use asks of the response: Vary when it was read, a new cookie when
        it changed (or one that clears it, when it was emptied)."""
        if not (session.accessed or session.modified):
            return
        start.setdefault("headers", [])
        headers = MutableHeaders(scope=start)  # a copy: the app's own list stays as it was
        if session.accessed:
            headers.add_vary_header("Cookie")
        if session.modified and session:
            headers.append("Set-Cookie", self._cookie_for(session).decode("latin-1"))
        elif session.modified and came_with_one:
            headers.append("Set-Cookie", self._clearing_cookie().decode("latin-1"))

    def _fast(self) -> bool:
        signer = self.signer
        return (
            signer is self._fast_signer
            and type(signer) is itsdangerous.TimestampSigner
            and self._derived_key is not None
            and len(signer.secret_keys) == 1
            and signer.sep == "."
        )

    def _unsign(self, signed: bytes) -> bytes | None:
        """The payload of a valid, unexpired cookie value, else None (as TimestampSigner.unsign decides)."""
        if not self._fast():
            try:
                return self.signer.unsign(signed, max_age=self.max_age)
            except BadSignature:
                return None
        value, sep, signature = signed.rpartition(b".")
        if not sep:
            return None
        try:
            given = base64_decode(signature)
        except Exception:
            return None
        expected = hmac.new(self._derived_key, value, self._digest).digest()  # type: ignore[arg-type]
        if not hmac.compare_digest(given, expected):
            return None
        payload, sep, timestamp = value.rpartition(b".")
        if not sep:
            return None
        try:
            signed_at = bytes_to_int(base64_decode(timestamp))
        except Exception:
            return None
        if self.max_age is not None:
            age = self.signer.get_timestamp() - signed_at
            if age > self.max_age or age < 0:
                return None
        return payload

    def _sign(self, data: bytes) -> bytes:
        if not self._fast():
            return self.signer.sign(data)
        value = data + b"." + base64_encode(int_to_bytes(self.signer.get_timestamp()))
        return value + b"." + base64_encode(hmac.new(self._derived_key, value, self._digest).digest())  # type: ignore[arg-type]

    def _cookie_for(self, session: Session) -> bytes:
        data = b64encode(json.dumps(session).encode("utf-8"))
        signed = self._sign(data).decode("utf-8")
        max_age = f"Max-Age={self.max_age}; " if self.max_age is not None else ""
        return f"{self.session_cookie}={signed}; path={self.path}; {max_age}{self.security_flags}".encode("latin-1")

    def _clearing_cookie(self) -> bytes:
        return (
            f"{self.session_cookie}=null; path={self.path}; "
            f"expires=Thu, 01 Jan 1970 00:00:00 GMT; {self.security_flags}"
        ).encode("latin-1")
