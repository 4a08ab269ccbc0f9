from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import pytest
import starlette.background as s_background
import starlette.responses as s_responses
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import URL as S_URL
from starlette.testclient import TestClient as StarletteTestClient

import fastframe.background as f_background
import fastframe.requests as f_requests
import fastframe.responses as f_responses
from fastframe.datastructures import URL as F_URL

BOTH = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])


def run_asgi(
    app: Any,
    scope: dict[str, Any] | None = None,
    messages: list[dict[str, Any]] | None = None,
    backend: str = "asyncio",
    fail_send_after: int | None = None,
    send_exc: BaseException | None = None,
) -> list[Any]:
    """Call an ASGI app once and return what it sent, plus ("raised", type, args) if it raised."""
    full_scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [],
        "server": ("testserver", 80),
    }
    full_scope.update(scope or {})
    pending = list(messages or [])
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))
        if fail_send_after is not None and len(sent) > fail_send_after:
            assert send_exc is not None
            raise send_exc

    async def main() -> None:
        try:
            await app(full_scope, receive, send)
        except Exception as exc:
            sent.append(("raised", type(exc).__name__, exc.args))

    anyio.run(main, backend=backend)
    return sent


def normalise(messages: list[Any]) -> list[Any]:
    out = []
    for message in messages:
        if isinstance(message, dict) and isinstance(message.get("body"), memoryview):
            message = {**message, "body": bytes(message["body"])}
        out.append(message)
    return out


def same(build: Callable[[Any, Any], Any], **kwargs: Any) -> list[Any]:
    """Build the response with each package, run both, require identical messages; return ours."""
    ours = normalise(run_asgi(build(f_responses, f_background), **kwargs))
    theirs = normalise(run_asgi(build(s_responses, s_background), **kwargs))
    assert ours == theirs
    return ours


CASES: list[Callable[[Any, Any], Any]] = [
    lambda r, b: r.Response(),
    lambda r, b: r.Response(b"x"),
    lambda r, b: r.Response("\u00e9"),
    lambda r, b: r.Response(None, media_type="text/plain"),
    lambda r, b: r.Response("\u00e9", media_type="text/plain"),
    lambda r, b: r.Response("x", media_type="text/plain; Charset=latin-1"),
    lambda r, b: r.Response("x", media_type="TEXT/plain"),
    lambda r, b: r.Response("x", media_type="application/json"),
    lambda r, b: r.Response(memoryview(b"ab")),
    lambda r, b: r.Response(b"x", status_code=204),
    lambda r, b: r.Response(b"x", status_code=304),
    lambda r, b: r.Response(status_code=199),
    lambda r, b: r.Response(status_code=100),
    lambda r, b: r.Response(b"x", status_code=404, headers={"Content-Length": "5", "X-A": "b"}),
    lambda r, b: r.Response(b"x", headers={"content-type": "foo/bar"}, media_type="text/html"),
    lambda r, b: r.HTMLResponse("<b>\u00e9</b>"),
    lambda r, b: r.PlainTextResponse("hi", status_code=201, headers={"a": "\u00e9"}),
    lambda r, b: r.JSONResponse({"a": [1, "\u00e9", None, True, 1.5]}),
    lambda r, b: r.JSONResponse(None),
    lambda r, b: r.JSONResponse({"a": 1}, media_type="text/json"),
    lambda r, b: r.JSONResponse({1: 2, None: 3, 1.5: 4, False: 5}),
    lambda r, b: r.JSONResponse(10**30),
    lambda r, b: r.JSONResponse(["\u2028<>&", 1e16, -0.0, 1.0, 1e-7]),
    lambda r, b: r.RedirectResponse("/a b?x=\u00e9&y=<>#frag"),
    lambda r, b: r.RedirectResponse("https://ex.com/\u00e4%20b?q=1&r=a%2Fb;c,d$e+f!~*'()[]@:=", status_code=301),
    lambda r, b: r.RedirectResponse("/x", headers={"X": "1", "Location": "/old"}),
    lambda r, b: r.RedirectResponse(S_URL("http://a/b c") if r is s_responses else F_URL("http://a/b c")),
]


@pytest.mark.parametrize("build", CASES)
def test_response_messages_match_reference(build: Callable[[Any, Any], Any]) -> None:
    same(build)


@pytest.mark.parametrize(
    "content",
    [1, {"a": 1}, bytearray(b"ab")],
)
def test_unrenderable_content_raises_like_reference(content: Any) -> None:
    with pytest.raises(AttributeError) as theirs:
        s_responses.Response(content)
    with pytest.raises(AttributeError) as ours:
        f_responses.Response(content)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    "content", [float("nan"), {"a": float("inf")}, {(1,): 2}, {1, 2}, "\ud800", object()], ids=repr
)
def test_json_errors_match_reference(content: Any) -> None:
    with pytest.raises(Exception) as theirs:
        s_responses.JSONResponse(content)
    with pytest.raises(Exception) as ours:
        f_responses.JSONResponse(content)
    assert type(ours.value) is type(theirs.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_json_bytes_identical(value: Any) -> None:
    try:
        expected = s_responses.JSONResponse(value).body
    except Exception as exc:
        with pytest.raises(type(exc)):
            f_responses.JSONResponse(value)
        return
    response = f_responses.JSONResponse(value)
    assert response.body == expected
    assert response.raw_headers == s_responses.JSONResponse(value).raw_headers


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_redirect_quoting_matches_reference(url: str) -> None:
    try:
        expected = s_responses.RedirectResponse(url).raw_headers
    except Exception as exc:
        with pytest.raises(type(exc)):
            f_responses.RedirectResponse(url)
        return
    assert f_responses.RedirectResponse(url).raw_headers == expected


def _expires_free(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    # Integer expiries are relative to "now"; compare their shape, not the second they were made in.
    return [(k, re.sub(rb"expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", b"expires=<date>", v)) for k, v in raw]


COOKIE_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("set", {"key": "a", "value": "b"}),
    (
        "set",
        {
            "key": "c",
            "value": "d e;f",
            "max_age": 10,
            "expires": 100,
            "path": None,
            "domain": "ex.com",
            "secure": True,
            "httponly": True,
            "samesite": "strict",
        },
    ),
    ("set", {"key": "e", "value": "f", "expires": dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "samesite": None}),
    ("set", {"key": "g", "expires": "Wed, 21 Oct 2015 07:28:00 GMT", "samesite": "none"}),
    ("set", {"key": "x", "max_age": "5"}),
    ("set", {"key": "x", "expires": -5}),
    ("set", {"key": "x", "value": "\u00e9"}),
    ("set", {"key": "x", "samesite": "Lax"}),
    ("set", {"key": "x", "path": ""}),
    ("set", {"key": "x", "value": 'a"b\\'}),
    ("set", {"key": "x", "domain": ""}),
    ("set", {"key": "x", "expires": 1.5}),
    ("set", {"key": "x", "value": None}),
    ("set", {"key": "x", "secure": 1, "httponly": "yes"}),
    ("delete", {"key": "a"}),
    ("delete", {"key": "z", "path": "/p", "domain": "d", "secure": True, "httponly": True, "samesite": None}),
]


@pytest.mark.parametrize("call", COOKIE_CALLS, ids=lambda c: f"{c[0]}-{sorted(c[1])}")
def test_cookies_match_reference(call: tuple[str, dict[str, Any]]) -> None:
    kind, kwargs = call
    results = []
    for module in (f_responses, s_responses):
        response = module.Response(b"x")
        method = response.set_cookie if kind == "set" else response.delete_cookie
        method(**kwargs)
        results.append(_expires_free(response.raw_headers))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": "x", "samesite": "bad"},
        {"key": "x", "partitioned": True},
        {"key": "x y"},
        {"key": ""},
        {"key": "\u00e9"},
        {"key": "expires"},
        {"key": "x", "expires": dt.datetime(2030, 1, 2, 3, 4, 5)},
    ],
    ids=repr,
)
def test_cookie_errors_match_reference(kwargs: dict[str, Any]) -> None:
    with pytest.raises(Exception) as theirs:
        s_responses.Response().set_cookie(**kwargs)
    with pytest.raises(Exception) as ours:
        f_responses.Response().set_cookie(**kwargs)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_delete_cookie_partitioned_error_matches() -> None:
    with pytest.raises(ValueError) as theirs:
        s_responses.Response().delete_cookie("x", partitioned=True)
    with pytest.raises(ValueError) as ours:
        f_responses.Response().delete_cookie("x", partitioned=True)
    assert str(ours.value) == str(theirs.value)


def test_headers_property_is_cached_view_of_raw_headers() -> None:
    response = f_responses.Response(b"x")
    headers = response.headers
    assert headers is response.headers
    headers["x-new"] = "1"
    assert response.raw_headers[-1] == (b"x-new", b"1")
    response.set_cookie("a", "b")
    assert headers.getlist("set-cookie") == ["a=b; Path=/; SameSite=lax"]


def test_attributes_match_reference() -> None:
    for name in ("media_type", "charset"):
        for cls in ("Response", "HTMLResponse", "PlainTextResponse", "JSONResponse", "RedirectResponse"):
            assert getattr(getattr(f_responses, cls), name) == getattr(getattr(s_responses, cls), name)
    ours = f_responses.Response(b"x", media_type="text/plain", status_code=201)
    assert (ours.media_type, ours.charset, ours.status_code, ours.background, ours.body) == (
        "text/plain",
        "utf-8",
        201,
        None,
        b"x",
    )

    class Latin(f_responses.Response):
        media_type = "text/html"
        charset = "latin-1"

    assert Latin("\u00e9").raw_headers == [(b"content-length", b"1"), (b"content-type", b"text/html; charset=latin-1")]
    assert Latin("\u00e9").body == b"\xe9"


def test_background_runs_after_body() -> None:
    for responses, background in ((f_responses, f_background), (s_responses, s_background)):
        log: list[str] = []
        response = responses.Response(b"x", background=background.BackgroundTask(log.append, "done"))
        messages = run_asgi(response)
        assert log == ["done"]
        assert len(messages) == 2


def test_websocket_denial_response_matches() -> None:
    same(lambda r, b: r.Response(b"abc"), scope={"type": "websocket"})
    same(lambda r, b: r.StreamingResponse(iter([b"a", "b"])), scope={"type": "websocket"})


def test_plain_response_does_not_start_task_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("task group created")

    monkeypatch.setattr(anyio, "create_task_group", forbidden)
    for response in (
        f_responses.Response(b"x"),
        f_responses.JSONResponse({"a": 1}),
        f_responses.PlainTextResponse("x", background=f_background.BackgroundTask(lambda: None)),
    ):
        assert run_asgi(response)[-1]["type"] == "http.response.body"


async def agen() -> AsyncIterator[Any]:
    yield b"a"
    yield "\u00e9"
    yield memoryview(b"m")


def sgen() -> Iterator[Any]:
    yield b"a"
    yield "\u00e9"


STREAM_CASES: list[Callable[[Any, Any], Any]] = [
    lambda r, b: r.StreamingResponse(agen()),
    lambda r, b: r.StreamingResponse(sgen(), media_type="text/event-stream", headers={"x": "y"}),
    lambda r, b: r.StreamingResponse([b"x", "y"], media_type="text/plain"),
    lambda r, b: r.StreamingResponse(agen(), status_code=204),
    lambda r, b: r.StreamingResponse(agen(), headers={"content-length": "4"}),
]


@BOTH
@pytest.mark.parametrize("build", STREAM_CASES)
def test_streaming_matches_reference(build: Callable[[Any, Any], Any], anyio_backend: str) -> None:
    same(build, backend=anyio_backend)
    same(build, backend=anyio_backend, scope={"asgi": {"spec_version": "2.4"}})


@BOTH
@pytest.mark.parametrize("spec", [None, "2.3", "2.4", "2.10"])
@pytest.mark.parametrize("exc", [OSError("gone"), RuntimeError("boom")], ids=repr)
def test_streaming_send_failure_matches_reference(spec: str | None, exc: BaseException, anyio_backend: str) -> None:
    scope = {"asgi": {"spec_version": spec}} if spec else {}
    for _ in range(2):
        log: list[int] = []
        results = []
        for responses, background in ((f_responses, f_background), (s_responses, s_background)):
            response = responses.StreamingResponse(agen(), background=background.BackgroundTask(log.append, 1))
            results.append(
                normalise(run_asgi(response, scope=scope, backend=anyio_backend, fail_send_after=2, send_exc=exc))
            )
        assert results[0] == results[1]
        assert log == []


async def slow() -> AsyncIterator[bytes]:
    for i in range(5):
        yield b"%d" % i
        await anyio.sleep(0.01)


@BOTH
@pytest.mark.parametrize("spec", [None, "2.4"])
def test_streaming_stops_on_disconnect_like_reference(spec: str | None, anyio_backend: str) -> None:
    scope = {"asgi": {"spec_version": spec}} if spec else {}
    results = []
    logs = []
    for responses, background in ((f_responses, f_background), (s_responses, s_background)):
        log: list[int] = []
        response = responses.StreamingResponse(slow(), background=background.BackgroundTask(log.append, 1))
        messages = [{"type": "http.request", "body": b""}, {"type": "http.disconnect"}]
        results.append(run_asgi(response, scope=scope, messages=messages, backend=anyio_backend))
        logs.append(log)
    assert results[0] == results[1]
    assert logs[0] == logs[1] == [1]


def test_streaming_sse_arrives_chunk_by_chunk(test_client_factory: Callable[..., Any]) -> None:
    async def events() -> AsyncIterator[str]:
        for i in range(3):
            yield f"data: {i}\n\n"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await f_responses.StreamingResponse(events(), media_type="text/event-stream")(scope, receive, send)

    client = test_client_factory(app)
    with client.stream("GET", "/") as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        chunks = list(response.iter_raw())
    assert b"".join(chunks) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"


def test_testclient_round_trip_matches_reference(test_client_factory: Callable[..., Any], anyio_backend: str) -> None:
    def make(responses: Any) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            path = scope["path"]
            response: Any
            if path == "/json":
                response = responses.JSONResponse({"k": ["\u00e9", 1]}, headers={"x": "1"})
            elif path == "/redirect":
                response = responses.RedirectResponse("/json?a=b c")
            elif path == "/cookie":
                response = responses.PlainTextResponse("c")
                response.set_cookie("s", "v w", max_age=3, httponly=True)
                response.delete_cookie("old")
            else:
                response = responses.HTMLResponse("<p>", status_code=404)
            await response(scope, receive, send)

        return app

    ours = test_client_factory(make(f_responses))
    theirs = StarletteTestClient(make(s_responses), backend=anyio_backend)
    for path in ("/json", "/redirect", "/cookie", "/other"):
        a = ours.get(path, follow_redirects=False)
        b = theirs.get(path, follow_redirects=False)
        assert a.status_code == b.status_code
        assert _expires_free(a.headers.raw) == _expires_free(b.headers.raw)
        assert a.content == b.content


def test_spec_2_4_disconnect_raises_requests_client_disconnect() -> None:
    async def main() -> None:
        async def send(message: Any) -> None:
            if message["type"] == "http.response.body":
                raise OSError("gone")

        async def receive() -> Any:
            raise AssertionError("2.4 streaming must not listen for disconnects")

        response = f_responses.StreamingResponse(iter([b"x"]))
        with pytest.raises(f_requests.ClientDisconnect):
            await response({"type": "http", "asgi": {"spec_version": "2.4"}}, receive, send)

    anyio.run(main)
