"""Differential tests for what a request parses: headers, cookies and query parameters.

The same scope goes to the reference's Request and to ours; every read must agree, in any order
(our QueryParams may start unparsed, our Headers methods are the twin functions themselves).
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import starlette.datastructures as s_ds
import starlette.requests as s_requests
import starlette.responses as s_responses
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient as StarletteTestClient

import fastframe.datastructures as f_ds
import fastframe.requests as f_requests
import fastframe.responses as f_responses


def outcome(func: Callable[[], Any]) -> Any:
    try:
        value = func()
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))
    if isinstance(value, s_ds.Headers | f_ds.Headers | s_ds.ImmutableMultiDict | f_ds.ImmutableMultiDict):
        return (type(value).__name__, repr(value))
    return value


_TOKENS = [
    b"a",
    b"Z",
    b"0",
    b" ",
    b"=",
    b";",
    b"&",
    b'"',
    b"\\",
    b"+",
    b"%",
    b"%2",
    b"%41",
    b"%4g",
    b"%C3%A9",
    b"%e9",
    b"%ff",
    b"\xe9",
    b"\xff",
    b"\x85",
    b"\xa0",
    b"\t",
    b"\\073",
    b"sort",
    b"session",
]
messy = st.one_of(st.binary(max_size=30), st.lists(st.sampled_from(_TOKENS), max_size=30).map(b"".join))
header_name = st.sampled_from([b"cookie", b"host", b"user-agent", b"x-a", b"x-A", b"accept", b""])
raw_headers = st.lists(st.tuples(header_name, messy), max_size=8)

KEYS = ["sort", "session", "a", "A", "", "x-a", "X-A", "cookie", "Host", "\xe9", "a b", "missing"]


def _scope(raw: list[tuple[bytes, bytes]], query: bytes) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/", "query_string": query, "headers": list(raw)}


def _header_reads(headers: Any) -> list[Any]:
    reads: list[Any] = [
        outcome(lambda: headers.items()),
        outcome(lambda: list(headers.keys())),
        outcome(lambda: list(headers.values())),
        outcome(lambda: len(headers)),
        outcome(lambda: list(headers)),
        outcome(lambda: headers.raw),
        outcome(lambda: repr(headers)),
    ]
    for key in KEYS:
        reads += [
            outcome(lambda k=key: headers.get(k)),
            outcome(lambda k=key: headers.get(k, "d")),
            outcome(lambda k=key: headers[k]),
            outcome(lambda k=key: headers.getlist(k)),
            outcome(lambda k=key: k in headers),
        ]
    return reads


# Each sequence starts on a fresh request, so a lazily parsed QueryParams meets every read first.
QUERY_SEQUENCES: list[Callable[[Any], list[Any]]] = [
    lambda q: [outcome(lambda k=k: q.get(k, "d")) for k in KEYS] + [outcome(q.multi_items)],
    lambda q: [outcome(q.multi_items)] + [outcome(lambda k=k: q.get(k)) for k in KEYS],
    lambda q: [outcome(lambda: str(q)), outcome(lambda: repr(q)), outcome(lambda: len(q))],
    lambda q: [outcome(lambda: list(q.items())), outcome(lambda: list(q.keys())), outcome(lambda: list(q.values()))],
    lambda q: [outcome(lambda k=k: q[k]) for k in KEYS] + [outcome(lambda k=k: k in q) for k in KEYS],
    lambda q: [outcome(lambda k=k: q.getlist(k)) for k in KEYS] + [outcome(lambda: list(q))],
    lambda q: [outcome(lambda: q.get(["unhashable"])), outcome(lambda: q.get(1, "d")), outcome(lambda: dict(q))],
    lambda q: [outcome(lambda: q.get("sort")), outcome(lambda: q.missing_attribute)],
    lambda q: [outcome(lambda: q.missing_attribute), outcome(lambda: q.multi_items())],
    lambda q: [outcome(lambda: copy.copy(q).multi_items()), outcome(lambda: q.get("a"))],
    lambda q: [outcome(lambda: q.get("a")), outcome(lambda: pickle.loads(pickle.dumps(q)).multi_items())],
    lambda q: [outcome(lambda: copy.deepcopy(q).get("sort", "d")), outcome(lambda: repr(q))],
]


def _same_query_class(ours: Any, theirs: Any) -> None:
    # Equality is per package (a reference QueryParams never equals ours), so compare each with its own.
    for package, params in ((f_ds, ours), (s_ds, theirs)):
        rebuilt = package.QueryParams(params.multi_items())
        assert params == rebuilt and rebuilt == params


@settings(max_examples=400, deadline=None)
@given(raw_headers, messy)
@example([(b"cookie", b"a=1; b=2"), (b"x-a", b"1"), (b"cookie", b"a=3;c=4")], b"sort=x&sort=y&s%6Frt=z&a+b=%20")
@example([(b"cookie", b'n="v\\"w"; m="\xe9\\101"; \xe9=\xff; bare')], b"\xe9=\xff&%C3%A9=%e9&&=&a")
def test_request_parsing_matches_reference(raw: list[tuple[bytes, bytes]], query: bytes) -> None:
    scope = _scope(raw, query)
    ours = f_requests.Request(dict(scope))
    theirs = s_requests.Request(dict(scope))
    assert outcome(lambda: list(ours.cookies.items())) == outcome(lambda: list(theirs.cookies.items()))
    assert _header_reads(ours.headers) == _header_reads(theirs.headers)
    for sequence in QUERY_SEQUENCES:
        ours_params = f_requests.Request(dict(scope)).query_params
        theirs_params = s_requests.Request(dict(scope)).query_params
        assert sequence(ours_params) == sequence(theirs_params)
        _same_query_class(ours_params, theirs_params)
    lazy_ours = f_requests.Request(dict(scope)).query_params
    assert lazy_ours == f_ds.QueryParams(query) and f_ds.QueryParams(query) == lazy_ours


def test_cookies_read_the_scope_headers_like_reference() -> None:
    for package in (f_requests, s_requests):
        raw = ((b"cookie", b"a=1"), (b"cookie", b"b=2"))
        scope = {"type": "http", "headers": raw}
        request = package.Request(scope)
        assert request.cookies == {"a": "1", "b": "2"}
        # Reading cookies goes through request.headers, which keeps its own list in the scope.
        assert type(scope["headers"]) is list and scope["headers"] == list(raw)
        assert request.headers.raw == list(raw)


@pytest.mark.parametrize("package", [f_requests, s_requests], ids=["fastframe", "starlette"])
def test_cookies_follow_a_subclass_headers_property(package: Any) -> None:
    class Raw(package.Headers):  # type: ignore[name-defined,misc]
        pass

    class Listed(package.Headers):  # type: ignore[name-defined,misc]
        def getlist(self, key: str) -> list[str]:
            return ["x=1", "y=2; x=3"] if key == "cookie" else []

    results = []
    for headers_class in (Raw, Listed):

        class Sub(package.Request):  # type: ignore[name-defined,misc]
            @property
            def headers(self, make: Any = headers_class) -> Any:
                return make(raw=[(b"cookie", b"a=1"), (b"cookie", b"b=2")])

        results.append(Sub({"type": "http", "headers": []}).cookies)
    assert results == [{"a": "1", "b": "2"}, {"x": "3", "y": "2"}]


@pytest.mark.parametrize("package", [f_ds, s_ds], ids=["fastframe", "starlette"])
def test_subclass_getitem_is_what_get_uses(package: Any) -> None:
    class UpperHeaders(package.Headers):  # type: ignore[name-defined,misc]
        def __getitem__(self, key: str) -> str:
            return str(super().__getitem__(key)).upper()

    class UpperParams(package.QueryParams):  # type: ignore[name-defined,misc]
        def __getitem__(self, key: str) -> str:
            return str(super().__getitem__(key)).upper()

    class Plain(package.QueryParams):  # type: ignore[name-defined,misc]
        pass

    headers = UpperHeaders(raw=[(b"x", b"abc")])
    params = UpperParams("a=abc")
    assert (headers.get("x"), headers.get("y", "d"), params.get("a"), params.get("b", "d")) == ("ABC", "d", "ABC", "d")
    assert Plain("a=1&a=2").get("a") == "2"


def test_mutable_headers_reads_after_writes_match_reference() -> None:
    def run(package: Any) -> list[Any]:
        headers = package.MutableHeaders(raw=[(b"a", b"1"), (b"b", b"2"), (b"a", b"3")])
        reads = [headers.get("A"), headers["a"], headers.getlist("a")]
        headers["A"] = "x"
        headers.append("b", "y")
        del headers["missing"]
        reads += [
            headers.get("a"),
            headers["b"],
            headers.getlist("b"),
            headers.get("c", "d"),
            outcome(lambda: headers["c"]),
        ]
        headers.setdefault("c", "z")
        headers |= {"d": "\xe9"}
        reads += [headers["c"], headers.get("D"), headers.raw, headers.items()]
        return reads

    assert run(f_ds) == run(s_ds)


@pytest.mark.parametrize(
    "args",
    [
        ("a=1&a=2&b",),
        (b"a=1&a=2&b=%e9",),
        ([("a", 1), ("a", 2)],),
        ({"a": "1"},),
        (),
        ("a=1",),
    ],
    ids=repr,
)
def test_query_params_constructions_match_reference(args: tuple[Any, ...]) -> None:
    ours = f_ds.QueryParams(*args)
    theirs = s_ds.QueryParams(*args)
    reads = [
        lambda q: q.multi_items(),
        lambda q: q.get("a"),
        lambda q: q.get("z", "d"),
        lambda q: str(q),
        lambda q: repr(q),
        lambda q: q.missing_attribute,
    ]
    for read in reads:
        assert outcome(partial(read, ours)) == outcome(partial(read, theirs))
    assert outcome(lambda: f_ds.QueryParams("a=1", b="2").multi_items()) == outcome(
        lambda: s_ds.QueryParams("a=1", b="2").multi_items()
    )


def test_missing_attribute_error_names_the_attribute() -> None:
    params = f_requests.Request({"type": "http", "query_string": b"a=1", "headers": []}).query_params
    with pytest.raises(AttributeError) as info:
        params.nope  # noqa: B018
    assert info.value.name == "nope" and info.value.obj is params
    assert not hasattr(params, "__html__")
    assert params.get("a") == "1" and params["a"] == "1"


PARSING_REQUESTS: list[dict[str, Any]] = [
    {"url": "/q?sort=-created&q=red+shoes&q=blue%20hats&empty=&bare&&=x&%C3%A9=%e9"},
    {"url": "/q?a=%ZZ&b=%4&c=%%41&d=%2B+%2b"},
    {"url": "/q", "headers": [("cookie", "a=1; b=2"), ("cookie", "a=3; c=4")]},
    {"url": "/q", "headers": {"cookie": 'sid="x\\073y"; bare; =v; k=; tz=Europe%2FLondon'}},
    {"url": "/q", "headers": {"X-Dup": "1", "Accept-Language": "en-GB"}},
]


def _echo(requests: Any, responses: Any) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        request = requests.Request(scope, receive)
        params = request.query_params
        data = {
            "get": [params.get(k, "d") for k in ("sort", "q", "a", "b", "c", "d", "é", "", "bare", "empty")],
            "pairs": params.multi_items(),
            "cookies": list(request.cookies.items()),
            "ua": request.headers.get("user-agent"),
            "lang": request.headers.get("Accept-Language", ""),
            "dup": request.headers.getlist("x-dup"),
            "str": str(params),
        }
        await responses.JSONResponse(data)(scope, receive, send)

    return app


def test_parsing_through_testclient(test_client_factory: Callable[..., Any], anyio_backend: str) -> None:
    ours = test_client_factory(_echo(f_requests, f_responses))
    theirs = StarletteTestClient(_echo(s_requests, s_responses), backend=anyio_backend)
    for kwargs in PARSING_REQUESTS:
        ours_response = ours.get(**kwargs)
        theirs_response = theirs.get(**kwargs)
        assert ours_response.status_code == theirs_response.status_code == 200
        assert ours_response.json() == theirs_response.json()
