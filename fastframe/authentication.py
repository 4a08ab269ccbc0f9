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
    for scope in scopes:
        if scope not in granted:
            return False
    return True


def requires(
    scopes: str | Sequence[str],
    status_code: int = 403,
    redirect: str | None = None,
) -> Callable[[Callable[_P, Any]], Callable[_P, Any]]:
    scopes_list = [scopes] if isinstance(scopes, str) else list(scopes)

    def decorator(func: Callable[_P, Any]) -> Callable[_P, Any]:
        # Locate the connection argument once, at decoration time.
        names = list(inspect.signature(func).parameters)
        idx = next((i for i, name in enumerate(names) if name in ("request", "websocket")), -1)
        if idx < 0:
            raise Exception(f'No "request" or "websocket" argument on function "{func}"')
        type_ = names[idx]

        if type_ == "websocket":

            @functools.wraps(func)
            async def websocket_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> None:
                websocket: WebSocket = _connection(args, kwargs, "websocket", idx)

                if not has_required_scope(websocket, scopes_list):
                    await websocket.close()
                else:
                    await func(*args, **kwargs)

            return websocket_wrapper

        if is_async_callable(func):

            @functools.wraps(func)
            async def async_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Any:
                request: Request = _connection(args, kwargs, "request", idx)

                if not has_required_scope(request, scopes_list):
                    if redirect is not None:
                        return _redirect_to_login(request, redirect)
                    raise HTTPException(status_code=status_code)
                return await func(*args, **kwargs)

            return async_wrapper

        @functools.wraps(func)
        def sync_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Any:
            request: Request = _connection(args, kwargs, "request", idx)

            if not has_required_scope(request, scopes_list):
                if redirect is not None:
                    return _redirect_to_login(request, redirect)
                raise HTTPException(status_code=status_code)
            return func(*args, **kwargs)

        return sync_wrapper

    return decorator


def _connection(args: tuple[Any, ...], kwargs: dict[str, Any], name: str, idx: int) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[idx]


def _redirect_to_login(request: Request, redirect: str) -> RedirectResponse:
    orig_request_qparam = urlencode({"next": str(request.url)})
    next_url = f"{request.url_for(redirect)}?{orig_request_qparam}"
    return RedirectResponse(url=next_url, status_code=303)


class AuthenticationError(Exception):
    pass


class AuthenticationBackend:
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        raise NotImplementedError()  # pragma: no cover


class AuthCredentials:
    def __init__(self, scopes: Sequence[str] | None = None):
        self.scopes = [] if scopes is None else list(scopes)


class BaseUser:
    @property
    def is_authenticated(self) -> bool:
        raise NotImplementedError()  # pragma: no cover

    @property
    def display_name(self) -> str:
        raise NotImplementedError()  # pragma: no cover

    @property
    def identity(self) -> str:
        raise NotImplementedError()  # pragma: no cover


class SimpleUser(BaseUser):
    def __init__(self, username: str) -> None:
        self.username = username

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.username

    @property
    def identity(self) -> str:
        return self.username


class UnauthenticatedUser(BaseUser):
    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def display_name(self) -> str:
        return ""

    @property
    def identity(self) -> str:
        return ""
