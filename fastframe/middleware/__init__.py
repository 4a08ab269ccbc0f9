"""`Middleware`: a middleware class with the arguments to make it, kept until the app is built."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any, ParamSpec, Protocol

P = ParamSpec("P")

# The ASGI callable spelled out with Any (rather than fastframe.types) so that middleware typed
# against another ASGI package's definitions is accepted as it is.
_App = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class _MiddlewareFactory(Protocol[P]):
    def __call__(self, app: _App, /, *args: P.args, **kwargs: P.kwargs) -> _App: ...  # pragma: no cover


class Middleware:
    def __init__(self, cls: _MiddlewareFactory[P], *args: P.args, **kwargs: P.kwargs) -> None:
        self.cls, self.args, self.kwargs = cls, args, kwargs

    def __iter__(self) -> Iterator[Any]:
        # Unpacks as (cls, args, kwargs), the way the app builds its stack.
        yield self.cls
        yield self.args
        yield self.kwargs

    def __repr__(self) -> str:
        shown = [getattr(self.cls, "__name__", "")]
        shown += map(repr, self.args)
        shown += (f"{name}={value!r}" for name, value in self.kwargs.items())
        return f"{type(self).__name__}({', '.join(shown)})"
