from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient as RefTestClient

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import starlette.middleware.wsgi as ref_wsgi

    import fastframe.middleware.wsgi as ff_wsgi


def environ_dump(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    lines = []
    for key in sorted(environ):
        value = environ[key]
        if key in ("wsgi.input", "wsgi.errors"):
            value = type(value).__name__
        lines.append(f"{key}={value!r}")
    lines.append(f"BODY={body!r}")
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Multi", "1"), ("X-Multi", "2")])
    return ["\n".join(lines).encode()]


def streaming(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("201 Created", [("X-Stream", "yes")])
    yield b"a"
    yield b""
    yield b"b"


def boom(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise ValueError("boom")


def late_boom(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [])
    yield b"a"
    raise ValueError("late")


def with_exc_info(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    try:
        raise KeyError("k")
    except KeyError:
        start_response("500 Internal Server Error", [], sys.exc_info())
    return [b"error page"]


def no_start_response(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    return [b"x"]


def empty(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("204 No Content", [])
    return []


def padded_status(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404   Not   Found", [(" Name ", " v ")])
    return [b""]


def bare_status(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200", [])
    return [b""]


def non_ascii_header(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("X", "caf\u00e9")])
    return [b""]


APPS = [
    environ_dump,
    streaming,
    boom,
    late_boom,
    with_exc_info,
    no_start_response,
    empty,
    padded_status,
    bare_status,
    non_ascii_header,
]

SCOPES: dict[str, dict[str, Any]] = {
    "full": {
        "type": "http",
        "method": "POST",
        "path": "/root/p\u00e4th",
        "raw_path": b"/root/p%C3%A4th",
        "root_path": "/root",
        "headers": [
            (b"content-type", b"text/plain"),
            (b"content-length", b"6"),
            (b"x-foo", b"a"),
            (b"x-foo", b"b"),
            (b"HOST", b"example.org:8000"),
        ],
        "query_string": b"a=1&b=%20",
        "http_version": "1.1",
        "scheme": "http",
        "server": ("srv", 8000),
        "client": ("1.2.3.4", 5678),
    },
    "https-no-server-no-client": {
        "type": "http",
        "method": "GET",
        "path": "/",
        "root_path": "",
        "headers": [],
        "query_string": b"",
        "http_version": "2",
        "scheme": "https",
        "server": None,
        "client": None,
    },
    "minimal": {
        "type": "http",
        "method": "GET",
        "path": "/x",
        "headers": [],
        "query_string": b"",
        "http_version": "1.1",
    },
}


async def drive(middleware: Any, scope: dict[str, Any]) -> tuple[list[Any], str | None]:
    pending = [
        {"type": "http.request", "body": b"abc", "more_body": True},
        {"type": "http.request", "body": b"def"},
    ]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    try:
        await middleware(dict(scope), receive, send)
    except Exception as exc:
        return sent, repr(exc)
    return sent, None


@pytest.mark.anyio
@pytest.mark.parametrize("scope_name", list(SCOPES))
@pytest.mark.parametrize("app", APPS, ids=[app.__name__ for app in APPS])
async def test_raw_asgi_matches_reference(app: Any, scope_name: str) -> None:
    ours = await drive(ff_wsgi.WSGIMiddleware(app), SCOPES[scope_name])
    ref = await drive(ref_wsgi.WSGIMiddleware(app), SCOPES[scope_name])
    assert ours == ref


@pytest.mark.parametrize("scope_name", list(SCOPES))
def test_build_environ_matches_reference(scope_name: str) -> None:
    ours = ff_wsgi.build_environ(SCOPES[scope_name], b"body")
    ref = ref_wsgi.build_environ(SCOPES[scope_name], b"body")
    assert ours.pop("wsgi.input").read() == ref.pop("wsgi.input").read() == b"body"
    assert ours == ref


@pytest.mark.anyio
async def test_websocket_scope_is_rejected() -> None:
    with pytest.raises(AssertionError):
        await ff_wsgi.WSGIMiddleware(environ_dump)({"type": "websocket", "headers": []}, None, None)  # type: ignore[arg-type]


def test_import_warns_like_the_reference() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.reload(ff_wsgi)
    from fastframe.exceptions import StarletteDeprecationWarning

    assert [(w.category, str(w.message)) for w in caught] == [
        (
            StarletteDeprecationWarning,
            "starlette.middleware.wsgi is deprecated and will be removed in a future release. "
            "Please refer to https://github.com/abersheeran/a2wsgi as a replacement.",
        )
    ]


@pytest.mark.parametrize(
    "method, path, kwargs",
    [
        ("GET", "/some/path?x=1&y=%C3%A4", {}),
        ("POST", "/upload", {"content": b"payload", "headers": {"X-Custom": "v"}}),
        ("PUT", "/", {"json": {"a": 1}}),
    ],
)
def test_environ_through_test_client_matches_reference(
    test_client_factory: Callable[..., Any], anyio_backend: str, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    ours = test_client_factory(ff_wsgi.WSGIMiddleware(environ_dump)).request(method, path, **kwargs)
    ref = RefTestClient(ref_wsgi.WSGIMiddleware(environ_dump), backend=anyio_backend).request(method, path, **kwargs)
    assert (ours.status_code, ours.headers.multi_items(), ours.text) == (
        ref.status_code,
        ref.headers.multi_items(),
        ref.text,
    )


def test_streamed_body_through_test_client(test_client_factory: Callable[..., Any]) -> None:
    response = test_client_factory(ff_wsgi.WSGIMiddleware(streaming)).get("/")
    assert (response.status_code, response.headers["x-stream"], response.content) == (201, "yes", b"ab")


def test_exception_reaches_the_client(test_client_factory: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match="boom"):
        test_client_factory(ff_wsgi.WSGIMiddleware(boom)).get("/")
