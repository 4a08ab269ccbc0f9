"""Settings from the environment and `.env` files, with casting and defaults."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, TypeVar, overload

T = TypeVar("T")


class undefined:
    """Marks a parameter that was not given (None is a legitimate default)."""


class EnvironError(Exception):
    pass


class Environ(MutableMapping[str, str]):
    """A view of os.environ that refuses to change a key once it has been read (or looked for), so
    that settings cannot shift under an application that already used them."""

    def __init__(self, environ: MutableMapping[str, str] = os.environ):
        self._environ = environ
        self._has_been_read: set[str] = set()

    def _guard(self, key: str, action: str) -> None:
        if key in self._has_been_read:
            raise EnvironError(f"Attempting to {action} environ['{key}'], but the value has already been read.")

    def __getitem__(self, key: str) -> str:
        self._has_been_read.add(key)
        return self._environ[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._guard(key, "set")
        self._environ[key] = value

    def __delitem__(self, key: str) -> None:
        self._guard(key, "delete")
        del self._environ[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


environ = Environ()

_TRUTH = {"true": True, "1": True, "false": False, "0": False}


def _unquote(value: str) -> str:
    # One pair of matching quotes around a value is syntax, not content.
    if len(value) > 1 and value[0] in "\"'" and value[-1] == value[0]:
        return value[1:-1]
    return value


def _read_env_file(path: str | Path, encoding: str) -> dict[str, str]:
    """KEY=VALUE lines; blank lines, comments and lines without '=' are skipped."""
    found: dict[str, str] = {}
    with open(path, encoding=encoding) as lines:
        for line in map(str.strip, lines):
            if line.startswith("#"):
                continue
            key, equals, value = line.partition("=")
            if equals:
                found[key.strip()] = _unquote(value.strip())
    return found


class Config:
    def __init__(
        self,
        env_file: str | Path | None = None,
        environ: Mapping[str, str] = environ,
        env_prefix: str = "",
        encoding: str = "utf-8",
    ) -> None:
        self.environ = environ
        self.env_prefix = env_prefix
        self.file_values: dict[str, str] = {}
        if env_file is None:
            return
        if os.path.isfile(env_file):
            self.file_values = _read_env_file(env_file, encoding)
        else:
            warnings.warn(f"Config file '{env_file}' not found.", stacklevel=2)

    @overload
    def __call__(self, key: str, *, default: None) -> str | None: ...

    @overload
    def __call__(self, key: str, cast: type[T], default: T = ...) -> T: ...

    @overload
    def __call__(self, key: str, cast: type[str] = ..., default: str = ...) -> str: ...

    @overload
    def __call__(self, key: str, cast: Callable[[Any], T] = ..., default: Any = ...) -> T: ...

    @overload
    def __call__(self, key: str, cast: type[str] = ..., default: T = ...) -> T | str: ...

    def __call__(self, key: str, cast: Callable[[Any], Any] | None = None, default: Any = undefined) -> Any:
        return self.get(key, cast, default)

    def get(self, key: str, cast: Callable[[Any], Any] | None = None, default: Any = undefined) -> Any:
        name = self.env_prefix + key
        # The environment wins over the file, and the file over the default.
        for source in (self.environ, self.file_values):
            if name in source:
                return self._perform_cast(name, source[name], cast)
        if default is undefined:
            raise KeyError(f"Config '{name}' is missing, and has no default.")
        return self._perform_cast(name, default, cast)

    def _perform_cast(self, key: str, value: Any, cast: Callable[[Any], Any] | None = None) -> Any:
        if cast is None or value is None:
            return value
        if cast is bool and isinstance(value, str):
            truth = _TRUTH.get(value.lower())
            if truth is None:
                raise ValueError(f"Config '{key}' has value '{value}'. Not a valid bool.")
            return truth
        try:
            return cast(value)
        except (TypeError, ValueError):
            raise ValueError(f"Config '{key}' has value '{value}'. Not a valid {cast.__name__}.")
