"""Jinja2Templates against the reference: both constructor forms and their errors, context processors,
url_for in templates, autoescaping, and the debug message the TestClient reads."""

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

import fastframe.templating
from fastframe.applications import Starlette
from fastframe.routing import Route

PACKAGES: dict[str, Any] = {
    "fastframe": (fastframe.templating, Starlette, Route),
    "starlette": (starlette.templating, starlette.applications.Starlette, starlette.routing.Route),
}


@pytest.fixture
def templates_dir(tmp_path: Path) -> Path:
    first = tmp_path / "first"
    second = tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "page.html").write_text("<p>{{ name }}</p>|{{ extra }}|{{ order }}|{{ request.url.path }}")
    (first / "links.html").write_text(
        "{{ url_for('item', item_id=5) }}|{{ url_for('item', item_id=5).path }}|{{ url_for('home') is string }}"
    )
    (first / "escape.htm").write_text("{{ name }}")
    (first / "escape.XML").write_text("{{ name }}")
    (first / "escape.txt").write_text("{{ name }}")
    (first / "escape.jinja").write_text("{{ name }}")
    (second / "only-second.html").write_text("second {{ name }}")
    (first / "broken.html").write_text("{{ url_for('no-such-route') }}")
    return tmp_path


def processors() -> list[Callable[[Any], dict[str, Any]]]:
    return [
        lambda request: {"extra": f"from {request.url.path}", "order": "first"},
        lambda request: {"order": "second"},
    ]


def build(package: str, templates: Any) -> Any:
    _, app_cls, route = PACKAGES[package]

    def endpoint(name: str, context: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        async def view(request: Any) -> Any:
            return templates.TemplateResponse(request, name, dict(context or {}), **kwargs)

        return view

    return app_cls(
        routes=[
            route("/", endpoint("page.html", {"name": "<b>you</b>", "order": "caller"}), name="home"),
            route("/items/{item_id:int}", endpoint("links.html"), name="item"),
            route("/second", endpoint("only-second.html", {"name": "x"})),
            route("/htm", endpoint("escape.htm", {"name": "<i>"})),
            route("/xml", endpoint("escape.XML", {"name": "<i>"})),
            route("/txt", endpoint("escape.txt", {"name": "<i>"}, media_type="text/plain")),
            route("/jinja", endpoint("escape.jinja", {"name": "<i>"})),
            route("/status", endpoint("page.html", {"name": "s"}, status_code=418, headers={"x-t": "1"})),
            route("/broken", endpoint("broken.html")),
        ]
    )


def constructions(package: str, root: Path) -> dict[str, Any]:
    module = PACKAGES[package][0]
    return {
        "directory": module.Jinja2Templates(root / "first", context_processors=processors()),
        "str directory": module.Jinja2Templates(str(root / "first"), context_processors=processors()),
        "directories": module.Jinja2Templates([root / "first", root / "second"], context_processors=processors()),
        "env": module.Jinja2Templates(
            env=jinja2.Environment(loader=jinja2.FileSystemLoader([root / "first", root / "second"])),
            context_processors=processors(),
        ),
    }


@pytest.mark.parametrize("form", ["directory", "str directory", "directories", "env"])
@pytest.mark.parametrize(
    "path", ["/", "/items/3", "/second", "/htm", "/xml", "/txt", "/jinja", "/status", "/broken", "/missing"]
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_pages_match_the_reference(
    test_client_factory: Callable[..., Any], templates_dir: Path, form: str, path: str, method: str
) -> None:
    ours = build("fastframe", constructions("fastframe", templates_dir)[form])
    theirs = build("starlette", constructions("starlette", templates_dir)[form])
    results = []
    for client in (
        test_client_factory(ours, raise_server_exceptions=False),
        starlette.testclient.TestClient(theirs, raise_server_exceptions=False),
    ):
        response = client.request(method, path)
        results.append((response.status_code, dict(response.headers), response.content))
    assert results[0] == results[1]


def test_context_processors_win_and_see_the_request(
    test_client_factory: Callable[..., Any], templates_dir: Path
) -> None:
    client = test_client_factory(build("fastframe", constructions("fastframe", templates_dir)["directory"]))
    response = client.get("/")
    assert response.text == "<p>&lt;b&gt;you&lt;/b&gt;</p>|from /|second|/"
    assert response.context["order"] == "second"
    assert response.template.name == "page.html"


def test_url_for_gives_urls(test_client_factory: Callable[..., Any], templates_dir: Path) -> None:
    client = test_client_factory(build("fastframe", constructions("fastframe", templates_dir)["directory"]))
    assert client.get("/items/9").text == "http://testserver/items/5|/items/5|False"


def attempt(factory: Callable[[], Any]) -> Any:
    try:
        result = factory()
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return type(result).__name__


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"directory": None},
        {"directory": ""},
        {"directory": []},
        {"env": None},
        {"directory": "DIR", "env": "ENV"},
        {"env": "not an environment"},
        {"directory": "DIR", "context_processors": None},
    ],
    ids=repr,
)
def test_construction_errors_match_the_reference(templates_dir: Path, arguments: dict[str, Any]) -> None:
    results = []
    for package in ("fastframe", "starlette"):
        kwargs = {
            key: (templates_dir / "first" if value == "DIR" else jinja2.Environment() if value == "ENV" else value)
            for key, value in arguments.items()
        }
        module = PACKAGES[package][0]
        results.append(attempt(lambda module=module, kwargs=kwargs: module.Jinja2Templates(**kwargs)))
    assert results[0] == results[1]


def test_a_given_environment_keeps_its_own_url_for() -> None:
    def mine(*args: Any) -> str:
        return "mine"

    env = jinja2.Environment()
    env.globals["url_for"] = mine
    fastframe.templating.Jinja2Templates(env=env)
    assert env.globals["url_for"] is mine
    fresh = jinja2.Environment()
    templates = fastframe.templating.Jinja2Templates(env=fresh)
    assert templates.env is fresh and "url_for" in fresh.globals
    assert templates.context_processors == []


def test_template_response_fills_the_callers_context(templates_dir: Path) -> None:
    from fastframe.requests import Request

    templates = fastframe.templating.Jinja2Templates(templates_dir / "first")
    request = Request({"type": "http", "method": "GET", "path": "/p", "headers": [], "query_string": b""})
    context: dict[str, Any] = {"name": "n", "order": "o", "extra": "e"}
    response = templates.TemplateResponse(request, "page.html", context)
    assert response.context is context and context["request"] is request
    assert response.body == b"<p>n</p>|e|o|/p"
    own_request: dict[str, Any] = {"request": request, "name": "x"}
    assert templates.TemplateResponse(request, "page.html", own_request).context["request"] is request
    template = templates.get_template("page.html")
    assert templates.TemplateResponse(request, template, {"name": 1}).template is template  # type: ignore[arg-type]


def test_old_call_order_fails_as_in_the_reference(templates_dir: Path) -> None:
    """TemplateResponse(name, context) was removed: the name lands where the request goes."""
    results = []
    for package in ("fastframe", "starlette"):
        templates = PACKAGES[package][0].Jinja2Templates(templates_dir / "first")
        results.append(attempt(lambda templates=templates: templates.TemplateResponse("page.html", {"request": 1})))
    assert results[0] == results[1]
    assert results[0][0] == "TypeError"


def test_the_debug_message_comes_first_when_asked_for(templates_dir: Path) -> None:
    import anyio

    from fastframe.requests import Request

    templates = fastframe.templating.Jinja2Templates(templates_dir / "first")
    for extensions in ({"http.response.debug": {}}, {}):
        scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "extensions": extensions}
        response = templates.TemplateResponse(Request(scope), "escape.txt", {"name": "n"})
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            raise AssertionError("not read")

        anyio.run(response, scope, receive, send)
        kinds = [message["type"] for message in sent]
        if extensions:
            assert kinds == ["http.response.debug", "http.response.start", "http.response.body"]
            assert sent[0]["info"] == {"template": response.template, "context": response.context}
        else:
            assert kinds == ["http.response.start", "http.response.body"]
