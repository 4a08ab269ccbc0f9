from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio
import pytest
import starlette.requests as s_requests
import starlette.responses as s_responses
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import URLPath
from starlette.testclient import TestClient as StarletteTestClient

import fastframe.requests as f_requests
import fastframe.responses as f_responses

BASE: dict[str, Any] = {
    "type": "http",
    "scheme": "https",
    "server": ("example.com", 443),
    "path": "/r/a",
    "root_path": "/r",
    "query_string": b"x=1&y&z=%20",
    "headers": [(b"host", b"h:1"), (b"cookie", b"a=1; b=2")],
    "client": ("1.2.3.4", 5),
    "method": "POST",
}


def outcome(func: Callable[[], Any]) -> Any:
    try:
        value = func()
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))
    return value if isinstance(value, dict | list | tuple | type(None)) else str(value)


PROPERTIES = ["url", "base_url", "headers", "query_params", "path_params", "cookies", "client", "app", "method"]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"app_root_path": "/x"},
        {"root_path": "/r/"},
        {"root_path": "/r//"},
        {"root_path": ""},
        {"headers": [(b"cookie", b"a=1"), (b"cookie", b"a=2; c=3")]},
        {"headers": [(b"Cookie", b"a=1")]},
        {"headers": [(b"cookie", b'a="x\\073y"; b; =c; d=; e=f=g')]},
        {"path_params": {"k": 1}, "app": "the-app"},
        {"client": None},
        {"client": ["h", 1]},
    ],
    ids=repr,
)
def test_connection_properties_match_reference(extra: dict[str, Any]) -> None:
    scope = {**BASE, **extra}
    ours = f_requests.Request(dict(scope))
    theirs = s_requests.Request(dict(scope))
    for name in PROPERTIES:
        assert outcome(partial(getattr, ours, name)) == outcome(partial(getattr, theirs, name)), name
    assert len(ours) == len(theirs) and list(ours) == list(theirs) and ours["path"] == theirs["path"]


@pytest.mark.parametrize("missing", ["path", "headers", "query_string", "method", "app", "server"])
def test_missing_scope_keys_fail_like_reference(missing: str) -> None:
    scope = {k: v for k, v in BASE.items() if k != missing}
    ours = f_requests.Request(dict(scope))
    theirs = s_requests.Request(dict(scope))
    for name in PROPERTIES:
        assert outcome(partial(getattr, ours, name)) == outcome(partial(getattr, theirs, name)), name


def test_cached_properties() -> None:
    request = f_requests.Request(dict(BASE))
    for name in ("url", "base_url", "headers", "query_params", "cookies", "state"):
        assert getattr(request, name) is getattr(request, name)
    assert request.client == request.client


def test_middleware_dependent_attributes() -> None:
    for name in ("session", "auth", "user"):
        with pytest.raises(AssertionError) as theirs:
            getattr(s_requests.Request(dict(BASE)), name)
        with pytest.raises(AssertionError) as ours:
            getattr(f_requests.Request(dict(BASE)), name)
        assert str(ours.value) == str(theirs.value)
    scope = {**BASE, "session": {"k": 1}, "auth": None, "user": "u"}
    request = f_requests.Request(scope)
    assert request.session is scope["session"] and request.auth is None and request.user == "u"


def test_state_lives_in_scope() -> None:
    scope = dict(BASE)
    request = f_requests.Request(scope)
    request.state.k = 1
    assert scope["state"] == {"k": 1}
    scope = {**BASE, "state": {"j": 2}}
    assert f_requests.Request(scope).state.j == 2


def test_scope_type_assertions() -> None:
    for module in (s_requests, f_requests):
        with pytest.raises(AssertionError):
            module.Request({"type": "websocket"})
        with pytest.raises(AssertionError):
            module.HTTPConnection({"type": "lifespan"})
        assert module.HTTPConnection({"type": "websocket"}).scope == {"type": "websocket"}


def test_identity_equality_and_attributes() -> None:
    a = f_requests.Request(dict(BASE))
    b = f_requests.Request(dict(BASE))
    assert a != b and a == a and hash(a) != hash(b)
    a.custom = 1  # type: ignore[attr-defined]
    assert a.custom == 1  # type: ignore[attr-defined]


def test_url_for() -> None:
    class Router:
        def url_path_for(self, name: str, **kw: Any) -> URLPath:
            return URLPath(f"/p/{name}/{kw['a']}")

    class App:
        def url_path_for(self, name: str, **kw: Any) -> URLPath:
            return URLPath(f"/app/{name}")

    for extra in ({"router": Router()}, {"app": App()}, {"app": App(), "router": Router()}, {}, {"app": object()}):
        scope = {**BASE, **extra}
        assert outcome(partial(f_requests.Request(dict(scope)).url_for, "n", a=1)) == outcome(
            partial(s_requests.Request(dict(scope)).url_for, "n", a=1)
        )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_cookie_parser_matches_reference(cookie: str) -> None:
    assert f_requests.cookie_parser(cookie) == s_requests.cookie_parser(cookie)


def drive(module: Any, messages: list[dict[str, Any]], action: Callable[[Any], Any], **scope: Any) -> list[Any]:
    """Run `action(request)` (an async function) against a receive channel replaying `messages`."""
    pending = list(messages)
    results: list[Any] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def main() -> None:
        request = module.Request({**BASE, **scope}, receive)
        try:
            await action(request, results)
        except Exception as exc:
            results.append(("raised", type(exc).__name__, str(exc)))

    anyio.run(main)
    return results


def differential(messages: list[dict[str, Any]], action: Callable[[Any, list[Any]], Any], **scope: Any) -> list[Any]:
    ours = drive(f_requests, messages, action, **scope)
    theirs = drive(s_requests, messages, action, **scope)
    assert ours == theirs
    return ours


TWO = [
    {"type": "http.request", "body": b"ab", "more_body": True},
    {"type": "http.request", "body": b"cd"},
]


async def stream_then_body(request: Any, out: list[Any]) -> None:
    out.append([chunk async for chunk in request.stream()])
    out.append(await request.body())


async def body_then_stream(request: Any, out: list[Any]) -> None:
    out.append(await request.body())
    out.append([chunk async for chunk in request.stream()])
    out.append(await request.body())


async def partial_stream_then_body(request: Any, out: list[Any]) -> None:
    async for chunk in request.stream():
        out.append(chunk)
        break
    out.append(await request.body())


async def body_twice_after_disconnect(request: Any, out: list[Any]) -> None:
    try:
        await request.body()
    except Exception as exc:
        out.append(type(exc).__name__)
    out.append(await request.is_disconnected())


async def json_twice(request: Any, out: list[Any]) -> None:
    first = await request.json()
    out.append(first)
    out.append(first is await request.json())


async def disconnected_twice(request: Any, out: list[Any]) -> None:
    out.append(await request.is_disconnected())
    out.append(await request.is_disconnected())


@pytest.mark.parametrize(
    "messages,action",
    [
        (TWO, stream_then_body),
        (TWO, body_then_stream),
        (TWO, partial_stream_then_body),
        (
            [{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"}],
            body_twice_after_disconnect,
        ),
        ([{"type": "http.request"}], body_then_stream),
        (
            [{"type": "http.request", "body": b"", "more_body": True}, {"type": "http.request", "body": b"x"}],
            stream_then_body,
        ),
        ([{"type": "weird"}, {"type": "http.request", "body": b"x"}], stream_then_body),
        ([{"type": "http.request", "body": b'{"a": [1, 2.5, NaN]}'}], json_twice),
        ([{"type": "http.request", "body": b"[1]"}], json_twice),
        ([{"type": "http.disconnect"}], disconnected_twice),
        ([], disconnected_twice),
        ([{"type": "http.request", "body": b"x", "more_body": True}, {"type": "http.disconnect"}], disconnected_twice),
    ],
)
def test_body_semantics_match_reference(messages: list[dict[str, Any]], action: Callable[..., Any]) -> None:
    differential(messages, action)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'\xef\xbb\xbf{"a":1}',
        b'{"a":1}\n',
        '{"a":"\u00e9"}'.encode("utf-16"),
        b"[1,]",
        b"Infinity",
        b'"\xff"',
        b"1e400",
    ],
)
def test_json_decoding_matches_reference(body: bytes) -> None:
    async def action(request: Any, out: list[Any]) -> None:
        value = await request.json()
        out.append(json.dumps(value) if value == value else "nan")

    differential([{"type": "http.request", "body": body}], action)


async def _collect(sink: list[Any], message: Any) -> None:
    sink.append(message)


def test_push_promise_and_early_hints() -> None:
    headers = [
        (b"accept", b"a"),
        (b"accept", b"b"),
        (b"user-agent", b"u"),
        (b"cookie", b"c"),
        (b"cache-control", b"cc"),
    ]
    for extensions in ({}, {"http.response.push": {}}, {"http.response.early_hint": {}}):
        results = []
        for module in (f_requests, s_requests):
            sent: list[Any] = []
            send = partial(_collect, sent)

            async def main() -> None:
                request = module.Request({**BASE, "headers": headers, "extensions": extensions}, send=send)  # noqa: B023
                await request.send_push_promise("/p")
                await request.send_early_hints("</s.css>; rel=preload", "</t.js>; rel=preload")

            anyio.run(main)
            # The set of copied headers has no defined order in the reference.
            results.append([{**m, "headers": sorted(m["headers"])} if "headers" in m else m for m in sent])
        assert results[0] == results[1]


def test_empty_channels() -> None:
    async def main() -> list[str]:
        out = []
        for func in (f_requests.empty_receive, lambda: f_requests.empty_send({})):
            try:
                await func()
            except RuntimeError as exc:
                out.append(str(exc))
        return out

    assert anyio.run(main) == [
        "Receive channel has not been made available",
        "Send channel has not been made available",
    ]


def test_request_through_testclient(test_client_factory: Callable[..., Any], anyio_backend: str) -> None:
    def make(requests: Any, responses: Any) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            request = requests.Request(scope, receive)
            body = await request.body()
            data = {
                "method": request.method,
                "url": str(request.url),
                "base_url": str(request.base_url),
                "headers": sorted(request.headers.items()),
                "query": request.query_params.multi_items(),
                "cookies": request.cookies,
                "client": list(request.client) if request.client else None,
                "body": body.decode("latin-1"),
                "disconnected": await request.is_disconnected(),
            }
            await responses.JSONResponse(data)(scope, receive, send)

        return app

    ours = test_client_factory(make(f_requests, f_responses))
    theirs = StarletteTestClient(make(s_requests, s_responses), backend=anyio_backend)
    for kwargs in (
        {"method": "GET", "url": "/a?x=1&x=2"},
        {"method": "POST", "url": "/p", "content": b"\x00\xffdata"},
        {"method": "PUT", "url": "/c", "headers": {"cookie": 's=1; t="q"'}},
    ):
        assert ours.request(**kwargs).json() == theirs.request(**kwargs).json()


def test_session_read_is_recorded_like_reference() -> None:
    class Tracking(dict[str, Any]):
        def __init__(self) -> None:
            super().__init__()
            self.reads = 0

        def mark_accessed(self) -> None:
            self.reads += 1

    for module in (f_requests, s_requests):
        session = Tracking()
        request = module.Request({**BASE, "session": session})
        assert request.session is session
        assert session.reads == 1


json_bodies = st.one_of(
    st.binary(max_size=12),
    st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b""]).flatmap(
        lambda prefix: st.binary(max_size=8).map(lambda rest: prefix + rest)
    ),
    st.tuples(
        st.recursive(st.none() | st.integers() | st.text(max_size=4), lambda c: st.lists(c, max_size=3), max_leaves=5),
        st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]),
    ).map(lambda t: json.dumps(t[0], ensure_ascii=False).encode(t[1], "surrogatepass")),
)


@settings(max_examples=300, deadline=None)
@given(json_bodies)
def test_json_accepts_exactly_what_reference_accepts(body: bytes) -> None:
    async def action(request: Any, out: list[Any]) -> None:
        out.append(repr(await request.json()))

    differential([{"type": "http.request", "body": body}], action)
