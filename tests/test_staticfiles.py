from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import starlette.applications
import starlette.routing
import starlette.staticfiles
import starlette.testclient

from fastframe.applications import Starlette
from fastframe.routing import Mount
from fastframe.staticfiles import StaticFiles

ATTACKS = [
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/%2E%2E/secret.txt",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/\\\\host\\share",
    "/static/..\\secret.txt",
    "/static/a%00b",
    "/static/../static-sibling/s.txt",
    "/static/link-out.txt",
    "/static/" + "a" * 5000,
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_text("secret")
    static = tmp_path / "static"
    (static / "sub").mkdir(parents=True)
    (static / "app.css").write_text("body { color: red }\n")
    (static / "sub" / "page.txt").write_text("nested\n")
    (tmp_path / "static-sibling").mkdir()
    (tmp_path / "static-sibling" / "s.txt").write_text("sibling")
    os.symlink(tmp_path / "secret.txt", static / "link-out.txt")
    html = tmp_path / "html"
    (html / "dir").mkdir(parents=True)
    (html / "index.html").write_text("<h1>index</h1>")
    (html / "404.html").write_text("<h1>custom 404</h1>")
    (html / "dir" / "index.html").write_text("<h1>dir</h1>")
    return tmp_path


def both_clients(tree: Path, **options: Any) -> tuple[Any, Any]:
    ours = Starlette(
        routes=[
            Mount("/static", StaticFiles(directory=tree / "static", **options), name="static"),
            Mount("/html", StaticFiles(directory=tree / "html", html=True)),
        ]
    )
    ref = starlette.applications.Starlette(
        routes=[
            starlette.routing.Mount(
                "/static", starlette.staticfiles.StaticFiles(directory=tree / "static", **options), name="static"
            ),
            starlette.routing.Mount("/html", starlette.staticfiles.StaticFiles(directory=tree / "html", html=True)),
        ]
    )
    return ours, ref


def seen(response: Any) -> tuple[int, dict[str, str], bytes]:
    return response.status_code, dict(response.headers), response.content


@pytest.mark.parametrize("path", ATTACKS)
def test_no_way_out_of_the_directory(test_client_factory: Callable[..., Any], tree: Path, path: str) -> None:
    ours, ref = both_clients(tree)
    response = test_client_factory(ours).get(path)
    assert response.status_code == 404
    assert b"secret" not in response.content and b"sibling" not in response.content
    assert seen(response) == seen(starlette.testclient.TestClient(ref).get(path))


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/static/app.css", {}),
        ("HEAD", "/static/app.css", {}),
        ("GET", "/static/sub/page.txt", {}),
        ("GET", "/static/sub/../app.css", {}),
        ("GET", "/static/sub", {}),
        ("GET", "/static/", {}),
        ("GET", "/static", {}),
        ("GET", "/static/missing.css", {}),
        ("POST", "/static/app.css", {}),
        ("DELETE", "/static/app.css", {}),
        ("GET", "/html/", {}),
        ("GET", "/html", {}),
        ("GET", "/html/dir", {}),
        ("GET", "/html/dir/", {}),
        ("GET", "/html/missing", {}),
        ("GET", "/html/index.html", {}),
        ("GET", "/static/app.css", {"if-modified-since": "garbage"}),
        ("GET", "/static/app.css", {"range": "bytes=0-3"}),
        ("GET", "/static/app.css", {"range": "bytes=50-60"}),
    ],
)
def test_responses_match_the_reference(
    test_client_factory: Callable[..., Any], tree: Path, method: str, path: str, headers: dict[str, str]
) -> None:
    ours, ref = both_clients(tree)
    mine = test_client_factory(ours).request(method, path, headers=headers, follow_redirects=False)
    theirs = starlette.testclient.TestClient(ref).request(method, path, headers=headers, follow_redirects=False)
    assert seen(mine) == seen(theirs)


def test_conditional_requests_get_304(test_client_factory: Callable[..., Any], tree: Path) -> None:
    ours, ref = both_clients(tree)
    client = test_client_factory(ours)
    first = client.get("/static/app.css")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    for headers in (
        {"if-none-match": etag},
        {"if-none-match": "W/" + etag},
        {"if-none-match": '"other", ' + etag},
        {"if-modified-since": modified},
        {"if-none-match": '"other"', "if-modified-since": modified},
    ):
        mine = client.get("/static/app.css", headers=headers)
        theirs = starlette.testclient.TestClient(ref).get("/static/app.css", headers=headers)
        assert seen(mine) == seen(theirs), headers
    assert client.get("/static/app.css", headers={"if-none-match": etag}).status_code == 304


def test_follow_symlink_serves_links(test_client_factory: Callable[..., Any], tree: Path) -> None:
    ours, _ = both_clients(tree, follow_symlink=True)
    response = test_client_factory(ours).get("/static/link-out.txt")
    assert response.status_code == 200 and response.text == "secret"


def test_missing_directory_is_refused_at_construction(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "absent")


def test_unchecked_missing_directory_fails_on_first_request(
    test_client_factory: Callable[..., Any], tmp_path: Path
) -> None:
    app = Starlette(routes=[Mount("/s", StaticFiles(directory=tmp_path / "absent", check_dir=False))])
    with pytest.raises(RuntimeError, match="StaticFiles directory '.*absent' does not exist."):
        test_client_factory(app).get("/s/x")


def test_a_file_is_not_a_directory(test_client_factory: Callable[..., Any], tree: Path) -> None:
    app = Starlette(routes=[Mount("/s", StaticFiles(directory=tree / "secret.txt", check_dir=False))])
    with pytest.raises(RuntimeError, match="is not a directory"):
        test_client_factory(app).get("/s/x")


def test_packages(test_client_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "pkg_with_statics"
    (package / "statics").mkdir(parents=True)
    (package / "assets").mkdir()
    (package / "__init__.py").write_text("")
    (package / "statics" / "a.txt").write_text("from statics")
    (package / "assets" / "b.txt").write_text("from assets")
    monkeypatch.syspath_prepend(str(tmp_path))
    app = Starlette(routes=[Mount("/p", StaticFiles(packages=["pkg_with_statics", ("pkg_with_statics", "assets")]))])
    client = test_client_factory(app)
    assert client.get("/p/a.txt").text == "from statics"
    assert client.get("/p/b.txt").text == "from assets"
    with pytest.raises(AssertionError, match="Package 'no_such_package_here' could not be found."):
        StaticFiles(packages=["no_such_package_here"])
    with pytest.raises(AssertionError, match="Directory ''missing'' in package 'pkg_with_statics' could not be found."):
        StaticFiles(packages=[("pkg_with_statics", "missing")])


def test_websocket_scope_is_closed(test_client_factory: Callable[..., Any], tree: Path) -> None:
    from fastframe.websockets import WebSocketDisconnect

    ours, _ = both_clients(tree)
    with pytest.raises(WebSocketDisconnect) as info:
        with test_client_factory(ours).websocket_connect("/static/app.css"):
            pass  # pragma: no cover
    assert info.value.code == 1000
