"""The route table: which routes may match a path, without trying every route.

Pure-Python twin of ``_speedups/routing.pyx``. The table knows nothing about route
objects: it is built from one key per route index and answers, for a path, the
ascending indices of the routes worth trying. The caller still runs each candidate's
own matching, so the table only has to never leave out a route that could match.

A key is one of:

- ``None``: opaque (a user route with its own ``matches``); a candidate for every path.
- ``False``: never a candidate (e.g. a websocket route in the http table).
- ``(prefix, exact)`` or ``(prefix, exact, segments)``: ``prefix`` is the literal text
  every matching path starts with. With ``exact`` the route matches only that literal
  path (a ``$`` anchor also accepts one trailing newline, so ``prefix + "\\n"`` is a
  candidate too). ``segments``, when given, says the route matches only paths of
  exactly that many ``/``-separated segments (after the leading ``/``), each either
  equal to a literal string or anything at all (``None``); such routes live in a
  segment trie. Other routes are filed under the longest part of ``prefix`` that ends
  with ``/``, and are candidates for every path starting with that.

Lookup costs a dict probe per path segment plus the candidates found, whatever the
number of routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any as _Any

__all__ = [
    "MATCHER",
    "OPAQUE",
    "ROUTE_PARAMS",
    "ROUTE_STATIC",
    "SEGMENT_KEYS",
    "WEBSOCKET_PARAMS",
    "WEBSOCKET_STATIC",
    "Resolver",
    "RouteTable",
    "TableKey",
    "route_for",
    "use_route_slots",
]

# This table accepts the three-item keys (with segment shapes); the router gives two-item keys otherwise.
SEGMENT_KEYS = True

TableKey = tuple[str, bool] | tuple[str, bool, tuple[str | None, ...] | None] | bool | None

# A trie node: (children by literal segment, None for any segment; route indices ending here).
_Node = tuple[dict[_Any, _Any], list[int]]

_EMPTY: tuple[int, ...] = ()
_CACHE_SIZE = 512


class RouteTable:
    __slots__ = ("_static", "_nodes", "_always", "_max_depth", "_trie", "_cache", "size")

    def __init__(self, keys: Sequence[TableKey]) -> None:
        static: dict[str, list[int]] = {}
        nodes: dict[str, list[int]] = {}
        always: list[int] = []
        max_depth = 0
        trie: _Node = ({}, [])
        for index, key in enumerate(keys):
            if key is None or key is True:
                always.append(index)
            elif key is False:
                continue
            else:
                prefix, exact = key[0], key[1]
                segments = key[2] if len(key) > 2 else None  # type: ignore[misc]
                if exact:
                    static.setdefault(prefix, []).append(index)
                elif segments is not None:
                    at = trie
                    for part in segments:
                        at = at[0].setdefault(part, ({}, []))
                    at[1].append(index)
                else:
                    node = prefix[: prefix.rfind("/") + 1]
                    if not node:
                        # No slash to anchor on: try it everywhere rather than risk a miss.
                        always.append(index)
                        continue
                    nodes.setdefault(node, []).append(index)
                    max_depth = max(max_depth, node.count("/"))
        self._static = {k: tuple(v) for k, v in static.items()}
        self._nodes = {k: tuple(v) for k, v in nodes.items()}
        self._always = tuple(always)
        self._max_depth = max_depth
        self._trie = trie if trie[0] else None
        self._cache: dict[str, tuple[int, ...]] = {}
        self.size = len(keys)

    def candidates(self, path: str) -> tuple[int, ...]:
        """Ascending indices of the routes that may match ``path``."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        found: list[tuple[int, ...]] = []
        hit = self._static.get(path)
        if hit is not None:
            found.append(hit)
        if path[-1:] == "\n":
            hit = self._static.get(path[:-1])
            if hit is not None:
                found.append(hit)
        depth = self._max_depth
        if depth:
            nodes = self._nodes
            pos = path.find("/")
            while pos >= 0 and depth:
                hit = nodes.get(path[: pos + 1])
                if hit is not None:
                    found.append(hit)
                pos = path.find("/", pos + 1)
                depth -= 1
        if self._trie is not None and path[:1] == "/":
            self._walk(path[1:].split("/"), found)
        if self._always:
            found.append(self._always)
        if not found:
            result = _EMPTY
        elif len(found) == 1:
            result = found[0]
        else:
            merged: list[int] = []
            for part in found:
                merged.extend(part)
            merged.sort()
            result = tuple(merged)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[path] = result
        return result

    def _walk(self, parts: list[str], found: list[tuple[int, ...]]) -> None:
        last = len(parts) - 1
        stack: list[tuple[_Node, int]] = [(self._trie, 0)]  # type: ignore[list-item]
        while stack:
            node, depth = stack.pop()
            if depth > last:
                if node[1]:
                    found.append(tuple(node[1]))
                continue
            children = node[0]
            part = parts[depth]
            child = children.get(part)
            if child is not None:
                stack.append((child, depth + 1))
            if depth == last and part[-1:] == "\n":
                # "$" also matches before a final newline.
                child = children.get(part[:-1])
                if child is not None:
                    stack.append((child, depth + 1))
            child = children.get(None)
            if child is not None:
                stack.append((child, depth + 1))


# How the resolver matches each route (a plan's first item). The leaf kinds read the route's
# path, path_regex, param_convertors, endpoint and (http) methods on every request.
ROUTE_STATIC = 0  # an http Route whose path has no parameters
ROUTE_PARAMS = 1  # an http Route with parameters
WEBSOCKET_STATIC = 2
WEBSOCKET_PARAMS = 3
MATCHER = 4  # plan[2](scope, route_path) -> (Match, child scope), e.g. a Mount
OPAQUE = 5  # route.matches(scope), for routes the table knows nothing about


_NO_ROUTE = (None, None)


class Resolver:
    """Picks the route for a scope: the table's candidates, matched in order, first full match wins,
    else the first partial (wrong method) one. Sets scope["route"] and the route's child scope.

    ``plans[i]`` is ``(kind, route, matcher)`` for route ``i``; ``full`` and ``partial`` are the
    router's Match.FULL and Match.PARTIAL; ``routes`` is the route list the plans were made from.
    ``lookup`` returns None without looking when ``routes`` is not that list as it was (another
    list, or another length or either end changed): the caller rebuilds and asks again.
    """

    __slots__ = (
        "_table",
        "_plans",
        "_full",
        "_partial",
        "_routes",
        "_size",
        "_first",
        "_last",
        "_answers",
        "_partials",
    )

    def __init__(
        self,
        table: RouteTable,
        plans: Sequence[tuple[int, _Any, _Any]],
        full: _Any,
        partial: _Any,
        routes: Sequence[_Any],
        direct: Sequence[_Any] | None = None,
    ) -> None:
        self._table = table
        self._plans = tuple(plans)
        self._full = full
        self._partial = partial
        self._routes = routes
        self._size = len(routes)
        self._first = routes[0] if self._size > 0 else None
        self._last = routes[-1] if self._size > 0 else None
        if direct is None:
            direct = [None] * len(self._plans)
        # lookup's answers, made once: (route, direct entry) for a full match, (route, None) for a partial.
        # Only routes matched here, methods included, keep their direct entry: the dispatcher then calls
        # the endpoint without checking the method again.
        self._answers = tuple(
            [
                (plan[1], entry if plan[0] <= WEBSOCKET_PARAMS else None)
                for plan, entry in zip(self._plans, direct, strict=True)
            ]
        )
        self._partials = tuple([(plan[1], None) for plan in self._plans])

    def lookup(self, scope: dict[str, _Any], routes: Sequence[_Any]) -> tuple[_Any, _Any] | None:
        """(route, direct entry) for a full match by a route that still has the app the entry was
        made from, (route, None) for another full match or a partial one, (None, None) for none;
        None, without looking, when the routes changed."""
        # One frame for the whole search: each Python call is a good part of a request's cost here.
        if (
            routes is not self._routes
            or len(routes) != self._size
            or (self._size and (routes[0] is not self._first or routes[-1] is not self._last))
        ):
            return None
        path: str = scope["path"]
        root_path = scope.get("root_path", "")
        route_path = path
        if root_path and path.startswith(root_path):
            if len(path) == len(root_path):
                route_path = ""
            elif path[len(root_path)] == "/":
                route_path = path[len(root_path) :]
        partial = -1
        partial_scope: dict[str, _Any] = {}
        plans = self._plans
        table = self._table
        candidates = table._cache.get(route_path)
        if candidates is None:
            candidates = table.candidates(route_path)
        for index in candidates:
            kind, route, matcher = plans[index]
            if kind <= WEBSOCKET_PARAMS:
                if kind == ROUTE_STATIC or kind == WEBSOCKET_STATIC:
                    # matcher: (the regex, the path it matches) while the route keeps its regex as built.
                    regex = route.path_regex
                    if matcher is None or regex is not matcher[0] or route_path != matcher[1]:
                        if regex.match(route_path) is None:
                            continue
                    params: dict[str, _Any] = {}
                else:
                    found = route.path_regex.match(route_path)
                    if found is None:
                        continue
                    params = found.groupdict()
                    convertors = route.param_convertors
                    for key, value in params.items():
                        params[key] = convertors[key].convert(value)
                outer = scope.get("path_params")
                if outer:
                    path_params = dict(outer)
                    path_params.update(params)
                else:
                    path_params = params
                if kind <= ROUTE_PARAMS:
                    methods = route.methods
                    if methods and scope["method"] not in methods:
                        if partial < 0:
                            partial = index
                            partial_scope = {"endpoint": route.endpoint, "path_params": path_params}
                        continue
                scope["route"] = route
                scope["endpoint"] = route.endpoint
                scope["path_params"] = path_params
                answer: tuple[_Any, _Any] = self._answers[index]
                entry = answer[1]
                if entry is not None and route.app is not entry[0]:
                    # The route's app was replaced since: no direct entry, the route handles the request.
                    return self._partials[index]  # type: ignore[no-any-return]
                return answer
            if kind == MATCHER:
                match, child_scope = matcher(scope, route_path)
            else:
                match, child_scope = route.matches(scope)
            if match is self._full:
                scope["route"] = route
                scope.update(child_scope)
                return self._answers[index]  # type: ignore[no-any-return]
            if match is self._partial and partial < 0:
                partial = index
                partial_scope = child_scope
        if partial < 0:
            return _NO_ROUTE
        scope["route"] = plans[partial][1]
        scope.update(partial_scope)
        return self._partials[partial]  # type: ignore[no-any-return]


def use_route_slots(*classes: type) -> None:
    """The compiled twin reads these classes' slots straight from their instances; Python's own
    attribute reads are already what that stands in for."""


def route_for(router: _Any, scope: dict[str, _Any], scope_type: str) -> tuple[_Any, _Any]:
    """Router._route_for in one call: (route, direct entry), (route, None) for a partial match,
    (None, None) for none; the tables are rebuilt through router._tables() when stale or missing."""
    tables = getattr(router, "_table_for", None)
    if tables is None:
        tables = router._tables()
    which = 0 if scope_type == "http" else 1
    found = tables[6][which].lookup(scope, router.routes)
    if found is None:
        found = router._tables()[6][which].lookup(scope, router.routes)
    return found  # type: ignore[no-any-return]
