"""Both route-table twins against each other: same candidates (or the same exception) for every input."""

from __future__ import annotations

import asyncio
import copy
import importlib
import pickle
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fastframe import speedups
from fastframe._pure import routing as pure_routing

try:
    compiled_routing: Any = importlib.import_module("fastframe._speedups.routing")
except ImportError:  # a pure build: the compiled twin is absent and the pure one stands in
    compiled_routing = pure_routing

TWINS = [pure_routing, compiled_routing]


def outcome(func: Any, *args: Any) -> Any:
    try:
        return ("ok", func(*args))
    except Exception as exc:
        return ("raised", type(exc))


def lookups(keys: Any, paths: list[Any]) -> list[Any]:
    """Every twin's answers for the paths, each asked twice so the second comes from the cache."""
    answers = []
    for twin in TWINS:
        built = outcome(twin.RouteTable, keys)
        if built[0] == "raised":
            answers.append(built)
            continue
        table = built[1]
        answers.append([table.size] + [outcome(table.candidates, p) for p in paths for _ in range(2)])
    return answers


def assert_same(keys: Any, paths: list[Any]) -> None:
    answers = lookups(keys, paths)
    assert answers[0] == answers[1], (keys, paths)
    for result in answers[1][1:] if answers[1][0] != "raised" else ():
        if result[0] == "ok":
            assert type(result[1]) is tuple


def test_speedups_module_exposes_the_twin() -> None:
    assert list(speedups.routing.RouteTable([None]).candidates("/")) == [0]
    if speedups.COMPILED["routing"]:
        assert speedups.routing is compiled_routing


def test_public_names_match() -> None:
    assert compiled_routing.__all__ == pure_routing.__all__
    assert compiled_routing.SEGMENT_KEYS == pure_routing.SEGMENT_KEYS
    assert compiled_routing.TableKey == pure_routing.TableKey


_SEGMENTS = ["", "a", "b", "users", "1", "a b", "é", "\n", "ü", "\U0001f600", "x\ny", "%2F", "{id}", "Ä"]
segment = st.one_of(st.sampled_from(_SEGMENTS), st.text(max_size=4))
literal = st.lists(segment, max_size=5).map(lambda parts: "/" + "/".join(parts))
# A template's literal prefix: a whole path, or one cut inside a segment, or one ending in '/'.
prefix = st.one_of(
    literal,
    st.tuples(literal, st.sampled_from(["", "x", "/", "/x", "é", "//"])).map("".join),
    st.text(max_size=6),
)
# A segment shape: each '/'-separated segment a literal or None (any one segment).
shape = st.lists(st.one_of(st.none(), segment), min_size=1, max_size=4).map(tuple)
key = st.one_of(
    st.none(),
    st.just(True),
    st.just(False),
    st.tuples(prefix, st.booleans()),
    st.tuples(prefix, st.booleans(), st.one_of(st.none(), shape)),
)
suffix = st.sampled_from(["", "\n", "/", "/x", "x", "/1/items", "//", "/\n", "\n\n", "é/", "/\U0001f600"])


@st.composite
def keys_and_paths(draw: st.DrawFn) -> tuple[list[Any], list[str]]:
    keys = draw(st.lists(key, max_size=14))
    prefixes = [k[0] for k in keys if isinstance(k, tuple)] or ["/"]
    shapes = [k[2] for k in keys if isinstance(k, tuple) and len(k) > 2 and k[2]] or [("a", None)]
    derived = st.tuples(st.sampled_from(prefixes), suffix).map("".join)
    filled = st.tuples(st.sampled_from(shapes), st.lists(segment, min_size=4, max_size=4), suffix).map(
        lambda t: "/" + "/".join(s if s is not None else fill for s, fill in zip(t[0], t[1], strict=False)) + t[2]
    )
    paths = draw(st.lists(st.one_of(derived, filled, literal, st.text(max_size=10)), max_size=8))
    return keys, paths


@settings(max_examples=600, deadline=None)
@given(keys_and_paths())
@example(([("/users/", False), ("/users", True), ("/items/", False), ("/", False), None, False], ["/users\n", ""]))
@example(([("abc", False), ("", False), ("", True), ("/a/b/c/", False)], ["", "\n", "/a/b/c/d", "abc"]))
@example(([("/é/", False), ("/\U0001f600/x", False), ("/é", True)], ["/é/", "/é\n", "/\U0001f600/xy", "/é/\U0001f600"]))
@example(
    (
        [("/a/", False, ("a", None)), ("/a/", False, ("a", None, "b")), ("/", False, (None,)), ("/x", True, None)],
        ["/a/1", "/a/1\n", "/a/\n", "/a/1/b", "/a/1/b\n", "/", "/\n", "a/1", "/a//b", "/x\n"],
    )
)
def test_twins_give_the_same_candidates(case: tuple[list[Any], list[str]]) -> None:
    assert_same(*case)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(literal, st.booleans()), min_size=1, max_size=6), st.integers(1, 80))
def test_deep_prefixes(keys: list[Any], depth: int) -> None:
    # Prefixes deeper than the compiled twin's fixed arrays take its generic path.
    deep = "/" + "d/" * depth
    keys = [*keys, (deep + "x", False), (deep, True), None]
    paths = [deep, deep + "x", deep + "x/y", deep[:-2], deep + "\n"] + [k[0] + "/z" for k in keys if k]
    assert_same(keys, paths)


@pytest.mark.parametrize("levels", [5, 6, 7])
def test_a_path_reaching_many_trie_ends(levels: int) -> None:
    # Every mix of a literal and an any-segment: 2**levels routes end on the same path.
    shapes = [tuple("x" if (bits >> i) & 1 else None for i in range(levels)) for bits in range(2**levels)]
    keys: list[Any] = [("/", False, shape) for shape in shapes] + [None, ("/x/", False), ("/x", True)]
    path = "/x" * levels
    assert_same(keys, [path, path + "\n", path + "/", "/x", "/y" * levels, path[:-1] + "y"])


def test_cache_overflow_keeps_answers() -> None:
    keys = [("/static", True), ("/r/", False), ("/r/x/", False), None]
    paths = [f"/r/{i}" if i % 3 else f"/r/x/{i}" for i in range(1500)] + ["/static", "/static\n"]
    assert_same(keys, paths + paths[::7])


def test_copies_and_pickles_answer_the_same() -> None:
    keys: list[Any] = [("/a/", False, ("a", None)), ("/b/", False), ("/c", True), None, False]
    paths = ["/a/1", "/b/x", "/c", "/c\n", "/d"]
    for twin in TWINS:
        table = twin.RouteTable(keys)
        table.size = 99
        for copied in (copy.copy(table), copy.deepcopy(table), pickle.loads(pickle.dumps(table))):
            assert type(copied) is twin.RouteTable
            assert copied.size == 99
            assert [copied.candidates(p) for p in paths] == [table.candidates(p) for p in paths]


class Path(str):
    def find(self, *args: Any) -> int:  # type: ignore[override]
        return -1


@pytest.mark.parametrize(
    "path",
    [b"/a/", b"", None, 1, ["/a/"], ("/a/",), Path("/a/b"), Path("/static"), "/a/b"],
    ids=repr,
)
@pytest.mark.parametrize(
    "keys",
    [
        [("/a/", False), ("/static", True), None],
        [("/static", True), True],
        [(b"/a/", True)],
        [],
    ],
    ids=repr,
)
def test_unusual_paths(keys: list[Any], path: Any) -> None:
    assert_same(keys, [path])


@pytest.mark.parametrize(
    "keys",
    [
        [5],
        [("x",)],
        [("a", "b", "c")],
        ["ab"],
        ["a/"],
        [(b"/a/", False)],
        [(Path("/a/b"), False)],
        [(["/a"], True)],
        [(None, False)],
        [("/a/", [])],
        [(1, True), ("/1/", False)],
        [("a", "b", "c")],
        [("/a/", False, "ab")],
        [("/a/", False, (1, None))],
        [("/a/", False, ())],
        [("/a/", False, ([],))],
        [("/a/", False, None, "extra")],
        [("/a/", False, 5)],
    ],
    ids=repr,
)
def test_unusual_keys(keys: Any) -> None:
    assert_same(keys, ["/a/", "/a/b", "a", "ab", "/1/", "", b"/a/"])


def test_keys_without_a_length() -> None:
    answers = [outcome(twin.RouteTable, iter([("/a/", False)])) for twin in TWINS]
    assert answers[0] == answers[1] == ("raised", TypeError)


# --- through the router ---------------------------------------------------------------------------

_PARAMS = ["{id:int}", "{name}", "{rest:path}", "{v:float}", "{u:uuid}"]
template_segment = st.one_of(st.sampled_from(["a", "b", "users", "é", "1", ""]), st.sampled_from(_PARAMS))
template = st.lists(template_segment, min_size=0, max_size=4).map(lambda parts: "/" + "/".join(parts))
request_segment = st.sampled_from(
    ["a", "b", "users", "é", "1", "42", "x", "", "1.5", "00000000-0000-0000-0000-000000000000"]
)
request_path = st.lists(request_segment, max_size=5).map(lambda parts: "/" + "/".join(parts))


def run_router(router: Any, paths: list[str], method: str) -> list[Any]:
    async def one(path: str) -> Any:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode("utf-8"),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "server": ("testserver", 80),
            "client": ("testclient", 50000),
        }
        sent: list[Any] = []

        async def receive() -> Any:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        await router(scope, receive, send)
        return [(m.get("status"), m.get("headers"), m.get("body")) for m in sent]

    async def all_paths() -> list[Any]:
        return [await one(p) for p in paths]

    return asyncio.run(all_paths())


def build_router(specs: list[tuple[str, str, bool]]) -> Any:
    from fastframe.responses import PlainTextResponse
    from fastframe.routing import Mount, Route, Router

    def endpoint_for(label: str) -> Any:
        async def endpoint(request: Any) -> Any:
            return PlainTextResponse(f"{label} {sorted(request.path_params.items())}")

        return endpoint

    routes: list[Any] = []
    for i, (path, kind, post_only) in enumerate(specs):
        if kind == "mount":
            inner = [Route("/", endpoint_for(f"m{i}/")), Route("/{x}", endpoint_for(f"m{i}x"))]
            routes.append(Mount(path.rstrip("/") or "/m", routes=inner))
        else:
            methods = ["POST"] if post_only else ["GET"]
            routes.append(Route(path, endpoint_for(f"r{i}"), methods=methods))
    return Router(routes=routes)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(template, st.sampled_from(["route", "route", "mount"]), st.booleans()), max_size=10),
    st.lists(request_path, min_size=1, max_size=6),
    st.sampled_from(["GET", "POST"]),
)
def test_router_matches_the_same_route_through_either_table(
    specs: list[tuple[str, str, bool]], paths: list[str], method: str
) -> None:
    results: list[Any] = []
    original = speedups.routing
    try:
        for twin in TWINS:
            speedups.routing = twin
            try:
                router = build_router(specs)
            except Exception as exc:  # an invalid template fails the same way whichever table is used
                results.append(("raised", type(exc), str(exc)))
                continue
            results.append(run_router(router, paths, method))
    finally:
        speedups.routing = original
    assert results[0] == results[1]


# --- parameter routes matched by scanning (compiled) or by their regex (pure) ----------------------

_PIECES = ["/", "a", "-", "é", "1", ".", "{n:int}", "{s}", "{p:path}"]
scan_template = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map(lambda parts: "/" + "".join(parts))
scan_path = st.text(alphabet=["/", "a", "-", "é", "1", "0", "9", ".", "\n", "x"], max_size=12).map(lambda t: "/" + t)


@settings(max_examples=300, deadline=None)
@given(st.lists(scan_template, min_size=1, max_size=4), st.lists(scan_path, min_size=1, max_size=6))
@example(["/a/{n:int}"], ["/a/12\n", "/a/19", "/a/1a", "/a/", "/a/007", "/a/9/"])
@example(["/a{n:int}/{s}", "/-{s}", "/{s}.{n:int}"], ["/a9/é", "/a9/é\n", "/-x/", "/a1/x/y", "/x.9", "/-\n"])
def test_parameter_routes_match_as_the_reference_does(templates: list[str], paths: list[str]) -> None:
    """Whether and with which params each route matches: both twins and the reference's in-order scan."""
    from starlette.routing import Route as RefRoute
    from starlette.routing import Router as RefRouter

    from fastframe.routing import Match, Route, Router

    async def endpoint(request: Any) -> Any:
        return None

    answers: list[Any] = []
    original = speedups.routing
    try:
        for twin in TWINS:
            speedups.routing = twin
            try:
                router = Router([Route(t, endpoint) for t in templates])
            except Exception as exc:
                answers.append(("raised", type(exc)))
                continue
            found = []
            for path in paths:
                scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
                route, _ = router._route_for(scope, "http")
                found.append((router.routes.index(route) if route else None, scope.get("path_params")))
            answers.append(found)
    finally:
        speedups.routing = original
    assert answers[0] == answers[1]
    try:
        reference = RefRouter([RefRoute(t, endpoint) for t in templates])
    except Exception as exc:
        assert answers[0] == ("raised", type(exc))
        return
    expected = []
    for path in paths:
        scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
        for index, route in enumerate(reference.routes):
            match, child = route.matches(scope)
            if match.name == Match.FULL.name:
                expected.append((index, child["path_params"]))
                break
        else:
            expected.append((None, None))
    assert answers[0] == expected
