"""Every public name the reference defines exists in the same fastframe module, with the same signature."""

from __future__ import annotations

import importlib
import inspect
import warnings
from typing import Any

import pytest

MODULES = [
    "applications",
    "authentication",
    "background",
    "concurrency",
    "config",
    "convertors",
    "datastructures",
    "endpoints",
    "exceptions",
    "formparsers",
    "middleware",
    "middleware.authentication",
    "middleware.base",
    "middleware.body_limit",
    "middleware.cors",
    "middleware.errors",
    "middleware.exceptions",
    "middleware.gzip",
    "middleware.httpsredirect",
    "middleware.sessions",
    "middleware.trustedhost",
    "middleware.wsgi",
    "requests",
    "responses",
    "routing",
    "schemas",
    "staticfiles",
    "status",
    "templating",
    "testclient",
    "types",
    "websockets",
]


# Listed in docs/differences.md; nothing else may be missing.
KNOWN_ABSENT = {("middleware.wsgi", "WSGIResponder", "sender")}


def shape(obj: Any) -> list[tuple[str, Any, Any]] | None:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [(p.name, p.kind, comparable(p.default)) for p in signature.parameters.values()]


def comparable(default: Any) -> Any:
    # A default that is itself a function or class of the module can only be compared by name.
    if inspect.isfunction(default) or inspect.isclass(default):
        return default.__qualname__
    return default


def defined_public_names(module: Any) -> list[str]:
    return [
        name
        for name in dir(module)
        if not name.startswith("_") and getattr(getattr(module, name), "__module__", None) == module.__name__
    ]


@pytest.mark.parametrize("name", MODULES)
def test_module_matches_the_reference(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = importlib.import_module(f"starlette.{name}")
        ours = importlib.import_module(f"fastframe.{name}")
    for attr in defined_public_names(reference):
        value = getattr(reference, attr)
        assert hasattr(ours, attr), f"fastframe.{name} lacks {attr}"
        mine = getattr(ours, attr)
        if inspect.isclass(value):
            assert inspect.isclass(mine), f"fastframe.{name}.{attr} is not a class"
            for member_name, member in vars(value).items():
                public = not member_name.startswith("_") or member_name in ("__init__", "__call__")
                if public and callable(member) and (name, attr, member_name) not in KNOWN_ABSENT:
                    assert hasattr(mine, member_name), f"fastframe.{name}.{attr} lacks {member_name}"
                    assert shape(getattr(mine, member_name)) == shape(getattr(value, member_name)), (
                        f"{name}.{attr}.{member_name}"
                    )
        elif callable(value):
            assert shape(mine) == shape(value), f"{name}.{attr}"
        else:
            assert mine == value or type(mine) is type(value), f"{name}.{attr}"
