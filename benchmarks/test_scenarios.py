"""Each scenario served through the ASGI interface, validated once outside the timed region."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.driver import batch_runner, call_once
from benchmarks.scenarios import SCENARIOS, Scenario, load_framework


def build(scenario: Scenario, impl: str) -> Any:
    if impl == "raw":
        return scenario.raw() if scenario.raw is not None else None
    return scenario.build(load_framework(impl))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(benchmark: Any, impl: str, rounds: int, name: str) -> None:
    scenario = SCENARIOS[name]
    app = build(scenario, impl)
    if app is None:
        pytest.skip(f"{name}: not available for {impl}")
    scenario.validate(call_once(app, scenario.request))
    run = batch_runner(app, scenario.request, scenario.batch)
    benchmark.extra_info["batch"] = scenario.batch
    benchmark.extra_info["group"] = scenario.group
    benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=2)
