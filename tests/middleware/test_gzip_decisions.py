"""GZipMiddleware's per-response decisions against the reference: which media types are left
alone (parameters, odd case, structured suffixes), how Vary is merged with the app's, when the
start goes out, trailers, and starts without headers."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.middleware.gzip import GZipMiddleware as RefGZip

from fastframe.middleware.gzip import GZipMiddleware

BIG = b"compressible " * 100


def run(middleware: Any, start: dict[str, Any], chunks: list[tuple[bytes, bool]], accept: bytes, **options: Any) -> Any:
    """What the server and the app saw, in order: the app notes each send as it returns."""

    async def main() -> list[Any]:
        log: list[Any] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send({**start, "headers": list(start["headers"])} if "headers" in start else dict(start))
            log.append("app: start returned")
            for body, more in chunks:
                await send({"type": "http.response.body", "body": body, "more_body": more})
                log.append("app: body returned")
            if start.get("trailers"):
                await send({"type": "http.response.trailers", "headers": [(b"x-sum", b"1")], "more_trailers": False})

        async def receive() -> dict[str, Any]:
            return {"type": "http.request"}

        async def send(message: dict[str, Any]) -> None:
            log.append(message)

        scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"accept-encoding", accept)]}
        await middleware(app, **options)(scope, receive, send)
        return log

    return anyio.run(main)


def both(*args: Any, **options: Any) -> tuple[Any, Any]:
    return run(GZipMiddleware, *args, **options), run(RefGZip, *args, **options)


def start_with(*headers: tuple[bytes, bytes], status: int = 200, **extra: Any) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": list(headers), **extra}


CASES = {
    "one vary": (start_with((b"vary", b"Cookie"), (b"content-type", b"text/plain")), [(BIG, False)]),
    "two varies": (
        start_with((b"vary", b"Cookie"), (b"content-type", b"text/plain"), (b"vary", b"Accept-Language")),
        [(BIG, False)],
    ),
    "two varies, small body": (start_with((b"vary", b"Cookie"), (b"vary", b"Accept-Language")), [(b"tiny", False)]),
    "event stream with charset": (
        start_with((b"content-type", b"text/event-stream; charset=utf-8")),
        [(BIG, True), (BIG, False)],
    ),
    "grpc in capitals": (start_with((b"content-type", b"APPLICATION/GRPC")), [(BIG, False)]),
    "grpc with a suffix": (start_with((b"content-type", b"application/grpc+proto")), [(BIG, False)]),
    "video subtype": (start_with((b"content-type", b"Video/MP4; codecs=avc1")), [(BIG, False)]),
    "already encoded": (start_with((b"content-encoding", b"br")), [(BIG, False)]),
    "partial content": (start_with((b"content-type", b"text/plain"), status=206), [(BIG, False)]),
    "streamed": (start_with((b"content-type", b"text/plain")), [(BIG, True), (BIG, True), (b"", False)]),
    "small first chunk of a stream": (start_with(), [(b"x", True), (BIG, False)]),
    "content-length replaced": (start_with((b"content-length", b"1300")), [(BIG, False)]),
    "trailers": (start_with((b"content-type", b"text/plain"), trailers=True), [(BIG, False)]),
    "trailers, small body": (start_with(trailers=True), [(b"tiny", False)]),
    "trailers, event stream": (start_with((b"content-type", b"text/event-stream"), trailers=True), [(BIG, False)]),
    "start without headers": ({"type": "http.response.start", "status": 200}, [(BIG, False)]),
    "start without headers, small": ({"type": "http.response.start", "status": 200}, [(b"tiny", False)]),
    "partial content without headers": ({"type": "http.response.start", "status": 206}, [(BIG, False)]),
}


@pytest.mark.parametrize("accept", [b"gzip, deflate", b"identity"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_the_reference(case: str, accept: bytes) -> None:
    start, chunks = CASES[case]
    ours, ref = both(start, chunks, accept)
    assert ours == ref


def test_an_untouched_start_goes_out_before_the_app_goes_on() -> None:
    start, chunks = CASES["event stream with charset"]
    ours, _ = both(start, chunks, b"gzip")
    assert ours[0]["type"] == "http.response.start"
    assert ours[1] == "app: start returned"


media_types = st.one_of(
    st.sampled_from(
        [
            "application/grpc",
            "text/event-stream",
            "image/png",
            "audio/ogg",
            "video/webm",
            "font/woff2",
            "application/zip",
        ]
    ),
    st.from_regex(r"[A-Za-z]{1,12}(/[A-Za-z0-9.\-]{0,12}(\+[a-z]{1,6})?)?", fullmatch=True),
)
parameters = st.sampled_from(["", ";charset=utf-8", " ; q=1", "; profile=x"])
padding = st.sampled_from(["", " ", "  "])


@settings(max_examples=200, deadline=None)
@given(media_type=media_types, params=parameters, pad=padding, upper=st.booleans())
def test_any_content_type_matches_the_reference(media_type: str, params: str, pad: str, upper: bool) -> None:
    value = pad + (media_type.upper() if upper else media_type) + params
    start = start_with((b"content-type", value.encode()))
    ours, ref = both(start, [(BIG, False)], b"gzip")
    assert ours == ref


@settings(max_examples=50, deadline=None)
@given(
    excluded=st.lists(st.sampled_from(["text/*", "Text/HTML; charset=x", "application/json", "image/*"]), max_size=3)
)
def test_custom_exclusions_match_the_reference(excluded: list[str]) -> None:
    for content_type in (b"text/html", b"application/json; charset=utf-8", b"image/svg+xml", b"text/csv"):
        start = start_with((b"content-type", content_type))
        ours, ref = both(start, [(BIG, False)], b"gzip", exclude_content_types=tuple(excluded))
        assert ours == ref
