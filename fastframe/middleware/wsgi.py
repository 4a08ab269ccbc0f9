"""WSGIMiddleware (deprecated, as in the reference): a WSGI app served through ASGI.

The request body is read whole, the WSGI app runs in a worker thread, and each message it
produces (the start from start_response, then every chunk of its iterable) is sent from that
thread through the event loop as soon as it exists, so a streamed body is not held back.
"""

from __future__ import annotations

import io
import sys
import warnings
from collections.abc import Callable, Iterable, MutableMapping
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

# PEP 3333 "native strings": bytes carried in str, one character per byte.
_NATIVE = "latin-1"


def _native(text: str) -> str:
    return text.encode("utf-8").decode(_NATIVE)


def _path_info(path: str, root: str) -> str:
    """The path below the mount point: the mount point's length cut off a path inside it (the
    mount point itself, or a path continuing it with a slash after any slashes the mount point
    ends with); a path outside it, or merely sharing its prefix (/apiv2 under /api), stays whole."""
    if path == root or path.startswith(root.rstrip("/") + "/"):
        return path[len(root) :]
    return path


def _header_environ(raw_headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """CONTENT_LENGTH, CONTENT_TYPE and HTTP_* entries; a repeated header's values joined by commas."""
    entries: dict[str, str] = {}
    for raw_name, raw_value in raw_headers:
        name = raw_name.decode(_NATIVE).upper().replace("-", "_")
        if name not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            name = "HTTP_" + name
        value = raw_value.decode(_NATIVE)
        earlier = entries.get(name)
        entries[name] = value if earlier is None else earlier + "," + value
    return entries


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    root = _native(scope.get("root_path", ""))
    server_name, server_port = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root,
        "PATH_INFO": _path_info(_native(scope["path"]), root),
        "QUERY_STRING": scope["query_string"].decode("ascii"),
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": "HTTP/" + scope["http_version"],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stdout,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
    environ.update(_header_environ(scope.get("headers", [])))
    return environ


def _start_message(status: str, response_headers: list[tuple[str, str]]) -> dict[str, Any]:
    code, _reason = status.split(" ", 1)
    headers = [(k.strip().encode("ascii").lower(), v.strip().encode("ascii")) for k, v in response_headers]
    return {"type": "http.response.start", "status": int(code), "headers": headers}


class WSGIMiddleware:
    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        await WSGIResponder(self.app, scope)(receive, send)


class WSGIResponder:
    def __init__(self, app: Callable[..., Any], scope: Scope) -> None:
        self.app = app
        self.scope = scope
        self.status: str | None = None
        self.response_headers: list[tuple[str, str]] | None = None
        self.response_started = False
        self.exc_info: Any = None
        self.send: Send | None = None

    async def __call__(self, receive: Receive, send: Send) -> None:
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.send = send
        await anyio.to_thread.run_sync(self.wsgi, build_environ(self.scope, bytes(body)), self.start_response)
        if self.exc_info is not None:
            raise self.exc_info[1].with_traceback(self.exc_info[2])

    def _post(self, message: MutableMapping[str, Any]) -> None:
        """Sends a message from the worker thread, waiting until the server took it."""
        send = self.send
        assert send is not None

        async def deliver() -> None:  # any awaitable send, not only a coroutine function's
            await send(message)

        anyio.from_thread.run(deliver)

    def start_response(
        self,
        status: str,
        response_headers: list[tuple[str, str]],
        exc_info: Any = None,
    ) -> None:
        self.exc_info = exc_info
        if not self.response_started:
            self.response_started = True
            self._post(_start_message(status, response_headers))

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> None:
        for chunk in self.app(environ, start_response):
            self._post({"type": "http.response.body", "body": chunk, "more_body": True})
        self._post({"type": "http.response.body", "body": b""})
