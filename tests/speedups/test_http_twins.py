"""Both http twins against each other and against the reference, on arbitrary input."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request, cookie_parser

from fastframe import speedups
from fastframe._pure import http as pure_http

try:
    compiled_http: Any = importlib.import_module("fastframe._speedups.http")
except ImportError:  # a pure build: the compiled twin is absent and the pure one stands in
    compiled_http = pure_http

TWINS = [pure_http, compiled_http]

# Characters that steer the parsers, mixed with arbitrary text so every branch is reached.
_TOKENS = list('abcXYZ09 =;&"\\+%,\t\n\x00\x0b\x1c\x7f\x85\xa0é\u2028\u3000\U0001f600') + [
    "%2",
    "%41",
    "%4g",
    "%e9",
    "%C3%A9",
    "%c3",
    "%ff%fe",
    "%%",
    "%+1",
    '\\"',
    "\\0",
    "\\012",
    "\\377",
    '""',
    "\ud800",
]
messy_text = st.one_of(st.text(), st.lists(st.sampled_from(_TOKENS), max_size=40).map("".join))


def outcome(func: Any, *args: Any) -> Any:
    try:
        return ("ok", func(*args))
    except Exception as exc:
        return ("raised", type(exc))


def test_speedups_module_exposes_the_twin() -> None:
    assert speedups.http.parse_cookie("a=1") == {"a": "1"}
    if speedups.COMPILED["http"]:
        assert speedups.http is compiled_http


@settings(max_examples=1500, deadline=None)
@given(messy_text)
@example('a="x\\"y"; b=; =c; d ; e=f=g;; "q"')
@example(' sessionid = "abc\\073def" ;csrftoken=u32t4o3tb3gg43;_gat=1')
def test_parse_cookie_matches_reference(cookie: str) -> None:
    expected = outcome(cookie_parser, cookie)
    for twin in TWINS:
        assert outcome(twin.parse_cookie, cookie) == expected


@settings(max_examples=1500, deadline=None)
@given(messy_text)
@example("a=1&b=&c&&d=%zz&e=%C3%A9+x&f=%e9&a=2&=&==&g=h=i")
@example("%%41=%4%41&x=é%41é&+%2B=%2b+")
def test_parse_query_string_matches_reference(query: str) -> None:
    expected = outcome(lambda q: QueryParams(q).multi_items(), query)
    for twin in TWINS:
        assert outcome(twin.parse_query_string, query) == expected


header_names = st.one_of(
    st.sampled_from([b"content-type", b"x", b"Content-Type", b"set-cookie", b"X", b""]),
    st.binary(max_size=5),
)
raw_headers = st.lists(st.tuples(header_names, st.binary(max_size=8)), max_size=8)
header_keys = st.one_of(
    st.sampled_from(["content-type", "Content-Type", "X", "x", "set-cookie", "", "İ", "\u212a", "ä"]),
    st.text(max_size=5),
)


@settings(max_examples=1500, deadline=None)
@given(raw_headers, header_keys)
def test_header_lookups_match_reference(raw: list[tuple[bytes, bytes]], key: str) -> None:
    headers = Headers(raw=raw)
    expected = (
        outcome(headers.get, key),
        outcome(headers.get, key, "fallback"),
        outcome(headers.getlist, key),
        outcome(headers.__contains__, key),
    )
    for twin in TWINS:
        got = (
            outcome(twin.header_get, raw, key),
            outcome(twin.header_get, raw, key, "fallback"),
            outcome(twin.header_getlist, raw, key),
            outcome(twin.header_contains, raw, key),
        )
        assert got == expected


@pytest.mark.parametrize("twin", TWINS, ids=["pure", "compiled"])
def test_header_lookups_on_a_typical_request(twin: Any) -> None:
    raw = [(b"host", b"example.org"), (b"accept", b"*/*"), (b"x-tag", b"a"), (b"x-tag", b"b\xe9")]
    assert twin.header_get(raw, "Host") == "example.org"
    assert twin.header_get(raw, "missing") is None
    assert twin.header_get(raw, "missing", "d") == "d"
    assert twin.header_getlist(raw, "X-Tag") == ["a", "bé"]
    assert twin.header_contains(raw, "ACCEPT") is True
    assert twin.header_contains(raw, "cookie") is False


class _OddKey(str):
    pass


odd_inputs: list[Any] = [
    None,
    b"a=1",
    1,
    _OddKey("a=%41&b"),
]


@pytest.mark.parametrize("value", odd_inputs, ids=repr)
def test_twins_agree_on_non_str_input(value: Any) -> None:
    for name in ("parse_cookie", "parse_query_string"):
        assert outcome(getattr(compiled_http, name), value) == outcome(getattr(pure_http, name), value)


odd_raw: list[Any] = [
    [(b"x", b"1", b"extra")],
    [(b"x",)],
    [[b"x", b"1"]],
    [("x", "1")],
    [(b"x", bytearray(b"1"))],
    ((b"y", b"2"), (b"x", b"1")),
    "an iterator",
    None,
    [None],
]


@pytest.mark.parametrize("raw", odd_raw, ids=repr)
@pytest.mark.parametrize("key", ["x", b"x", None, _OddKey("X"), "\u0130"], ids=repr)
def test_twins_agree_on_odd_header_lists(raw: Any, key: Any) -> None:
    results = []
    for twin in TWINS:
        # An iterator is consumed by one call: each call gets a fresh one.
        copies = [iter([(b"x", b"1")]) if raw == "an iterator" else raw for _ in range(3)]
        results.append(
            (
                outcome(twin.header_get, copies[0], key),
                outcome(twin.header_getlist, copies[1], key),
                outcome(twin.header_contains, copies[2], key),
            )
        )
    assert results[0] == results[1]


# --- whole-request parsing: bytes in, the reference's objects out ---------------------------------

# Bytes that steer the byte-level parsers: separators, escapes, latin-1 and invalid UTF-8.
_BYTE_TOKENS = [t.encode("utf-8", "surrogatepass") for t in _TOKENS] + [
    b"\xe9",
    b"\xff",
    b"\x80",
    b"\xc3\xa9",
    b"%C3%A9",
    b"%ff",
    b"\x85",
    b"\xa0",
    b"\t",
    b"\x1c",
]
messy_bytes = st.one_of(st.binary(max_size=40), st.lists(st.sampled_from(_BYTE_TOKENS), max_size=40).map(b"".join))


def _ref_query(query: bytes | str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    params = QueryParams(query)
    return params.multi_items(), dict(params.items())


@settings(max_examples=1500, deadline=None)
@given(st.one_of(messy_bytes, messy_text))
@example(b"a=1&b=&c&&d=%zz&e=%C3%A9+x&f=%e9&a=2&=&==&g=h=i")
@example(b"%%41=%4%41&x=\xe9%41\xe9&+%2B=%2b+&\xe9=\xff")
def test_parse_query_matches_reference(query: bytes | str) -> None:
    expected = outcome(_ref_query, query)
    for twin in TWINS:
        assert outcome(twin.parse_query, query) == expected


cookie_names = st.sampled_from([b"cookie", b"Cookie", b"cookies", b"x", b"set-cookie"])
cookie_headers = st.lists(st.tuples(cookie_names, messy_bytes), max_size=5)


@settings(max_examples=1500, deadline=None)
@given(cookie_headers)
@example([(b"cookie", b"a=1; b=2"), (b"x", b"y"), (b"cookie", b"a=3;c=4")])
@example([(b"cookie", b'n="v\\"w"; m="\xe9\\101"; \xe9=\xff')])
def test_cookies_from_headers_match_reference(raw: list[tuple[bytes, bytes]]) -> None:
    expected = outcome(lambda: Request({"type": "http", "headers": list(raw)}).cookies)
    for twin in TWINS:
        assert outcome(twin.cookies_from_headers, raw) == expected


@pytest.mark.parametrize("twin", TWINS, ids=["pure", "compiled"])
def test_many_distinct_names_parse_like_the_reference(twin: Any) -> None:
    # More names than any cache of recent names could hold, each parsed more than once.
    names = [f"n{i}" for i in range(3000)] + ["n" * 60, "x" * 48, "x" * 49]
    query = "&".join(f"{name}={i}" for i, name in enumerate(names)).encode()
    cookie = "; ".join(f"{name}={i}" for i, name in enumerate(names)).encode()
    for _ in range(2):
        assert twin.parse_query(query) == _ref_query(query)
        assert (
            twin.cookies_from_headers([(b"cookie", cookie)])
            == Request({"type": "http", "headers": [(b"cookie", cookie)]}).cookies
        )


odd_queries: list[Any] = [None, 1, bytearray(b"a=1"), _OddKey("a=%41&b"), b"a=1&b", "a=1&\u0100=\u0101"]


@pytest.mark.parametrize("value", odd_queries, ids=repr)
def test_twins_agree_on_odd_query_input(value: Any) -> None:
    assert outcome(compiled_http.parse_query, value) == outcome(pure_http.parse_query, value)


@pytest.mark.parametrize("raw", odd_raw, ids=repr)
def test_twins_agree_on_odd_cookie_header_lists(raw: Any) -> None:
    results = []
    for twin in TWINS:
        copy = iter([(b"cookie", b"a=1")]) if raw == "an iterator" else raw
        results.append(outcome(twin.cookies_from_headers, copy))
    assert results[0] == results[1]


odd_cookie_values: list[Any] = [[(b"cookie", bytearray(b"a=1"))], [(b"cookie", "a=1")], [(b"cookie", None)]]


@pytest.mark.parametrize("raw", odd_cookie_values, ids=repr)
def test_twins_agree_on_odd_cookie_values(raw: Any) -> None:
    for doubled in (raw, raw + [(b"cookie", b"b=2")]):
        assert outcome(compiled_http.cookies_from_headers, doubled) == outcome(pure_http.cookies_from_headers, doubled)


@settings(max_examples=500, deadline=None)
@given(raw_headers, header_keys)
def test_header_list_twins_match_reference(raw: list[tuple[bytes, bytes]], key: str) -> None:
    headers = Headers(raw=raw)
    expected = (
        outcome(headers.get, key),
        outcome(headers.get, key, "d"),
        outcome(headers.__getitem__, key),
        outcome(headers.__contains__, key),
        outcome(headers.getlist, key),
        len(headers),
    )
    for twin in TWINS:
        made = twin.HeaderList.adopt(raw)
        got = (
            outcome(made.get, key),
            outcome(made.get, key, "d"),
            outcome(made.__getitem__, key),
            outcome(made.__contains__, key),
            outcome(made.getlist, key),
            len(made),
        )
        assert got == expected
        assert made._raw is raw


@pytest.mark.parametrize("twin", TWINS)
def test_header_list_adopt_makes_the_subclass_without_its_init(twin: Any) -> None:
    class Sub(twin.HeaderList):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            raise AssertionError("adopt() must not run __init__")

    made = Sub.adopt([(b"a", b"1")])
    assert type(made) is Sub
    assert made.get("A") == "1"


@pytest.mark.parametrize("twin", TWINS)
def test_a_connection_subclass_keeps_its_fields_and_own_attributes(twin: Any) -> None:
    class Conn(twin.Connection):  # type: ignore[name-defined,misc]
        __slots__ = ("__dict__",)

    made = Conn()
    made.scope = {"type": "http"}
    made._url = "x"
    made.extra = 1
    assert (made.scope, made._url, made.extra) == ({"type": "http"}, "x", 1)
