"""Differential tests for application/x-www-form-urlencoded bodies: our FormParser against the reference's.

Both parsers see the same chunks, limits and (optionally) a stream that breaks after its last chunk, which
makes visible at which point of the stream a limit error is raised.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from itertools import pairwise
from typing import Any

import anyio
import pytest
import starlette.datastructures as s_ds
import starlette.formparsers as s_formparsers
import starlette.requests as s_requests
import starlette.responses as s_responses
import starlette.routing as s_routing
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient as StarletteTestClient

import fastframe.datastructures as f_ds
import fastframe.formparsers as f_formparsers
import fastframe.requests as f_requests
import fastframe.responses as f_responses
import fastframe.routing as f_routing
from fastframe.applications import Starlette as Fastframe

URLENC = {"content-type": "application/x-www-form-urlencoded"}

_TOKENS = [
    b"a",
    b"B",
    b"0",
    b"f",
    b"=",
    b"&",
    b"&&",
    b";",
    b"+",
    b"%",
    b"%2",
    b"%20",
    b"%41",
    b"%zz",
    b"%ff",
    b"%e9",
    b"%C3%A9",
    b"\xe9",
    b"\xff",
    b"\x00",
    b" ",
]
bodies = st.one_of(st.lists(st.sampled_from(_TOKENS), max_size=40).map(b"".join), st.binary(max_size=40))
max_fields = st.one_of(st.just(1000), st.integers(-1, 6), st.sampled_from([1.5, float("inf")]))
max_part_size = st.one_of(st.just(1024 * 1024), st.integers(-1, 12), st.just(2048))


class StreamBroke(Exception):
    pass


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
    return [body[i:j] for i, j in pairwise(points)] or [b""]


def parse(formparsers: Any, ds: Any, chunks: list[bytes], broken: bool = False, **kwargs: Any) -> Any:
    async def stream() -> AsyncGenerator[bytes, None]:
        for chunk in chunks:
            yield chunk
        if broken:
            raise StreamBroke()

    async def main() -> Any:
        parser = formparsers.FormParser(ds.Headers(URLENC), stream(), **kwargs)
        try:
            form = await parser.parse()
        except (formparsers.MultiPartException, StreamBroke) as exc:
            return ("raised", type(exc).__name__, getattr(exc, "message", None))
        return form.multi_items()

    return anyio.run(main)


def same(chunks: list[bytes], broken: bool = False, **kwargs: Any) -> Any:
    ours = parse(f_formparsers, f_ds, chunks, broken, **kwargs)
    theirs = parse(s_formparsers, s_ds, chunks, broken, **kwargs)
    assert ours == theirs
    return ours


@settings(max_examples=400, deadline=None)
@given(
    body=bodies,
    cuts=st.lists(st.integers(0, 200), max_size=6),
    broken=st.booleans(),
    max_fields=max_fields,
    max_part_size=max_part_size,
)
@example(body=b"a=1&b=2&", cuts=[], broken=True, max_fields=1, max_part_size=1024 * 1024)
@example(body=b"a=1&b=2", cuts=[], broken=True, max_fields=1, max_part_size=1024 * 1024)
@example(body=b"abc=", cuts=[3], broken=True, max_fields=1000, max_part_size=3)
@example(body=b"=&&=", cuts=[1], broken=False, max_fields=1000, max_part_size=-1)
@example(body=b"a=1&ccccccc&b=2", cuts=[5], broken=False, max_fields=1, max_part_size=3)
@example(body=b"a=1&b=2&ccccccc", cuts=[9], broken=False, max_fields=1, max_part_size=3)
def test_matches_reference(
    body: bytes, cuts: list[int], broken: bool, max_fields: int | float, max_part_size: int
) -> None:
    same(split(body, cuts), broken, max_fields=max_fields, max_part_size=max_part_size)


@pytest.mark.parametrize(
    "body, expected",
    [
        (b"", []),
        (b"&&", []),
        (b"&a=1&&b=2&", [("a", "1"), ("b", "2")]),
        (b"a=1;b=2", [("a", "1;b=2")]),
        (b"a&=&=x&y=", [("a", ""), ("", ""), ("", "x"), ("y", "")]),
        (b"a==b=c", [("a", "=b=c")]),
        (b"a+b=%41%zz%", [("a b", "A%zz%")]),
        (b"%ff=%C3%A9\xe9", [("\ufffd", "\xe9\xe9")]),
        (b"k=1&j=2&k=3", [("k", "1"), ("j", "2"), ("k", "3")]),
    ],
)
def test_corners_at_every_split(body: bytes, expected: list[tuple[str, str]]) -> None:
    for i in range(len(body) + 1):
        for j in range(i, len(body) + 1):
            assert same([body[:i], body[i:j], body[j:]]) == expected


def test_large_form_in_small_chunks() -> None:
    body = b"&".join(b"field%d=value+%d%%21" % (i, i) for i in range(300))
    for size in (1, 7, 64, len(body)):
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        assert len(same(chunks, max_fields=300)) == 300
        same(chunks, max_fields=299)
        same(chunks, max_part_size=20)


def test_oversized_field_fails_before_the_stream_ends() -> None:
    chunks = [b"a=1&", b"x" * 3000, b"y"]
    assert same(chunks, broken=True, max_part_size=2048) == (
        "raised",
        "MultiPartException",
        "Field exceeded maximum size of 2KB.",
    )


LIMITS = [
    ({"max_fields": 2}, b"a=1&b=2&c=3", "Too many fields. Maximum number of fields is 2."),
    ({"max_fields": 0}, b"a", "Too many fields. Maximum number of fields is 0."),
    ({"max_part_size": 5}, b"a=1&abc=def", "Field exceeded maximum size of 0KB."),
    ({"max_part_size": 2048}, b"v=" + b"x" * 2049, "Field exceeded maximum size of 2KB."),
]


def _form_endpoint(requests: Any, responses: Any, kwargs: dict[str, Any]) -> Callable[..., Any]:
    async def endpoint(request: Any) -> Any:
        form = await request.form(**kwargs)
        return responses.JSONResponse([list(item) for item in form.multi_items()])

    return endpoint


@pytest.mark.parametrize("kwargs, body, detail", LIMITS)
def test_limit_responses_match_reference(
    test_client_factory: Callable[..., Any], kwargs: dict[str, Any], body: bytes, detail: str
) -> None:
    ours = Fastframe(routes=[f_routing.Route("/", _form_endpoint(f_requests, f_responses, kwargs), methods=["POST"])])
    theirs = Starlette(routes=[s_routing.Route("/", _form_endpoint(s_requests, s_responses, kwargs), methods=["POST"])])
    results = []
    for client in (test_client_factory(ours), StarletteTestClient(theirs)):
        with client:
            response = client.post("/", content=body, headers=URLENC)
            results.append((response.status_code, response.text, response.headers.get("content-type")))
    assert results[0] == results[1]
    assert results[0][:2] == (400, detail)


def test_form_within_limits_through_client(test_client_factory: Callable[..., Any]) -> None:
    app = Fastframe(routes=[f_routing.Route("/", _form_endpoint(f_requests, f_responses, {}), methods=["POST"])])
    with test_client_factory(app) as client:
        response = client.post("/", content=b"a=1&&b=%41+x&a", headers=URLENC)
    assert response.json() == [["a", "1"], ["b", "A x"], ["a", ""]]
