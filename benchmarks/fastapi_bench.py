"""FastAPI on Starlette 1.10 vs FastAPI on fastframe: the same app (benchmarks/fastapi_apps.py), one
process per engine, since `fastframe.install_as_starlette()` must run before FastAPI is imported.

    python -m benchmarks.fastapi_bench [--rounds 3] [--repeat 40]     in-process ASGI calls
    python -m benchmarks.fastapi_bench --e2e [--rounds 3] [--duration 5] [--connections 64]
                                                                      uvicorn + wrk
    python -m benchmarks.fastapi_bench --instructions                 instructions under callgrind

Engines: `starlette` (FastAPI as installed), `fastframe` (compiled, alias installed) and
`fastframe-pure` (the same with FASTFRAME_NO_EXTENSIONS=1). Every scenario's response (status
and body) is checked once in each engine before it is timed. In-process, the three engine
processes stay up for the whole run and are asked for one timed batch at a time, in turn (the
order rotated), `--repeat` batches per scenario and round; the table gives the best batch per
engine and the ratio of the median batches too. End to end, the median requests/s over rounds.
Ratios are taken within one run. With `--instructions`, the timings' noise is out: each engine's
worker runs under valgrind's callgrind (two at a time), checks every scenario's response, then
counts the instructions of N and 2N requests after a warm-up, gc disabled and PYTHONHASHSEED=0
(benchmarks.instructions and benchmarks.count_worker do the counting), and the table gives
(2N - N) / N per engine. Tables go to benchmarks/results/fastapi-latest.md,
benchmarks/results/fastapi-e2e-latest.md and benchmarks/results/fastapi-instructions-latest.md.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.driver import Request, Result, batch_runner, call_once

ENGINES: dict[str, dict[str, str]] = {
    "starlette": {},
    "fastframe": {},
    "fastframe-pure": {"FASTFRAME_NO_EXTENSIONS": "1"},
}
_CLEARED = ("FASTFRAME_NO_EXTENSIONS", "FASTFRAME_AS_STARLETTE", "BENCH_IMPL")

JSON = [(b"content-type", b"application/json")]
ITEM = {"name": "widget", "price": 9.5, "tags": ["a", "b"]}


@dataclass(frozen=True)
class Scenario:
    label: str
    request: Request
    status: int
    body: Any  # the decoded JSON body expected
    batch: int = 25


SCENARIOS: dict[str, Scenario] = {
    "hello": Scenario("hello: GET / -> dict", Request("GET", "/"), 200, {"message": "Hello World"}),
    "params": Scenario(
        "path + query params: GET /items/42?q=foo&limit=5",
        Request("GET", "/items/42", b"q=foo&limit=5"),
        200,
        {"item_id": 42, "q": "foo", "limit": 5},
    ),
    "body": Scenario(
        "pydantic body: POST /items",
        Request("POST", "/items", headers=JSON, body=json.dumps(ITEM).encode()),
        200,
        ITEM,
    ),
    "response_model": Scenario(
        "response_model: GET /models/7",
        Request("GET", "/models/7"),
        200,
        {"id": 7, "name": "widget", "price": 9.5},
    ),
    "route60": Scenario("60th route: GET /r60/abc", Request("GET", "/r60/abc"), 200, {"route": 60, "x": "abc"}),
}
E2E_PATHS = {"hello": "/", "route60": "/r60/abc"}


def check(name: str, result: Result) -> None:
    scenario = SCENARIOS[name]
    try:
        body = json.loads(bytes(result.body))
    except ValueError:
        body = bytes(result.body)
    if result.status != scenario.status or body != scenario.body:
        raise AssertionError(
            f"{name}: expected {scenario.status} {scenario.body!r}, got {result.status} {bytes(result.body)!r}"
        )


def load_app(engine: str) -> Any:
    """The benchmark app on the engine this process was started for, after checking that engine."""
    if engine != "starlette":
        import fastframe

        fastframe.install_as_starlette()
    app = importlib.import_module("benchmarks.fastapi_apps").app
    routing = sys.modules["starlette.routing"]
    if engine == "starlette":
        if "fastframe" in sys.modules or not routing.__name__.startswith("starlette"):
            raise RuntimeError("the starlette engine imported fastframe")
    else:
        from fastframe import speedups

        if routing is not sys.modules["fastframe.routing"]:
            raise RuntimeError(f"{engine}: starlette.routing is not fastframe.routing")
        expected = "python" if engine == "fastframe-pure" else "cython"
        if speedups.IMPLEMENTATION != expected:
            raise RuntimeError(f"{engine}: fastframe runs {speedups.IMPLEMENTATION}, expected {expected}")
    return app


def validate_all(app: Any) -> None:
    for name, scenario in SCENARIOS.items():
        check(name, call_once(app, scenario.request))


def serve_batches(engine: str) -> None:
    """Worker loop: load and check the app, say "ready", then time one batch per scenario name read
    from stdin and answer with the seconds per request. Each scenario's batch runs twice untimed first."""
    app = load_app(engine)
    validate_all(app)
    runners: dict[str, Callable[[], None]] = {}
    print("ready", flush=True)
    for line in sys.stdin:
        name = line.strip()
        if not name:
            break
        scenario = SCENARIOS[name]
        run = runners.get(name)
        if run is None:
            run = runners[name] = batch_runner(app, scenario.request, scenario.batch)
            run()
            run()
        start = time.perf_counter()
        run()
        print(repr((time.perf_counter() - start) / scenario.batch), flush=True)


COUNTED = 10  # requests per counted stretch under callgrind (N): 3N warm-up, then N and 2N
COUNT_WORKERS = 2  # engines counted at a time (each under valgrind, which is slow and single-threaded)


def count_requests(engine: str, marks_path: str) -> None:
    """Worker under callgrind: load and check the app, then count each scenario's requests between
    the marks of the library at `marks_path` (outside valgrind the marks do nothing)."""
    import ctypes

    app = load_app(engine)
    validate_all(app)
    from benchmarks.count_worker import count_stretches

    marks = ctypes.CDLL(marks_path)
    for name, scenario in SCENARIOS.items():
        count_stretches(marks, name, functools.partial(batch_runner, app, scenario.request), COUNTED)


def count_engines() -> dict[str, dict[str, float]]:
    """Instructions per request, by engine and scenario: each engine's worker under callgrind."""
    from benchmarks.instructions import callgrind, count_parallel

    def count(engine: str, marks: Path, directory: Path) -> dict[str, float]:
        return callgrind(engine, worker_command(engine, "--count", str(marks)), engine_env(engine), directory)

    counts = count_parallel(ENGINES, count, COUNT_WORKERS)
    for engine, per_scenario in counts.items():
        missing = [name for name in SCENARIOS if name not in per_scenario]
        if missing:
            raise SystemExit(f"{engine}: no count for {', '.join(missing)}")
    return counts


def instructions_table(counts: dict[str, dict[str, float]]) -> str:
    from benchmarks.instructions import fmt_count, fmt_ratio

    lines = [
        "| scenario | Starlette 1.10 | fastframe | fastframe pure | Starlette/fastframe | Starlette/pure |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, scenario in SCENARIOS.items():
        s, c, p = (counts[e][name] for e in ENGINES)
        lines.append(
            f"| {scenario.label} | {fmt_count(s)} | {fmt_count(c)} | {fmt_count(p)} | {fmt_ratio(s / c)} "
            f"| {fmt_ratio(s / p)} |"
        )
    return (
        f"FastAPI {_version('fastapi')}, pydantic {_version('pydantic')}: instructions per request under "
        f"callgrind, in-process ASGI calls ({COUNTED} and {2 * COUNTED} requests after a warm-up, gc disabled, "
        "PYTHONHASHSEED=0). Ratio > 1 means fastframe does less work\n\n" + "\n".join(lines) + "\n"
    )


def engine_env(engine: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(ENGINES[engine])
    return env


def worker_command(engine: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.fastapi_bench", "--worker", engine, *args]


def run_worker(engine: str, *args: str) -> str:
    proc = subprocess.run(worker_command(engine, *args), env=engine_env(engine), capture_output=True, text=True)
    if proc.returncode != 0:
        output = proc.stdout[-3000:] + proc.stderr[-3000:]
        raise SystemExit(f"{engine} worker failed (exit {proc.returncode}):\n{output}")
    return proc.stdout


class Worker:
    """One engine's process, kept for the whole run and asked for one batch at a time."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.proc = subprocess.Popen(
            worker_command(engine), env=engine_env(engine), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        if self.readline() != "ready":
            raise SystemExit(f"{engine} worker did not start (its responses are checked first)")

    def readline(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line:
            raise SystemExit(f"{self.engine} worker exited (status {self.proc.wait()})")
        return line

    def batch(self, name: str) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        return float(self.readline())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def in_process(rounds: int, repeat: int) -> str:
    """Engines interleaved batch by batch, so a noisy moment of the machine falls on all of them."""
    samples: dict[tuple[str, str], list[float]] = {}
    workers = [Worker(engine) for engine in ENGINES]
    try:
        for r in range(rounds):
            for name in SCENARIOS:
                for i in range(repeat):
                    shift = (r * repeat + i) % len(workers)
                    for worker in workers[shift:] + workers[:shift]:
                        samples.setdefault((name, worker.engine), []).append(worker.batch(name))
                line = "  ".join(
                    f"{e} {statistics.median(samples[(name, e)][-repeat:]) * 1e6:.1f}" for e in ENGINES
                )
                print(f"  round {r + 1}: {name:15} median µs: {line}", file=sys.stderr, flush=True)
    finally:
        for worker in workers:
            worker.close()
    lines = [
        "| scenario | Starlette 1.10 µs | fastframe µs | fastframe pure µs | Starlette/fastframe "
        "| Starlette/pure | Starlette/fastframe (medians) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, scenario in SCENARIOS.items():
        s, c, p = (min(samples[(name, e)]) * 1e6 for e in ENGINES)
        ms, mc = (statistics.median(samples[(name, e)]) for e in ("starlette", "fastframe"))
        lines.append(
            f"| {scenario.label} | {s:.1f} | {c:.1f} | {p:.1f} | {s / c:.2f} | {s / p:.2f} | {ms / mc:.2f} |"
        )
    return (
        f"FastAPI {_version('fastapi')}, pydantic {_version('pydantic')}: µs per request, in-process ASGI calls "
        f"(batches of {SCENARIOS['hello'].batch}), best of {rounds * repeat} batches per engine, the three engines' "
        "processes interleaved batch by batch; the last column is the ratio of the median batches. "
        "Ratio > 1 means fastframe is faster\n\n" + "\n".join(lines) + "\n"
    )


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def serve_and_load(engine: str, path: str, duration: int, connections: int) -> float:
    from benchmarks.e2e import load_server

    # fastframe engines: the serve command installs the alias before uvicorn imports the app.
    launcher = ["-m", "uvicorn"] if engine == "starlette" else ["-m", "fastframe", "serve"]
    launch = [*launcher, "benchmarks.fastapi_apps:app"]
    return load_server(launch, engine_env(engine), path, duration, connections, f"{engine} {path}")


def end_to_end(rounds: int, duration: int, connections: int) -> str:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    # The responses are checked in-process on each engine first (uvicorn serves the same module).
    for engine in ENGINES:
        run_worker(engine, "--validate")
    samples: dict[tuple[str, str], list[float]] = {}
    for r in range(rounds):
        order = list(ENGINES) if r % 2 == 0 else list(reversed(ENGINES))
        for name, path in E2E_PATHS.items():
            for engine in order:
                rps = serve_and_load(engine, path, duration, connections)
                samples.setdefault((name, engine), []).append(rps)
                print(f"  round {r + 1}: {name:8} {engine:15} {rps:10.0f} req/s", file=sys.stderr, flush=True)
    lines = [
        "| scenario | Starlette 1.10 req/s | fastframe req/s | fastframe pure req/s | fastframe/Starlette "
        "| pure/Starlette |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in E2E_PATHS:
        s, c, p = (statistics.median(samples[(name, e)]) for e in ENGINES)
        lines.append(f"| {SCENARIOS[name].label} | {s:,.0f} | {c:,.0f} | {p:,.0f} | {c / s:.2f} | {p / s:.2f} |")
    return (
        f"FastAPI {_version('fastapi')} under uvicorn (uvloop, httptools, 1 worker, no access log), wrk -t1 "
        f"-c{connections}: median requests/s over {rounds} alternating rounds of {duration}s; "
        "ratio > 1 means fastframe is faster\n\n" + "\n".join(lines) + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fastapi_bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=40, help="timed batches per scenario, engine and round")
    parser.add_argument("--e2e", action="store_true", help="uvicorn + wrk instead of in-process calls")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per e2e measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--instructions", action="store_true", help="instructions per request under callgrind")
    parser.add_argument("--worker", choices=list(ENGINES), help=argparse.SUPPRESS)
    parser.add_argument("--validate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", metavar="LIBMARKS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        if args.validate:
            validate_all(load_app(args.worker))
            print("ok")
        elif args.count:
            count_requests(args.worker, args.count)
        else:
            serve_batches(args.worker)
        return 0

    from benchmarks.run import RESULTS

    RESULTS.mkdir(exist_ok=True)
    if args.instructions:
        report = instructions_table(count_engines())
        (RESULTS / "fastapi-instructions-latest.md").write_text(report)
    elif args.e2e:
        report = end_to_end(args.rounds, args.duration, args.connections)
        (RESULTS / "fastapi-e2e-latest.md").write_text(report)
    else:
        report = in_process(args.rounds, args.repeat)
        (RESULTS / "fastapi-latest.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
