"""The route table alone: candidates() for the benchmark apps' route lists, compiled or pure per process."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest

from benchmarks.scenarios import build_routes, load_framework, route_groups

BATCH = 2000
SIZES = [120, 1000]
_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?}")


def table_key(route: Any) -> Any:
    """The key fastframe.routing files a route under (its own, when the route carries one)."""
    key = getattr(route, "_table_key", None)
    if key is not None:
        return key
    match = _PARAM.search(route.path)
    return (route.path, True) if match is None else (route.path[: match.start()], False)


def paths_for(size: int, kind: str) -> list[str]:
    last = route_groups(size)[0] - 1
    if kind == "repeated":
        # The routing scenarios' paths, asked again and again: answered from the table's cache.
        hot = ["/resources0", f"/resources{last}", f"/resources{last}/42/items/abc", "/nothing/here", "/filler0"]
        return [hot[i % len(hot)] for i in range(BATCH)]
    # Distinct ids, more of them than the cache holds: every lookup walks the table.
    return [f"/resources{i % (last + 1)}/{i}/items/x{i}" for i in range(BATCH)]


CASES = {f"micro_route{size}_{kind}": (size, kind) for size in SIZES for kind in ("repeated", "distinct")}


@pytest.mark.parametrize("name", list(CASES))
def test_micro_routing(benchmark: Any, impl: str, rounds: int, name: str) -> None:
    size, kind = CASES[name]
    if impl in ("raw", "starlette"):
        pytest.skip("the route table is fastframe's own; the reference has none")
    speedups = importlib.import_module("fastframe.speedups")
    app: Any = build_routes(size)(load_framework("fastframe"))
    table = speedups.routing.RouteTable([table_key(route) for route in app.router.routes])
    candidates = table.candidates
    paths = paths_for(size, kind)
    assert candidates(paths[0])

    def run() -> None:
        for path in paths:
            candidates(path)

    benchmark.extra_info["batch"] = BATCH
    benchmark.extra_info["group"] = "micro"
    benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=1)
