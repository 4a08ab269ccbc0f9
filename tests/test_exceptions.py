from __future__ import annotations

import pickle
from typing import Any

import pytest
import starlette.exceptions as ref

import fastframe.exceptions as ours


def describe(exc: BaseException) -> Any:
    return (str(exc), repr(exc), exc.args, {k: v for k, v in vars(exc).items()})


@pytest.mark.parametrize(
    "args",
    [(404,), (599,), (400, ""), (400, None, {"x": "y"}), (200, "ok"), (418,), (500, "boom", {})],
)
def test_http_exception_matches_reference(args: tuple[Any, ...]) -> None:
    assert describe(ours.HTTPException(*args)) == describe(ref.HTTPException(*args))


def test_http_exception_keywords_and_subclass_repr() -> None:
    exc = ours.HTTPException(status_code=401, detail="who?", headers={"WWW-Authenticate": "Basic"})
    assert (exc.status_code, exc.detail, exc.headers) == (401, "who?", {"WWW-Authenticate": "Basic"})

    class Custom(ours.HTTPException):
        pass

    assert repr(Custom(400)) == "Custom(status_code=400, detail='Bad Request')"


@pytest.mark.parametrize("args", [(1000,), (1001, ""), (1002, "x"), (1000, None)])
def test_websocket_exception_matches_reference(args: tuple[Any, ...]) -> None:
    assert describe(ours.WebSocketException(*args)) == describe(ref.WebSocketException(*args))


def test_exceptions_are_raisable_and_picklable() -> None:
    with pytest.raises(ours.HTTPException) as info:
        raise ours.HTTPException(404, "x")
    assert info.value.status_code == 404
    assert repr(pickle.loads(pickle.dumps(ours.HTTPException(404, "x")))) == repr(
        pickle.loads(pickle.dumps(ref.HTTPException(404, "x")))
    )


def test_deprecation_warning_class() -> None:
    assert issubclass(ours.StarletteDeprecationWarning, UserWarning)
    assert [c.__name__ for c in ours.StarletteDeprecationWarning.__mro__] == [
        c.__name__ for c in ref.StarletteDeprecationWarning.__mro__
    ]
