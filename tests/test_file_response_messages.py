"""FileResponse, message for message against the reference, on generated files and requests.

The file is read on a worker thread a block at a time; small chunk and block sizes here make every
combination of chunk, block and range boundaries appear in files of a few dozen bytes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import starlette.responses as s_responses
from hypothesis import given, settings
from hypothesis import strategies as st

import fastframe._file_blocks as f_file_blocks
import fastframe.responses as f_responses
from tests.test_fileresponse import run_asgi, without_boundary


def serve(response: Any, scope: dict[str, Any], backend: str = "asyncio") -> list[Any]:
    return without_boundary(run_asgi(response, scope, backend))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(f_file_blocks, "BLOCK", 11)
    yield


range_element = st.one_of(
    st.tuples(st.integers(0, 45), st.integers(0, 45)).map(lambda t: f"{min(t)}-{max(t)}"),
    st.integers(0, 45).map(lambda n: f"{n}-"),
    st.integers(0, 45).map(lambda n: f"-{n}"),
    st.sampled_from(["5-2", "x", "", "0-0"]),
)
range_header = st.one_of(
    st.none(),
    st.lists(range_element, min_size=1, max_size=5).map(lambda parts: "bytes=" + ",".join(parts)),
    st.sampled_from(["items=0-1", "bytes", "bytes=0-1,2-3,4-5,6-7"]),
)


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(0, 40),
    resized=st.one_of(st.none(), st.integers(0, 60)),
    http_range=range_header,
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    chunk_size=st.integers(1, 9),
    block=st.integers(1, 30),
    status_code=st.sampled_from([200, 200, 200, 404]),
)
def test_messages_match_the_reference(
    size: int,
    resized: int | None,
    http_range: str | None,
    method: str,
    chunk_size: int,
    block: int,
    status_code: int,
) -> None:
    """Whole files, single and multiple ranges, bad ranges and files that changed size since their stat."""
    content = bytes(range(65, 65 + 26)) * 2
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "data.txt")
        results = []
        for responses in (f_responses, s_responses):
            with open(path, "wb") as file:
                file.write(content[:size])
            os.utime(path, (1_600_000_000, 1_600_000_000))
            stat_result = os.stat(path) if resized is not None else None
            if resized is not None:
                with open(path, "wb") as file:
                    file.write(content[:resized])

            class Response(responses.FileResponse):  # type: ignore[name-defined, misc]
                pass

            Response.chunk_size = chunk_size
            headers = [(b"range", http_range.encode())] if http_range is not None else []
            before = open_fds()
            original_block = f_file_blocks.BLOCK
            f_file_blocks.BLOCK = block
            try:
                response = Response(path, status_code=status_code, stat_result=stat_result)
                results.append(serve(response, {"method": method, "headers": headers}))
            finally:
                f_file_blocks.BLOCK = original_block
            assert open_fds() == before
        assert results[0] == results[1]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize(
    "http_range",
    [None, "bytes=0-10", "bytes=3-", "bytes=-4", "bytes=0-1,5-9,30-", "bytes=0-0,2-2,4-4,6-6", "bytes=40-"],
)
def test_small_blocks_through_both_backends(
    tmp_path: Any, small_blocks: None, anyio_backend: str, http_range: str | None
) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(bytes(range(37)))
    scope = {"headers": [(b"range", http_range.encode())] if http_range else []}
    for chunk_size in (1, 4, 11, 64):

        class Ours(f_responses.FileResponse):
            pass

        class Theirs(s_responses.FileResponse):
            pass

        Ours.chunk_size = Theirs.chunk_size = chunk_size
        assert serve(Ours(path), scope, anyio_backend) == serve(Theirs(path), scope, anyio_backend)


def test_the_same_instance_serves_many_requests(tmp_path: Any) -> None:
    """No request leaves anything behind in the response for the next one."""
    path = tmp_path / "file.txt"
    path.write_bytes(b"0123456789abcdefghij")
    sequence = [None, "bytes=0-3", "bytes=1-2,5-6", "bytes=50-", "bytes=x", None, "bytes=-3", "HEAD"]
    ours = f_responses.FileResponse(path, filename="f.txt")
    theirs = s_responses.FileResponse(path, filename="f.txt")
    for step in sequence:
        scope: dict[str, Any] = {"method": "HEAD"} if step == "HEAD" else {}
        if step not in (None, "HEAD"):
            scope["headers"] = [(b"range", step.encode())]
        assert serve(ours, scope) == serve(theirs, scope), step
    assert ours.raw_headers == theirs.raw_headers


def test_the_same_instance_with_a_given_stat(tmp_path: Any) -> None:
    path = tmp_path / "file.txt"
    path.write_bytes(b"0123456789")
    stat_result = os.stat(path)
    ours = f_responses.FileResponse(path, stat_result=stat_result)
    theirs = s_responses.FileResponse(path, stat_result=stat_result)
    for scope in ({}, {"headers": [(b"range", b"bytes=2-4,6-7")]}, {}, {"headers": [(b"range", b"bytes=2-4")]}):
        assert serve(ours, scope) == serve(theirs, scope)


@pytest.mark.parametrize(
    ("etag", "if_range"),
    [
        (None, "{etag}"),
        (None, "W/{etag}"),
        (None, " {etag}"),
        ('W/"weak"', 'W/"weak"'),
        ('W/"weak"', '"weak"'),
        ('"W/x"', '"W/x"'),
        ("W/", "W/"),
        (None, "{modified}"),
        (None, "W/{modified}"),
    ],
)
def test_if_range_compares_strongly(tmp_path: Any, etag: str | None, if_range: str) -> None:
    """A weak validator never satisfies If-Range (RFC 9110, 13.1.5): the whole file is sent."""
    path = tmp_path / "file.txt"
    path.write_bytes(b"0123456789")
    headers = {"etag": etag} if etag is not None else None
    probe = f_responses.FileResponse(path, headers=headers, stat_result=os.stat(path))
    value = if_range.format(etag=probe.headers["etag"], modified=probe.headers["last-modified"])
    scope = {"headers": [(b"range", b"bytes=2-4"), (b"if-range", value.encode())]}
    ours = serve(f_responses.FileResponse(path, headers=headers), scope)
    assert ours == serve(s_responses.FileResponse(path, headers=headers), scope)
    assert ours[0]["status"] == (206 if if_range in ("{etag}", "{modified}", '"W/x"') else 200)
