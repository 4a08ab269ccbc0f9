"""The route table twins against each other and against the reference's in-order scan of routes.

Both twins get the same entries (made by fastframe's routes) and must pick the same route, with the
same scope changes, as asking each of the reference's routes in turn would: first full match, else
first partial one.
"""

from __future__ import annotations

import copy
import importlib
import pickle
from typing import Any

import pytest
import starlette.routing as ref_routing
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fastframe import routing, speedups
from fastframe._pure import routing as pure_routing

try:
    compiled_routing: Any = importlib.import_module("fastframe._speedups.routing")
except ImportError:  # a pure build: the compiled twin is absent and the pure one stands in
    compiled_routing = pure_routing

TWINS = [pure_routing, compiled_routing]


def test_speedups_module_exposes_the_twin() -> None:
    if speedups.COMPILED["routing"]:
        assert speedups.routing is compiled_routing
    else:
        assert speedups.routing is pure_routing


def test_public_names_match() -> None:
    def public(module: Any) -> set[str]:
        return {name for name in dir(module) if not name.startswith("_")}

    assert public(pure_routing) <= public(compiled_routing) | {"annotations"}
    for name in ("HTTP_LEAF", "WEBSOCKET_LEAF", "OTHER", "TEXT", "DIGITS", "OTHER_PARAM"):
        assert getattr(pure_routing, name) == getattr(compiled_routing, name)


async def endpoint(request: Any) -> Any:  # pragma: no cover - routes are only matched here
    return None


async def session(websocket: Any) -> None:  # pragma: no cover
    return None


_PIECES = ["/", "a", "b", "-", "é", "1", ".", "{n:int}", "{s}", "{p:path}", "{f:float}", "{u:uuid}"]
template = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map(lambda parts: "/" + "".join(parts))
path = st.text(alphabet=["/", "a", "b", "-", "é", "1", "0", "9", ".", "\n", "x"], max_size=12).map(lambda t: "/" + t)
methods = st.sampled_from([None, ["GET"], ["POST"], ["GET", "PUT"]])
kinds = st.sampled_from(["route", "route", "route", "websocket", "mount"])


def build(package: Any, specs: list[tuple[str, str, Any]]) -> list[Any]:
    routes = []
    for kind, source, allowed in specs:
        if kind == "websocket":
            routes.append(package.WebSocketRoute(source, session))
        elif kind == "mount":
            routes.append(package.Mount(source.rstrip("/"), routes=[package.Route("/x", endpoint)]))
        else:
            routes.append(package.Route(source, endpoint, methods=allowed))
    return routes


def reference_answer(routes: list[Any], scope: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
    """What the reference's router does: ask each route in order."""
    partial = None
    for index, route in enumerate(routes):
        match, child = route.matches(scope)
        if match.name == "FULL":
            return index, {**scope, "route": route, **child}
        if match.name == "PARTIAL" and partial is None:
            partial = (index, {**scope, "route": route, **child})
    return partial if partial is not None else (None, dict(scope))


def comparable(routes: list[Any], index: int | None, scope: dict[str, Any]) -> Any:
    shown = {key: value for key, value in scope.items() if key not in ("route", "endpoint")}
    endpoint_index = None
    if "endpoint" in scope:
        endpoint_index = type(scope["endpoint"]).__name__ if index is not None else None
    return index, shown, endpoint_index


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(kinds, template, methods), min_size=1, max_size=5),
    st.lists(
        st.tuples(path, st.sampled_from(["GET", "POST", "HEAD"]), st.sampled_from(["http", "websocket"])),
        min_size=1,
        max_size=6,
    ),
)
@example(
    [("route", "/a/{n:int}", None)], [("/a/12\n", "GET", "http"), ("/a/007", "GET", "http"), ("/a/9/", "GET", "http")]
)
@example(
    [("route", "/a{n:int}/{s}", ["POST"]), ("route", "/-{s}", None)],
    [("/a9/é", "GET", "http"), ("/-\n", "GET", "http")],
)
@example([("mount", "/a", None), ("websocket", "/a/x", None)], [("/a/x", "GET", "websocket"), ("/a", "GET", "http")])
# Two params with nothing between them: only the regex can tell where the first ends.
@example([("route", "//", None), ("route", "/{n:int}{s}", None)], [("/00", "GET", "http"), ("/1/2", "GET", "http")])
def test_resolve_is_the_reference_scan(specs: list[tuple[str, str, Any]], requests: list[tuple[str, str, str]]) -> None:
    try:
        reference = build(ref_routing, specs)
    except Exception as exc:
        with pytest.raises(type(exc)):
            build(routing, specs)
        return
    ours = build(routing, specs)
    for twin in TWINS:
        table = twin.RouteTable([route._table_entry() for route in ours], routing.Match.FULL, routing.Match.PARTIAL)
        for text, method, scope_type in requests:
            scope = {"type": scope_type, "method": method, "path": text, "root_path": "", "headers": []}
            expected_index, expected_scope = reference_answer(reference, dict(scope))
            found = dict(scope)
            route, _ = table.resolve(found, scope_type)
            index = None if route is None else ours.index(route)
            assert comparable(ours, index, found) == comparable(reference, expected_index, expected_scope)
            assert table.any_match(dict(scope), scope_type) == (expected_index is not None)


@settings(max_examples=200, deadline=None)
@given(st.lists(template, min_size=1, max_size=8), st.lists(path, min_size=1, max_size=6))
def test_twins_give_the_same_candidates(templates: list[str], paths: list[str]) -> None:
    try:
        routes = [routing.Route(source, endpoint) for source in templates]
    except Exception:
        return
    entries = [route._table_entry() for route in routes]
    tables = [twin.RouteTable(entries, routing.Match.FULL, routing.Match.PARTIAL) for twin in TWINS]
    for text in paths:
        found = [table.candidates(text) for table in tables]
        assert list(found[0]) == list(found[1]) == sorted(set(found[0]))
        # The promise: a route that matches is always among the candidates.
        for index, route in enumerate(routes):
            if route.path_regex.match(text):
                assert index in found[0]


def test_a_thousand_routes_give_only_nearby_candidates() -> None:
    routes = [routing.Route(f"/r{i}", endpoint) for i in range(1000)]
    routes += [routing.Route(f"/p{i}/{{rest:path}}", endpoint) for i in range(1000)]
    routes += [routing.Route(f"/{{lang}}/page{i}", endpoint) for i in range(1000)]
    entries = [route._table_entry() for route in routes]
    for twin in TWINS:
        table = twin.RouteTable(entries, routing.Match.FULL, routing.Match.PARTIAL)
        assert list(table.candidates("/r500")) == [500]
        assert list(table.candidates("/r500\n")) == [500]
        assert list(table.candidates("/p7/anything/here")) == [1007]
        assert list(table.candidates("/en/page500")) == [2500]
        assert list(table.candidates("/nothing/at/all")) == []


def test_many_distinct_paths_keep_the_answers() -> None:
    routes = [routing.Route("/a/{n:int}", endpoint), routing.Route("/b", endpoint)]
    entries = [route._table_entry() for route in routes]
    for twin in TWINS:
        table = twin.RouteTable(entries, routing.Match.FULL, routing.Match.PARTIAL)
        for n in range(2000):
            scope = {"type": "http", "method": "GET", "path": f"/a/{n}", "root_path": ""}
            assert table.resolve(scope, "http")[0] is routes[0]
            assert scope["path_params"] == {"n": n}
        assert table.resolve({"type": "http", "method": "GET", "path": "/b", "root_path": ""}, "http")[0] is routes[1]


def test_copies_and_pickles_answer_the_same() -> None:
    entries = [routing.Route("/a/{n:int}", endpoint)._table_entry()]
    for twin in TWINS:
        table = twin.RouteTable(entries, routing.Match.FULL, routing.Match.PARTIAL)
        for clone in (copy.copy(table), copy.deepcopy(table)):
            assert list(clone.candidates("/a/1")) == [0]
    # A router pickles with its routes; the table is rebuilt from them.
    router = routing.Router([routing.Route("/a/{n:int}", endpoint, name="a")])
    assert pickle.loads(pickle.dumps(router)).url_path_for("a", n=3) == "/a/3"


@pytest.mark.parametrize("root_path", ["", "/app", "/ap", "/app/"])
@pytest.mark.parametrize("requested", ["/app", "/app/", "/app/a/1", "/apple/a/1", "/a/1"])
def test_root_path_is_cut_as_the_reference_cuts_it(root_path: str, requested: str) -> None:
    specs: list[tuple[str, str, Any]] = [("route", "/a/{n:int}", None), ("route", "/", None), ("route", "", None)]
    reference = build(ref_routing, specs[:2])
    ours = build(routing, specs[:2])
    scope = {"type": "http", "method": "GET", "path": requested, "root_path": root_path}
    expected_index, expected_scope = reference_answer(reference, dict(scope))
    for twin in TWINS:
        table = twin.RouteTable([route._table_entry() for route in ours], routing.Match.FULL, routing.Match.PARTIAL)
        found = dict(scope)
        route, _ = table.resolve(found, "http")
        index = None if route is None else ours.index(route)
        assert comparable(ours, index, found) == comparable(reference, expected_index, expected_scope)


def test_same_routes_compares_identity_in_order() -> None:
    a, b = routing.Route("/a", endpoint), routing.Route("/a", endpoint)
    for twin in TWINS:
        assert twin.same_routes([a, b], (a, b))
        assert not twin.same_routes([b, a], (a, b))
        assert not twin.same_routes([a], (a, b))
        assert twin.same_routes([], ())


# -- a route's own matches(), asked directly (as FastAPI's router does) ---------------------------

for _twin in TWINS:
    _twin.configure_matches(routing.Match.NONE, routing.Match.PARTIAL, routing.Match.FULL)

root_paths = st.sampled_from(["", "/a", "/a/", "/ab", "/é", "/a!", "/ab!", "/!"])
scope_types = st.sampled_from(["http", "http", "websocket", "lifespan"])
outer_params = st.sampled_from([None, {}, {"outer": 1}, {"n": "shadowed"}])


def _scope(kind: str, method: str, text: str, root: str, outer: dict[str, Any] | None) -> dict[str, Any]:
    # A root ending in "!" is not the path's own: "/a!" gives root "/a" over a path not below it.
    full = text if root.endswith("!") else root + text
    root = root.rstrip("!")
    scope: dict[str, Any] = {"type": kind, "method": method, "path": full, "root_path": root}
    if outer is not None:
        scope["path_params"] = dict(outer)
    return scope


@settings(max_examples=300, deadline=None)
@given(template, methods, path, root_paths, scope_types, st.sampled_from(["GET", "POST", "HEAD"]), outer_params)
@example("/{n:int}", ["GET"], "/12", "/a", "http", "POST", {"outer": 1})
@example("/a{s}", None, "/ab", "", "websocket", "GET", None)
@example("/ab{s}", None, "/abc", "/a!", "http", "GET", None)
def test_route_matches_twins_and_reference(
    source: str,
    allowed: list[str] | None,
    text: str,
    root: str,
    kind: str,
    method: str,
    outer: dict[str, Any] | None,
) -> None:
    try:
        ref_http = ref_routing.Route(source, endpoint, methods=allowed)
        ref_ws = ref_routing.WebSocketRoute(source, session)
    except Exception:
        return
    ours_http = routing.Route(source, endpoint, methods=allowed)
    ours_ws = routing.WebSocketRoute(source, session)
    pairs = [
        (ours_http, ref_http, "route_matches"),
        (ours_ws, ref_ws, "websocket_route_matches"),
    ]
    for ours, ref, function in pairs:
        expected_match, expected_child = ref.matches(_scope(kind, method, text, root, outer))
        answers = [ours.matches(_scope(kind, method, text, root, outer))]
        answers += [getattr(twin, function)(ours, _scope(kind, method, text, root, outer)) for twin in TWINS]
        for match, child in answers:
            assert match.name == expected_match.name
            assert child == expected_child


_REGEX_PIECES = ["^", "a", "b", "/", "é", ".", "\\.", "\\/", "\\d", "\\w", "*", "+", "?", "{2}", "{", "}"]
_REGEX_PIECES += ["(", ")", "[ab]", "|", "$", "\\A", "\\\\"]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(_REGEX_PIECES), max_size=8).map(lambda parts: "^" + "".join(parts)),
    st.lists(st.text(alphabet=["a", "b", "/", "é", ".", "1", "\\", "{", "}"], max_size=6), min_size=1, max_size=6),
)
@example("^/r12/(?P<x>[^/]+)$", ["/items/5", "/r12/a", "/r1"])
@example("^/ab?c", ["/ac", "/abc"])
@example("^a|b", ["b"])
def test_literal_prefix_never_turns_away_a_match(pattern: str, paths: list[str]) -> None:
    import re

    if compiled_routing is pure_routing:
        return  # the prefix is the compiled twin's shortcut: a pure build has none
    try:
        regex = re.compile(pattern)
    except re.error:
        return
    prefix = compiled_routing.literal_prefix(pattern)
    assert pattern.startswith("^") or prefix == ""
    for text in paths + [prefix, prefix + "a"]:
        if regex.match(text) is not None:
            assert text.startswith(prefix), (pattern, prefix, text)


def test_literal_prefix_of_route_templates() -> None:
    if compiled_routing is pure_routing:
        return  # the prefix is the compiled twin's shortcut: a pure build has none
    for source, prefix in [("/r12/{x}", "/r12/"), ("/a.b", "/a.b"), ("/{x}", "/"), ("/x/{p:path}", "/x/")]:
        assert compiled_routing.literal_prefix(routing.Route(source, endpoint).path_regex.pattern) == prefix
