"""fastframe._utils: the helpers other modules share, against Starlette's."""

from __future__ import annotations

import functools
from typing import Any
from unittest.mock import AsyncMock

import pytest
import starlette._utils as ref
from hypothesis import given, settings
from hypothesis import strategies as st

import fastframe._utils as ours

path_parts = st.sampled_from(["", "/", "/a", "/a/", "/ab", "/a/b", "/b", "a", "/a/b/c", "//"])


@settings(max_examples=500, deadline=None)
@given(st.lists(path_parts, min_size=1, max_size=3).map("".join), st.one_of(st.none(), path_parts))
def test_get_route_path_matches_reference(path: str, root_path: str | None) -> None:
    scope: dict[str, Any] = {"path": path}
    if root_path is not None:
        scope["root_path"] = root_path
    assert ours.get_route_path(scope) == ref.get_route_path(scope)


async def _coro() -> None: ...


def _sync() -> None: ...


class _AsyncCall:
    async def __call__(self) -> None: ...


class _SyncCall:
    def __call__(self) -> None: ...


@pytest.mark.parametrize(
    "obj",
    [
        _coro,
        _sync,
        functools.partial(_coro),
        functools.partial(functools.partial(_AsyncCall())),
        _AsyncCall(),
        _AsyncCall,
        _SyncCall(),
        1,
        None,
        AsyncMock(),
        lambda: None,
    ],
)
def test_is_async_callable_matches_reference(obj: Any) -> None:
    assert ours.is_async_callable(obj) == ref.is_async_callable(obj)


def test_parse_host_header_examples() -> None:
    assert ours.parse_host_header("Example.COM:8080") == ours.ParsedHost("Example.COM", "8080")
    assert ours.parse_host_header("[::1]:80") == ours.ParsedHost("[::1]", "80")
    for bad in (None, "", "a:b", "::1", "[1::2::3]", "a b", "é.com", "a:", "[v1.]"):
        assert ours.parse_host_header(bad) is None


@pytest.mark.anyio
async def test_collapsing_task_group_surfaces_a_lone_error() -> None:
    async def fail() -> None:
        raise KeyError("lone")

    with pytest.raises(KeyError):
        async with ours.create_collapsing_task_group() as tg:
            tg.start_soon(fail)

    with pytest.raises(ExceptionGroup):
        async with ours.create_collapsing_task_group() as tg:
            tg.start_soon(fail)
            tg.start_soon(fail)


@pytest.mark.anyio
async def test_awaitable_or_context_manager_wrapper() -> None:
    closed: list[bool] = []

    class Resource:
        async def close(self) -> None:
            closed.append(True)

    async def make() -> Resource:
        return Resource()

    assert isinstance(await ours.AwaitableOrContextManagerWrapper(make()), Resource)
    assert closed == []
    async with ours.AwaitableOrContextManagerWrapper(make()) as resource:
        assert isinstance(resource, Resource)
    assert closed == [True]
