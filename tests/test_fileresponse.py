from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
import starlette.background as s_background
import starlette.responses as s_responses
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient as StarletteTestClient

import fastframe.background as f_background
import fastframe.responses as f_responses
from fastframe._byteranges import parse_ranges

CONTENT = b"hello world, 0123456789abcdef"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "a.txt"
    path.write_bytes(CONTENT)
    os.utime(path, (1577934245, 1577934245))
    return path


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 800)  # 204800 bytes: several chunks
    return path


def run_asgi(app: Any, scope: dict[str, Any], backend: str = "asyncio") -> list[Any]:
    full_scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": []}
    full_scope.update(scope)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))

    async def main() -> None:
        try:
            await app(full_scope, receive, send)
        except Exception as exc:
            sent.append(("raised", type(exc).__name__, str(exc)))

    anyio.run(main, backend=backend)
    return sent


_BOUNDARY = re.compile(rb"[0-9a-f]{26}")


def without_boundary(messages: list[Any]) -> list[Any]:
    """Multipart boundaries are random; replace them so two runs compare equal."""
    out = []
    for message in messages:
        if isinstance(message, dict):
            message = dict(message)
            if "headers" in message:
                message["headers"] = [(k, _BOUNDARY.sub(b"B", v)) for k, v in message["headers"]]
            if isinstance(message.get("body"), bytes):
                message["body"] = _BOUNDARY.sub(b"B", message["body"])
        out.append(message)
    return out


def compare(
    build: Callable[[Any], Any],
    headers: list[tuple[str, str]] = (),  # type: ignore[assignment]
    method: str = "GET",
    extensions: dict[str, Any] | None = None,
    backend: str = "asyncio",
) -> list[Any]:
    scope: dict[str, Any] = {
        "method": method,
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    }
    if extensions is not None:
        scope["extensions"] = extensions
    ours = without_boundary(run_asgi(build(f_responses), scope, backend))
    theirs = without_boundary(run_asgi(build(s_responses), scope, backend))
    assert ours == theirs
    return ours


RANGE_HEADERS = [
    "bytes=0-4",
    "bytes=-5",
    "bytes=20-",
    "bytes=20-100",
    "bytes=29-",
    "bytes=5-2",
    "bytes=0-1,3-4",
    "bytes=0-4,2-8",
    "bytes=0-4,5-8",
    "bytes=0-4,6-8,7-9",
    "bytes=6-8,0-1",
    "bytes=x",
    "items=0-1",
    "bytes=",
    "bytes=-0",
    "bytes=-100",
    "bytes=0-1, 4-5",
    "bytes= 0-1",
    "BYTES=0-1",
    "bytes",
    "=0-1",
    "bytes=0--1",
    "bytes=0-1,x",
    "bytes=1-2-3",
    "bytes=30-40,5-2",
    "bytes=" + ",".join(f"{i}-{i}" for i in range(101)),
    "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 29, 2)),
    "bytes=0-1" + "," * 99,
    "bytes=0-1" + "," * 100,
]


@pytest.mark.parametrize("http_range", RANGE_HEADERS)
def test_range_requests_match_reference(small: Path, http_range: str) -> None:
    compare(lambda r: r.FileResponse(small), headers=[("range", http_range)])
    compare(lambda r: r.FileResponse(small), headers=[("range", http_range)], method="HEAD")


@pytest.mark.parametrize(
    "extra",
    [
        [("if-range", '"nope"')],
        [("if-range", "Thu, 02 Jan 2020 03:04:05 GMT")],
        [("if-range", "Thu, 02 Jan 2021 03:04:05 GMT")],
        [("if-none-match", "*")],
    ],
)
def test_if_range_matches_reference(small: Path, extra: list[tuple[str, str]]) -> None:
    compare(lambda r: r.FileResponse(small), headers=[("range", "bytes=0-1"), *extra])


def test_if_range_with_current_etag_uses_range(small: Path) -> None:
    etag = dict(run_asgi(f_responses.FileResponse(small), {})[0]["headers"])[b"etag"].decode()
    messages = compare(lambda r: r.FileResponse(small), headers=[("range", "bytes=0-1"), ("if-range", etag)])
    assert messages[0]["status"] == 206


def test_conditional_headers_behave_like_reference(small: Path) -> None:
    etag = dict(run_asgi(f_responses.FileResponse(small), {})[0]["headers"])[b"etag"].decode()
    for headers in (
        [("if-none-match", etag)],
        [("if-modified-since", "Thu, 02 Jan 2030 03:04:05 GMT")],
    ):
        compare(lambda r: r.FileResponse(small), headers=headers)


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize(
    "http_range",
    [None, "bytes=10-150000", "bytes=0-65535", "bytes=10-70000,100000-199999", "bytes=5-9,100-200,204000-"],
)
def test_large_file_chunking_matches_reference(big: Path, http_range: str | None, anyio_backend: str) -> None:
    headers = [("range", http_range)] if http_range else []
    messages = compare(lambda r: r.FileResponse(big), headers=headers, backend=anyio_backend)
    assert messages[-1]["more_body"] is False


def test_exact_chunk_size_file(tmp_path: Path) -> None:
    path = tmp_path / "exact.bin"
    path.write_bytes(b"z" * 65536)
    messages = compare(lambda r: r.FileResponse(path))
    assert [m["more_body"] for m in messages[1:]] == [True, False]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"filename": "a b.txt"},
        {"filename": "\u00e9 \u00fc.txt", "content_disposition_type": "inline"},
        {"filename": 'a"b;.txt'},
        {"filename": "x.json"},
        {"filename": "noext"},
        {"media_type": "foo/bar", "headers": {"x": "y"}},
        {"media_type": "text/plain; charset=latin-1"},
        {"status_code": 201},
        {"status_code": 404},
        {"headers": {"content-length": "5", "etag": "x", "last-modified": "y"}},
        {"headers": {"Content-Type": "a/b"}},
        {"filename": "a.txt", "headers": {"content-disposition": "inline"}},
    ],
    ids=repr,
)
def test_headers_match_reference(small: Path, kwargs: dict[str, Any]) -> None:
    assert (
        f_responses.FileResponse(small, **kwargs).raw_headers == s_responses.FileResponse(small, **kwargs).raw_headers
    )
    compare(lambda r: r.FileResponse(small, **kwargs))
    compare(lambda r: r.FileResponse(small, **kwargs), headers=[("range", "bytes=1-3")])


def test_guessed_media_types(tmp_path: Path) -> None:
    for name in ("x.html", "x.json", "noext", "x.bin", "x.css"):
        assert (
            f_responses.FileResponse(tmp_path / name).media_type == s_responses.FileResponse(tmp_path / name).media_type
        )


def test_stat_result_given(small: Path) -> None:
    stat_result = os.stat(small)
    ours = f_responses.FileResponse(small, stat_result=stat_result)
    assert ours.raw_headers == s_responses.FileResponse(small, stat_result=stat_result).raw_headers
    compare(lambda r: r.FileResponse(small, stat_result=stat_result))
    compare(lambda r: r.FileResponse(small, stat_result=os.stat(__file__)), headers=[("range", "bytes=0-100")])


def test_missing_and_non_regular_files(tmp_path: Path) -> None:
    messages = compare(lambda r: r.FileResponse(tmp_path / "nope.txt"))
    assert messages[0][:2] == ("raised", "RuntimeError")
    messages = compare(lambda r: r.FileResponse(tmp_path))
    assert "is not a file" in messages[0][2]
    # A file that cannot be opened fails before the response starts (docs/differences.md): the
    # reference sends a 200 start first, and the client gets a response that breaks off.
    missing = tmp_path / "nope.txt"
    ours = run_asgi(f_responses.FileResponse(missing, stat_result=os.stat(__file__)), {})
    theirs = run_asgi(s_responses.FileResponse(missing, stat_result=os.stat(__file__)), {})
    assert [m[:2] for m in ours] == [("raised", "FileNotFoundError")]
    assert theirs[0]["type"] == "http.response.start" and theirs[-1][:2] == ("raised", "FileNotFoundError")


def test_pathsend(small: Path) -> None:
    messages = compare(lambda r: r.FileResponse(small), extensions={"http.response.pathsend": {}})
    assert messages[1] == {"type": "http.response.pathsend", "path": str(small)}
    compare(lambda r: r.FileResponse(small), extensions={"http.response.pathsend": {}}, method="HEAD")
    compare(
        lambda r: r.FileResponse(small), extensions={"http.response.pathsend": {}}, headers=[("range", "bytes=0-1")]
    )


def test_background_only_on_served_responses(small: Path) -> None:
    for http_range, ran in (("bytes=0-1", True), ("bytes=50-", False), ("bytes=5-2", False), ("bytes=0-1,3-4", True)):
        logs = []
        for responses, background in ((f_responses, f_background), (s_responses, s_background)):
            log: list[int] = []
            response = responses.FileResponse(small, background=background.BackgroundTask(log.append, 1))
            run_asgi(response, {"headers": [(b"range", http_range.encode())]})
            logs.append(log)
        assert logs[0] == logs[1] == ([1] if ran else [])


range_part = st.one_of(
    st.tuples(st.integers(-3, 40), st.integers(-3, 40)).map(lambda t: f"{t[0]}-{t[1]}"),
    st.integers(-3, 40).map(lambda n: f"-{n}"),
    st.integers(-3, 40).map(lambda n: f"{n}-"),
    st.text(alphabet="0123456789-, =x+_\t\u0661\xa0", max_size=6),
)
range_header = st.one_of(
    st.lists(range_part, min_size=0, max_size=6).map(lambda parts: "bytes=" + ",".join(parts)),
    st.tuples(st.sampled_from(["bytes", "BYTES", " bytes ", "items", "", "byte"]), st.text(max_size=12)).map("=".join),
    st.text(max_size=20),
)


@settings(max_examples=500, deadline=None)
@given(http_range=range_header, size=st.integers(0, 40), max_ranges=st.sampled_from([100, 1, 2, 3]))
def test_range_parser_matches_reference(http_range: str, size: int, max_ranges: int) -> None:
    """Our parser gives the reference's spans, or raises what it raises, for any header."""

    class Reference(s_responses.FileResponse):
        pass

    Reference.max_ranges = max_ranges
    try:
        expected: Any = Reference._parse_range_header(http_range, size)
    except Exception as exc:
        expected = (type(exc).__name__, exc.__dict__)
    try:
        actual: Any = parse_ranges(http_range, size, max_ranges)
    except Exception as exc:
        actual = (type(exc).__name__, exc.__dict__)
    assert actual == expected


def test_generate_multipart_matches_reference(small: Path) -> None:
    for ranges in ([(0, 2), (5, 9)], [(0, 1)], [(10, 20), (25, 29), (1, 3)]):
        ours_len, ours_gen = f_responses.FileResponse(small).generate_multipart(ranges, "BND", 29, "text/x")
        theirs_len, theirs_gen = s_responses.FileResponse(small).generate_multipart(ranges, "BND", 29, "text/x")
        assert ours_len == theirs_len
        assert [ours_gen(*r) for r in ranges] == [theirs_gen(*r) for r in ranges]


def test_exceptions_match_reference() -> None:
    assert f_responses.MalformedRangeHeader().content == s_responses.MalformedRangeHeader().content
    assert f_responses.RangeNotSatisfiable(5).max_size == 5
    assert f_responses.FileResponse.chunk_size == s_responses.FileResponse.chunk_size
    assert f_responses.FileResponse.max_ranges == s_responses.FileResponse.max_ranges


def test_through_testclient(small: Path, test_client_factory: Callable[..., Any], anyio_backend: str) -> None:
    def make(responses: Any) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await responses.FileResponse(small, filename="\u00e9.txt")(scope, receive, send)

        return app

    ours = test_client_factory(make(f_responses))
    theirs = StarletteTestClient(make(s_responses), backend=anyio_backend)
    for headers in ({}, {"range": "bytes=2-5"}, {"range": "bytes=0-0,-1"}, {"range": "bytes=100-"}):
        a = ours.get("/", headers=headers)
        b = theirs.get("/", headers=headers)
        assert a.status_code == b.status_code
        assert _BOUNDARY.sub(b"B", a.content) == _BOUNDARY.sub(b"B", b.content)
        assert [(k, _BOUNDARY.sub(b"B", v)) for k, v in a.headers.raw] == [
            (k, _BOUNDARY.sub(b"B", v)) for k, v in b.headers.raw
        ]
    assert ours.head("/").headers == theirs.head("/").headers
