"""Form limits: every one answers 400 with the reference's message inside an app, stops the parse where
it is crossed, and leaves no file open or on disk behind it."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import AsyncGenerator, Callable
from typing import Any

import anyio
import pytest
import starlette.applications as s_applications
import starlette.responses as s_responses
import starlette.routing as s_routing
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient as StarletteTestClient

import fastframe.applications as f_applications
import fastframe.datastructures as f_ds
import fastframe.formparsers as f_formparsers
import fastframe.responses as f_responses
import fastframe.routing as f_routing

BOUNDARY = "limitboundary"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
URLENCODED = {"content-type": "application/x-www-form-urlencoded"}


def multipart_body(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def app_for(applications: Any, routing: Any, responses: Any, limits: dict[str, Any]) -> Any:
    async def endpoint(request: Any) -> Any:
        async with request.form(**limits) as form:
            described = [[key, value if isinstance(value, str) else value.size] for key, value in form.multi_items()]
        return responses.JSONResponse(described)

    return applications.Starlette(routes=[routing.Route("/", endpoint, methods=["POST"])])


BIG = b"z" * (2 * 1024 * 1024)  # over spool_max_size: this file rolls over to disk

CASES = [
    ({"max_files": 1}, MULTIPART, multipart_body([("a", "a.bin", BIG), ("b", "b.bin", b"x")]), 400),
    ({"max_files": 0}, MULTIPART, multipart_body([("a", "a.bin", b"x")]), 400),
    ({"max_fields": 1}, MULTIPART, multipart_body([("up", "a.bin", BIG), ("a", None, b"1"), ("b", None, b"2")]), 400),
    ({"max_part_size": 10}, MULTIPART, multipart_body([("up", "a.bin", BIG), ("a", None, b"x" * 11)]), 400),
    ({"max_part_size": 10}, MULTIPART, multipart_body([("up", "a.bin", BIG), ("a", None, b"x" * 10)]), 200),
    ({"max_fields": 2}, URLENCODED, b"a=1&b=2&c=3", 400),
    ({"max_part_size": 2048}, URLENCODED, b"a=1&b=" + b"x" * 3000, 400),
    ({}, MULTIPART, b"--" + BOUNDARY.encode() + b"\r\nno headers end", 400),
    ({}, MULTIPART, b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: form-data; name=a", 200),
    ({}, MULTIPART, b"garbage", 400),
    ({}, {"content-type": "multipart/form-data"}, b"x", 400),
]


@pytest.mark.parametrize(("limits", "headers", "body", "status"), CASES, ids=lambda value: repr(value)[:40])
def test_limits_answer_400_and_leave_nothing_open(
    test_client_factory: Callable[..., Any],
    anyio_backend: str,
    limits: dict[str, Any],
    headers: Any,
    body: bytes,
    status: int,
) -> None:
    ours = test_client_factory(app_for(f_applications, f_routing, f_responses, limits))
    theirs = StarletteTestClient(app_for(s_applications, s_routing, s_responses, limits), backend=anyio_backend)
    before = open_fds()
    mine = ours.post("/", content=body, headers=headers)
    assert open_fds() == before
    reference = theirs.post("/", content=body, headers=headers)
    assert (mine.status_code, mine.text) == (reference.status_code, reference.text)
    assert mine.status_code == status


class Broken(Exception):
    pass


async def chunks_then_break(chunks: list[bytes]) -> AsyncGenerator[bytes, None]:
    for chunk in chunks:
        yield chunk
    raise Broken()


def test_a_urlencoded_limit_stops_the_parse_inside_the_chunk() -> None:
    """Two million fields in one chunk and a limit of three: the fourth field ends the parse."""
    chunk = b"a=1&" * 2_000_000

    async def main() -> Any:
        parser = f_formparsers.FormParser(f_ds.Headers(URLENCODED), chunks_then_break([chunk]), max_fields=3)
        tracemalloc.start()
        try:
            await parser.parse()
        except f_formparsers.MultiPartException as exc:
            peak = tracemalloc.get_traced_memory()[1]
            return exc.message, peak
        finally:
            tracemalloc.stop()
        raise AssertionError("no limit error")

    message, peak = anyio.run(main)
    assert message == "Too many fields. Maximum number of fields is 3."
    assert peak < 256 * 1024  # nothing proportional to the rest of the chunk was made


def test_a_multipart_limit_stops_the_parse_inside_the_chunk() -> None:
    """A part over its limit stops python-multipart in the chunk: later parts are never seen."""
    body = multipart_body([("a", None, b"x" * 20)] + [(f"f{i}", "f.bin", b"y") for i in range(50)])
    seen: list[int] = []

    class Counting(f_formparsers.MultiPartParser):
        def on_part_begin(self) -> None:
            seen.append(1)
            super().on_part_begin()

    async def main() -> str:
        parser = Counting(f_ds.Headers(MULTIPART), chunks_then_break([body]), max_part_size=10)
        try:
            await parser.parse()
        except f_formparsers.MultiPartException as exc:
            return exc.message
        raise AssertionError("no limit error")

    assert anyio.run(main) == "Part exceeded maximum size of 0KB."
    assert seen == [1]


def test_files_are_closed_when_the_stream_breaks() -> None:
    body = multipart_body([("a", "a.bin", BIG), ("b", "b.bin", b"x")])
    made: list[Any] = []

    class Tracking(f_formparsers.MultiPartParser):
        def on_headers_finished(self) -> None:
            super().on_headers_finished()
            if self._part.file is not None:
                made.append(self._part.file)

    async def main() -> None:
        parser = Tracking(f_ds.Headers(MULTIPART), chunks_then_break([body[: len(body) // 2], body[len(body) // 2 :]]))
        with pytest.raises(Broken):
            await parser.parse()

    before = open_fds()
    anyio.run(main)
    assert len(made) == 2 and all(upload.file.closed for upload in made)
    assert open_fds() == before


charset = st.sampled_from([None, "utf-8", "latin-1", "utf-16", "bogus", "UTF-8", "ascii", "cp1252"])
text = st.text(alphabet="ab\u00e9\u20ac\u0394 ", max_size=6)
part = st.tuples(text, st.one_of(st.none(), text), text, st.sampled_from(["utf-8", "latin-1"]))


@settings(max_examples=150, deadline=None)
@given(
    charset=charset,
    parts=st.lists(part, max_size=4),
    split=st.integers(1, 30),
)
def test_multipart_charsets_match_the_reference(
    charset: str | None, parts: list[tuple[str, str | None, str, str]], split: int
) -> None:
    """One charset, named once in the Content-Type, decodes every name, filename and value."""
    import starlette.datastructures as s_ds
    import starlette.formparsers as s_formparsers

    body = b""
    for name, filename, value, encoding in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        header = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode(encoding, "replace")
        body += header + value.encode(encoding, "replace") + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    content_type = f"multipart/form-data; boundary={BOUNDARY}" + (f"; charset={charset}" if charset else "")
    chunks = [body[i : i + split] for i in range(0, len(body), split)]

    async def parse(formparsers: Any, ds: Any) -> Any:
        async def stream() -> AsyncGenerator[bytes, None]:
            for chunk in chunks:
                yield chunk

        parser = formparsers.MultiPartParser(ds.Headers({"content-type": content_type}), stream())
        try:
            form = await parser.parse()
        except formparsers.MultiPartException as exc:
            return exc.message
        items = []
        for key, value in form.multi_items():
            if isinstance(value, str):
                items.append((key, value))
            else:
                items.append((key, value.filename, await value.read()))
                await value.close()
        return items

    assert anyio.run(parse, f_formparsers, f_ds) == anyio.run(parse, s_formparsers, s_ds)


def test_form_events_can_be_driven_by_hand() -> None:
    """The on_field_* callbacks build the same form a parse of the body does."""

    async def empty() -> AsyncGenerator[bytes, None]:
        for chunk in ():
            yield chunk

    parser = f_formparsers.FormParser(f_ds.Headers(URLENCODED), empty())
    for name, value in ((b"a+b", b"%41"), (b"", b""), (b"k", None)):
        parser.on_field_start()
        parser.on_field_name(b"__" + name + b"__", 2, 2 + len(name))
        if value is not None:
            parser.on_field_data(value, 0, len(value))
        parser.on_field_end()
    assert anyio.run(parser.parse).multi_items() == [("a b", "A"), ("", ""), ("k", "")]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
def test_files_are_closed_when_the_parse_is_cancelled(anyio_backend: str) -> None:
    """A request cancelled mid-upload (past the spool size, so on disk) leaves no file open."""
    body = multipart_body([("a", "a.bin", BIG), ("b", "b.bin", BIG)])
    made: list[Any] = []
    halfway = anyio.Event()

    class Tracking(f_formparsers.MultiPartParser):
        def on_headers_finished(self) -> None:
            super().on_headers_finished()
            if self._part.file is not None:
                made.append(self._part.file)

    async def stalls() -> AsyncGenerator[bytes, None]:
        yield body[: len(body) * 3 // 4]
        halfway.set()
        await anyio.sleep_forever()
        yield b""  # pragma: no cover

    async def main() -> None:
        parser = Tracking(f_ds.Headers(MULTIPART), stalls())
        async with anyio.create_task_group() as group:
            group.start_soon(parser.parse)
            await halfway.wait()
            group.cancel_scope.cancel()

    before = open_fds()
    anyio.run(main, backend=anyio_backend)
    assert len(made) == 2 and all(upload.file.closed for upload in made)
    assert open_fds() == before
