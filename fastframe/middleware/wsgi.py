from __future__ import annotations

import io
import sys
import warnings
from collections.abc import Callable, MutableMapping
from typing import Any

import anyio
import anyio.from_thread

from fastframe.exceptions import StarletteDeprecationWarning
from fastframe.types import Receive, Scope, Send

warnings.warn(
    "starlette.middleware.wsgi is deprecated and will be removed in a future release. "
    "Please refer to https://github.com/abersheeran/a2wsgi as a replacement.",
    StarletteDeprecationWarning,
    stacklevel=2,
)


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The WSGI environ for an ASGI HTTP scope (PEP 3333: str values are latin-1 "bytes as str")."""
    script_name = scope.get("root_path", "").encode("utf8").decode("latin1")
    path_info = scope["path"].encode("utf8").decode("latin1")
    if path_info.startswith(script_name):
        path_info = path_info[len(script_name) :]

    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": scope["query_string"].decode("ascii"),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stdout,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }

    server = scope.get("server") or ("localhost", 80)
    environ["SERVER_NAME"] = server[0]
    environ["SERVER_PORT"] = server[1]

    if scope.get("client"):
        environ["REMOTE_ADDR"] = scope["client"][0]

    for name, value in scope.get("headers", []):
        key = name.decode("latin1").upper().replace("-", "_")
        if key == "CONTENT_LENGTH" or key == "CONTENT_TYPE":
            corrected = key
        else:
            corrected = f"HTTP_{key}"
        decoded = value.decode("latin1")
        if corrected in environ:
            # Repeated headers fold into one comma-separated value, as a proxy would.
            decoded = environ[corrected] + "," + decoded
        environ[corrected] = decoded
    return environ


class WSGIMiddleware:
    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        responder = WSGIResponder(self.app, scope)
        await responder(receive, send)


class WSGIResponder:
    """Runs the WSGI app in a worker thread; its messages are sent from the thread, one at a time,
    so a streamed WSGI body reaches the client as it is produced."""

    def __init__(self, app: Callable[..., Any], scope: Scope) -> None:
        self.app = app
        self.scope = scope
        self.status: str | None = None
        self.response_headers: list[tuple[str, str]] | None = None
        self.response_started = False
        self.exc_info: Any = None
        self.send: Send | None = None

    async def __call__(self, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        more_body = True
        while more_body:
            message = await receive()
            chunks.append(message.get("body", b""))
            more_body = message.get("more_body", False)
        environ = build_environ(self.scope, b"".join(chunks))
        self.send = send
        await anyio.to_thread.run_sync(self.wsgi, environ, self.start_response)
        if self.exc_info is not None:
            raise self.exc_info[1].with_traceback(self.exc_info[2])

    def _send(self, message: MutableMapping[str, Any]) -> None:
        send = self.send
        assert send is not None

        async def forward() -> None:
            await send(message)

        anyio.from_thread.run(forward)

    def start_response(
        self,
        status: str,
        response_headers: list[tuple[str, str]],
        exc_info: Any = None,
    ) -> None:
        self.exc_info = exc_info
        if not self.response_started:
            self.response_started = True
            status_code_string, _ = status.split(" ", 1)
            headers = [
                (name.strip().encode("ascii").lower(), value.strip().encode("ascii"))
                for name, value in response_headers
            ]
            self._send({"type": "http.response.start", "status": int(status_code_string), "headers": headers})

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> None:
        for chunk in self.app(environ, start_response):
            self._send({"type": "http.response.body", "body": chunk, "more_body": True})
        self._send({"type": "http.response.body", "body": b""})
