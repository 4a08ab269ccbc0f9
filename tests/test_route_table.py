"""The route table: candidates never miss a route, and the table is built once per route list."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastframe import speedups
from fastframe._pure import routing as pure_routing
from fastframe.responses import PlainTextResponse
from fastframe.routing import BaseRoute, Match, Mount, Route, Router, WebSocketRoute

# Every importable twin of the table is held to the same contract.
TWINS = [pure_routing]
try:
    TWINS.append(importlib.import_module("fastframe._speedups.routing"))
except ImportError:
    pass


@pytest.fixture(params=TWINS, ids=lambda m: m.__name__)
def twin(request: pytest.FixtureRequest) -> Any:
    return request.param


def may_match(key: Any, path: str) -> bool:
    """What the table promises: every route that could match the path is a candidate."""
    if key is None:
        return True
    if key is False:
        return False
    prefix, exact = key[0], key[1]
    if exact:
        return path in (prefix, prefix + "\n")
    segments = key[2] if len(key) > 2 else None
    if segments is None:
        return path.startswith(prefix)
    parts = path[1:].split("/") if path.startswith("/") else None
    if parts is None or len(parts) != len(segments):
        return False
    last = len(parts) - 1
    return all(
        want is None or want == got or (i == last and got == want + "\n")
        for i, (want, got) in enumerate(zip(segments, parts, strict=True))
    )


segment = st.sampled_from(["", "a", "b", "users", "1", "a b", "é", "\n"])
path_st = st.lists(segment, max_size=4).map(lambda parts: "/" + "/".join(parts))
prefix_st = st.one_of(
    path_st,
    st.tuples(path_st, st.sampled_from(["", "x", "/"])).map(lambda t: t[0] + t[1]),
)
shape_st = st.lists(st.one_of(st.none(), segment), min_size=1, max_size=4).map(tuple)
key_st = st.one_of(
    st.none(),
    st.just(False),
    st.tuples(prefix_st, st.booleans()),
    # A segment-shaped key: its prefix is the literal segments before the first wildcard.
    shape_st.map(
        lambda shape: (
            "/" + "/".join(shape[: shape.index(None)]) + ("/" if shape.index(None) else "")
            if None in shape
            else "/" + "/".join(shape),
            None not in shape,
            shape if None in shape else None,
        )
    ),
)


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(key_st, max_size=12), paths=st.lists(st.one_of(path_st, st.text(max_size=8)), max_size=6))
def test_candidates_include_every_possible_match(keys: list[Any], paths: list[str]) -> None:
    for twin in TWINS:
        if not getattr(twin, "SEGMENT_KEYS", False):
            keys = [key[:2] if isinstance(key, tuple) else key for key in keys]
        table = twin.RouteTable(keys)
        for path in paths:
            for _ in range(2):  # the second lookup comes from the cache
                found = list(table.candidates(path))
                assert found == sorted(set(found))
                wanted = [i for i, key in enumerate(keys) if may_match(key, path)]
                assert set(wanted) <= set(found)
                assert all(keys[i] is not False for i in found)


def test_candidates_narrow_the_search(twin: Any) -> None:
    keys = [("/users/", False), ("/users", True), ("/items/", False), ("/", False), None, False]
    table = twin.RouteTable(keys)
    assert list(table.candidates("/users/1")) == [0, 3, 4]
    assert list(table.candidates("/users")) == [1, 3, 4]
    assert list(table.candidates("/users\n")) == [1, 3, 4]
    assert list(table.candidates("/items/x/y")) == [2, 3, 4]
    assert list(table.candidates("")) == [4]
    assert twin.RouteTable([]).candidates("/") == ()


@pytest.mark.parametrize("twin", [t for t in TWINS if getattr(t, "SEGMENT_KEYS", False)], ids=lambda m: m.__name__)
def test_segment_trie(twin: Any) -> None:
    keys = [
        ("/", False, (None, "items", None)),  # /{tenant}/items/{id}
        ("/", False, (None, "users")),  # /{tenant}/users
        ("/a/", False, ("a", None, "")),  # /a/{x}/
        ("/", False, None),  # /{p:path}
    ]
    table = twin.RouteTable(keys)
    assert list(table.candidates("/t1/items/9")) == [0, 3]
    assert list(table.candidates("/t1/users")) == [1, 3]
    assert list(table.candidates("/t1/users\n")) == [1, 3]
    assert list(table.candidates("/a/items/")) == [0, 2, 3]  # a parameter segment may be empty here
    assert list(table.candidates("/a/items/x/y")) == [3]
    assert list(table.candidates("/a/b/")) == [2, 3]
    assert list(table.candidates("/a/b/\n")) == [2, 3]


def test_many_routes_only_nearby_candidates(twin: Any) -> None:
    keys: list[Any] = []
    for i in range(1000):
        keys.append((f"/r{i}", True))
        keys.append((f"/p{i}/", False))
    table = twin.RouteTable(keys)
    assert list(table.candidates("/r500")) == [1000]
    assert list(table.candidates("/p7/anything/here")) == [15]
    assert list(table.candidates("/nothing")) == []
    if not getattr(twin, "SEGMENT_KEYS", False):
        return
    # A leading parameter (/{lang}/pageN) does not make every route a candidate.
    table = twin.RouteTable([("/", False, (None, f"page{i}")) for i in range(1000)])
    assert list(table.candidates("/en/page500")) == [500]


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
    """Counts route tables built (the router builds one per scope type per rebuild)."""
    assert speedups.routing is not None
    real = speedups.routing.RouteTable
    counter: list[int] = []

    def counting(keys: Any) -> Any:
        counter.append(len(keys))
        return real(keys)

    monkeypatch.setattr(speedups.routing, "RouteTable", counting)
    yield counter


@pytest.mark.anyio
async def test_thousand_route_table_is_built_once(builds: list[int]) -> None:
    router = Router([Route(f"/r{i}/{{x:int}}", endpoint) for i in range(1000)])
    assert builds == []
    for i in range(0, 1000, 50):
        assert await call(router, f"/r{i}/5") == (200, f"/r{i}/{{x:int}}".encode())
    assert await call(router, "/missing") == (404, b"Not Found")
    assert builds == [1000, 1000]


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
    router.routes = [Route("/f", endpoint)]
    assert (await call(router, "/f"))[0] == 200
    assert (await call(router, "/a"))[0] == 404
    router.routes.insert(0, Route("/g", endpoint, methods=["POST"]))
    assert (await call(router, "/g"))[0] == 405
    assert len(builds) == 2 * 8  # seven changes, plus the mounted router's own table
    assert (await call(router, "/g", "POST"))[0] == 200
    assert (await call(router, "/f"))[0] == 200
    assert len(builds) == 2 * 8  # seven changes, plus the mounted router's own table


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
    import re

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
