from __future__ import annotations

import errno
import importlib.util
import os
import stat
from email.utils import parsedate
from typing import Union

import anyio.to_thread

from fastframe._utils import get_route_path
from fastframe.datastructures import URL, Headers
from fastframe.exceptions import HTTPException
from fastframe.responses import FileResponse, RedirectResponse, Response
from fastframe.types import Receive, Scope, Send
from fastframe.websockets import WebSocketClose

PathLike = Union[str, "os.PathLike[str]"]

_READ_METHODS = ("GET", "HEAD")
# Lookups that fail for these reasons are a path that names nothing servable, not a server fault:
# too long a name, or a symlink loop (a link to itself, or a cycle).
_NOTHING_THERE = (errno.ENAMETOOLONG, errno.ELOOP)


class NotModifiedResponse(Response):
    NOT_MODIFIED_HEADERS = ("cache-control", "content-location", "date", "etag", "expires", "vary")

    def __init__(self, headers: Headers):
        kept = {name: value for name, value in headers.items() if name in self.NOT_MODIFIED_HEADERS}
        super().__init__(status_code=304, headers=kept)


def _check_directory(directory: PathLike) -> None:
    try:
        mode = os.stat(directory).st_mode
    except FileNotFoundError:
        raise RuntimeError(f"StaticFiles directory '{directory}' does not exist.")
    if not stat.S_ISDIR(mode):
        raise RuntimeError(f"StaticFiles path '{directory}' is not a directory.")


def _is_file(found: os.stat_result | None) -> bool:
    return found is not None and stat.S_ISREG(found.st_mode)


def _etag_listed(etag: str, listed: str) -> bool:
    """Whether an If-None-Match list names `etag`; the comparison is weak (RFC 9110, 13.1.2)."""
    return any(tag.strip().removeprefix("W/") == etag for tag in listed.split(","))


class StaticFiles:
    def __init__(
        self,
        *,
        directory: PathLike | None = None,
        packages: list[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
    ) -> None:
        if check_dir and directory is not None and not os.path.isdir(directory):
            raise RuntimeError(f"Directory '{directory}' does not exist")
        self.directory, self.packages = directory, packages
        self.all_directories = self.get_directories(directory, packages)
        self.html, self.follow_symlink = html, follow_symlink
        # With check_dir=False the directory may appear later: it is checked on the first request.
        self.config_checked = False

    def get_directories(
        self,
        directory: PathLike | None = None,
        packages: list[str | tuple[str, str]] | None = None,
    ) -> list[PathLike]:
        found: list[PathLike] = [] if directory is None else [directory]
        for package in packages or ():
            name, folder = (package, "statics") if isinstance(package, str) else package
            spec = importlib.util.find_spec(name)
            assert spec is not None and spec.origin is not None, f"Package {name!r} could not be found."
            # A package's static folder sits beside its __init__.py (spec.origin).
            candidate = os.path.normpath(os.path.join(spec.origin, "..", folder))
            assert os.path.isdir(candidate), f"Directory '{folder!r}' in package {name!r} could not be found."
            found.append(candidate)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await WebSocketClose()(scope, receive, send)
            return
        if not self.config_checked:
            await self.check_config()
            self.config_checked = True
        response = await self.get_response(self.get_path(scope), scope)
        try:
            await response(scope, receive, send)
        except PermissionError:
            # Found by stat but not readable: FileResponse opens the file before it sends anything,
            # so the answer can still be the one an unreadable directory gets.
            if not isinstance(response, FileResponse):
                raise
            raise HTTPException(status_code=401) from None

    def get_path(self, scope: Scope) -> str:
        # The URL path relative to the mount, as an OS path; ".." segments collapse here and
        # lookup_path refuses whatever still points outside the directory.
        return os.path.normpath(get_route_path(scope).lstrip("/"))

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in _READ_METHODS:
            raise HTTPException(status_code=405, headers={"Allow": ", ".join(_READ_METHODS)})
        full_path, found = await self._find(path)
        if _is_file(found):
            assert found is not None
            return self.file_response(full_path, found, scope)
        if found is not None and stat.S_ISDIR(found.st_mode) and self.html:
            index_path, index = await self._find(os.path.join(path, "index.html"))
            if _is_file(index):
                assert index is not None
                if not scope["path"].endswith("/"):
                    # Relative links in the page resolve against the directory only with the slash.
                    url = URL(scope=scope)
                    return RedirectResponse(url=url.replace(path=url.path + "/"))
                return self.file_response(index_path, index, scope)
        if self.html:
            page_path, page = await self._find("404.html")
            if _is_file(page):
                return FileResponse(page_path, stat_result=page, status_code=404)
        raise HTTPException(status_code=404)

    async def _find(self, path: str) -> tuple[str, os.stat_result | None]:
        """lookup_path on a worker thread, with its failures turned into the client's answer."""
        try:
            return await anyio.to_thread.run_sync(self.lookup_path, path)
        except PermissionError:
            raise HTTPException(status_code=401)
        except ValueError:  # a NUL in the path
            raise HTTPException(status_code=404)
        except OSError as exc:
            if exc.errno in _NOTHING_THERE:
                raise HTTPException(status_code=404)
            raise

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        # With follow_symlink, links inside the directory may lead anywhere, so only the path as
        # written must stay inside; without it, where the links really lead must.
        resolve = os.path.abspath if self.follow_symlink else os.path.realpath
        for directory in self.all_directories:
            root = resolve(directory)
            full_path = resolve(os.path.join(directory, path))
            if os.path.commonpath([full_path, root]) != root:
                continue
            try:
                return full_path, os.stat(full_path)
            except (FileNotFoundError, NotADirectoryError):
                continue
        return "", None

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response

    async def check_config(self) -> None:
        if self.directory is not None:
            await anyio.to_thread.run_sync(_check_directory, self.directory)

    def is_not_modified(self, response_headers: Headers, request_headers: Headers) -> bool:
        listed = request_headers.get("if-none-match")
        if listed:
            # When present it decides alone; If-Modified-Since is not looked at (RFC 9110, 13.2.2).
            return listed.strip() == "*" or _etag_listed(response_headers["etag"], listed)
        since = request_headers.get("if-modified-since")
        modified = response_headers.get("last-modified")
        if not since or not modified:
            return False
        since_date, modified_date = parsedate(since), parsedate(modified)
        return since_date is not None and modified_date is not None and modified_date <= since_date
