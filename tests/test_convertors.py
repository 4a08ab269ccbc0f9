from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
import starlette.convertors as ref
from hypothesis import given, settings
from hypothesis import strategies as st

import fastframe.convertors as ours


def outcome(fn: Any) -> Any:
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001
        return ("raised", type(exc).__name__, str(exc))


def test_convertor_types_and_regexes_match_reference() -> None:
    assert list(ours.CONVERTOR_TYPES) == list(ref.CONVERTOR_TYPES)
    for key, convertor in ours.CONVERTOR_TYPES.items():
        reference = ref.CONVERTOR_TYPES[key]
        assert type(convertor).__name__ == type(reference).__name__
        assert convertor.regex == reference.regex
    assert ours.Convertor.regex == ""


values = st.one_of(
    st.text(max_size=6),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.uuids(),
    st.sampled_from(["", "a/b", "1.5", "01", "-3", "12345678-1234-5678-1234-567812345678"]),
    st.sampled_from([math.nan, -math.nan, math.inf, -math.inf, -0.0]),
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["str", "path", "int", "float", "uuid"]), values)
def test_convert_and_to_string_match_reference(key: str, value: Any) -> None:
    ours_conv, ref_conv = ours.CONVERTOR_TYPES[key], ref.CONVERTOR_TYPES[key]
    assert outcome(lambda: ours_conv.to_string(value)) == outcome(lambda: ref_conv.to_string(value))
    if isinstance(value, str):
        expected = outcome(lambda: ref_conv.convert(value))
        actual = outcome(lambda: ours_conv.convert(value))
        if expected[0] == "ok" and isinstance(expected[1], float) and math.isnan(expected[1]):
            assert math.isnan(actual[1])
        else:
            assert actual == expected


def test_round_trips() -> None:
    value = uuid.uuid4()
    conv = ours.CONVERTOR_TYPES["uuid"]
    assert conv.convert(conv.to_string(value)) == value
    assert ours.CONVERTOR_TYPES["float"].to_string(0.1 + 0.2) == "0.30000000000000004441"
    assert ours.CONVERTOR_TYPES["float"].to_string(1e20) == "100000000000000000000"


def test_base_convertor_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        ours.Convertor().convert("a")
    with pytest.raises(NotImplementedError):
        ours.Convertor().to_string("a")


def test_register_url_convertor() -> None:
    class Upper(ours.Convertor[str]):
        regex = "[A-Z]+"

        def convert(self, value: str) -> str:
            return value.lower()

        def to_string(self, value: str) -> str:
            return value.upper()

    ours.register_url_convertor("upper-test", Upper())
    try:
        assert ours.CONVERTOR_TYPES["upper-test"].convert("AB") == "ab"
    finally:
        del ours.CONVERTOR_TYPES["upper-test"]
