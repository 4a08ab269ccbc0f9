"""The one place that chooses between the compiled hot paths and their pure-Python twins.

FASTFRAME_NO_EXTENSIONS (any non-empty value) selects the pure twins. It is read once,
at import. Public modules import hot paths from here, never from a twin directly.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

HOT_PATHS = ("http", "routing", "jsonenc", "response")

NO_EXTENSIONS = bool(os.environ.get("FASTFRAME_NO_EXTENSIONS"))


def _load(name: str) -> tuple[ModuleType, bool]:
    if not NO_EXTENSIONS:
        try:
            return importlib.import_module(f"fastframe._speedups.{name}"), True
        except ImportError:
            pass
    return importlib.import_module(f"fastframe._pure.{name}"), False


def _available(name: str) -> bool:
    try:
        importlib.import_module(f"fastframe._pure.{name}")
    except ImportError:
        return False
    return True


COMPILED: dict[str, bool] = {}
_modules: dict[str, ModuleType] = {}
for _name in HOT_PATHS:
    if _available(_name):
        _modules[_name], COMPILED[_name] = _load(_name)

# "cython" when the compiled modules are in use; a hot path with no compiled twin stays pure.
IMPLEMENTATION = "cython" if any(COMPILED.values()) else "python"

# Typed Any: each is one of two twin modules with the same names, checked by the twin tests.
http: Any = _modules["http"]
routing: Any = _modules.get("routing")
jsonenc: Any = _modules.get("jsonenc")
response: Any = _modules["response"]

