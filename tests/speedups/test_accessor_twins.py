"""The accessors the http and response twins provide (Request's headers, query_params, cookies,
path_params and method; MutableHeaders.raw and its deletion; Response.headers): both twins against
each other and against the reference, on arbitrary scopes and header lists."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import MutableHeaders as TheirMutableHeaders
from starlette.requests import Request as TheirRequest
from starlette.responses import Response as TheirResponse

from fastframe import speedups
from fastframe._pure import http as pure_http
from fastframe._pure import response as pure_response
from fastframe.datastructures import Headers, MutableHeaders, QueryParams
from fastframe.requests import Request
from fastframe.responses import Response


def _compiled(name: str, pure: Any) -> Any:
    try:
        return importlib.import_module(f"fastframe._speedups.{name}")
    except ImportError:  # a pure build: the pure twin stands in
        return pure


# The compiled twin makes views of classes built on its own HeaderList: in a pure run, where
# Headers is built on the pure one, the pure twin is the one there is to check (twice).
_COMPILED = speedups.COMPILED["http"]
HTTP_TWINS = [pure_http, _compiled("http", pure_http) if _COMPILED else pure_http]
RESPONSE_TWINS = [pure_response, _compiled("response", pure_response) if _COMPILED else pure_response]
# The twin the running mode does not use is named its classes here, as the active one was on import.
for _twin in HTTP_TWINS:
    _twin.configure_views(Headers, MutableHeaders, QueryParams)
for _twin in RESPONSE_TWINS:
    _twin.configure_headers(MutableHeaders)

_names = st.sampled_from([b"cookie", b"Cookie", b"host", b"x-a", b"content-type", b"accept"])
_values = st.one_of(
    st.sampled_from([b"a=1", b"a=2; b=3", b'c="x y"; d', b"", b"=;=", b"\xe9=\xff"]),
    st.binary(max_size=12),
)
raw_headers = st.lists(st.tuples(_names, _values), max_size=6)
query_strings = st.one_of(st.binary(max_size=20), st.sampled_from([b"a=1&a=2&b", b"x=%41+%zz&&=", b"q=%e9"]))


def _scope(raw: list[tuple[bytes, bytes]], query: bytes, path_params: dict[str, Any] | None) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "QUERY",
        "path": "/",
        "query_string": query,
        "headers": list(raw),
    }
    if path_params is not None:
        scope["path_params"] = path_params
    return scope


def _outcome(func: Any, *args: Any) -> Any:
    try:
        return ("ok", func(*args))
    except Exception as exc:
        return ("raised", type(exc))


@settings(max_examples=150, deadline=None)
@given(raw_headers, query_strings, st.one_of(st.none(), st.dictionaries(st.sampled_from("ab"), st.integers())))
def test_request_accessors_twins_and_reference(
    raw: list[tuple[bytes, bytes]], query: bytes, path_params: dict[str, Any] | None
) -> None:
    theirs = TheirRequest(_scope(raw, query, path_params))
    expected = (
        list(theirs.headers.items()),
        theirs.cookies,
        theirs.query_params.multi_items(),
        theirs.path_params,
        theirs.method,
        theirs.scope["headers"],
    )
    for twin in HTTP_TWINS:
        # cookies reads `headers` through the instance, as a Request subclass may redefine it.
        kind = type("Connection", (twin.Connection,), {"headers": property(twin.connection_headers)})
        connection = kind()
        connection._open(_scope(raw, query, path_params), None, None)
        headers = twin.connection_headers(connection)
        found = (
            list(headers.items()),
            twin.connection_cookies(connection),
            twin.connection_query_params(connection).multi_items(),
            twin.connection_path_params(connection),
            twin.request_method(connection),
            connection.scope["headers"],
        )
        assert found == expected
        # Made once, kept: the same objects on the next read.
        assert twin.connection_headers(connection) is headers
        assert twin.connection_query_params(connection) is twin.connection_query_params(connection)
        # The scope's header list is the view's own.
        assert connection.scope["headers"] is headers._raw


@settings(max_examples=150, deadline=None)
@given(raw_headers, st.sampled_from(["cookie", "Cookie", "HOST", "x-a", "missing", "é"]))
def test_deleting_headers_twins_and_reference(raw: list[tuple[bytes, bytes]], key: str) -> None:
    theirs = TheirMutableHeaders(raw=list(raw))
    expected = _outcome(theirs.__delitem__, key), theirs.raw
    for twin in HTTP_TWINS:
        ours = MutableHeaders(raw=list(raw))
        kept = ours.raw
        assert (_outcome(twin.delete_header, ours, key), twin.own_raw(ours)) == expected
        # Changed in place: a list shared with a scope or a response sees the deletion.
        assert twin.own_raw(ours) is kept


@pytest.mark.parametrize("twin", RESPONSE_TWINS, ids=["pure", "compiled"])
def test_response_headers_twins_and_reference(twin: Any) -> None:
    for content, headers in [(b"x", None), ("é", {"X-A": "1", "set-cookie": "a=b"}), (None, {"content-length": "9"})]:
        ours = Response(content, headers=headers)
        theirs = TheirResponse(content, headers=headers)
        view = twin.response_headers(ours)
        assert view.raw is ours.raw_headers
        assert twin.response_headers(ours) is view
        assert vars(ours)["_headers"] is view
        assert list(view.items()) == list(theirs.headers.items())
        del view["content-length"]
        del theirs.headers["content-length"]
        assert ours.raw_headers == theirs.raw_headers


def test_response_headers_honour_raw_headers_replaced_and_a_view_set_by_hand() -> None:
    ours, theirs = Response(b"abc"), TheirResponse(b"abc")
    for response in (ours, theirs):
        response.raw_headers = [(b"x-b", b"2")]
    assert list(ours.headers.items()) == list(theirs.headers.items()) == [("x-b", "2")]
    replaced = MutableHeaders({"x-c": "3"})
    ours._headers = replaced  # type: ignore[attr-defined]
    assert ours.headers is replaced


def test_request_signature_and_defaults_match_the_reference() -> None:
    import inspect

    ours = inspect.signature(Request)
    theirs = inspect.signature(TheirRequest)
    assert list(ours.parameters) == list(theirs.parameters)
    request = Request({"type": "http", "headers": []})
    with pytest.raises(RuntimeError, match="Receive channel has not been made available"):
        request.receive().send(None)
    with pytest.raises(AssertionError):
        Request({"type": "websocket"})


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.Request({"type": "http"}, foo=1),
        lambda m: m.Request(),
        lambda m: m.HTMLResponse(foo=1),
        lambda m: m.Response(b"", 200, None, None, None, None),
        lambda m: m.JSONResponse(),
    ],
)
def test_bad_arguments_raise_the_reference_type_error(call: Any) -> None:
    import types

    import starlette.requests
    import starlette.responses

    import fastframe.requests
    import fastframe.responses

    names = ("Request", "Response", "HTMLResponse", "JSONResponse")
    ours = types.SimpleNamespace(
        Request=fastframe.requests.Request, **{name: getattr(fastframe.responses, name) for name in names[1:]}
    )
    theirs = types.SimpleNamespace(
        Request=starlette.requests.Request, **{name: getattr(starlette.responses, name) for name in names[1:]}
    )
    with pytest.raises(TypeError) as expected:
        call(theirs)
    with pytest.raises(TypeError) as found:
        call(ours)
    if not _COMPILED:
        # The pure twins' functions take the names of the methods they are: the same message.
        # Compiled, the type alone matches: Cython words it its own way (docs/differences.md).
        assert str(found.value) == str(expected.value)


def test_views_of_subclasses_are_made_without_their_new_or_init() -> None:
    class Plain(MutableHeaders):
        pass

    class OwnNew(MutableHeaders):
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("adopt does not call a subclass's __new__")

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("adopt does not call __init__")

    raw = [(b"a", b"1")]
    for cls in (Headers, MutableHeaders, Plain, OwnNew):
        made = cls.adopt(raw)
        assert type(made) is cls
        assert made._raw is raw
        assert made["a"] == "1"
    for cls in (QueryParams, type("Sub", (QueryParams,), {})):
        params = cls.from_query(b"a=1&a=2")
        assert type(params) is cls
        assert params.multi_items() == [("a", "1"), ("a", "2")]
