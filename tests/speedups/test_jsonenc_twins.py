"""Both JSON twins against each other and against the reference JSONResponse / Request.json()."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import enum
import importlib
import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import JSONResponse

from fastframe import speedups
from fastframe._pure import jsonenc as pure_jsonenc

try:
    compiled_jsonenc: Any = importlib.import_module("fastframe._speedups.jsonenc")
except ImportError:  # a pure build: the compiled twin is absent and the pure one stands in
    compiled_jsonenc = pure_jsonenc

TWINS = [pure_jsonenc, compiled_jsonenc]


def outcome(func: Any, *args: Any) -> Any:
    try:
        return ("ok", func(*args))
    except Exception as exc:
        return ("raised", type(exc), str(exc))


def reference_body(content: Any) -> bytes:
    return bytes(JSONResponse(content).body)


def reference_json(body: bytes) -> Any:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    # Nothing in Request.json() suspends with this receive, so one send() runs it to the end.
    coro = request.json()
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("Request.json() suspended")


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (1 is not 1.0, nan is nan)."""
    # Iterative: bodies nest deeper than the recursion limit.
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if repr(x) != repr(y):
                return False
        elif isinstance(x, dict):
            if list(x) != list(y):
                return False
            pending.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            pending.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


def same_outcome(a: Any, b: Any) -> bool:
    if a[0] == "ok" and b[0] == "ok":
        return same(a[1], b[1])
    return bool(a == b)


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Tag(str):
    pass


class Count(int):
    pass


class Ratio(float):
    pass


class Bag(dict):  # type: ignore[type-arg]
    pass


class Items(list):  # type: ignore[type-arg]
    pass


@dataclasses.dataclass
class Point:
    x: int


floats = st.one_of(
    st.floats(),
    st.floats(min_value=-1e-3, max_value=1e-3),
    st.sampled_from([0.0, -0.0, 1e-4, 9.999999999999999e-05, 1e-9, 1e-10, 1e16, 1e300, 5e-324, 0.1]),
)
ints = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**64), max_value=2**65),
    st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30]),
)
texts = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3000)),
    st.sampled_from(["\u2028\u2029", "\x00\x1f\x7f", '"\\/', "\ud800", "a\udfffb", "\U0001f600", "\ufeff"]),
)
oddities = st.sampled_from(
    [
        Colour.RED,
        Level.HIGH,
        Tag("t"),
        Count(5),
        Ratio(1.5),
        Bag(a=1),
        Items([1]),
        collections.OrderedDict(b=1, a=2),
        uuid.UUID(int=1),
        datetime.date(2020, 1, 2),
        Point(1),
        b"bytes",
        {1, 2},
        object(),
        float("nan"),
        float("inf"),
        -float("inf"),
    ]
)
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts)
keys = st.one_of(texts, st.integers(), st.floats(), st.booleans(), st.none(), st.sampled_from([Tag("k"), (1,)]))
json_like = st.recursive(
    st.one_of(scalars, oddities),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(texts, children, max_size=5),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=25,
)
# The common case, which the compiled twin writes itself: exact builtin types only.
plain_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(), st.floats(allow_nan=False, allow_infinity=False)),
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(st.text(), children, max_size=5)),
    max_leaves=30,
)


def test_speedups_module_exposes_the_twin() -> None:
    assert speedups.jsonenc is not None
    assert speedups.jsonenc.dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()
    if speedups.COMPILED["jsonenc"]:
        assert speedups.jsonenc is compiled_jsonenc


@settings(max_examples=600, deadline=None)
@given(st.one_of(json_like, plain_json))
@example({"a": 1e-05, "b": [1.5, -0.0, 1e16, 2**64]})
@example({1: "x", None: 2, False: 3, 1.5: 4})
@example(["\u2028", "\x00", "\x1f", "\x7f", "é", '"', "\\"])
def test_dumps_matches_the_reference_body(content: Any) -> None:
    expected = outcome(reference_body, content)
    for twin in TWINS:
        assert outcome(twin.dumps, content) == expected


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": [value]}
    return value


def _circular() -> Any:
    loop: list[Any] = [1]
    loop.append({"again": loop})
    return loop


@pytest.mark.parametrize("twin", TWINS, ids=["pure", "compiled"])
@pytest.mark.parametrize(
    "content",
    [_nested(60), _nested(200), _nested(2000), _circular(), {"a": {(1, 2): 3}}, [[1e-7]] * 3],
    ids=["depth120", "depth400", "depth4000", "circular", "tuple-key", "tiny-floats"],
)
def test_dumps_matches_the_reference_on_deep_and_circular_content(twin: Any, content: Any) -> None:
    assert outcome(twin.dumps, content) == outcome(reference_body, content)


class _Record:
    """Instances share one key table (a split dict): their __dict__ is content as well."""

    def __init__(self, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self, name, value)


def _with_deleted(content: dict[str, Any], removed: dict[Any, Any]) -> dict[Any, Any]:
    """`content` after holding, then losing, the entries of `removed` (their slots stay behind)."""
    mixed: dict[Any, Any] = dict(content)
    mixed.update(removed)
    for key in removed:
        del mixed[key]
    return mixed


class _Key(str):
    pass


leaves = st.one_of(st.none(), st.booleans(), ints, st.floats(), st.text(max_size=5))
field_names = st.sampled_from(["a", "b", "c", "d", "e"])


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(field_names, st.one_of(leaves, st.lists(leaves, max_size=3)), max_size=5),
    st.dictionaries(
        st.one_of(st.sampled_from(["x", "y"]), st.integers(0, 3), st.sampled_from([_Key("k")])),
        st.one_of(leaves, st.just(math.nan), st.just(object())),
        max_size=3,
    ),
)
def test_dumps_matches_the_reference_on_every_dict_layout(fields: dict[str, Any], removed: dict[Any, Any]) -> None:
    # Shared key tables, deleted entries (what they held must not count) and tables that once held
    # keys other than str are read differently by the compiled walk than a plain dict is.
    first, second = _Record(**fields), _Record(**dict(reversed(list(fields.items()))))
    contents = [vars(first), [vars(first), vars(second)], _with_deleted(fields, removed)]
    if fields:
        key = next(iter(fields))
        delattr(second, key)
        contents.append({"record": vars(second), "key": _Key(key)})
        contents.append({_Key(key): fields[key]})
    for content in contents:
        expected = outcome(reference_body, content)
        for twin in TWINS:
            assert outcome(twin.dumps, content) == expected


def _encodings(value: Any) -> st.SearchStrategy[bytes]:
    text = st.sampled_from(
        [
            json.dumps(value),
            json.dumps(value, ensure_ascii=False),
            json.dumps(value, indent=2, ensure_ascii=False),
            json.dumps(value, separators=(",", ":")),
        ]
    )
    codec = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32"])
    return st.tuples(text, codec).map(lambda tc: tc[0].encode(tc[1], "surrogatepass"))


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        ints,
        st.floats(),
        st.text(),
        st.sampled_from(["\ud800", "\udc00\ud800", "\U0001f600"]),
    ),
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(st.text(), children, max_size=5)),
    max_leaves=25,
)
_JSON_TOKENS = [
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b":",
    b'"a"',
    b'"\\ud800"',
    b'"\\u00e9"',
    b'"\\x"',
    b"1",
    b"-0",
    b"1.5e400",
    b"1e-400",
    b"12345678901234567890",
    b"0.1",
    b"01",
    b"NaN",
    b"-Infinity",
    b"true",
    b"null",
    b" ",
    b"\n",
    b"\x0c",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xc3\xa9",
    b"\x00",
    b'"',
    b"\\",
]
messy_bodies = st.one_of(
    st.binary(max_size=20),
    st.lists(st.sampled_from(_JSON_TOKENS), max_size=20).map(b"".join),
)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(json_values.flatmap(_encodings), messy_bodies))
@example(b"")
@example(b'{"a": 1, "a": 2, "b": [NaN, Infinity, -Infinity, 1e999]}')
@example(b"\xef\xbb\xbf[1]")
@example(b"18446744073709551616")
@example(b"-9223372036854775809")
@example(b"1" * 5000)
@example(b"[" * 3000 + b"]" * 3000)
@example(b"[" * 300 + b"]" * 300)
@example(b"[" * 1000 + b"]" * 1000)
@example(b'"\\ud800"')
@example(b'"\xed\xa0\x80"')
def test_loads_matches_the_reference_request_json(body: bytes) -> None:
    expected = outcome(reference_json, body)
    for twin in TWINS:
        got = outcome(twin.loads, body)
        assert same_outcome(got, expected), (got, expected)


@pytest.mark.parametrize("twin", TWINS, ids=["pure", "compiled"])
@pytest.mark.parametrize("depth", [100, 300, 1010, 5000])
def test_loads_matches_the_reference_on_deep_nesting(twin: Any, depth: int) -> None:
    # Past the recursion limit the reference raises RecursionError; orjson alone would accept 1010.
    body = b"[" * depth + b"]" * depth
    assert same_outcome(outcome(twin.loads, body), outcome(reference_json, body))


@pytest.mark.parametrize("twin", TWINS, ids=["pure", "compiled"])
@pytest.mark.parametrize("body", [b"[1]", bytearray(b"[1]"), "[1]", "\ufeff[1]", memoryview(b"[1]"), None])
def test_loads_on_other_input_types_behaves_like_json_loads(twin: Any, body: Any) -> None:
    assert same_outcome(outcome(twin.loads, body), outcome(json.loads, body))


@pytest.mark.parametrize("twin", TWINS, ids=["pure", "compiled"])
def test_round_trip_of_a_typical_payload(twin: Any) -> None:
    payload = {"id": 7, "name": "Zoë", "tags": ["a", "b"], "score": 0.5, "ok": True, "none": None}
    body = twin.dumps(payload)
    assert body == reference_body(payload)
    assert twin.loads(body) == payload
    assert math.isnan(twin.loads(b"NaN"))


@settings(max_examples=2000, deadline=None)
@given(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-(10**15), 10**15).flatmap(lambda n: st.integers(0, 16).map(lambda k: n / 10**k)),
        st.decimals(min_value=-(10**15), max_value=10**15, places=6).map(float),
    )
)
@example(0.1)
@example(2 / 3)
@example(1e-4)
@example(9.999999999999999e14)
@example(1e15)
@example(-0.0)
def test_floats_are_written_as_float_repr(number: float) -> None:
    expected = reference_body([number, {"f": number}])
    for twin in TWINS:
        assert twin.dumps([number, {"f": number}]) == expected


def test_many_distinct_keys_and_repeated_ones_encode_as_the_reference() -> None:
    # More keys than the compiled twin keeps written, seen again in another order: the cache must
    # never mix two keys up, whatever it dropped or kept.
    keys = [f"k{i}\u00e9\"\\\n" for i in range(3000)]
    first = {key: i for i, key in enumerate(keys)}
    second = {key: [i] for i, key in reversed(list(enumerate(keys)))}
    for content in (first, second, [first, second]):
        expected = reference_body(content)
        for twin in TWINS:
            assert twin.dumps(content) == expected


# The compiled twin scans strings eight bytes at a time, starts with a 4 KiB buffer (less 64 bytes of
# slack) and copies cached keys in 16-byte blocks: escapes at every offset in and across a word, and
# bodies that outgrow the first buffer inside a string, an escape or a key, cached or not.
escapables = st.text(alphabet=st.sampled_from('ab"\\\n\x00\x1f\x7f/\u00e9\u2028'), max_size=40)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(st.integers(0, 80), st.integers(3900, 4160)),
    escapables,
    st.lists(escapables, max_size=4),
    st.integers(0, 70),
)
def test_dumps_matches_the_reference_across_word_and_buffer_boundaries(
    pad: int, text: str, more: list[str], key_size: int
) -> None:
    fields = {"k" * key_size + text[:2]: more, text: text, "é" * (key_size // 2): [text, *more]}
    content = ["x" * pad, text, fields, fields, [text] * 3]
    expected = outcome(reference_body, content)
    for twin in TWINS:
        assert outcome(twin.dumps, content) == expected
