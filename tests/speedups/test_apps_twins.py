"""The apps twins against each other: calling an instance of a CallableApp class gives what calling
any Python object with that `__call__` gives, however `__call__` is defined or later changed."""

from __future__ import annotations

import copy
import functools
import importlib
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastframe import speedups
from fastframe._pure import apps as pure_apps
from fastframe.applications import Starlette
from fastframe.middleware.exceptions import ExceptionMiddleware
from fastframe.routing import Router

try:
    compiled_apps: Any = importlib.import_module("fastframe._speedups.apps")
except ImportError:  # a pure build: the compiled twin is absent and the pure one stands in
    compiled_apps = pure_apps

APPS_TWINS = [pure_apps, compiled_apps]


def _outcome(call: Any) -> Any:
    try:
        return ("returned", call())
    except Exception as exc:  # the exception's type and text are part of what is compared
        return ("raised", type(exc), str(exc))


def _classes(twin: Any) -> dict[str, Any]:
    """Classes whose `__call__` takes each form a class can give it; one plain Python twin for each."""

    class Plain(twin.CallableApp):
        def __init__(self) -> None:
            twin.arm(self)
            self.seen: list[Any] = []

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            self.seen.append((args, kwargs))
            return (type(self).__name__, args, sorted(kwargs.items()))

    class Unarmed(Plain):
        def __init__(self) -> None:
            self.seen = []

    class Deeper(Plain):
        pass

    class Static(twin.CallableApp):
        def __init__(self) -> None:
            twin.arm(self)

        __call__ = staticmethod(lambda *args, **kwargs: ("static", args, sorted(kwargs.items())))

    class Partial(twin.CallableApp):
        def __init__(self) -> None:
            twin.arm(self)

        __call__ = functools.partialmethod(lambda self, *args, **kwargs: ("partial", args, sorted(kwargs.items())), 0)

    class Raising(Plain):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            raise LookupError(f"called with {len(args)} arguments")

    class Strict(Plain):
        def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
            return ("strict", scope, receive, send)

    class NotCallable(twin.CallableApp):
        def __init__(self) -> None:
            twin.arm(self)

    return {cls.__name__: cls for cls in (Plain, Unarmed, Deeper, Static, Partial, Raising, Strict, NotCallable)}


argument = st.one_of(st.integers(), st.text(max_size=3), st.none())
keyword = st.sampled_from(["scope", "receive", "send", "extra"])


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["Plain", "Unarmed", "Deeper", "Static", "Partial", "Raising", "Strict", "NotCallable"]),
    st.lists(argument, max_size=4),
    st.dictionaries(keyword, argument, max_size=2),
    st.sampled_from(["direct", "keyword", "star", "partial", "method"]),
)
def test_calls_give_what_the_pure_twin_gives(name: str, args: list[Any], kwargs: dict[str, Any], how: str) -> None:
    results = [_call(_classes(twin)[name](), args, kwargs, how) for twin in APPS_TWINS]
    assert results[0] == results[1]


def _call(instance: Any, args: list[Any], kwargs: dict[str, Any], how: str) -> Any:
    if how == "direct" and len(args) == 3 and not kwargs:
        return _outcome(lambda: instance(args[0], args[1], args[2]))
    if how == "keyword":
        # A call with keywords spelled out: the arguments come as an array with their names.
        return _outcome(lambda: instance(len(args), scope=kwargs.get("scope")))
    if how == "partial":
        return _outcome(lambda: functools.partial(instance, *args)(**kwargs))
    if how == "method":
        return _outcome(lambda: instance.__call__(*args, **kwargs))
    return _outcome(lambda: instance(*args, **kwargs))


def test_call_changed_on_the_class_is_what_runs() -> None:
    for twin in APPS_TWINS:
        cls = _classes(twin)["Plain"]
        instance = cls()
        assert instance(1, 2, 3) == ("Plain", (1, 2, 3), [])
        cls.__call__ = lambda self, *args: ("replaced", args)
        assert instance(1, 2, 3) == ("replaced", (1, 2, 3))
        del cls.__call__
        # Plain's own __call__ is gone; the base has none, so the instance is no longer callable.
        with pytest.raises(TypeError, match="not callable"):
            instance(1, 2, 3)
        cls.__call__ = staticmethod(lambda *args: ("static", args))
        assert instance(1, 2, 3) == ("static", (1, 2, 3))


def test_apps_stay_copyable_and_picklable_by_their_state() -> None:
    for twin in APPS_TWINS:
        instance = _classes(twin)["Plain"]()
        instance(1)
        copied = copy.copy(instance)
        assert copied.seen == [((1,), {})]
        assert copied(2) == ("Plain", (2,), [])
    app = Starlette()
    assert copy.copy(app).router is app.router
    assert copy.deepcopy(Router(redirect_slashes=False)).redirect_slashes is False
    assert pickle.loads(pickle.dumps(ExceptionMiddleware(Router()))).app.routes == []


async def _noop(scope: Any, receive: Any, send: Any) -> None:
    return None


def test_the_framework_app_classes_are_callable_apps() -> None:
    for cls in (Starlette, ExceptionMiddleware, Router):
        assert issubclass(cls, speedups.apps.CallableApp)
    app = Starlette()
    coroutine = app({"type": "lifespan"}, _noop, _noop)
    assert coroutine.__qualname__ == "serve"
    coroutine.close()
