"""The route table: which route answers a request, decided in one call.

Pure-Python twin of ``_speedups/routing.pyx``; the two read side by side. A Router builds one table
from its routes, each contributing an entry (``fastframe.routing`` makes them), and asks it per
request which route answers: the first full match in the routes' order, else the first partial
one (the path matched, the method did not), else none. Resolving writes into the scope what the
reference's router writes: "route", then the matched route's child scope.

An entry is a tuple ``(kind, route, shape, regex, params, app, direct, literals)``:

- ``kind``: HTTP_LEAF (a Route matched here, path then method), WEBSOCKET_LEAF (a WebSocketRoute
  matched here) or OTHER (``route.matches(scope)`` decides; Mount, Host and user routes).
- ``shape``: which paths the route can match at all, so that lookups skip the rest:
  ``("static", path)`` (exactly that path, or it with one trailing newline, which "$" also
  accepts), ``("segments", parts)`` (exactly that many "/"-separated segments after the leading
  "/", each equal to the literal or anything at all where the part is None), ``("prefix", text)``
  (paths starting with ``text``) or None (any path).
- ``regex``, ``params``: the route's path_regex as the entry was made, and ``(name, convertor,
  kind)`` for each of its parameters in order, ``kind`` being TEXT, DIGITS or OTHER_PARAM (the
  compiled twin scans TEXT and DIGITS segments instead of running the regex). A leaf whose
  path_regex is no longer that regex is matched with whatever it is now.
- ``app``, ``direct``: the route's app as built and what the caller may run in its place (the
  endpoint, for a route whose handling is only calling it), or None. ``resolve`` answers
  ``(route, direct)`` only while ``route.app`` is still that app.
- ``literals``: the template's text around its parameters (``len(params) + 1`` pieces), which the
  compiled twin's scan compares; empty when the entry has no template.
"""

from __future__ import annotations

from collections.abc import Sequence as _Sequence
from typing import Any as _Any

__all__ = [
    "DIGITS",
    "HTTP_LEAF",
    "OTHER",
    "OTHER_PARAM",
    "TEXT",
    "WEBSOCKET_LEAF",
    "RouteTable",
    "configure_matches",
    "note_app_change",
    "route_matches",
    "same_routes",
    "websocket_route_matches",
]

HTTP_LEAF = 0
WEBSOCKET_LEAF = 1
OTHER = 2

TEXT = 0
DIGITS = 1
OTHER_PARAM = 2

_NOTHING = (None, None)
# Bumped whenever any route's app is replaced (see note_app_change): a table built since has every
# route's app as its entry holds it, and need not read it back.
_app_changes = 0


def note_app_change() -> None:
    """A route's app was replaced: tables built before read each route's app again."""
    global _app_changes
    _app_changes += 1
# Candidate lists kept per path; a table that sees more distinct paths starts over.
_REMEMBERED = 512


class _Trie:
    """Segment shapes: children by literal segment, the child for any segment, entries ending here."""

    __slots__ = ("literal", "wildcard", "ends")

    def __init__(self) -> None:
        self.literal: dict[str, _Trie] = {}
        self.wildcard: _Trie | None = None
        self.ends: list[int] = []

    def add(self, parts: _Sequence[str | None], index: int) -> None:
        node = self
        for part in parts:
            if part is None:
                if node.wildcard is None:
                    node.wildcard = _Trie()
                node = node.wildcard
            else:
                node = node.literal.setdefault(part, _Trie())
        node.ends.append(index)

    def collect(self, segments: list[str], depth: int, into: list[int]) -> None:
        if depth == len(segments):
            into.extend(self.ends)
            return
        segment = segments[depth]
        child = self.literal.get(segment)
        if child is not None:
            child.collect(segments, depth + 1, into)
        if depth == len(segments) - 1 and segment.endswith("\n"):
            # "$" matches before a final newline: the last literal may be followed by one.
            child = self.literal.get(segment[:-1])
            if child is not None:
                child.collect(segments, depth + 1, into)
        if self.wildcard is not None:
            self.wildcard.collect(segments, depth + 1, into)


class _Index:
    """For one scope type: the entries worth trying for a path, in the routes' order."""

    __slots__ = ("exact", "under", "deepest", "trie", "anywhere", "seen")

    def __init__(self, entries: _Sequence[tuple[_Any, ...]], indices: _Sequence[int]) -> None:
        exact: dict[str, list[int]] = {}
        under: dict[str, list[int]] = {}
        anywhere: list[int] = []
        trie = _Trie()
        has_trie = False
        for index in indices:
            shape = entries[index][2]
            if shape is None:
                anywhere.append(index)
            elif shape[0] == "static":
                exact.setdefault(shape[1], []).append(index)
            elif shape[0] == "segments":
                trie.add(shape[1], index)
                has_trie = True
            else:
                # Filed under the prefix's text up to its last "/": every path it matches starts so.
                text: str = shape[1]
                cut = text.rfind("/")
                if cut < 0:
                    anywhere.append(index)
                else:
                    under.setdefault(text[: cut + 1], []).append(index)
        self.exact = {path: tuple(found) for path, found in exact.items()}
        self.under = {prefix: tuple(found) for prefix, found in under.items()}
        self.deepest = max((prefix.count("/") for prefix in under), default=0)
        self.trie = trie if has_trie else None
        self.anywhere = tuple(anywhere)
        self.seen: dict[str, tuple[int, ...]] = {}

    def candidates(self, path: str) -> tuple[int, ...]:
        found = self.seen.get(path)
        if found is None:
            found = self._gather(path)
            if len(self.seen) >= _REMEMBERED:
                self.seen.clear()
            self.seen[path] = found
        return found

    def _gather(self, path: str) -> tuple[int, ...]:
        groups: list[tuple[int, ...]] = []
        for text in (path, path[:-1]) if path.endswith("\n") else (path,):
            hit = self.exact.get(text)
            if hit is not None:
                groups.append(hit)
        if self.deepest:
            slash = path.find("/")
            remaining = self.deepest
            while slash >= 0 and remaining:
                hit = self.under.get(path[: slash + 1])
                if hit is not None:
                    groups.append(hit)
                slash = path.find("/", slash + 1)
                remaining -= 1
        if self.trie is not None and path.startswith("/"):
            ends: list[int] = []
            self.trie.collect(path[1:].split("/"), 0, ends)
            if ends:
                # The trie gives them in the order it walks, not the routes' order.
                ends.sort()
                groups.append(tuple(ends))
        if self.anywhere:
            groups.append(self.anywhere)
        if len(groups) == 1:
            return groups[0]
        return tuple(sorted(index for group in groups for index in group))


def _route_path(scope: dict[str, _Any]) -> str:
    """The path relative to root_path, as the reference's routing sees it."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        if len(path) == len(root):
            return ""
        if path[len(root)] == "/":
            return path[len(root) :]
    return path


class RouteTable:
    """Built once from the entries of a router's routes (see the module docstring)."""

    __slots__ = ("entries", "_app_changes", "_http", "_websocket", "_full", "_partial", "_answers")

    def __init__(self, entries: _Sequence[tuple[_Any, ...]], full: _Any, partial: _Any) -> None:
        self._app_changes = _app_changes
        self.entries = tuple(entries)
        self._http = _Index(self.entries, [i for i, e in enumerate(self.entries) if e[0] != WEBSOCKET_LEAF])
        self._websocket = _Index(self.entries, [i for i, e in enumerate(self.entries) if e[0] != HTTP_LEAF])
        # Match.FULL and Match.PARTIAL, what OTHER routes' matches() answer.
        self._full = full
        self._partial = partial
        # resolve's answers, made once: (route, direct) for each entry.
        self._answers = tuple((entry[1], entry[6]) for entry in self.entries)

    def candidates(self, path: str, scope_type: str = "http") -> tuple[int, ...]:
        """Ascending indices of the entries that may match `path` for this scope type."""
        return (self._http if scope_type == "http" else self._websocket).candidates(path)

    def resolve(self, scope: dict[str, _Any], scope_type: str) -> tuple[_Any, _Any]:
        """(route, direct) for the route answering `scope` (direct None unless it may stand in for the
        route's app), (None, None) when none does; the scope gets "route" and the child scope."""
        # Without a root_path (the usual case) the path is the route path: no call for it.
        route_path = scope["path"] if not scope.get("root_path") else _route_path(scope)
        index = self._http if scope_type == "http" else self._websocket
        candidates = index.seen.get(route_path)
        if candidates is None:
            candidates = index.candidates(route_path)
        fallback = -1
        fallback_scope: _Any = None
        for position in candidates:
            entry = self.entries[position]
            kind, route = entry[0], entry[1]
            if kind == OTHER:
                match, child_scope = route.matches(scope)
                if match is self._full:
                    scope["route"] = route
                    scope.update(child_scope)
                    return self._answers[position]
                if match is self._partial and fallback < 0:
                    fallback, fallback_scope = position, child_scope
                continue
            params = _leaf_params(entry, route, route_path)
            if params is None:
                continue
            outer = scope.get("path_params")
            if outer:
                merged = dict(outer)
                merged.update(params)
                params = merged
            endpoint = route.endpoint
            if kind == HTTP_LEAF:
                methods = route.methods
                if methods and scope["method"] not in methods:
                    if fallback < 0:
                        fallback, fallback_scope = position, {"endpoint": endpoint, "path_params": params}
                    continue
            scope["route"] = route
            scope["endpoint"] = endpoint
            scope["path_params"] = params
            answer = self._answers[position]
            if answer[1] is not None and self._app_changes != _app_changes and route.app is not entry[5]:
                # The route's app was replaced since the entry was made: the route handles it.
                return (route, None)
            return answer
        if fallback < 0:
            return _NOTHING
        route = self.entries[fallback][1]
        scope["route"] = route
        scope.update(fallback_scope)
        return (route, None)

    def any_match(self, scope: dict[str, _Any], scope_type: str) -> bool:
        """Whether any route matches `scope` at all (fully or partially), changing nothing in it."""
        route_path = _route_path(scope)
        for position in (self._http if scope_type == "http" else self._websocket).candidates(route_path):
            entry = self.entries[position]
            if entry[0] == OTHER:
                match = entry[1].matches(scope)[0]
                if match is self._full or match is self._partial:
                    return True
                continue
            if _leaf_params(entry, entry[1], route_path) is not None:
                return True
        return False


def _leaf_params(entry: tuple[_Any, ...], route: _Any, route_path: str) -> dict[str, _Any] | None:
    """The converted path params of a leaf route matching `route_path`, or None when it does not."""
    regex = route.path_regex
    shape = entry[2]
    if regex is entry[3] and shape is not None and shape[0] == "static":
        # Only "static" entries of this exact path (or it and a newline) are candidates.
        return {}
    found = regex.match(route_path)
    if found is None:
        return None
    params: dict[str, _Any] = found.groupdict()
    if params:
        convertors = route.param_convertors
        for name, text in params.items():
            params[name] = convertors[name].convert(text)
    return params


def same_routes(routes: _Sequence[_Any], snapshot: tuple[_Any, ...]) -> bool:
    """Whether `routes` holds exactly the objects of `snapshot`, in order."""
    if len(routes) != len(snapshot):
        return False
    for mine, theirs in zip(routes, snapshot, strict=True):
        if mine is not theirs:
            return False
    return True


# -- a route's own matches() ---------------------------------------------------------------------
# Asked for each route in turn by routers that scan their routes themselves (FastAPI's among
# them): one frame per route, the path worked out in place.

_MATCH_NONE: _Any = None
_MATCH_PARTIAL: _Any = None
_MATCH_FULL: _Any = None


def configure_matches(none: _Any, partial: _Any, full: _Any) -> None:
    """Give the Match members the routes' matches() answer with."""
    global _MATCH_NONE, _MATCH_PARTIAL, _MATCH_FULL
    _MATCH_NONE, _MATCH_PARTIAL, _MATCH_FULL = none, partial, full


def _matched_params(route: _Any, scope: _Any) -> _Any:
    """The route's converted path params, the scope's own first, or None when its regex fails.
    The match is worked out here rather than through _leaf_params: a router asking 60 routes in
    turn would pay a Python call more for each (the compiled twin shares one C function)."""
    path = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        below = path[len(root) :]
        if not below or below[0] == "/":
            path = below
    found = route.path_regex.match(path)
    if found is None:
        return None
    params = found.groupdict()
    if params:
        convertors = route.param_convertors
        for name, text in params.items():
            params[name] = convertors[name].convert(text)
    outer = scope.get("path_params")
    if not outer:
        return params
    combined = dict(outer)
    combined.update(params)
    return combined


def route_matches(self: _Any, scope: _Any) -> tuple[_Any, dict[str, _Any]]:
    """Route.matches: the path, then the method."""
    if scope["type"] != "http":
        return _MATCH_NONE, {}
    params = _matched_params(self, scope)
    if params is None:
        return _MATCH_NONE, {}
    child_scope = {"endpoint": self.endpoint, "path_params": params}
    methods = self.methods
    if methods and scope["method"] not in methods:
        return _MATCH_PARTIAL, child_scope
    return _MATCH_FULL, child_scope


def websocket_route_matches(self: _Any, scope: _Any) -> tuple[_Any, dict[str, _Any]]:
    """WebSocketRoute.matches: the path alone."""
    if scope["type"] != "websocket":
        return _MATCH_NONE, {}
    params = _matched_params(self, scope)
    if params is None:
        return _MATCH_NONE, {}
    return _MATCH_FULL, {"endpoint": self.endpoint, "path_params": params}
