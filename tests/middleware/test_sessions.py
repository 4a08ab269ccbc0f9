from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import itsdangerous
import pytest
import starlette.middleware.sessions as ref_sessions
from starlette.datastructures import Secret as RefSecret
from starlette.testclient import TestClient as RefTestClient

import fastframe.middleware.sessions as ff_sessions
from fastframe.datastructures import Secret

SECRET = "example-secret"
MODULES = {"fastframe": ff_sessions, "starlette": ref_sessions}


async def session_app(scope: Any, receive: Any, send: Any) -> None:
    """Applies the operations named in the query string to the session, then reports it as JSON."""
    session = scope["session"]
    for op, arg in parse_qsl(scope["query_string"].decode(), keep_blank_values=True):
        key, _, value = arg.partition(":")
        if op == "set":
            session[key] = value
        elif op == "setnum":
            session[key] = int(value)
        elif op == "del":
            del session[key]
        elif op == "pop":
            session.pop(key, None)
        elif op == "clear":
            session.clear()
        elif op == "update":
            session.update({key: value})
        elif op == "setdefault":
            session.setdefault(key, value)
        elif op == "touch":
            session.mark_accessed()
        elif op == "read":
            session.get(key)
    body = json.dumps({"session": dict(session), "type": type(session).__name__}).encode()
    headers = [(b"content-type", b"application/json"), (b"vary", b"Accept-Encoding")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def decode_cookie_value(value: str, secret: str = SECRET) -> Any:
    if value == "null":
        return None
    payload = itsdangerous.TimestampSigner(secret).unsign(value)
    return json.loads(base64.b64decode(payload))


def normalize(response: Any) -> tuple[Any, ...]:
    """Response as comparable data; the signed cookie carries a timestamp, so compare its decoded content."""
    headers = []
    for name, value in response.headers.multi_items():
        if name == "set-cookie":
            first, _, attributes = value.partition("; ")
            cookie_name, _, cookie_value = first.partition("=")
            value = (cookie_name, decode_cookie_value(cookie_value), attributes)
        headers.append((name, value))
    return response.status_code, headers, response.json()


def set_cookie_value(response: Any) -> str | None:
    header = response.headers.get("set-cookie")
    if header is None:
        return None
    return str(header.partition(";")[0].partition("=")[2])


class Pair:
    """The same app and middleware options on fastframe and on the reference, each with its own cookie."""

    def __init__(self, ours: Any, ref: Any) -> None:
        self.clients = {"fastframe": ours, "starlette": ref}
        self.cookies: dict[str, str | None] = {"fastframe": None, "starlette": None}

    def request(self, query: str = "", cookie_name: str = "session", path: str = "/") -> tuple[Any, ...]:
        results = []
        for pkg, client in self.clients.items():
            headers = {}
            if self.cookies[pkg] is not None:
                headers["Cookie"] = f"{cookie_name}={self.cookies[pkg]}"
            client.cookies.clear()
            response = client.get(f"{path}?{query}", headers=headers)
            new_value = set_cookie_value(response)
            if new_value is not None:
                self.cookies[pkg] = None if new_value == "null" else new_value
            results.append(normalize(response))
        assert results[0] == results[1]
        return tuple(results[0])


@pytest.fixture
def pair(test_client_factory: Callable[..., Any], anyio_backend: str) -> Callable[..., Pair]:
    def make(app: Any = session_app, **options: Any) -> Pair:
        options.setdefault("secret_key", SECRET)
        ours = test_client_factory(ff_sessions.SessionMiddleware(app, **options))
        ref = RefTestClient(ref_sessions.SessionMiddleware(app, **options), backend=anyio_backend)
        return Pair(ours, ref)

    return make


def test_session_lifecycle(pair: Callable[..., Pair]) -> None:
    p = pair()
    status, headers, body = p.request()
    assert body == {"session": {}, "type": "Session"}
    assert "set-cookie" not in dict(headers)

    status, headers, body = p.request("set=user:alice&setnum=count:1")
    assert body["session"] == {"user": "alice", "count": 1}
    cookie = dict(headers)["set-cookie"]
    assert cookie == ("session", {"user": "alice", "count": 1}, "path=/; Max-Age=1209600; httponly; samesite=lax")
    assert ("vary", "Accept-Encoding, Cookie") in headers

    # Reading without touching: no cookie, no Vary.
    status, headers, body = p.request("read=user")
    assert body["session"] == {"user": "alice", "count": 1}
    assert "set-cookie" not in dict(headers)
    assert ("vary", "Accept-Encoding") in headers

    status, headers, body = p.request("touch=")
    assert "set-cookie" not in dict(headers)
    assert ("vary", "Accept-Encoding, Cookie") in headers

    p.request("pop=missing")
    p.request("setdefault=user:bob")
    p.request("setdefault=other:x")
    p.request("update=user:carol")
    p.request("del=other")

    status, headers, body = p.request("clear=")
    assert body["session"] == {}
    assert dict(headers)["set-cookie"] == (
        "session",
        None,
        "path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=lax",
    )

    # After clearing there is no cookie to clear again.
    status, headers, body = p.request("clear=")
    assert "set-cookie" not in dict(headers)


def test_valid_empty_session_cookie_is_cleared(pair: Callable[..., Pair]) -> None:
    p = pair()
    p.request("set=a:1")
    p.request("pop=a")
    status, headers, body = p.request("set=a:2&del=a")
    assert "set-cookie" not in dict(headers)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"session_cookie": "sid", "max_age": None, "path": "/app", "same_site": "strict"},
        {"https_only": True, "domain": "example.org", "partitioned": True},
        {"max_age": 0, "same_site": "none", "domain": ""},
    ],
)
def test_cookie_attributes(pair: Callable[..., Pair], options: dict[str, Any]) -> None:
    p = pair(**options)
    cookie_name = options.get("session_cookie", "session")
    status, headers, body = p.request("set=a:1", cookie_name=cookie_name)
    assert dict(headers)["set-cookie"][0] == cookie_name
    if options.get("max_age") != 0:  # a zero max_age cookie expires as the clock ticks over a second
        p.request("clear=", cookie_name=cookie_name)


def test_secret_object_key(test_client_factory: Callable[..., Any]) -> None:
    client = test_client_factory(ff_sessions.SessionMiddleware(session_app, secret_key=Secret(SECRET)))
    response = client.get("/?set=a:1")
    assert decode_cookie_value(set_cookie_value(response) or "") == {"a": "1"}


@pytest.mark.parametrize("value", ["garbage", "eyJhIjogMX0=.awS2uw.yvCACY0qskz7WlioSTxxtptmgxx", ""])
def test_tampered_cookie_gives_empty_session(pair: Callable[..., Pair], value: str) -> None:
    p = pair()
    p.cookies = {"fastframe": value, "starlette": value}
    status, headers, body = p.request("read=a")
    assert body["session"] == {}
    assert "set-cookie" not in dict(headers)
    # Clearing a session whose cookie did not verify sends no clearing cookie.
    status, headers, body = p.request("clear=")
    assert "set-cookie" not in dict(headers)


def test_cookie_signed_with_other_key(pair: Callable[..., Pair]) -> None:
    other = itsdangerous.TimestampSigner("other").sign(base64.b64encode(b'{"a": 1}')).decode()
    p = pair()
    p.cookies = {"fastframe": other, "starlette": other}
    assert p.request()[2]["session"] == {}


def test_expired_cookie_gives_empty_session(pair: Callable[..., Pair]) -> None:
    class PastSigner(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 100

    old = PastSigner(SECRET).sign(base64.b64encode(b'{"a": 1}')).decode()
    p = pair(max_age=10)
    p.cookies = {"fastframe": old, "starlette": old}
    assert p.request()[2]["session"] == {}

    p = pair(max_age=None)
    p.cookies = {"fastframe": old, "starlette": old}
    assert p.request()[2]["session"] == {"a": 1}


def test_cookies_are_interchangeable_with_reference(
    test_client_factory: Callable[..., Any], anyio_backend: str
) -> None:
    ours = test_client_factory(ff_sessions.SessionMiddleware(session_app, secret_key=SECRET))
    ref = RefTestClient(ref_sessions.SessionMiddleware(session_app, secret_key=SECRET), backend=anyio_backend)

    ours_cookie = set_cookie_value(ours.get("/?set=from:fastframe&set=uni:é☃"))
    ref.cookies.clear()
    assert ref.get("/", headers={"Cookie": f"session={ours_cookie}"}).json()["session"] == {
        "from": "fastframe",
        "uni": "é☃",
    }

    ref_cookie = set_cookie_value(ref.get("/?set=from:starlette"))
    ours.cookies.clear()
    assert ours.get("/", headers={"Cookie": f"session={ref_cookie}"}).json()["session"] == {"from": "starlette"}


def test_last_duplicate_cookie_wins(pair: Callable[..., Pair]) -> None:
    good = itsdangerous.TimestampSigner(SECRET).sign(base64.b64encode(b'{"a": 1}')).decode()
    p = pair()
    p.cookies = {"fastframe": f"bad; session={good}", "starlette": f"bad; session={good}"}
    assert p.request()[2]["session"] == {"a": 1}


@pytest.mark.parametrize(
    "payload",
    [b"notb64!!", base64.b64encode(b"notjson"), base64.b64encode(b"[1,2]"), base64.b64encode(b"null"), b""],
)
def test_signed_garbage_raises_like_reference(payload: bytes) -> None:
    import asyncio

    value = itsdangerous.TimestampSigner(SECRET).sign(payload)
    scope = {"type": "http", "headers": [(b"cookie", b"session=" + value)]}

    def run(module: Any) -> BaseException:
        async def noop_send(message: Any) -> None:
            pass

        with pytest.raises(Exception) as info:
            asyncio.run(module.SessionMiddleware(session_app, SECRET)(dict(scope), None, noop_send))
        return info.value

    ours, ref = run(ff_sessions), run(ref_sessions)
    assert type(ours) is type(ref)
    assert str(ours) == str(ref)


def test_non_serializable_value_raises(test_client_factory: Callable[..., Any]) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["session"]["x"] = object()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    client = test_client_factory(ff_sessions.SessionMiddleware(app, secret_key=SECRET))
    with pytest.raises(TypeError, match="not JSON serializable"):
        client.get("/")


def test_middleware_attributes_match_reference() -> None:
    for options in [{}, {"max_age": None, "https_only": True, "partitioned": True, "domain": "d", "same_site": "none"}]:
        ours = vars(ff_sessions.SessionMiddleware(session_app, SECRET, **options))
        ref = vars(ref_sessions.SessionMiddleware(session_app, RefSecret(SECRET), **options))
        del ours["signer"], ref["signer"]
        assert {k: v for k, v in ours.items() if not k.startswith("_")} == ref


SESSION_OPERATIONS: list[tuple[str, Callable[[Any], Any]]] = [
    ("getitem", lambda s: s["a"]),
    ("get", lambda s: s.get("a")),
    ("contains", lambda s: "a" in s),
    ("iter", lambda s: list(s)),
    ("len", lambda s: len(s)),
    ("copy", lambda s: s.copy()),
    ("setitem", lambda s: s.__setitem__("b", 2)),
    ("setitem-unhashable", lambda s: s.__setitem__([1], 2)),
    ("delitem", lambda s: s.__delitem__("a")),
    ("delitem-missing", lambda s: s.__delitem__("zz")),
    ("pop", lambda s: s.pop("a")),
    ("pop-missing-default", lambda s: s.pop("zz", None)),
    ("pop-missing", lambda s: s.pop("zz")),
    ("popitem", lambda s: s.popitem()),
    ("popitem-empty", lambda s: (s.clear(), s.popitem())),
    ("setdefault-existing", lambda s: s.setdefault("a", 3)),
    ("setdefault-new", lambda s: s.setdefault("q")),
    ("setdefault-unhashable", lambda s: s.setdefault([1], 1)),
    ("update", lambda s: s.update(x=1)),
    ("update-empty", lambda s: s.update()),
    ("update-bad", lambda s: s.update(5)),
    ("ior", lambda s: s.__ior__({"z": 1}) is s),
    ("clear", lambda s: s.clear()),
    ("mark_accessed", lambda s: s.mark_accessed()),
    ("mark_modified", lambda s: s.mark_modified()),
]


@pytest.mark.parametrize("name, operation", SESSION_OPERATIONS, ids=[n for n, _ in SESSION_OPERATIONS])
def test_session_tracking_matches_reference(name: str, operation: Callable[[Any], Any]) -> None:
    def observe(cls: Any) -> tuple[Any, ...]:
        session = cls({"a": 1})
        try:
            outcome: Any = ("ok", operation(session))
        except Exception as exc:
            outcome = ("raised", type(exc), str(exc))
        return outcome, dict(session), session.accessed, session.modified

    assert observe(ff_sessions.Session) == observe(ref_sessions.Session)


def test_fresh_session_is_untouched() -> None:
    session = ff_sessions.Session()
    assert (session.accessed, session.modified) == (False, False)
    assert isinstance(session, dict)


def test_websocket_gets_session(test_client_factory: Callable[..., Any]) -> None:
    good = itsdangerous.TimestampSigner(SECRET).sign(base64.b64encode(b'{"a": 1}')).decode()

    async def ws_app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        scope["session"]["b"] = 2
        await send({"type": "websocket.accept", "headers": []})
        await send({"type": "websocket.send", "text": json.dumps(dict(scope["session"]))})
        await send({"type": "websocket.close"})

    client = test_client_factory(ff_sessions.SessionMiddleware(ws_app, secret_key=SECRET))
    with client.websocket_connect("/", headers={"Cookie": f"session={good}"}) as session:
        assert json.loads(session.receive_text()) == {"a": 1, "b": 2}


def test_lifespan_passes_through() -> None:
    import asyncio

    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    asyncio.run(ff_sessions.SessionMiddleware(app, SECRET)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == [{"type": "lifespan"}]


def test_full_application_with_request_session(test_client_factory: Callable[..., Any], anyio_backend: str) -> None:
    def build(pkg: str) -> Any:
        import importlib

        applications = importlib.import_module(f"{pkg}.applications")
        middleware = importlib.import_module(f"{pkg}.middleware")
        responses = importlib.import_module(f"{pkg}.responses")
        routing = importlib.import_module(f"{pkg}.routing")

        async def view(request: Any) -> Any:
            return responses.JSONResponse({"session": request.session})

        async def login(request: Any) -> Any:
            request.session["user"] = request.query_params["user"]
            return responses.JSONResponse({"session": request.session})

        async def logout(request: Any) -> Any:
            request.session.clear()
            return responses.JSONResponse({"session": request.session})

        return applications.Starlette(
            routes=[routing.Route("/", view), routing.Route("/login", login), routing.Route("/logout", logout)],
            middleware=[middleware.Middleware(MODULES[pkg].SessionMiddleware, secret_key=SECRET)],
        )

    ours = test_client_factory(build("fastframe"))
    ref = RefTestClient(build("starlette"), backend=anyio_backend)
    p = Pair(ours, ref)
    # Request.session marks the session accessed, so even a plain view varies on Cookie.
    assert ("vary", "Cookie") in p.request()[1]
    assert p.request("user=alice", path="/login")[2] == {"session": {"user": "alice"}}
    assert p.request()[2] == {"session": {"user": "alice"}}
    assert dict(p.request(path="/logout")[1])["set-cookie"][1] is None
    assert p.request()[2] == {"session": {}}


@pytest.mark.parametrize("max_age", [None, 60])
def test_fast_signing_agrees_with_itsdangerous(max_age: int | None) -> None:
    """The precomputed-key signer must accept and produce exactly what TimestampSigner does."""
    middleware = ff_sessions.SessionMiddleware(session_app, SECRET, max_age=max_age)
    signer = middleware.signer
    payload = base64.b64encode(b'{"a": 1}')
    signed = middleware._sign(payload)
    assert signer.unsign(signed) == payload
    assert signed.rpartition(b".")[0].rpartition(b".")[0] == payload

    class PastSigner(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 100

    class FutureSigner(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) + 100

    candidates = [
        signed,
        signer.sign(payload),
        PastSigner(SECRET).sign(payload),
        FutureSigner(SECRET).sign(payload),
        itsdangerous.TimestampSigner("other").sign(payload),
        itsdangerous.Signer(SECRET).sign(payload),
        signed[:-1],
        signed + b"=",
        signed.replace(b".", b"!", 1),
        b"no-separator",
        b".",
        b"..",
        b"x.y.z",
        "é.é".encode(),
    ]
    for candidate in candidates:
        try:
            expected: bytes | None = signer.unsign(candidate, max_age=max_age)
        except itsdangerous.BadSignature:
            expected = None
        assert middleware._unsign(candidate) == expected, candidate


def test_replaced_signer_is_honoured(test_client_factory: Callable[..., Any]) -> None:
    middleware = ff_sessions.SessionMiddleware(session_app, SECRET)
    middleware.signer = itsdangerous.TimestampSigner("rotated")
    client = test_client_factory(middleware)
    value = set_cookie_value(client.get("/?set=a:1"))
    assert decode_cookie_value(value or "", secret="rotated") == {"a": "1"}
    client.cookies.clear()
    assert client.get("/", headers={"Cookie": f"session={value}"}).json()["session"] == {"a": "1"}
