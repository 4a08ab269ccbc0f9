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
from fastframe.datastructures import Secret
from fastframe.types import ASGIApp, Message, Receive, Scope, Send


class Session(dict[str, typing.Any]):
    """A dict that records whether it was touched, so the middleware writes the cookie only on change."""

    # Class-level defaults: a fresh Session costs nothing beyond the dict itself.
    accessed: bool = False
    modified: bool = False

    def mark_accessed(self) -> None:
        self.accessed = True

    def mark_modified(self) -> None:
        self.accessed = True
        self.modified = True

    def __setitem__(self, key: str, value: typing.Any) -> None:
        self.mark_modified()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.mark_modified()
        super().__delitem__(key)

    def clear(self) -> None:
        self.mark_modified()
        super().clear()

    def pop(self, key: str, *args: typing.Any) -> typing.Any:
        if key in self:
            self.mark_modified()
        return super().pop(key, *args)

    def popitem(self) -> tuple[str, typing.Any]:
        item = super().popitem()
        self.mark_modified()
        return item

    def setdefault(self, key: str, default: typing.Any = None) -> typing.Any:
        if key not in self:
            self.mark_modified()
        return super().setdefault(key, default)

    def update(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.mark_modified()
        super().update(*args, **kwargs)

    def __ior__(self, other: typing.Any) -> Session:  # type: ignore[override,misc]
        self.mark_modified()
        return super().__ior__(other)  # type: ignore[return-value]


def _add_vary(raw: list[tuple[bytes, bytes]], vary: bytes) -> None:
    # MutableHeaders.add_vary_header on a raw list: merge every vary value into the first one.
    existing = [value for name, value in raw if name == b"vary"]
    if not existing:
        raw.append((b"vary", vary))
        return
    merged = b", ".join(existing) + b", " + vary
    first = True
    i = 0
    while i < len(raw):
        if raw[i][0] == b"vary":
            if first:
                raw[i] = (b"vary", merged)
                first = False
            else:
                del raw[i]
                continue
        i += 1


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
        self.signer = itsdangerous.TimestampSigner(str(secret_key))
        self.session_cookie = session_cookie
        self.max_age = max_age
        self.path = path
        self.security_flags = "httponly; samesite=" + same_site
        if https_only:
            self.security_flags += "; secure"
        if domain is not None:
            self.security_flags += f"; domain={domain}"
        if partitioned:
            self.security_flags += "; partitioned"
        self._fast_signer = self.signer
        # itsdangerous derives the HMAC key on every call; derive it once for the common single-key setup.
        algorithm = self.signer.algorithm
        self._derived_key = self.signer.derive_key() if isinstance(algorithm, HMACAlgorithm) else None
        self._digest = getattr(algorithm, "digest_method", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        had_valid_cookie = False
        session = Session()
        cookie_header = speedups.http.header_get(scope["headers"], "cookie")
        if cookie_header is not None:
            value = speedups.http.parse_cookie(cookie_header).get(self.session_cookie)
            if value is not None:
                data = self._unsign(value.encode("utf-8"))
                if data is not None:
                    session = Session(json.loads(b64decode(data)))
                    had_valid_cookie = True
        scope["session"] = session

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = scope["session"]
                if current.accessed or current.modified:
                    headers = list(message["headers"])
                    message["headers"] = headers
                    if current.accessed:
                        _add_vary(headers, b"Cookie")
                    if current.modified:
                        if current:
                            headers.append((b"set-cookie", self._cookie_for(current)))
                        elif had_valid_cookie:
                            headers.append((b"set-cookie", self._clearing_cookie()))
            await send(message)

        await self.app(scope, receive, send_wrapper)

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
