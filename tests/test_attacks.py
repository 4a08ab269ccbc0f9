"""Hostile input against forms, request bodies, file responses and static files.

Every case runs the same app built from fastframe and from the reference (Starlette 1.10)
and requires the same answer; the app itself bounds its work with `anyio.fail_after`, so a
hang shows up as a failure rather than a stuck suite. Path traversal against StaticFiles is
covered by `ATTACKS` in tests/test_staticfiles.py.
"""

from __future__ import annotations

import gc
import importlib
import os
import re
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
import starlette.testclient

Factory = Callable[..., Any]

BOUNDARY = "attackboundary"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
URLENCODED = {"content-type": "application/x-www-form-urlencoded"}
LIMIT = 10  # bytes, for the max_body_size routes and app
SPOOL = 1024 * 1024  # MultiPartParser.spool_max_size in both packages
TIME_LIMIT = 20  # seconds any one request may take inside the app


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def make_app(pkg: str, static_dir: Path | None = None, max_body_size: int | None = None) -> Any:
    applications = importlib.import_module(f"{pkg}.applications")
    routing = importlib.import_module(f"{pkg}.routing")
    responses = importlib.import_module(f"{pkg}.responses")
    staticfiles = importlib.import_module(f"{pkg}.staticfiles")
    uploads: list[Any] = []

    async def form(request: Any) -> Any:
        q = request.query_params
        limits = {k: int(q[k]) for k in ("max_files", "max_fields", "max_part_size") if k in q}
        with anyio.fail_after(TIME_LIMIT):
            async with request.form(**limits) as data:
                items = data.multi_items()
                files = [v for _, v in items if not isinstance(v, str)]
                uploads.extend(files)
                sizes = [len(await f.read()) for f in files]
                shown = [(k, v if isinstance(v, str) else (v.filename, v.content_type)) for k, v in items[:3]]
                text = f"{len(items)} fields, files {sizes}, first {shown}"[:500]
        return responses.PlainTextResponse(text)

    async def body(request: Any) -> Any:
        with anyio.fail_after(TIME_LIMIT):
            data = await request.body()
        return responses.PlainTextResponse(str(len(data)))

    async def ping(request: Any) -> Any:
        return responses.PlainTextResponse("pong")

    routes = [
        routing.Route("/form", form, methods=["POST"]),
        routing.Route("/body", body, methods=["POST"]),
        routing.Route("/limited", body, methods=["POST"], max_body_size=LIMIT),
        routing.Route("/limited-form", form, methods=["POST"], max_body_size=LIMIT),
        routing.Route("/ping", ping),
    ]
    if static_dir is not None:

        async def file(request: Any) -> Any:
            return responses.FileResponse(static_dir / "data.bin")

        routes.append(routing.Route("/file", file))
        routes.append(routing.Mount("/static", staticfiles.StaticFiles(directory=static_dir)))
    app = applications.Starlette(routes=routes, max_body_size=max_body_size)
    app.state.uploads = uploads
    return app


def answer(response: Any) -> tuple[int, str, str | None]:
    return response.status_code, response.text, response.headers.get("content-type")


def implementations(test_client_factory: Factory, anyio_backend: str) -> list[tuple[str, Factory]]:
    backend: Any = anyio_backend
    return [
        ("fastframe", test_client_factory),
        ("starlette", partial(starlette.testclient.TestClient, backend=backend)),
    ]


def both(
    test_client_factory: Factory,
    anyio_backend: str,
    method: str,
    url: str,
    body: Callable[[], Any] | bytes = b"",
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Send one request to each implementation; returns (ours, reference) responses."""
    app_limit = kwargs.pop("app_limit", None)
    results = []
    for pkg, factory in implementations(test_client_factory, anyio_backend):
        with factory(make_app(pkg, max_body_size=app_limit)) as client:
            content = body() if callable(body) else body
            results.append(client.request(method, url, content=content, **kwargs))
    return results[0], results[1]


def multipart(parts: Iterator[str]) -> bytes:
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


def field(name: str, value: str = "", extra: str = "", boundary: str = BOUNDARY) -> str:
    return f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n{extra}\r\n{value}\r\n'


def upload(name: str, value: str = "x", filename: str = "a.txt") -> str:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n\r\n{value}\r\n'


def _long_boundary(n: int) -> tuple[dict[str, str], bytes]:
    b = "b" * n
    return {"content-type": f"multipart/form-data; boundary={b}"}, (
        field("a", "v", boundary=b) + f"--{b}--\r\n"
    ).encode()


MANY_HEADERS = "".join(f"X-Header-{i}: {'v' * 100}\r\n" for i in range(60))
# python-multipart refuses a part with more than a handful of headers; both packages answer 400.
FEW_HEADERS = "".join(f"X-Header-{i}: v\r\n" for i in range(5))

# (id, url, headers, body factory, expected status, expected text or None to only compare)
FORM_CASES: list[tuple[str, str, dict[str, str], Callable[[], bytes], int, str | None]] = [
    (
        "3000-empty-fields",
        "/form",
        MULTIPART,
        lambda: multipart(field(f"f{i}") for i in range(3000)),
        400,
        "Too many fields. Maximum number of fields is 1000.",
    ),
    (
        "3000-same-name-fields",
        "/form",
        MULTIPART,
        lambda: multipart(field("a") for i in range(3000)),
        400,
        "Too many fields. Maximum number of fields is 1000.",
    ),
    (
        "3000-files",
        "/form",
        MULTIPART,
        lambda: multipart(upload(f"f{i}") for i in range(3000)),
        400,
        "Too many files. Maximum number of files is 1000.",
    ),
    ("1000-fields-allowed", "/form", MULTIPART, lambda: multipart(field(f"f{i}") for i in range(1000)), 200, None),
    (
        "custom-max-fields",
        "/form?max_fields=3",
        MULTIPART,
        lambda: multipart(field(f"f{i}") for i in range(4)),
        400,
        "Too many fields. Maximum number of fields is 3.",
    ),
    (
        "2MiB-field",
        "/form",
        MULTIPART,
        lambda: multipart(iter([field("big", "x" * (2 * SPOOL))])),
        400,
        "Part exceeded maximum size of 1024KB.",
    ),
    (
        "million-urlencoded-fields",
        "/form",
        URLENCODED,
        lambda: b"a=1&" * 1_000_000,
        400,
        "Too many fields. Maximum number of fields is 1000.",
    ),
    (
        "million-empty-urlencoded-fields",
        "/form",
        URLENCODED,
        lambda: b"&" * 1_000_000,
        200,
        None,
    ),
    (
        "semicolons-without-ampersand",
        "/form",
        URLENCODED,
        lambda: b"a;" * 1_000_000,
        400,
        "Field exceeded maximum size of 1024KB.",
    ),
    ("semicolons-small", "/form", URLENCODED, lambda: b"a;" * 1000, 200, None),
    (
        "2MiB-urlencoded-name",
        "/form",
        URLENCODED,
        lambda: b"n" * (2 * SPOOL),
        400,
        "Field exceeded maximum size of 1024KB.",
    ),
    (
        "part-with-60-long-headers",
        "/form",
        MULTIPART,
        lambda: multipart(iter([field("a", "v", MANY_HEADERS)])),
        400,
        "Invalid multipart data.",
    ),
    (
        "file-part-with-60-long-headers",
        "/form",
        MULTIPART,
        lambda: multipart(iter([upload("a").replace("\r\n\r\n", "\r\n" + MANY_HEADERS + "\r\n", 1)])),
        400,
        "Invalid multipart data.",
    ),
    ("part-with-6-headers", "/form", MULTIPART, lambda: multipart(iter([field("a", "v", FEW_HEADERS)])), 200, None),
    ("boundary-256", "/form", _long_boundary(256)[0], lambda: _long_boundary(256)[1], 200, None),
    ("boundary-257", "/form", _long_boundary(257)[0], lambda: _long_boundary(257)[1], 400, "Invalid multipart data."),
    (
        "boundary-5000",
        "/form",
        _long_boundary(5000)[0],
        lambda: _long_boundary(5000)[1],
        400,
        "Invalid multipart data.",
    ),
    (
        "missing-boundary",
        "/form",
        {"content-type": "multipart/form-data"},
        lambda: b"x",
        400,
        "Missing boundary in multipart.",
    ),
    (
        "garbage-after-boundary",
        "/form",
        MULTIPART,
        lambda: f"--{BOUNDARY}xx\r\n".encode() * 100,
        400,
        "Invalid multipart data.",
    ),
    ("truncated-file-part", "/form", MULTIPART, lambda: upload("a", "x" * 100)[:-2].encode(), 200, None),
    (
        "4MiB-part-header",
        "/form",
        MULTIPART,
        lambda: multipart(iter([field("a", "v", f"X-Big: {'v' * (4 * SPOOL)}\r\n")])),
        400,
        "Invalid multipart data.",
    ),
    (
        "4MiB-field-name",
        "/form",
        MULTIPART,
        lambda: multipart(iter([field("n" * (4 * SPOOL), "v")])),
        400,
        "Invalid multipart data.",
    ),
    (
        "5000-disposition-params",
        "/form",
        MULTIPART,
        lambda: multipart(iter([field('a"; ' + "; ".join(f'p{i}="x' for i in range(5000)), "v")])),
        400,
        "Invalid multipart data.",
    ),
    (
        "unknown-charset-and-undecodable-bytes",
        "/form",
        {"content-type": f"multipart/form-data; boundary={BOUNDARY}; charset=nonexistent"},
        lambda: field("\xe9\xff", "\xff\xfe").encode("latin-1") + f"--{BOUNDARY}--\r\n".encode(),
        200,
        "1 fields, files [], first [('éÿ', 'ÿþ')]",
    ),
    (
        "traversal-filename-is-kept-verbatim",
        "/form",
        MULTIPART,
        lambda: multipart(iter([upload("f", "x", "../../etc/passwd"), upload("g", "y", "C:\\\\evil\x00.txt")])),
        200,
        None,
    ),
    ("urlencoded-percent-garbage", "/form", URLENCODED, lambda: b"%" * 1000 + b"&%zz=%&a=%ff%fe&%00=%00", 200, None),
    ("urlencoded-empty-names", "/form", URLENCODED, lambda: b"=&=&=", 200, None),
    ("urlencoded-100k-equals", "/form", URLENCODED, lambda: b"a" * 10 + b"=" * 100_000, 200, None),
    (
        "part-without-name",
        "/form",
        MULTIPART,
        lambda: f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--{BOUNDARY}--\r\n".encode(),
        400,
        'The Content-Disposition header field "name" must be provided.',
    ),
]


@pytest.mark.parametrize(
    "url, headers, body, status, text",
    [pytest.param(*case[1:], id=case[0]) for case in FORM_CASES],
)
def test_hostile_forms_match_reference(
    test_client_factory: Factory,
    anyio_backend: str,
    url: str,
    headers: dict[str, str],
    body: Callable[[], bytes],
    status: int,
    text: str | None,
) -> None:
    ours, ref = both(test_client_factory, anyio_backend, "POST", url, body, headers=headers)
    assert answer(ours) == answer(ref)
    assert ours.status_code == status
    if text is not None:
        assert ours.text == text


def test_50mb_field_sent_in_chunks_is_refused(test_client_factory: Factory, anyio_backend: str) -> None:
    chunk = b"x" * 65536

    def stream() -> Iterator[bytes]:
        yield field("big")[:-2].encode()
        for _ in range(50 * 16):
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    ours, ref = both(test_client_factory, anyio_backend, "POST", "/form", stream, headers=MULTIPART)
    assert answer(ours) == answer(ref)
    assert (ours.status_code, ours.text) == (400, "Part exceeded maximum size of 1024KB.")


@pytest.mark.parametrize("pkg", ["fastframe", "starlette"])
@pytest.mark.anyio
async def test_big_field_stops_reading_and_memory_stays_bounded(pkg: str) -> None:
    """Driven over raw ASGI so no client buffers the body: the parser must give up near the limit."""
    app = make_app(pkg)
    chunk = b"x" * 65536
    total_chunks = 50 * 16
    pulled = 0
    sent: list[Any] = []

    async def receive() -> Any:
        nonlocal pulled
        pulled += 1
        if pulled == 1:
            return {"type": "http.request", "body": field("big")[:-2].encode(), "more_body": True}
        return {"type": "http.request", "body": chunk, "more_body": pulled <= total_chunks}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/form",
        "raw_path": b"/form",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", MULTIPART["content-type"].encode())],
        "server": ("testserver", 80),
        "client": ("testclient", 1234),
    }
    tracemalloc.start()
    try:
        with anyio.fail_after(TIME_LIMIT):
            await app(scope, receive, send)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sent[0]["status"] == 400
    assert sent[1]["body"] == b"Part exceeded maximum size of 1024KB."
    assert pulled < 40  # 1 MiB is 16 chunks; nothing drains the other 48 MiB
    assert peak < 16 * 1024 * 1024


def test_rolled_over_uploads_closed_when_max_files_exceeded(test_client_factory: Factory, anyio_backend: str) -> None:
    """Parts larger than the spool size live in real temporary files; a refused form must close them."""
    big = "x" * (SPOOL + 100)
    body = multipart(upload(f"f{i}", big) for i in range(4))
    for pkg, factory in implementations(test_client_factory, anyio_backend):
        with factory(make_app(pkg)) as client:
            client.get("/ping")
            before = _fds()
            response = client.post("/form?max_files=2", content=body, headers=MULTIPART)
            assert (response.status_code, response.text) == (400, "Too many files. Maximum number of files is 2.")
            assert _fds() == before, pkg


def test_uploads_closed_after_form_context(test_client_factory: Factory) -> None:
    app = make_app("fastframe")
    big = "y" * (2 * SPOOL)
    body = multipart(iter([upload("a", big), upload("b", "small"), field("c", "v")]))
    with test_client_factory(app) as client:
        client.get("/ping")
        before = _fds()
        response = client.post("/form", content=body, headers=MULTIPART)
        assert response.status_code == 200
        assert response.text == (
            f"3 fields, files [{2 * SPOOL}, 5], first [('a', ('a.txt', None)), ('b', ('a.txt', None)), ('c', 'v')]"
        )
        assert _fds() == before
    assert [f.file.closed for f in app.state.uploads] == [True, True]


@pytest.mark.parametrize("size", [10, 2 * SPOOL])
def test_truncated_file_part_temp_file_is_closed(test_client_factory: Factory, size: int) -> None:
    """The body ends inside a file part: the form is empty (as in the reference), and the temporary
    file that never reached it is closed at once rather than left to the garbage collector."""
    body = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"; filename="x"\r\n\r\n'.encode() + b"x" * size
    with test_client_factory(make_app("fastframe")) as client:
        client.get("/ping")
        before = _fds()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            response = client.post("/form", content=body, headers=MULTIPART)
            gc.collect()
        assert (response.status_code, response.text) == (200, "0 fields, files [], first []")
        assert _fds() == before
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.parametrize("pkg", ["fastframe", "starlette"])
@pytest.mark.anyio
async def test_upload_larger_than_spool_does_not_block_other_requests(pkg: str) -> None:
    """Half an upload (past the spool size) arrives, then the client stalls; another request on the
    same app and event loop must complete, and only then does the upload finish."""
    app = make_app(pkg)
    half = b"z" * (SPOOL + SPOOL // 2)
    ping_done = anyio.Event()
    upload_sent: list[Any] = []
    ping_sent: list[Any] = []
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n\r\n'.encode()
    chunks = [head + half, half, f"\r\n--{BOUNDARY}--\r\n".encode()]

    async def upload_receive() -> Any:
        if len(chunks) == 2:
            await ping_done.wait()
        data = chunks.pop(0)
        return {"type": "http.request", "body": data, "more_body": bool(chunks)}

    async def ping_receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "server": ("testserver", 80),
            "client": ("testclient", 1234),
        }

    async def do_upload() -> None:
        headers = [(b"content-type", MULTIPART["content-type"].encode())]

        async def send(message: Any) -> None:
            upload_sent.append(message)

        await app(scope("POST", "/form", headers), upload_receive, send)

    async def do_ping() -> None:
        async def send(message: Any) -> None:
            ping_sent.append(message)

        # Let the upload start and stall first.
        while len(chunks) != 2:
            await anyio.sleep(0.001)
        await app(scope("GET", "/ping", []), ping_receive, send)
        assert not upload_sent
        ping_done.set()

    with anyio.fail_after(TIME_LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(do_upload)
            tg.start_soon(do_ping)
    assert ping_sent[1]["body"] == b"pong"
    assert upload_sent[0]["status"] == 200
    assert upload_sent[1]["body"] == f"1 fields, files [{3 * SPOOL}], first [('f', ('big.bin', None))]".encode()
    assert all(f.file.closed for f in app.state.uploads)


LYING_LENGTHS = ["-1", "5", "100", "0", "abc", "+50", "1000000", "99999999999999999999999", "1e3", ""]


@pytest.mark.parametrize("length", LYING_LENGTHS)
@pytest.mark.parametrize(
    "url, app_limit, body",
    [
        ("/body", None, b"a" * 30),
        ("/body", None, b"abc"),
        ("/limited", None, b"a" * 30),
        ("/limited", None, b"abc"),
        ("/body", LIMIT, b"a" * 30),
        ("/body", LIMIT, b"abc"),
        ("/form", None, b"a=1&b=2&c=3"),
        ("/limited-form", None, b"a=1&b=2&c=3"),
        ("/limited-form", None, b"a=1"),
    ],
)
def test_lying_content_length_matches_reference(
    test_client_factory: Factory, anyio_backend: str, url: str, app_limit: int | None, body: bytes, length: str
) -> None:
    headers = {"content-length": length}
    if "form" in url:
        headers.update(URLENCODED)
    ours, ref = both(test_client_factory, anyio_backend, "POST", url, body, headers=headers, app_limit=app_limit)
    assert answer(ours) == answer(ref)
    if len(body) > LIMIT and (app_limit or url.startswith("/limited")):
        assert ours.status_code == 413


@pytest.mark.parametrize("size", [LIMIT - 1, LIMIT, LIMIT + 1, 100_000])
@pytest.mark.parametrize("url, app_limit", [("/limited", None), ("/body", LIMIT), ("/limited-form", None)])
def test_chunked_body_without_content_length_is_limited(
    test_client_factory: Factory, anyio_backend: str, url: str, app_limit: int | None, size: int
) -> None:
    def stream() -> Iterator[bytes]:
        for _ in range(size):
            yield b"a"

    ours, ref = both(test_client_factory, anyio_backend, "POST", url, stream, headers=URLENCODED, app_limit=app_limit)
    assert answer(ours) == answer(ref)
    assert ours.status_code == (413 if size > LIMIT else 200)


# --- Range requests -------------------------------------------------------------------------

_BYTERANGES = re.compile(r"boundary=([0-9a-f]+)")


def normalised(response: Any) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in ("etag", "last-modified", "date")}
    body = response.content
    found = _BYTERANGES.search(headers.get("content-type", ""))
    if found:
        headers["content-type"] = headers["content-type"].replace(found.group(1), "B")
        body = body.replace(found.group(1).encode(), b"B")
    return response.status_code, headers, body


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "data.bin").write_bytes(bytes(range(256)) * 40)  # 10240 bytes
    return tmp_path


# More than 100 ranges in one header (overlapping or not) get the whole file (200), as in the reference.
RANGES = {
    "thousands-of-tiny-ranges": ("bytes=" + ",".join(f"{i}-{i}" for i in range(0, 6000, 2)), 200),
    "100-ranges": ("bytes=" + ",".join(f"{i}-{i}" for i in range(0, 200, 2)), 206),
    "101-ranges": ("bytes=" + ",".join(f"{i}-{i}" for i in range(0, 202, 2)), 200),
    "thousands-overlapping": ("bytes=" + ",".join(f"{i}-{i + 50}" for i in range(3000)), 200),
    "thousands-identical": ("bytes=" + ",".join("0-10" for _ in range(3000)), 200),
    "inverted": ("bytes=5-1", 400),
    "inverted-among-valid": ("bytes=0-1,5-1", 400),
    "out-of-bounds": ("bytes=20000-30000", 416),
    "partly-out-of-bounds": ("bytes=10000-30000", 206),
    "out-of-bounds-among-valid": ("bytes=0-1,20000-20001", 416),
    "overlapping": ("bytes=0-100,50-150", 206),
    "adjacent": ("bytes=0-9,10-19", 206),
    "suffix-larger-than-file": ("bytes=-999999", 206),
    "huge-numbers": ("bytes=0-99999999999999999999999999", 206),
    "negative": ("bytes=-5--1", 400),
    "only-commas": ("bytes=" + "," * 5000, 200),
    "long-garbage": ("bytes=" + "9" * 10000, 400),
    "wrong-unit": ("items=0-1", 400),
}


@pytest.mark.parametrize("path", ["/file", "/static/data.bin"])
@pytest.mark.parametrize("http_range, status", list(RANGES.values()), ids=list(RANGES))
def test_hostile_ranges_match_reference(
    test_client_factory: Factory, anyio_backend: str, static_dir: Path, path: str, http_range: str, status: int
) -> None:
    results = []
    for pkg, factory in implementations(test_client_factory, anyio_backend):
        with factory(make_app(pkg, static_dir=static_dir)) as client:
            results.append(normalised(client.get(path, headers={"range": http_range})))
    assert results[0] == results[1]
    assert results[0][0] == status
