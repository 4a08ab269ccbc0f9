"""The route table a router builds: once per route list, again whenever that list changes in any
way, and always giving the route the reference's in-order scan gives (see
tests/speedups/test_routing_twins.py for the twins themselves)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from fastframe import speedups
from fastframe.responses import PlainTextResponse
from fastframe.routing import BaseRoute, Match, Mount, Route, Router, WebSocketRoute


async def endpoint(request: Any) -> PlainTextResponse:
    return PlainTextResponse(request.scope["route"].path)


async def call(app: Any, path: str, method: str = "GET") -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.org")],
        "scheme": "http",
        "server": ("example.org", 80),
    }
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the route tables routers build, by the number of entries of each."""
    real = speedups.routing.RouteTable
    counter: list[int] = []

    def counting(entries: Any, full: Any, partial: Any) -> Any:
        counter.append(len(entries))
        return real(entries, full, partial)

    monkeypatch.setattr(speedups.routing, "RouteTable", counting)
    yield counter


@pytest.mark.anyio
async def test_thousand_route_table_is_built_once(builds: list[int]) -> None:
    router = Router([Route(f"/r{i}/{{x:int}}", endpoint) for i in range(1000)])
    assert builds == []
    for i in range(0, 1000, 50):
        assert await call(router, f"/r{i}/5") == (200, f"/r{i}/{{x:int}}".encode())
    assert await call(router, "/missing") == (404, b"Not Found")
    assert builds == [1000]


@pytest.mark.anyio
async def test_table_follows_route_list_changes(builds: list[int]) -> None:
    router = Router([Route("/a", endpoint)])
    assert (await call(router, "/b"))[0] == 404
    router.routes.append(Route("/b", endpoint))
    assert (await call(router, "/b"))[0] == 200
    router.add_route("/c", endpoint)
    assert (await call(router, "/c"))[0] == 200
    router.mount("/m", Router([Route("/d", endpoint)]))
    assert (await call(router, "/m/d"))[0] == 200
    router.routes[-1] = Route("/e", endpoint)
    assert (await call(router, "/e"))[0] == 200
    router.routes[1] = Route("/b2", endpoint)  # a replaced route in the middle, same length
    assert (await call(router, "/b"))[0] == 404
    assert (await call(router, "/b2"))[0] == 200
    router.routes += [Route("/h", endpoint)]
    assert (await call(router, "/h"))[0] == 200
    del router.routes[0]
    assert (await call(router, "/a"))[0] == 404
    router.routes.extend([Route("/i", endpoint)])
    assert (await call(router, "/i"))[0] == 200
    router.routes.insert(0, Route("/g", endpoint, methods=["POST"]))
    assert (await call(router, "/g"))[0] == 405
    # The first table, one per change (nine) and the mounted router's own; answering again builds nothing.
    assert len(builds) == 11
    assert (await call(router, "/g", "POST"))[0] == 200
    assert (await call(router, "/i"))[0] == 200
    assert len(builds) == 11


@pytest.mark.anyio
async def test_a_replaced_route_list_is_followed_too(builds: list[int]) -> None:
    router = Router([Route("/a", endpoint)])
    assert (await call(router, "/a"))[0] == 200
    mine = [Route("/f", endpoint)]
    router.routes = mine
    assert (await call(router, "/f"))[0] == 200
    assert (await call(router, "/a"))[0] == 404
    # A plain list has no hooks: it is compared with what the table was built from.
    mine[0] = Route("/g", endpoint)
    assert (await call(router, "/g"))[0] == 200
    assert (await call(router, "/f"))[0] == 404
    assert len(builds) == 3


class EverythingRoute(BaseRoute):
    """A user route with its own matching, as third-party routers write them."""

    def matches(self, scope: Any) -> tuple[Match, dict[str, Any]]:
        return Match.FULL, {"endpoint": endpoint}

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("everything")(scope, receive, send)


class ShoutingRoute(Route):
    def matches(self, scope: Any) -> tuple[Match, dict[str, Any]]:
        return super().matches({**scope, "path": scope["path"].lower()})


@pytest.mark.anyio
async def test_opaque_routes_keep_their_place() -> None:
    router = Router([Route("/a", endpoint), EverythingRoute(), Route("/b", endpoint)])
    assert await call(router, "/a") == (200, b"/a")
    assert await call(router, "/b") == (200, b"everything")
    router = Router([ShoutingRoute("/x", endpoint), Route("/X", endpoint, name="upper")])
    assert await call(router, "/X") == (200, b"/x")


@pytest.mark.anyio
async def test_replaced_regex_is_honoured() -> None:
    route = Route("/old", endpoint)
    route.path_regex = re.compile("^/new$")
    router = Router([route, WebSocketRoute("/ws", endpoint), Mount("/m", routes=[])])
    assert await call(router, "/new") == (200, b"/old")
    assert (await call(router, "/old"))[0] == 404


class HandBuiltRoute(Route):
    """A subclass that sets its attributes itself instead of calling Route.__init__."""

    def __init__(self, path: str) -> None:
        from fastframe.routing import compile_path

        self.path = path
        self.endpoint = endpoint
        self.app = endpoint
        self.name = "hand"
        self.methods = {"GET"}
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse(f"hand {scope['path_params']}")(scope, receive, send)


class BareRouter(Router):
    def __init__(self, routes: list[Any]) -> None:
        self.routes = routes
        self.redirect_slashes = True
        self.default = self.not_found
        self.middleware_stack = self.app


@pytest.mark.anyio
async def test_subclasses_that_skip_init_still_route() -> None:
    router = BareRouter([Route("/a", endpoint), HandBuiltRoute("/h/{x:int}")])
    assert await call(router, "/h/4") == (200, b"hand {'x': 4}")
    # Path-only match (wrong method): still this route's handle that answers.
    assert await call(router, "/h/4", "POST") == (200, b"hand {'x': 4}")
    assert await call(router, "/a") == (200, b"/a")
    assert (await call(router, "/a/"))[0] == 307


async def second(request: Any) -> PlainTextResponse:
    return PlainTextResponse("second")


@pytest.mark.anyio
async def test_reordering_in_place_is_seen() -> None:
    router = Router([Route("/x", endpoint), Route("/y", endpoint), Route("/x", second)])
    assert await call(router, "/x") == (200, b"/x")
    router.routes.reverse()
    assert await call(router, "/x") == (200, b"second")
    router.routes.sort(key=lambda route: route.endpoint is second)
    assert await call(router, "/x") == (200, b"/x")


def test_the_route_list_is_a_list_to_its_users() -> None:
    import copy
    import pickle

    routes = [Route("/a", endpoint, name="a"), Route("/b", endpoint, name="b")]
    router = Router(routes)
    assert isinstance(router.routes, list)
    assert router.routes == routes and router.routes is not routes
    assert router.routes[::-1] == routes[::-1] and router.routes + [] == routes
    for clone in (copy.copy(router.routes), copy.deepcopy(router.routes), pickle.loads(pickle.dumps(router.routes))):
        assert isinstance(clone, list) and [route.path for route in clone] == ["/a", "/b"]
    assert pickle.loads(pickle.dumps(router)).url_path_for("b") == "/b"


@pytest.mark.anyio
async def test_every_list_change_is_seen(builds: list[int]) -> None:
    router = Router([Route("/a", endpoint), Route("/b", endpoint)])
    changes = [
        lambda routes: routes.sort(key=lambda route: route.path, reverse=True),
        lambda routes: routes.reverse(),
        lambda routes: routes.pop(),
        lambda routes: routes.remove(routes[0]),
        lambda routes: routes.clear(),
        lambda routes: routes.__iadd__([Route("/c", endpoint)]),
        lambda routes: routes.__imul__(2),
        lambda routes: routes.__setitem__(slice(0, 1), [Route("/d", endpoint)]),
        lambda routes: routes.__init__([Route("/e", endpoint)]),
    ]
    for change in changes:
        before = len(builds)
        change(router.routes)
        await call(router, "/")
        assert len(builds) == before + 1
    assert await call(router, "/e") == (200, b"/e")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "templates",
    [
        ["/{a}/b", "/a/{b}"],
        ["/{n:int}/x", "/1/{rest:path}"],
        ["/{a}/{b}/c", "/a/{b}/c", "/a/b/{c}"],
    ],
)
async def test_the_first_of_several_matching_routes_answers(templates: list[str]) -> None:
    # The table narrows the routes down by a trie walked literal segments first; the reference
    # answers with the first matching route in list order, whatever that walk visits first.
    import starlette.routing

    paths = ["/a/b", "/1/x", "/a/b/c"]
    ours = Router([Route(template, endpoint) for template in templates])
    theirs = starlette.routing.Router([starlette.routing.Route(template, endpoint) for template in templates])
    for path in paths:
        assert await call(ours, path) == await call(theirs, path), path
