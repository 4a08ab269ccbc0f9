"""Path parameter convertors: how a `{name:kind}` placeholder matches, parses and prints.

`regex` is spliced verbatim into the route's pattern, so it must match the text of one value and
nothing around it; `convert` turns the matched text into the value endpoints see, and `to_string`
turns a value back into URL text for `url_path_for`.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")


class Convertor(Generic[T]):
    regex: ClassVar[str] = ""

    def convert(self, value: str) -> T:
        raise NotImplementedError()  # pragma: no cover

    def to_string(self, value: T) -> str:
        raise NotImplementedError()  # pragma: no cover


class IntegerConvertor(Convertor[int]):
    """Decimal digits only: no sign, so negative numbers cannot be printed either."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        number = int(value)
        assert number >= 0, "Negative integers are not supported"
        return str(number)


class FloatConvertor(Convertor[float]):
    """Digits with an optional fraction; printed in fixed notation, which the regex reads back."""

    regex = r"[0-9]+(\.[0-9]+)?"

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: float) -> str:
        number = float(value)
        assert not math.isnan(number), "NaN values are not supported"
        assert not math.isinf(number), "Infinite values are not supported"
        assert number >= 0.0, "Negative floats are not supported"
        fixed = format(number, ".20f").rstrip("0")
        return fixed[:-1] if fixed.endswith(".") else fixed


class UUIDConvertor(Convertor[uuid.UUID]):
    """A UUID in hex, with or without its dashes, either case."""

    regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: uuid.UUID) -> str:
        return str(value)


class StringConvertor(Convertor[str]):
    """One non-empty path segment, as text."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        text = str(value)
        assert "/" not in text, "May not contain path separators"
        assert text != "", "Must not be empty"
        return text


class PathConvertor(Convertor[str]):
    """The rest of the path, slashes included (possibly empty)."""

    regex = ".*"

    def convert(self, value: str) -> str:
        return str(value)

    def to_string(self, value: str) -> str:
        return str(value)


# The kinds a placeholder may name, by the name after its colon; "str" when it names none.
CONVERTOR_TYPES: dict[str, Convertor[Any]] = {
    kind: cls()
    for kind, cls in (
        ("str", StringConvertor),
        ("path", PathConvertor),
        ("int", IntegerConvertor),
        ("float", FloatConvertor),
        ("uuid", UUIDConvertor),
    )
}


def register_url_convertor(key: str, convertor: Convertor[Any]) -> None:
    """Make `{name:key}` placeholders use `convertor` in routes defined from now on."""
    CONVERTOR_TYPES[key] = convertor
