"""WSGIMiddleware's environ against the reference where mounting decides it: SCRIPT_NAME and
PATH_INFO for a root_path (a path outside it, or only sharing its prefix, stays whole),
non-ASCII paths, a missing server, repeated headers. Also through a Mount in an application."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.middleware.wsgi import WSGIMiddleware as RefWSGIMiddleware
    from starlette.middleware.wsgi import build_environ as ref_build_environ

    from fastframe.middleware.wsgi import WSGIMiddleware, build_environ

from starlette.applications import Starlette as RefStarlette
from starlette.routing import Mount as RefMount
from starlette.testclient import TestClient as RefTestClient

from fastframe.applications import Starlette
from fastframe.routing import Mount
from fastframe.testclient import TestClient


def comparable(environ: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in environ.items() if k not in ("wsgi.input", "wsgi.errors")}


def scope_for(path: str, root_path: str | None, **extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"x=1",
        "http_version": "1.1",
        "headers": [(b"host", b"example.com"), (b"x-tag", b"a"), (b"x-tag", b"b"), (b"content-type", b"text/plain")],
    }
    if root_path is not None:
        scope["root_path"] = root_path
    scope.update(extra)
    return scope


CASES = {
    "mounted": scope_for("/legacy/page", "/legacy"),
    "mount point itself": scope_for("/legacy", "/legacy"),
    "mount point with slash": scope_for("/legacy/", "/legacy"),
    "only a shared prefix": scope_for("/legacyx/page", "/legacy"),
    "outside the mount": scope_for("/other", "/legacy"),
    "root path ending in a slash": scope_for("/legacy/page", "/legacy/"),
    "not mounted": scope_for("/page", None),
    "non-ascii": scope_for("/café/naïve", "/café"),
    "no server, a client": scope_for("/p", "", server=None, client=("10.0.0.2", 1234)),
    "server and scheme": scope_for("/p", "", server=("internal", 8080), scheme="https"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_environ_matches_the_reference(case: str) -> None:
    scope = CASES[case]
    assert comparable(build_environ(scope, b"")) == comparable(ref_build_environ(scope, b""))


segments = st.lists(st.sampled_from(["api", "apiv2", "a", "é", "x y", ""]), max_size=3)


@settings(max_examples=200, deadline=None)
@given(path=segments, root=segments, trailing=st.booleans())
def test_any_mount_matches_the_reference(path: list[str], root: list[str], trailing: bool) -> None:
    root_path = "/".join(["", *root]) + ("/" if trailing and root else "")
    scope = scope_for("/" + "/".join(path), root_path)
    assert comparable(build_environ(scope, b"")) == comparable(ref_build_environ(scope, b""))


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}|{environ['QUERY_STRING']}".encode()]


@pytest.mark.parametrize("path", ["/legacy/page?q=1", "/legacy", "/legacy/", "/legacy/a/b"])
def test_mounted_in_an_application(path: str, anyio_backend: str) -> None:
    ours = TestClient(Starlette(routes=[Mount("/legacy", WSGIMiddleware(wsgi_app))]), backend=anyio_backend)
    ref = RefTestClient(RefStarlette(routes=[RefMount("/legacy", RefWSGIMiddleware(wsgi_app))]), backend=anyio_backend)
    mine, theirs = ours.get(path), ref.get(path)
    assert (mine.status_code, mine.text) == (theirs.status_code, theirs.text)
