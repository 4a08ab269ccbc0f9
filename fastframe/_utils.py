from __future__ import annotations

import functools
import ipaddress
import re
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, overload

import anyio
import anyio.abc

from fastframe.types import Scope

if sys.version_info >= (3, 13):  # pragma: no cover
    from typing import TypeIs
else:  # pragma: no cover
    from typing_extensions import TypeIs

# asyncio's variant also recognises callables marked as coroutine functions (AsyncMock, for one);
# it is deprecated from 3.14, where inspect's learned the same marker.
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
    while isinstance(obj, functools.partial):
        obj = obj.func
    return iscoroutinefunction(obj) or (callable(obj) and iscoroutinefunction(obj.__call__))


class AwaitableOrContextManager(Awaitable[T_co], AbstractAsyncContextManager[T_co], Protocol[T_co]): ...


class SupportsAsyncClose(Protocol):
    async def close(self) -> None: ...  # pragma: no cover


SupportsAsyncCloseType = TypeVar("SupportsAsyncCloseType", bound=SupportsAsyncClose, covariant=False)


class AwaitableOrContextManagerWrapper(Generic[SupportsAsyncCloseType]):
    """Lets `await x` and `async with x` both work; the context form closes what it entered."""

    __slots__ = ("aw", "entered")

    def __init__(self, aw: Awaitable[SupportsAsyncCloseType]) -> None:
        self.aw = aw

    def __await__(self) -> Generator[Any, None, SupportsAsyncCloseType]:
        return self.aw.__await__()

    async def __aenter__(self) -> SupportsAsyncCloseType:
        self.entered = await self.aw
        return self.entered

    async def __aexit__(self, *args: Any) -> None | bool:
        await self.entered.close()
        return None


@asynccontextmanager
async def create_collapsing_task_group() -> AsyncGenerator[anyio.abc.TaskGroup, None]:
    """A task group whose lone failure surfaces bare rather than wrapped in an ExceptionGroup."""
    try:
        async with anyio.create_task_group() as tg:
            yield tg
    except BaseExceptionGroup as excs:
        if len(excs.exceptions) != 1:
            raise
        raise excs.exceptions[0]


def get_route_path(scope: Scope) -> str:
    """The request path relative to the mount point named by root_path."""
    path: str = scope["path"]
    root_path = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    if len(path) == len(root_path):
        return ""
    if path[len(root_path)] == "/":
        return path[len(root_path) :]
    return path


@dataclass(frozen=True, slots=True)
class ParsedHost:
    host: str
    port: str | None


# RFC 3986 authority without userinfo: reg-name, or an IP literal (IPv6 / IPvFuture), then an optional port.
_HOST_RE = re.compile(
    r"""
    (?P<host>
        [a-z0-9._~%!$&'()*+,;=-]+
      | \[ (?: (?P<ipv6>[a-f0-9]*:[a-f0-9.:]+) | (?-i:v)[a-f0-9]+\.[a-z0-9._~!$&'()*+,;=:-]+ ) \]
    )
    (?: :(?P<port>[0-9]+) )?
    """,
    re.IGNORECASE | re.VERBOSE,
)


def parse_host_header(host_header: str | None) -> ParsedHost | None:
    """Split a Host header into host and port, or None when it is not a valid authority."""
    if not host_header:
        return None
    match = _HOST_RE.fullmatch(host_header)
    if match is None:
        return None
    ipv6 = match.group("ipv6")
    if ipv6 is not None:
        try:
            ipaddress.IPv6Address(ipv6)
        except ipaddress.AddressValueError:
            return None
    return ParsedHost(match.group("host"), match.group("port"))
