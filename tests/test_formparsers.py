from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import anyio
import pytest
import starlette.formparsers as s_formparsers
import starlette.requests as s_requests
from hypothesis import given, settings
from hypothesis import strategies as st

import fastframe.formparsers as f_formparsers
import fastframe.requests as f_requests
from fastframe.datastructures import UploadFile

M = 1024 * 1024


def multipart(parts: list[tuple[bytes, bytes]], boundary: bytes = b"BB") -> bytes:
    out = b""
    for headers, data in parts:
        out += b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + data + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def describe(form: Any) -> list[Any]:
    items = []
    for key, value in form.multi_items():
        if hasattr(value, "file"):
            value.file.seek(0)
            items.append((key, "file", value.filename, value.size, value.headers.raw, value.file.read()))
        else:
            items.append((key, value))
    return items


def parse(
    module: Any,
    content_type: bytes | None,
    chunks: list[bytes],
    with_app: bool = False,
    use_context: bool = False,
    **kwargs: Any,
) -> Any:
    headers = [(b"content-type", content_type)] if content_type is not None else []
    scope: dict[str, Any] = {"type": "http", "method": "POST", "headers": headers}
    if with_app:
        scope["app"] = object()
    messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks[:-1]]
    messages.append({"type": "http.request", "body": chunks[-1] if chunks else b""})

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def main() -> Any:
        request = module.Request(scope, receive)
        try:
            if use_context:
                async with request.form(**kwargs) as form:
                    result = describe(form)
                return result, [v.file.closed for _, v in form.multi_items() if hasattr(v, "file")]
            return describe(await request.form(**kwargs))
        except Exception as exc:
            return ("raised", type(exc).__name__, getattr(exc, "message", None), getattr(exc, "detail", None))

    return anyio.run(main)


def same(*args: Any, **kwargs: Any) -> Any:
    ours = parse(f_requests, *args, **kwargs)
    theirs = parse(s_requests, *args, **kwargs)
    assert ours == theirs
    return ours


URLENC = b"application/x-www-form-urlencoded"
MP = b"multipart/form-data; boundary=BB"

CASES: list[tuple[bytes | None, bytes, dict[str, Any]]] = [
    (URLENC, b"a=1&b=%20x+y&a=2&c&=d&e=", {}),
    (URLENC + b"; charset=latin-1", b"a=%E9&b=%C3%A9&%ff=1", {}),
    (URLENC, b"a=1&&b=2;c=3", {}),
    (URLENC, b"a=1=2&%zz=%4&b=\xc3\xa9&c=\xe9&d=+%2B", {}),
    (URLENC, b"", {}),
    (URLENC, b"=", {}),
    (URLENC, b"==", {}),
    (URLENC, b"a=1&b=2&c=3", {"max_fields": 2}),
    (URLENC, b"a=1&b=2&", {"max_fields": 2}),
    (URLENC, b"a=1&b=2&=", {"max_fields": 2}),
    (URLENC, b"a=" + b"1" * 99, {"max_part_size": 100}),
    (URLENC, b"a=" + b"1" * 100, {"max_part_size": 100}),
    (URLENC, b"a" * 100, {"max_part_size": 100}),
    (URLENC, b"a" * 101, {"max_part_size": 100}),
    (URLENC, b"a=1&b=" + b"x" * 200, {"max_fields": 1, "max_part_size": 100}),
    (URLENC, b"a=" + b"x" * (M + 5), {}),
    (b"text/plain", b"a=1", {}),
    (None, b"a=1", {}),
    (
        MP,
        multipart(
            [
                (b'Content-Disposition: form-data; name="f"', b"val"),
                (
                    b'Content-Disposition: form-data; name="up"; filename="a.txt"\r\n'
                    b"Content-Type: text/plain\r\nX-A: 1",
                    b"data",
                ),
            ]
        ),
        {},
    ),
    (b"multipart/form-data", b"x", {}),
    (MP, multipart([(b"Content-Disposition: form-data", b"val")]), {}),
    (MP, multipart([(b"X: y", b"val")]), {}),
    (MP, b"garbage", {}),
    (MP, b"", {}),
    (MP, b"--BB--\r\n", {}),
    (MP, b'--BB\r\nContent-Disposition: form-data; name="a"\r\n\r\nxx', {}),
    (MP, multipart([(b'Content-Disposition: form-data; name="f"; filename="a.txt"', b"x" * (M + 1))]), {}),
    (MP, multipart([(b'Content-Disposition: form-data; name="f"', b"x" * (M + 1))]), {}),
    (MP, multipart([(b'Content-Disposition: form-data; name="f"', b"x" * 2000)]), {"max_part_size": 1500}),
    (MP, multipart([(b'Content-Disposition: form-data; name="f"', b"x" * 1500)]), {"max_part_size": 1500}),
    (
        MP + b"; charset=latin-1",
        multipart([(b'Content-Disposition: form-data; name="f\xe9"; filename="\xe9.txt"', b"\xe9")]),
        {},
    ),
    (
        MP,
        multipart(
            [
                (b'Content-Disposition: form-data; name="f\xc3\xa9"; filename="\xc3\xa9.txt"', b"\xc3\xa9"),
                (b'Content-Disposition: form-data; name="g"', b"\xff\xc3\xa9"),
            ]
        ),
        {},
    ),
    (MP + b"; charset=bogus", multipart([(b'Content-Disposition: form-data; name="g"', b"\xc3\xa9")]), {}),
    (MP, multipart([(b'Content-Disposition: form-data; name="f"; filename=""', b"abc")]), {}),
    (MP, multipart([(b"Content-Disposition: form-data; name=\"f\"; filename*=utf-8''%C3%A9.txt", b"abc")]), {}),
    (b'multipart/form-data; boundary="BB"', multipart([(b"content-disposition: form-data; name=f", b"abc")]), {}),
    (b"Multipart/Form-Data; boundary=BB", multipart([(b"content-disposition: form-data; name=f", b"abc")]), {}),
    (MP, multipart([(b'Content-Disposition: form-data; name="f%d"' % i, b"v") for i in range(3)]), {"max_fields": 2}),
    (MP, multipart([(b'Content-Disposition: form-data; name="f%d"' % i, b"v") for i in range(3)]), {"max_files": 0}),
    (
        MP,
        multipart([(b'Content-Disposition: form-data; name="f%d"; filename="x"' % i, b"v") for i in range(3)]),
        {"max_files": 2},
    ),
    (
        MP,
        multipart([(b'Content-Disposition: form-data; name="f%d"; filename="x"' % i, b"v") for i in range(3)]),
        {"max_fields": 2},
    ),
    (MP, multipart([(b'Content-Disposition: form-data; name="f"\r\n' + b"X: y\r\n" * 10, b"v")]), {}),
    (MP, multipart([(b'Content-Disposition: form-data; name="' + b"n" * 5000 + b'"', b"v")]), {}),
]


@pytest.mark.parametrize("with_app", [False, True])
@pytest.mark.parametrize("case", CASES, ids=lambda c: repr(c)[:80])
def test_forms_match_reference(case: tuple[bytes | None, bytes, dict[str, Any]], with_app: bool) -> None:
    content_type, body, kwargs = case
    same(content_type, [body], with_app=with_app, **kwargs)


@pytest.mark.parametrize("case", [c for c in CASES if len(c[1]) < 10_000], ids=lambda c: repr(c)[:80])
def test_forms_match_reference_when_chunked(case: tuple[bytes | None, bytes, dict[str, Any]]) -> None:
    content_type, body, kwargs = case
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)] or [b""]
    same(content_type, chunks, **kwargs)


def test_form_as_context_manager_closes_files() -> None:
    body = multipart([(b'Content-Disposition: form-data; name="up"; filename="a.txt"', b"data")])
    result = same(MP, [body], use_context=True)
    assert result[1] == [True]


def test_form_is_cached_and_close_closes_files() -> None:
    body = multipart([(b'Content-Disposition: form-data; name="up"; filename="a.txt"', b"data")])
    messages = [{"type": "http.request", "body": body}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def main() -> None:
        request = f_requests.Request({"type": "http", "headers": [(b"content-type", MP)]}, receive)
        form = await request.form()
        assert await request.form(max_files=0) is form
        upload = form["up"]
        assert isinstance(upload, UploadFile)
        assert await upload.read() == b"data" and not upload.file.closed
        await request.close()
        assert upload.file.closed
        with pytest.raises(RuntimeError, match="Stream consumed"):
            await request.body()

    anyio.run(main)


def test_temp_files_closed_when_parsing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[Any] = []
    real = f_formparsers.SpooledTemporaryFile

    def tracking(*args: Any, **kwargs: Any) -> Any:
        file = real(*args, **kwargs)
        created.append(file)
        return file

    monkeypatch.setattr(f_formparsers, "SpooledTemporaryFile", tracking)
    body = multipart(
        [
            (b'Content-Disposition: form-data; name="up"; filename="a.txt"', b"data"),
            (b'Content-Disposition: form-data; name="big"', b"x" * 200),
        ]
    )
    result = parse(f_requests, MP, [body], max_part_size=100)
    assert result[0] == "raised"
    assert created and all(file.closed for file in created)


def test_public_names_match_reference() -> None:
    assert f_formparsers.MultiPartParser.spool_max_size == s_formparsers.MultiPartParser.spool_max_size
    assert f_formparsers.MultiPartParser.max_part_size == s_formparsers.MultiPartParser.max_part_size
    assert f_formparsers.MultipartPart() == f_formparsers.MultipartPart(None, "", bytearray(), None, [])
    assert f_formparsers.MultiPartException("m").message == "m"
    for src, codec in ((b"\xff", "utf-8"), (b"\xc3\xa9", "latin-1"), (b"x", "bogus"), (b"\xc3\xa9", "utf-8")):
        assert f_formparsers._user_safe_decode(src, codec) == s_formparsers._user_safe_decode(src, codec)
    assert [m.value for m in f_formparsers.FormMessage] == [m.value for m in s_formparsers.FormMessage]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f_formparsers.FormMessage(1)
    assert "FormMessage` is deprecated" in str(caught[0].message)


urlencoded = st.lists(
    st.tuples(st.text(max_size=5), st.text(max_size=5)).map(
        lambda kv: kv[0].replace("=", "%3D").replace("&", "%26") + "=" + kv[1].replace("&", "%26")
    )
    | st.text(alphabet="ab=&;+%2 \u00e9", max_size=6),
    max_size=6,
).map(lambda parts: "&".join(parts).encode("utf-8"))


@settings(max_examples=150, deadline=None)
@given(body=urlencoded, max_fields=st.integers(1, 5), max_part_size=st.integers(2, 12), split=st.integers(1, 9))
def test_urlencoded_hypothesis(body: bytes, max_fields: int, max_part_size: int, split: int) -> None:
    chunks = [body[i : i + split] for i in range(0, len(body), split)] or [b""]
    same(URLENC, chunks, max_fields=max_fields, max_part_size=max_part_size)


header_line = st.sampled_from(
    [
        b'Content-Disposition: form-data; name="a"',
        b'Content-Disposition: form-data; name="b"; filename="f.txt"',
        b"Content-Disposition: form-data; name=c; filename=",
        b"Content-Disposition: form-data",
        b"Content-Type: text/plain",
        b"X-Other: 1",
    ]
)
part = st.tuples(st.lists(header_line, min_size=0, max_size=3).map(lambda h: b"\r\n".join(h)), st.binary(max_size=20))


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(part, max_size=4),
    truncate=st.integers(0, 30),
    max_files=st.integers(0, 3),
    max_fields=st.integers(0, 3),
    max_part_size=st.integers(1, 20),
    split=st.integers(1, 40),
)
def test_multipart_hypothesis(
    parts: list[tuple[bytes, bytes]], truncate: int, max_files: int, max_fields: int, max_part_size: int, split: int
) -> None:
    body = multipart(parts)
    body = body[: len(body) - truncate] if truncate else body
    chunks = [body[i : i + split] for i in range(0, len(body), split)] or [b""]
    same(MP, chunks, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)


def test_multipart_errors_become_400_in_an_app(test_client_factory: Callable[..., Any], anyio_backend: str) -> None:
    import starlette.applications as s_applications
    import starlette.responses as s_responses
    import starlette.routing as s_routing
    from starlette.testclient import TestClient as StarletteTestClient

    import fastframe.applications as f_applications
    import fastframe.responses as f_responses
    import fastframe.routing as f_routing

    def make(applications: Any, routing: Any, responses: Any) -> Any:
        async def endpoint(request: Any) -> Any:
            form = await request.form(max_fields=1, max_part_size=10)
            return responses.JSONResponse({k: str(v) for k, v in form.items()})

        return applications.Starlette(routes=[routing.Route("/", endpoint, methods=["POST"])])

    ours = test_client_factory(make(f_applications, f_routing, f_responses))
    theirs = StarletteTestClient(make(s_applications, s_routing, s_responses), backend=anyio_backend)
    for kwargs in (
        {"data": {"a": "1"}},
        {"data": {"a": "1", "b": "2"}},
        {"data": {"a": "x" * 20}},
        {"files": {"f": ("a.txt", b"data")}},
        {"content": b"garbage", "headers": {"content-type": "multipart/form-data; boundary=BB"}},
        {"content": b"x", "headers": {"content-type": "multipart/form-data"}},
    ):
        a = ours.post("/", **kwargs)
        b = theirs.post("/", **kwargs)
        assert (a.status_code, a.text) == (b.status_code, b.text)
