"""Run code written for Starlette (FastAPI, say) on fastframe, unchanged.

`install_as_starlette()` puts an import hook first on `sys.meta_path`. From then on
`import starlette` and `import starlette.<sub>` give fastframe's own module objects:
`sys.modules["starlette.responses"] is fastframe.responses`, so there is one
`JSONResponse` class, and an `isinstance` check or a monkeypatch made through either
name sees it. Nothing of the installed `starlette` distribution is imported; its
metadata (`importlib.metadata.version("starlette")`) is left as it is, because packages
such as FastAPI require that distribution.

The hook must be in place before anything imports starlette: modules already imported
keep the classes they hold, so a mix of two engines would follow. The call refuses with
a RuntimeError when it finds a real `starlette` module in `sys.modules`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from types import ModuleType

ALIAS = "starlette"
TARGET = "fastframe"

# The environment variable `python -m fastframe` reads (see fastframe/__main__.py).
ENV_VAR = "FASTFRAME_AS_STARLETTE"


def _target_name(fullname: str) -> str | None:
    """'starlette.middleware.cors' -> 'fastframe.middleware.cors'; None for names outside the alias."""
    if fullname == ALIAS:
        return TARGET
    if fullname.startswith(ALIAS + "."):
        return TARGET + fullname[len(ALIAS) :]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Hands the import system an already imported fastframe module under the starlette name.

    The import system creates a placeholder module from the spec; `exec_module` replaces
    it in `sys.modules` by the fastframe module, and the import statement returns what
    `sys.modules` holds. The fastframe module keeps its own `__name__` and `__spec__`.
    """

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[module.__name__] = self.module


# The Starlette release fastframe stands in for: what `starlette.__version__` says under the alias
# (integrations such as sentry-sdk read it to decide what they support).
STARLETTE_VERSION = "1.10.0"


class _TopLoader(importlib.abc.Loader):
    """Makes the `starlette` package itself: Starlette's top level holds only its version, so the
    alias's is a module of its own that says which release fastframe stands in for (fastframe's
    `__version__` is fastframe's). Its submodules are fastframe's, found by the finder below."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__version__ = STARLETTE_VERSION  # type: ignore[attr-defined]
        module.__fastframe_alias__ = True  # type: ignore[attr-defined]


class StarletteAliasFinder(importlib.abc.MetaPathFinder):
    """Finds `starlette` and `starlette.*` as `fastframe` and `fastframe.*`."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        real = _target_name(fullname)
        if real is None:
            return None
        if fullname == ALIAS:
            top = importlib.machinery.ModuleSpec(fullname, _TopLoader(), is_package=True)
            top.submodule_search_locations = []
            return top
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as exc:
            if exc.name != real:
                raise  # fastframe's module exists but needs something missing: show that
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: fastframe is installed as starlette "
                f"(fastframe.install_as_starlette()) and has no module {real!r}",
                name=fullname,
            ) from None
        is_package = hasattr(module, "__path__")
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module), is_package=is_package)


def _finder() -> StarletteAliasFinder | None:
    for finder in sys.meta_path:
        if isinstance(finder, StarletteAliasFinder):
            return finder
    return None


def active() -> bool:
    """True when the alias is installed in this process."""
    return _finder() is not None


def _foreign_starlette_modules() -> list[str]:
    """Names of starlette modules in sys.modules that are not the alias's fastframe modules."""
    foreign = []
    for name, module in list(sys.modules.items()):
        real = _target_name(name)
        if real is None or module is None:
            continue
        if module is not sys.modules.get(real) and not getattr(module, "__fastframe_alias__", False):
            foreign.append(name)
    return sorted(foreign)


def install_as_starlette() -> None:
    """Make `import starlette` and `import starlette.<sub>` resolve to fastframe's modules.

    Call it before the application (or FastAPI) is imported. Raises RuntimeError when a
    real starlette module was imported already. Calling it again is harmless.
    """
    foreign = _foreign_starlette_modules()
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise RuntimeError(
            "fastframe.install_as_starlette() must run before starlette is imported, "
            f"but these modules are already imported from the real starlette: {shown}. "
            "Call it first thing (before importing fastapi or the app), or start the server "
            "with `python -m fastframe serve module:app`."
        )
    if _finder() is None:
        sys.meta_path.insert(0, StarletteAliasFinder())


# How `python -m fastframe serve` hands the user's app to uvicorn's worker and reload processes:
# those are fresh interpreters, so uvicorn is given the factory below, which installs the alias
# there before it imports the app named in these variables.
SERVE_APP_VAR = "FASTFRAME_SERVE_APP"
SERVE_FACTORY_VAR = "FASTFRAME_SERVE_APP_FACTORY"
SERVE_FACTORY = "fastframe._as_starlette:serve_app"


def serve_app() -> object:
    """The app `python -m fastframe serve` was asked for, imported with fastframe installed as starlette."""
    from uvicorn.importer import import_from_string

    if os.environ.get(ENV_VAR, "") != "0":
        install_as_starlette()
    app = import_from_string(os.environ[SERVE_APP_VAR])
    if os.environ.get(SERVE_FACTORY_VAR) == "1":
        app = app()
    return app
