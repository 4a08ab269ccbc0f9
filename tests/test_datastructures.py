"""fastframe.datastructures against Starlette's: same results, reprs and exceptions on arbitrary input."""

from __future__ import annotations

import functools
import io
import tempfile
from collections.abc import Callable
from typing import Any

import anyio
import pytest
import starlette._utils as ref_utils
import starlette.datastructures as ref
from hypothesis import example, given, settings
from hypothesis import strategies as st

import fastframe._utils as ours_utils
import fastframe.datastructures as ours

SETTINGS = settings(max_examples=200, deadline=None)


def outcome(fn: Callable[[], Any]) -> Any:
    """A comparable result: the value (reprs for our own types), or the exception's type name and message.

    A TypeError's message is left out: for arguments of the wrong type it names whichever operation
    met them first, which is the implementation's business, not the API's.
    """
    try:
        return normalise(fn())
    except TypeError:
        return ("raised", "TypeError")
    except Exception as exc:  # noqa: BLE001 - the exception is the result being compared
        return ("raised", type(exc).__name__, str(exc))


def normalise(value: Any) -> Any:
    if isinstance(value, ref.URL | ours.URL | ref.Headers | ours.Headers | ref.ImmutableMultiDict):
        return ("obj", type(value).__name__, repr(value), str(value))
    if isinstance(value, ours.ImmutableMultiDict):
        return ("obj", type(value).__name__, repr(value), str(value))
    if type(value) in (list, tuple):
        return type(value)(normalise(v) for v in value)
    return value


def same(make: Callable[[Any], Any]) -> None:
    """Run `make(module)` against both modules and require equal outcomes."""
    expected = outcome(lambda: make(ref))
    actual = outcome(lambda: make(ours))
    assert actual == expected


# ---------------------------------------------------------------- URL

url_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
url_safe = st.text(alphabet="abcXYZ019-._~%!$&'()*+,;=:@/?#[] ", max_size=10)
schemes = st.sampled_from(["", "http", "https", "ws", "wss", "HTTPS", "ftp", "x-y"])
hosts = st.one_of(
    st.sampled_from(["", "example.com", "Example.COM", "[::1]", "127.0.0.1", "[fe80::1]", "xn--e.com", "h"]),
    url_safe,
)
ports = st.one_of(st.none(), st.integers(min_value=0, max_value=70000).map(str), url_safe)


@st.composite
def urls(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.one_of(url_text, url_safe))
    scheme = draw(schemes)
    userinfo = draw(st.one_of(st.none(), st.sampled_from(["u", "u:p", ":p", "u:", "us er:p@ss"]), url_safe))
    host = draw(hosts)
    port = draw(ports)
    netloc = (f"{userinfo}@" if userinfo is not None else "") + host + (f":{port}" if port is not None else "")
    path = draw(st.one_of(st.just(""), url_safe.map(lambda p: "/" + p)))
    query = draw(st.one_of(st.none(), url_safe))
    fragment = draw(st.one_of(st.none(), url_safe))
    url = (f"{scheme}:" if scheme else "") + ("//" + netloc if netloc or draw(st.booleans()) else "") + path
    if query is not None:
        url += "?" + query
    if fragment is not None:
        url += "#" + fragment
    return url


URL_PROPERTIES = [
    "scheme",
    "netloc",
    "path",
    "query",
    "fragment",
    "username",
    "password",
    "hostname",
    "port",
    "is_secure",
    "components",
]


@SETTINGS
@given(urls())
def test_url_properties_match_reference(url: str) -> None:
    same(lambda m: (str(m.URL(url)), repr(m.URL(url))))
    for name in URL_PROPERTIES:
        same(lambda m, name=name: getattr(m.URL(url), name))


replace_values = st.one_of(st.none(), url_safe, st.integers(min_value=0, max_value=70000))
replace_kwargs = st.dictionaries(
    st.sampled_from(["scheme", "netloc", "path", "query", "fragment", "username", "password", "hostname", "port"]),
    replace_values,
    max_size=4,
)


@SETTINGS
@given(urls(), replace_kwargs)
def test_url_replace_matches_reference(url: str, kwargs: dict[str, Any]) -> None:
    same(lambda m: m.URL(url).replace(**kwargs))


query_kwargs = st.dictionaries(
    st.text(alphabet="ab c&=%é", min_size=1, max_size=4),
    st.one_of(st.text(max_size=4), st.integers(), st.lists(st.integers(), max_size=2)),
    max_size=3,
)


@SETTINGS
@given(urls(), query_kwargs, st.one_of(st.text(max_size=3), st.lists(st.text(max_size=3), max_size=3)))
def test_url_query_param_helpers_match_reference(url: str, kwargs: dict[str, Any], remove: Any) -> None:
    same(lambda m: m.URL(url).include_query_params(**kwargs))
    same(lambda m: m.URL(url).replace_query_params(**kwargs))
    same(lambda m: m.URL(url).remove_query_params(remove))


@SETTINGS
@given(urls(), urls())
def test_url_equality_matches_reference(a: str, b: str) -> None:
    same(lambda m: (m.URL(a) == m.URL(b), m.URL(a) == b, m.URL(a) != b, m.URL(a) == 1))


def test_url_components_and_errors() -> None:
    assert ours.URL(scheme="https", netloc="a.com", path="/x", query="q=1") == "https://a.com/x?q=1"
    with pytest.raises(AssertionError, match="Cannot set both"):
        ours.URL("x", scheme="http")
    with pytest.raises(TypeError):
        hash(ours.URL("http://a"))
    same(lambda m: m.URL("http://a:b/").port)
    same(lambda m: m.URL("http://a/").replace(foo=1))
    same(lambda m: m.URL("http://[::1/").path)


header_bytes = st.binary(max_size=6) | st.sampled_from([b"host", b"Host", b"a", b"A", b"vary", b"x-y", b""])
raw_headers = st.lists(st.tuples(header_bytes, header_bytes), max_size=6)


@st.composite
def http_scopes(draw: st.DrawFn) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": draw(st.sampled_from(["http", "websocket"]))}
    if draw(st.booleans()):
        scope["scheme"] = draw(st.sampled_from(["http", "https", "ws", "wss"]))
    if draw(st.booleans()):
        host = draw(st.sampled_from(["testserver", "::1", "127.0.0.1", "h"]))
        scope["server"] = (host, draw(st.one_of(st.none(), st.sampled_from([80, 443, 8000]))))
    scope["path"] = draw(st.sampled_from(["/", "/a b", "/p/q", ""]))
    if draw(st.booleans()):
        scope["root_path"] = draw(st.sampled_from(["", "/p", "/r"]))
    if draw(st.booleans()):
        scope["query_string"] = draw(st.one_of(st.binary(max_size=6), st.sampled_from([b"a=1", b"q=%20"])))
    host_header = draw(
        st.one_of(
            st.none(),
            st.sampled_from([b"example.com", b"Ex.com:8080", b"[::1]:1", b"a:65536", b"a:b", b"\xff", b""]),
            st.binary(max_size=8),
            st.text(alphabet="a[]:.0v9%-_f", max_size=10).map(str.encode),
        )
    )
    headers = draw(raw_headers)
    if host_header is not None:
        headers.insert(draw(st.integers(0, len(headers))), (b"host", host_header))
    scope["headers"] = headers
    return scope


@SETTINGS
@given(http_scopes())
def test_url_from_scope_matches_reference(scope: dict[str, Any]) -> None:
    same(lambda m: m.URL(scope=dict(scope)))


@SETTINGS
@given(st.one_of(st.none(), st.text(alphabet="a[]:.0v9%-_fVG: é٣\u212aſıİ@/", max_size=12), st.text(max_size=8)))
@example("[v1.K]")
@example("[V1.x]")
@example("[::ffff:1.2.3.4]:80")
@example("[fe80::1%25eth0]")
def test_parse_host_header_matches_reference(host: str | None) -> None:
    expected = ref_utils.parse_host_header(host)
    actual = ours_utils.parse_host_header(host)
    assert (actual is None) == (expected is None)
    if expected is not None and actual is not None:
        assert (actual.host, actual.port) == (expected.host, expected.port)


@pytest.mark.parametrize(
    ("protocol", "host", "base"),
    [
        ("", "", "http://h/"),
        ("", "", "http://h/base"),
        ("", "x.com", "https://h/base/"),
        ("websocket", "", "https://h/"),
        ("websocket", "", "http://h/"),
        ("http", "", "wss://h/"),
        ("http", "", "ws://h/"),
    ],
)
def test_urlpath_matches_reference(protocol: Any, host: str, base: str) -> None:
    same(lambda m: repr(m.URLPath("/a", protocol, host)))
    same(lambda m: m.URLPath("/a", protocol, host).make_absolute_url(base))
    same(lambda m: m.URLPath("/a", protocol, host).make_absolute_url(m.URL(base)))
    path = ours.URLPath("/a", protocol, host)
    assert path == "/a" and path.protocol == protocol and path.host == host


def test_urlpath_rejects_unknown_protocol() -> None:
    same(lambda m: m.URLPath("/a", "ftp"))


# ---------------------------------------------------------------- Headers

lookup_keys = st.sampled_from(["a", "A", "host", "Host", "vary", "x-y", "", "missing"]) | st.text(max_size=3)


@SETTINGS
@given(raw_headers, st.lists(lookup_keys, max_size=4))
def test_headers_read_api_matches_reference(raw: list[tuple[bytes, bytes]], keys: list[str]) -> None:
    same(lambda m: m.Headers(raw=list(raw)))
    same(lambda m: (list(m.Headers(raw=raw)), len(m.Headers(raw=raw)), m.Headers(raw=raw).raw))
    same(lambda m: (m.Headers(raw=raw).keys(), m.Headers(raw=raw).values(), m.Headers(raw=raw).items()))
    same(lambda m: (m.Headers(raw=raw).mutablecopy(), type(m.Headers(raw=raw).mutablecopy()).__name__))
    for key in keys:
        same(lambda m, key=key: m.Headers(raw=raw)[key])
        same(lambda m, key=key: m.Headers(raw=raw).get(key))
        same(lambda m, key=key: m.Headers(raw=raw).get(key, "dflt"))
        same(lambda m, key=key: m.Headers(raw=raw).getlist(key))
        same(lambda m, key=key: key in m.Headers(raw=raw))


@SETTINGS
@given(raw_headers, raw_headers)
def test_headers_equality_matches_reference(a: list[tuple[bytes, bytes]], b: list[tuple[bytes, bytes]]) -> None:
    same(lambda m: m.Headers(raw=a) == m.Headers(raw=b))
    same(lambda m: m.Headers(raw=a) == m.MutableHeaders(raw=list(a)))
    same(lambda m: m.Headers(raw=a) == dict(m.Headers(raw=a).items()))


header_text = st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=4) | st.sampled_from(["a", "A", "Vary"])


@SETTINGS
@given(st.dictionaries(header_text, header_text, max_size=4))
def test_headers_from_mapping_matches_reference(mapping: dict[str, str]) -> None:
    same(lambda m: m.Headers(mapping))
    same(lambda m: m.Headers(headers=mapping).raw)


mutations = st.lists(
    st.tuples(
        st.sampled_from(["set", "del", "append", "setdefault", "update", "ior", "or", "vary"]),
        header_text,
        header_text,
    ),
    max_size=8,
)


def apply_mutations(module: Any, raw: list[tuple[bytes, bytes]], ops: list[tuple[str, str, str]]) -> Any:
    headers = module.MutableHeaders(raw=list(raw))
    trace: list[Any] = []
    for op, key, value in ops:

        def step(op: str = op, key: str = key, value: str = value) -> Any:
            nonlocal headers
            if op == "set":
                headers[key] = value
            elif op == "del":
                del headers[key]
            elif op == "append":
                headers.append(key, value)
            elif op == "setdefault":
                return headers.setdefault(key, value)
            elif op == "update":
                headers.update({key: value})
            elif op == "ior":
                headers |= {key: value}
            elif op == "or":
                return (headers | {key: value}).raw
            elif op == "vary":
                headers.add_vary_header(value)
            return None

        trace.append(outcome(step))
        trace.append(list(headers.raw))
    trace.append(repr(headers))
    return trace


@SETTINGS
@given(raw_headers, mutations)
def test_mutable_headers_mutations_match_reference(
    raw: list[tuple[bytes, bytes]], ops: list[tuple[str, str, str]]
) -> None:
    assert apply_mutations(ours, raw, ops) == apply_mutations(ref, raw, ops)


def test_headers_constructor_rules() -> None:
    same(lambda m: m.Headers({"a": "1"}, raw=[]))
    same(lambda m: m.Headers({"a": "1"}, scope={}))
    same(lambda m: m.Headers(raw=[], scope={"headers": []}))
    same(lambda m: m.Headers())
    same(lambda m: m.MutableHeaders() | [("a", "b")])
    same(lambda m: m.Headers(raw=[(b"a", b"1")]).__hash__)


def test_headers_from_scope_share_the_scope_list() -> None:
    original = [(b"x", b"y"), (b"z", b"w")]
    scope: dict[str, Any] = {"headers": original}
    headers = ours.MutableHeaders(scope=scope)
    assert scope["headers"] is not original
    headers["new"] = "1"
    del headers["x"]
    assert scope["headers"] == [(b"z", b"w"), (b"new", b"1")]
    assert original == [(b"x", b"y"), (b"z", b"w")]


def test_headers_do_not_decode_on_construction() -> None:
    class Exploding(list):  # type: ignore[type-arg]
        def __iter__(self) -> Any:
            raise AssertionError("iterated at construction")

    ours.Headers(raw=Exploding([(b"a", b"1")]))
    assert not hasattr(ours.Headers(), "__dict__")


def test_immutable_headers_raw_is_a_copy() -> None:
    raw = [(b"a", b"1")]
    headers = ours.Headers(raw=raw)
    headers.raw.append((b"b", b"2"))
    assert headers.raw == [(b"a", b"1")]
    assert ours.MutableHeaders(raw=raw).raw is raw


# ---------------------------------------------------------------- QueryParams / multidicts

query_strings = st.text(max_size=16) | st.text(alphabet="ab=&;%+2F0 é", max_size=16)
pairs = st.lists(st.tuples(st.text(max_size=3), st.one_of(st.text(max_size=3), st.integers())), max_size=5)


@SETTINGS
@given(query_strings)
def test_query_params_from_string_matches_reference(qs: str) -> None:
    same(lambda m: m.QueryParams(qs))
    same(lambda m: m.QueryParams(qs.encode("utf-8", "surrogatepass")))
    same(lambda m: m.QueryParams(qs).multi_items())
    same(lambda m: (list(m.QueryParams(qs).items()), list(m.QueryParams(qs).values()), len(m.QueryParams(qs))))
    for key in ("a", "b", "", "x"):
        same(lambda m, key=key: m.QueryParams(qs)[key])
        same(lambda m, key=key: m.QueryParams(qs).getlist(key))
        same(lambda m, key=key: (key in m.QueryParams(qs), m.QueryParams(qs).get(key)))


@SETTINGS
@given(pairs, st.dictionaries(st.text(max_size=2), st.text(max_size=2), max_size=2))
def test_query_params_from_pairs_matches_reference(items: list[tuple[str, Any]], kwargs: dict[str, str]) -> None:
    same(lambda m: m.QueryParams(items))
    same(lambda m: m.QueryParams(dict(items)))
    same(lambda m: m.QueryParams(items, **kwargs))
    same(lambda m: m.QueryParams(m.ImmutableMultiDict(items)))
    same(lambda m: m.ImmutableMultiDict(items, **kwargs))
    same(lambda m: m.MultiDict(items))
    same(lambda m: m.FormData(items))


@SETTINGS
@given(pairs, pairs)
def test_multidict_equality_matches_reference(a: list[tuple[str, Any]], b: list[tuple[str, Any]]) -> None:
    same(lambda m: m.QueryParams(a) == m.QueryParams(b))
    same(lambda m: m.ImmutableMultiDict(a) == m.ImmutableMultiDict(b))
    same(lambda m: m.ImmutableMultiDict(a) == m.MultiDict(a))
    same(lambda m: m.QueryParams(a) == dict(a))


md_ops = st.lists(
    st.tuples(
        st.sampled_from(
            ["set", "del", "pop", "popd", "popitem", "poplist", "clear", "setdefault", "setlist", "append", "update"]
        ),
        st.sampled_from(["a", "b", "c"]),
        st.lists(st.text(alphabet="xyz", max_size=2), max_size=3),
    ),
    max_size=8,
)


def md_step(md: Any, op: str, key: str, values: list[str]) -> Any:
    first = values[0] if values else "v"
    if op == "set":
        md[key] = first
    elif op == "del":
        del md[key]
    elif op == "pop":
        return md.pop(key)
    elif op == "popd":
        return md.pop(key, "dflt")
    elif op == "popitem":
        return md.popitem()
    elif op == "poplist":
        return md.poplist(key)
    elif op == "clear":
        md.clear()
    elif op == "setdefault":
        return md.setdefault(key, first)
    elif op == "setlist":
        md.setlist(key, values)
    elif op == "append":
        md.append(key, first)
    elif op == "update":
        md.update([(key, v) for v in values], extra=first)
    return None


def apply_md_ops(module: Any, items: list[tuple[str, Any]], ops: list[tuple[str, str, list[str]]]) -> Any:
    md = module.MultiDict(items)
    trace: list[Any] = []
    for op, key, values in ops:
        trace.append(outcome(functools.partial(md_step, md, op, key, values)))
        trace.append((md.multi_items(), list(md.items()), repr(md)))
    return trace


@SETTINGS
@given(pairs, md_ops)
def test_multidict_mutations_match_reference(items: list[tuple[str, Any]], ops: Any) -> None:
    assert apply_md_ops(ours, items, ops) == apply_md_ops(ref, items, ops)


def test_multidict_argument_errors() -> None:
    same(lambda m: m.QueryParams("a", "b"))
    same(lambda m: m.QueryParams(1))
    same(lambda m: m.QueryParams(None))
    same(lambda m: m.ImmutableMultiDict([("a", 1)], [("b", 2)]))
    same(lambda m: m.ImmutableMultiDict({"a": ["1", "2"]}))
    same(lambda m: m.MultiDict().popitem())
    with pytest.raises(TypeError):
        hash(ours.QueryParams("a=1"))


# ---------------------------------------------------------------- CommaSeparatedStrings, Secret, State, Address


@SETTINGS
@given(st.text(max_size=16) | st.text(alphabet="a b,'\"\\", max_size=12))
def test_comma_separated_strings_match_reference(value: str) -> None:
    same(lambda m: (list(m.CommaSeparatedStrings(value)), str(m.CommaSeparatedStrings(value))))
    same(lambda m: (repr(m.CommaSeparatedStrings(value)), len(m.CommaSeparatedStrings(value))))


@SETTINGS
@given(st.lists(st.text(max_size=4), max_size=4))
def test_comma_separated_strings_from_sequence_match_reference(value: list[str]) -> None:
    same(lambda m: (list(m.CommaSeparatedStrings(value)), str(m.CommaSeparatedStrings(value))))
    same(lambda m: (repr(m.CommaSeparatedStrings(value)), m.CommaSeparatedStrings(value)[0:2]))


def test_secret_state_address() -> None:
    same(lambda m: (repr(m.Secret("x")), str(m.Secret("x")), bool(m.Secret("")), bool(m.Secret("x"))))
    same(lambda m: (repr(m.Address("h", 1)), m.Address("h", 1) == ("h", 1), m.Address("h", 1).port))

    def state_ops(m: Any) -> Any:
        state = m.State({"x": 1})
        state.a = 2
        state["b"] = 3
        del state.x
        return (state.a, state["b"], len(state), sorted(state), "a" in state, state._state)

    same(state_ops)
    same(lambda m: m.State().missing)
    same(lambda m: m.State()["missing"])
    same(lambda m: m.State().__delattr__("missing"))
    same(lambda m: m.State().__delitem__("missing"))


# ---------------------------------------------------------------- UploadFile / FormData


def upload_trace(module: Any) -> list[Any]:
    async def main() -> list[Any]:
        trace: list[Any] = []
        headers = module.Headers({"content-type": "text/plain"})
        upload = module.UploadFile(io.BytesIO(b"hello"), filename="a.txt", headers=headers)
        trace += [repr(upload), upload.content_type, upload.size]
        trace += [await upload.read(), await upload.read(2)]
        await upload.seek(0)
        trace.append(await upload.read(2))
        await upload.write(b"XY")
        trace.append(upload.size)
        await upload.seek(0)
        trace.append(await upload.read())
        await upload.close()
        trace.append(upload.file.closed)

        sized = module.UploadFile(io.BytesIO(), size=3)
        await sized.write(b"ab")
        trace += [sized.size, repr(sized), sized.content_type]

        for file in (io.BytesIO(b"abc"), tempfile.TemporaryFile(), tempfile.SpooledTemporaryFile(max_size=2)):
            probe = module.UploadFile(file)
            trace.append(probe._in_memory)
            file.close()

        spooled = module.UploadFile(tempfile.SpooledTemporaryFile(max_size=10))
        trace.append(spooled._in_memory)
        await spooled.write(b"123")
        trace.append(spooled._in_memory)
        await spooled.write(b"x" * 20)
        trace.append(spooled._in_memory)
        await spooled.seek(0)
        trace.append(await spooled.read())
        await spooled.close()

        # A field sent more than once (FastAPI's `list[UploadFile]`): close() reaches every part.
        form = module.FormData(
            [("f", module.UploadFile(io.BytesIO(b"x"))), ("s", "v"), ("f", module.UploadFile(io.BytesIO(b"y")))],
            t="u",
        )
        trace.append(repr(form))
        await form.close()
        trace.append([upload.file.closed for upload in form.getlist("f")])
        return trace

    return anyio.run(main)


def test_upload_file_and_form_data_match_reference() -> None:
    assert upload_trace(ours) == upload_trace(ref)


def test_upload_file_rolls_to_disk_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    async def fake_run_in_threadpool(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(func, "__name__", "?"))
        return func(*args, **kwargs)

    monkeypatch.setattr(ours, "run_in_threadpool", fake_run_in_threadpool)

    async def main() -> None:
        upload = ours.UploadFile(tempfile.SpooledTemporaryFile(max_size=4))
        await upload.write(b"ab")
        assert calls == []
        await upload.write(b"cdef")
        assert calls == ["write"]
        await upload.seek(0)
        assert await upload.read() == b"abcdef"
        await upload.close()
        assert calls == ["write", "seek", "read", "close"]

    anyio.run(main)


@settings(max_examples=300, deadline=None)
@given(path=st.text(alphabet=st.sampled_from(list("/\\ab%2F é")), max_size=12))
def test_urlpath_escapes_like_the_reference(path: str) -> None:
    escaped = str(ours.URLPath(path))
    assert escaped == str(ref.URLPath(path))
    # Never a protocol-relative path, which a browser would follow to another host.
    assert not escaped.startswith("//")


# ---------------------------------------------------------------- the private `_list`


def private_list_trace(module: Any) -> list[Any]:
    """`_list` read, then replaced, then every read after it (FastAPI's own tests do this)."""

    def trace(obj: Any, replacement: list[Any]) -> list[Any]:
        steps = [type(obj).__name__, list(obj._list)]
        obj._list = replacement
        steps += [obj._list is replacement, list(obj.keys()), list(obj.items()), len(obj), repr(obj)]
        steps += [obj.getlist(key) for key in ("a", "b", "c")]
        steps += [obj.get("a"), obj.get("c"), "c" in obj]
        if hasattr(obj, "multi_items"):
            steps.append(obj.multi_items())
        if hasattr(obj, "raw"):
            steps.append(obj.raw)
        return steps

    raw = [(b"a", b"1"), (b"b", b"2")]
    scope = {"headers": raw}
    mutable = module.MutableHeaders(raw=list(raw))
    return [
        trace(module.MultiDict([("a", "1"), ("b", "2"), ("a", "3")]), [("a", "9"), ("c", "8")]),
        trace(module.ImmutableMultiDict([("a", "1")]), [("c", "8")]),
        trace(module.QueryParams("a=1&b=2&a=3"), [("a", "9"), ("c", "8")]),
        trace(module.QueryParams(b"a=1&b=2&a=3"), [("a", "9"), ("c", "8")]),
        trace(module.FormData([("a", "1")]), [("c", "8")]),
        module.Headers(raw=raw)._list is raw,
        module.Headers(scope=scope)._list is scope["headers"],
        trace(module.Headers(raw=list(raw)), [(b"a", b"9"), (b"c", b"8")]),
        mutable.raw is mutable._list,
        trace(mutable, [(b"a", b"9"), (b"c", b"8")]),
    ]


def test_private_list_matches_reference() -> None:
    assert private_list_trace(ours) == private_list_trace(ref)
