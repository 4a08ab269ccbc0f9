"""The route table alone: RouteTable.resolve() for the benchmark apps' route lists, compiled or pure
per process."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.scenarios import build_routes, load_framework, route_groups

BATCH = 2000
SIZES = [120, 1000]


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
    app: Any = build_routes(size)(load_framework("fastframe"))
    resolve = app.router._route_table().resolve
    scopes = [{"type": "http", "method": "GET", "path": path, "root_path": ""} for path in paths_for(size, kind)]
    assert resolve(dict(scopes[0]), "http")[0] is not None

    def run() -> None:
        for scope in scopes:
            resolve(dict(scope), "http")

    benchmark.extra_info["batch"] = BATCH
    benchmark.extra_info["group"] = "micro"
    benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=1)
