"""Small helpers the framework's modules share: callables, awaitables, task groups, paths, hosts."""

from __future__ import annotations

import functools
import ipaddress
import re
import sys
from collections.abc import Awaitable, Callable, Generator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar, overload

import anyio
import anyio.abc

from fastframe.types import Scope

if sys.version_info >= (3, 13):  # pragma: no cover
    from typing import TypeIs
else:  # pragma: no cover
    from typing_extensions import TypeIs

# asyncio's check also knows callables marked as coroutine functions (AsyncMock, for one); from 3.14
# it is deprecated, and inspect's knows the same marker.
if sys.version_info >= (3, 14):  # pragma: no cover
    from inspect import iscoroutinefunction
else:  # pragma: no cover
    from asyncio import iscoroutinefunction

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
AwaitableCallable = Callable[..., Awaitable[T]]


@overload
def is_async_callable(obj: AwaitableCallable[T]) -> TypeIs[AwaitableCallable[T]]: ...


@overload
def is_async_callable(obj: Any) -> TypeIs[AwaitableCallable[Any]]: ...


def is_async_callable(obj: Any) -> Any:
    """Whether calling `obj` gives a coroutine: a coroutine function, a partial of one, or an
    object whose __call__ is one."""
    target = obj
    while isinstance(target, functools.partial):
        target = target.func
    if iscoroutinefunction(target):
        return True
    return callable(target) and iscoroutinefunction(target.__call__)


class AwaitableOrContextManager(Awaitable[T_co], AbstractAsyncContextManager[T_co], Protocol[T_co]): ...


class SupportsAsyncClose(Protocol):
    async def close(self) -> None: ...  # pragma: no cover


SupportsAsyncCloseType = TypeVar("SupportsAsyncCloseType", bound=SupportsAsyncClose, covariant=False)


class AwaitableOrContextManagerWrapper(Generic[SupportsAsyncCloseType]):
    """One awaitable usable both ways: `await x` gives its result; `async with x as r` gives the
    same result and closes it on the way out."""

    __slots__ = ("_pending", "_result")

    def __init__(self, aw: Awaitable[SupportsAsyncCloseType]) -> None:
        self._pending = aw

    def __await__(self) -> Generator[Any, None, SupportsAsyncCloseType]:
        return self._pending.__await__()

    async def __aenter__(self) -> SupportsAsyncCloseType:
        result = self._result = await self._pending
        return result

    async def __aexit__(self, *exc_info: Any) -> None | bool:
        await self._result.close()
        return None


class _CollapsingTaskGroup:
    """An anyio task group whose failure, when it is a single exception, propagates bare instead of
    wrapped in an exception group."""

    __slots__ = ("_group",)

    def __init__(self) -> None:
        self._group = anyio.create_task_group()

    async def __aenter__(self) -> anyio.abc.TaskGroup:
        return await self._group.__aenter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> bool | None:
        try:
            return await self._group.__aexit__(kind, error, trace)
        except BaseExceptionGroup as group:
            if len(group.exceptions) == 1:
                raise group.exceptions[0]
            raise
        finally:
            # This frame is in the traceback of what it raises: the error kept here would make a
            # reference cycle of it.
            error = trace = None


def create_collapsing_task_group() -> AbstractAsyncContextManager[anyio.abc.TaskGroup]:
    return _CollapsingTaskGroup()


def get_route_path(scope: Scope) -> str:
    """The request path below the mount point that `root_path` names."""
    path: str = scope["path"]
    mount = scope.get("root_path", "")
    if mount and path.startswith(mount):
        below = path[len(mount) :]
        # "/apiary" is not below "/api".
        if not below or below[0] == "/":
            return below
    return path


@dataclass(frozen=True, slots=True)
class ParsedHost:
    host: str
    port: str | None


# An RFC 3986 authority without userinfo: a registered name or a bracketed IP literal, then an
# optional port. The literal's content is checked apart (IPv6 by ipaddress, or IPvFuture).
_AUTHORITY = re.compile(r"(\[[^\]]*\]|[-a-z0-9._~%!$&'()*+,;=]+)(?::([0-9]+))?", re.IGNORECASE)
_IP_FUTURE = re.compile(r"v[0-9a-f]+\.[-a-z0-9._~!$&'()*+,;=:]+", re.IGNORECASE)
_IPV6_CHARACTERS = frozenset("0123456789abcdefABCDEF:.")


def _valid_ip_literal(literal: str) -> bool:
    if literal[:1] == "v":
        return _IP_FUTURE.fullmatch(literal) is not None
    if ":" not in literal or not _IPV6_CHARACTERS.issuperset(literal):
        return False
    try:
        ipaddress.IPv6Address(literal)
    except ValueError:
        return False
    return True


def parse_host_header(host_header: str | None) -> ParsedHost | None:
    """A Host header's host and port, or None when it is not a valid authority."""
    if not host_header:
        return None
    found = _AUTHORITY.fullmatch(host_header)
    if found is None:
        return None
    host, port = found.groups()
    if host[0] == "[" and not _valid_ip_literal(host[1:-1]):
        return None
    return ParsedHost(host, port)
