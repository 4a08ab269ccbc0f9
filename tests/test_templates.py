from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest
import starlette.applications
import starlette.routing
import starlette.templating
import starlette.testclient

from fastframe.applications import Starlette
from fastframe.background import BackgroundTask
from fastframe.routing import Route
from fastframe.templating import Jinja2Templates


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text(
        "Hello {{ name }} at {{ request.url.path }}, home is {{ url_for('home') }}; {{ extra }}"
    )
    (tmp_path / "plain.txt").write_text("<{{ name }}>")
    (tmp_path / "link.html").write_text("{{ url_for('item', item_id=7) }}")
    return tmp_path


def build(package: str, template_dir: Path) -> Any:
    if package == "fastframe":
        templates: Any = Jinja2Templates(template_dir, context_processors=[lambda request: {"extra": "EXTRA"}])
        app_cls: Any = Starlette
        route: Any = Route
    else:
        templates = starlette.templating.Jinja2Templates(
            template_dir, context_processors=[lambda request: {"extra": "EXTRA"}]
        )
        app_cls = starlette.applications.Starlette
        route = starlette.routing.Route

    async def home(request: Any) -> Any:
        return templates.TemplateResponse(request, "index.html", {"name": "<b>world</b>"}, headers={"x-t": "1"})

    async def plain(request: Any) -> Any:
        return templates.TemplateResponse(
            request=request, name="plain.txt", context={"name": "<i>"}, status_code=201, media_type="text/plain"
        )

    async def item(request: Any) -> Any:
        return templates.TemplateResponse(request, "link.html")

    return app_cls(
        routes=[route("/", home, name="home"), route("/plain", plain), route("/items/{item_id:int}", item, name="item")]
    )


@pytest.mark.parametrize("path", ["/", "/plain", "/items/3"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_rendering_matches_the_reference(
    test_client_factory: Callable[..., Any], template_dir: Path, method: str, path: str
) -> None:
    mine = test_client_factory(build("fastframe", template_dir)).request(method, path)
    theirs = starlette.testclient.TestClient(build("starlette", template_dir)).request(method, path)
    assert (mine.status_code, dict(mine.headers), mine.content) == (
        theirs.status_code,
        dict(theirs.headers),
        theirs.content,
    )


def test_html_is_autoescaped_and_text_is_not(test_client_factory: Callable[..., Any], template_dir: Path) -> None:
    client = test_client_factory(build("fastframe", template_dir))
    assert "&lt;b&gt;world&lt;/b&gt;" in client.get("/").text
    assert client.get("/plain").text == "<<i>>"


def test_the_test_client_exposes_template_and_context(
    test_client_factory: Callable[..., Any], template_dir: Path
) -> None:
    response = test_client_factory(build("fastframe", template_dir)).get("/")
    assert response.template.name == "index.html"
    assert response.context["name"] == "<b>world</b>"
    assert response.context["extra"] == "EXTRA"
    assert "request" in response.context


def test_context_processors_override_the_callers_context(
    test_client_factory: Callable[..., Any], template_dir: Path
) -> None:
    templates = Jinja2Templates(template_dir, context_processors=[lambda request: {"name": "from processor"}])

    async def page(request: Any) -> Any:
        return templates.TemplateResponse(request, "plain.txt", {"name": "from caller"})

    response = test_client_factory(Starlette(routes=[Route("/", page)])).get("/")
    assert response.text == "<from processor>"


def test_background_task_runs(test_client_factory: Callable[..., Any], template_dir: Path) -> None:
    templates = Jinja2Templates(directory=template_dir)
    ran: list[str] = []

    async def page(request: Any) -> Any:
        return templates.TemplateResponse(
            request, "plain.txt", {"name": "x"}, background=BackgroundTask(ran.append, "done")
        )

    test_client_factory(Starlette(routes=[Route("/", page)])).get("/")
    assert ran == ["done"]


def test_environment_given_directly(test_client_factory: Callable[..., Any], template_dir: Path) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir))
    templates = Jinja2Templates(env=env)
    assert "url_for" in env.globals

    async def page(request: Any) -> Any:
        return templates.TemplateResponse(request, "link.html")

    app = Starlette(routes=[Route("/", page), Route("/items/{item_id:int}", page, name="item")])
    assert test_client_factory(app).get("/").text == "http://testserver/items/7"


def test_directory_or_env_is_required(template_dir: Path) -> None:
    with pytest.raises(AssertionError, match="either 'directory' or 'env' arguments must be passed"):
        Jinja2Templates()
    with pytest.raises(AssertionError):
        Jinja2Templates(template_dir, env=jinja2.Environment())


def test_missing_template_raises(test_client_factory: Callable[..., Any], template_dir: Path) -> None:
    templates = Jinja2Templates(template_dir)

    async def page(request: Any) -> Any:
        return templates.TemplateResponse(request, "absent.html")

    with pytest.raises(jinja2.TemplateNotFound):
        test_client_factory(Starlette(routes=[Route("/", page)])).get("/")
