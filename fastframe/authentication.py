"""Users, credentials, backends, and the `requires` decorator that guards endpoints by scope."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec
from urllib.parse import urlencode

from fastframe._utils import is_async_callable
from fastframe.exceptions import HTTPException
from fastframe.requests import HTTPConnection, Request
from fastframe.responses import RedirectResponse
from fastframe.websockets import WebSocket

_P = ParamSpec("_P")


def has_required_scope(conn: HTTPConnection, scopes: Sequence[str]) -> bool:
    granted = conn.auth.scopes
    return all(scope in granted for scope in scopes)


def _connection_argument(func: Callable[..., Any]) -> tuple[str, int]:
    """The name ("request" or "websocket") and position of the connection parameter of `func`."""
    for position, name in enumerate(inspect.signature(func).parameters):
        if name in ("request", "websocket"):
            return name, position
    raise Exception(f'No "request" or "websocket" argument on function "{func}"')


class _Guard:
    """What one `requires(...)` decorator checks, and how it refuses."""

    def __init__(self, scopes: Sequence[str], status_code: int, redirect: str | None, name: str, position: int):
        self.scopes = scopes
        self.status_code = status_code
        self.redirect = redirect
        self.name = name
        self.position = position
        self.kind = WebSocket if name == "websocket" else Request

    def connection(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.name in kwargs:
            conn = kwargs[self.name]
        else:
            conn = args[self.position] if self.position < len(args) else None
        assert isinstance(conn, self.kind), (
            f"Parameter with name '{self.name}' is required to be of type '{self.kind.__name__}' "
            f"not '{type(conn).__name__}'"
        )
        return conn

    def refusal(self, request: Request) -> RedirectResponse:
        """The redirect to the login route, or the HTTPException a refused request raises."""
        if self.redirect is None:
            raise HTTPException(status_code=self.status_code)
        back_here = urlencode({"next": str(request.url)})
        return RedirectResponse(url=f"{request.url_for(self.redirect)}?{back_here}", status_code=303)


def requires(
    scopes: str | Sequence[str],
    status_code: int = 403,
    redirect: str | None = None,
) -> Callable[[Callable[_P, Any]], Callable[_P, Any]]:
    needed = [scopes] if isinstance(scopes, str) else list(scopes)

    def decorator(func: Callable[_P, Any]) -> Callable[_P, Any]:
        guard = _Guard(needed, status_code, redirect, *_connection_argument(func))

        if guard.kind is WebSocket:
            # A websocket without the scopes is closed, not answered.
            async def guarded_session(*args: _P.args, **kwargs: _P.kwargs) -> None:
                websocket = guard.connection(args, kwargs)
                if has_required_scope(websocket, needed):
                    await func(*args, **kwargs)
                else:
                    await websocket.close()

            return functools.wraps(func)(guarded_session)

        if is_async_callable(func):

            async def guarded_async(*args: _P.args, **kwargs: _P.kwargs) -> Any:
                request = guard.connection(args, kwargs)
                if has_required_scope(request, needed):
                    return await func(*args, **kwargs)
                return guard.refusal(request)

            return functools.wraps(func)(guarded_async)

        def guarded_sync(*args: _P.args, **kwargs: _P.kwargs) -> Any:
            request = guard.connection(args, kwargs)
            if has_required_scope(request, needed):
                return func(*args, **kwargs)
            return guard.refusal(request)

        return functools.wraps(func)(guarded_sync)

    return decorator


class AuthenticationError(Exception):
    pass


class AuthenticationBackend:
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        raise NotImplementedError()  # pragma: no cover


class AuthCredentials:
    def __init__(self, scopes: Sequence[str] | None = None):
        self.scopes = list(scopes or ())


def _abstract(self: Any) -> Any:
    raise NotImplementedError()


class BaseUser:
    """What AuthenticationMiddleware puts in `request.user`; subclasses supply the three answers."""

    is_authenticated = property(_abstract, doc="Whether the user proved who they are.")
    display_name = property(_abstract, doc="A name to show for the user.")
    identity = property(_abstract, doc="What identifies the user to the application.")


class SimpleUser(BaseUser):
    """An authenticated user known only by name."""

    def __init__(self, username: str) -> None:
        self.username = username

    is_authenticated = property(lambda self: True)
    display_name = property(lambda self: self.username)
    identity = property(lambda self: self.username)


class UnauthenticatedUser(BaseUser):
    is_authenticated = property(lambda self: False)
    display_name = property(lambda self: "")
    identity = property(lambda self: "")
