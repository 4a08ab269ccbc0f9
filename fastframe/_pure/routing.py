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

__all__ = ["SEGMENT_KEYS", "RouteTable", "TableKey"]

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
