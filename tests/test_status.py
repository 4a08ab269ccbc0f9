from __future__ import annotations

import warnings

import pytest
import starlette.status as ref

import fastframe.status as ours
from fastframe.exceptions import StarletteDeprecationWarning


def test_public_names_and_values_match_reference() -> None:
    assert ours.__all__ == ref.__all__
    assert {name: getattr(ours, name) for name in ours.__all__} == {name: getattr(ref, name) for name in ref.__all__}


def test_dir_lists_current_and_deprecated_names() -> None:
    assert dir(ours) == dir(ref)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("HTTP_413_REQUEST_ENTITY_TOO_LARGE", "HTTP_413_CONTENT_TOO_LARGE"),
        ("HTTP_414_REQUEST_URI_TOO_LONG", "HTTP_414_URI_TOO_LONG"),
        ("HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE", "HTTP_416_RANGE_NOT_SATISFIABLE"),
        ("HTTP_422_UNPROCESSABLE_ENTITY", "HTTP_422_UNPROCESSABLE_CONTENT"),
    ],
)
def test_deprecated_names_warn_like_reference(old: str, new: str) -> None:
    with pytest.warns(StarletteDeprecationWarning) as ours_record:
        value = getattr(ours, old)
    with warnings.catch_warnings(record=True) as ref_record:
        warnings.simplefilter("always")
        ref_value = getattr(ref, old)
    assert value == ref_value == getattr(ours, new)
    assert [str(w.message) for w in ours_record] == [str(w.message) for w in ref_record]
    assert ours_record[0].filename == __file__


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'HTTP_999_NOPE'"):
        ours.HTTP_999_NOPE  # noqa: B018
    with pytest.raises(ImportError):
        from fastframe.status import HTTP_999_NOPE  # noqa: F401
