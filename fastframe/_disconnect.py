"""Sending a response while the client may go away: ASGI's two ways of telling, and denial responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastframe._utils import create_collapsing_task_group
from fastframe.types import Message, Receive, Scope, Send

# A server announces the same few spec versions on every request: each is read once.
_READ_VERSIONS: dict[str, bool] = {}


def server_reports_disconnects(scope: Scope) -> bool:
    """ASGI 2.4 servers make a send to a gone client raise OSError, so nobody has to listen for it.

    A spec_version that is not dotted integers raises ValueError, as the reference does.
    """
    version = scope.get("asgi", {}).get("spec_version", "2.0")
    known = _READ_VERSIONS.get(version) if type(version) is str else None
    if known is None:
        known = tuple(map(int, version.split("."))) >= (2, 4)
        if type(version) is str and len(_READ_VERSIONS) < 32:
            _READ_VERSIONS[version] = known
    return known


def websocket_denial(send: Send) -> Send:
    """A send that turns http.response.* messages into the websocket.http.response.* ones of a denial."""

    async def deny(message: Message) -> None:
        await send({**message, "type": "websocket." + message["type"]})

    return deny


async def wait_for_disconnect(receive: Receive) -> None:
    """Return once the client has gone; whatever else arrives meanwhile is dropped."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def until_disconnect(work: Callable[[], Awaitable[None]], disconnected: Callable[[], Awaitable[None]]) -> None:
    """Run `work` while `disconnected` waits beside it; whichever finishes first cancels the other.

    `work` gets the task of its own and the caller's task listens, not the other way round: a body
    from an app that BaseHTTPMiddleware steps inline is then pulled from another task, which the
    middleware answers by giving that app a task of its own, instead of mixing its cancel scopes
    with this group's in one task.
    """
    async with create_collapsing_task_group() as group:

        async def first_wins(step: Callable[[], Awaitable[None]]) -> None:
            await step()
            group.cancel_scope.cancel()

        group.start_soon(first_wins, work)
        await first_wins(disconnected)
