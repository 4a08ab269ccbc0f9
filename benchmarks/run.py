"""Runs the benchmark suite once per implementation, each in its own process, and joins the results.

    python -m benchmarks.run [--quick] [--check] [--save] [--tolerance 0.15] [--rounds N] [-k EXPR]

Implementations: the raw-ASGI floor, Starlette 1.10, fastframe pure, fastframe compiled. Processes are
alternated over rounds and each scenario keeps its best median, so a noisy moment hurts one sample, not
a column. Ratios are taken within one run; the regression gate compares them with benchmarks/baseline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "benchmarks" / "baseline.json"
RESULTS = ROOT / "benchmarks" / "results"

IMPLS: dict[str, dict[str, str]] = {
    "raw": {"BENCH_IMPL": "raw"},
    "starlette": {"BENCH_IMPL": "starlette"},
    "pure": {"BENCH_IMPL": "fastframe", "FASTFRAME_NO_EXTENSIONS": "1"},
    "compiled": {"BENCH_IMPL": "fastframe"},
}
QUICK_EXCLUDE = "not _1m and not route10_ and not multipart"
DEFAULT_TOLERANCE = 0.15


def run_impl(name: str, quick: bool, keyword: str | None) -> dict[str, float]:
    """Seconds per request of every scenario, for one implementation, in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k not in ("FASTFRAME_NO_EXTENSIONS", "BENCH_IMPL")}
    env.update(IMPLS[name])
    if quick:
        env["BENCH_QUICK"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            str(ROOT / "benchmarks"),
            f"--benchmark-json={out}",
            "--benchmark-disable-gc",
        ]
        expr = " and ".join(f"({e})" for e in (QUICK_EXCLUDE if quick else None, keyword) if e)
        if expr:
            cmd += ["-k", expr]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode in (0, 5) and not out.exists():
            # Every selected scenario was skipped for this implementation (e.g. no raw floor).
            return {}
        if proc.returncode not in (0, 5) or not out.exists():
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"benchmark run for {name} failed (exit {proc.returncode})")
        data = json.loads(out.read_text())
    times: dict[str, float] = {}
    for bench in data["benchmarks"]:
        scenario = bench["name"].split("[", 1)[1].rstrip("]")
        times[scenario] = bench["stats"]["median"] / bench["extra_info"]["batch"]
    return times


def collect(rounds: int, quick: bool, keyword: str | None) -> dict[str, dict[str, float]]:
    best: dict[str, dict[str, float]] = {name: {} for name in IMPLS}
    for r in range(rounds):
        order = list(IMPLS) if r % 2 == 0 else list(reversed(IMPLS))
        for name in order:
            print(f"  round {r + 1}/{rounds}: {name}", file=sys.stderr, flush=True)
            for scenario, seconds in run_impl(name, quick, keyword).items():
                previous = best[name].get(scenario)
                best[name][scenario] = seconds if previous is None else min(previous, seconds)
    return best


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def build_rows(times: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    scenarios: list[str] = []
    for name in ("starlette", "compiled", "pure", "raw"):
        for scenario in times[name]:
            if scenario not in scenarios:
                scenarios.append(scenario)
    rows = []
    for scenario in scenarios:
        row: dict[str, Any] = {"scenario": scenario}
        for name in IMPLS:
            row[name] = times[name].get(scenario)
        row["compiled/starlette"] = ratio(row["compiled"], row["starlette"])
        row["pure/starlette"] = ratio(row["pure"], row["starlette"])
        row["compiled/pure"] = ratio(row["compiled"], row["pure"])
        rows.append(row)
    return rows


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    micro = seconds * 1e6
    return f"{micro:,.1f} µs" if micro < 10_000 else f"{micro / 1000:,.2f} ms"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| scenario | raw ASGI | Starlette 1.10 | fastframe pure | fastframe compiled "
        "| compiled/Starlette | pure/Starlette | compiled/pure |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = [
        f"| {r['scenario']} | {fmt_time(r['raw'])} | {fmt_time(r['starlette'])} | {fmt_time(r['pure'])} "
        f"| {fmt_time(r['compiled'])} | {fmt_ratio(r['compiled/starlette'])} "
        f"| {fmt_ratio(r['pure/starlette'])} | {fmt_ratio(r['compiled/pure'])} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def check(rows: list[dict[str, Any]], tolerance: float) -> list[str]:
    """Scenarios whose compiled/Starlette ratio got worse than the baseline by more than `tolerance`."""
    if not BASELINE.exists():
        raise SystemExit(f"no baseline at {BASELINE}: run with --save first")
    baseline = json.loads(BASELINE.read_text())["ratios"]
    failures = []
    for row in rows:
        base = baseline.get(row["scenario"])
        now = row["compiled/starlette"]
        if base is None or now is None:
            continue
        if now > base * (1 + tolerance):
            failures.append(
                f"{row['scenario']}: compiled/Starlette {now:.3f} vs baseline {base:.3f} "
                f"(+{(now / base - 1) * 100:.0f}%, tolerance {tolerance * 100:.0f}%)"
            )
    return failures


def save_baseline(rows: list[dict[str, Any]], quick: bool) -> None:
    ratios = {r["scenario"]: round(r["compiled/starlette"], 4) for r in rows if r["compiled/starlette"]}
    if BASELINE.exists():
        # A quick run measures a subset: keep the baseline of scenarios it did not run.
        ratios = {**json.loads(BASELINE.read_text()).get("ratios", {}), **ratios}
    BASELINE.write_text(
        json.dumps(
            {
                "what": "compiled/Starlette per-request time ratios; lower is faster",
                "machine": f"{platform.machine()} Python {platform.python_version()}",
                "saved": time.strftime("%Y-%m-%d"),
                "quick": quick,
                "ratios": dict(sorted(ratios.items())),
            },
            indent=2,
        )
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and scenarios (CI)")
    parser.add_argument("--check", action="store_true", help="fail on a regression against the baseline")
    parser.add_argument("--save", action="store_true", help="rewrite benchmarks/baseline.json")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds per implementation")
    parser.add_argument("-k", dest="keyword", default=None, help="pytest -k expression to pick scenarios")
    parser.add_argument(
        "--confirm",
        action="store_true",
        help="with --check: measure failing scenarios once more and fail only if they regress again",
    )
    args = parser.parse_args(argv)

    rounds = args.rounds or 2
    times = collect(rounds, args.quick, args.keyword)
    rows = build_rows(times)
    table = markdown(rows)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"bench-{stamp}.md").write_text(table)
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(rows, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(table)
    print(table)
    if args.save:
        save_baseline(rows, args.quick)
        print(f"baseline saved to {BASELINE.relative_to(ROOT)}")
    if args.check:
        failures = check(rows, args.tolerance)
        if failures and args.confirm:
            # One noisy moment should not fail CI: a real regression shows up again.
            names = [line.split(":", 1)[0] for line in failures]
            print(f"re-measuring {len(names)} scenario(s) to confirm: {', '.join(names)}")
            expr = " or ".join(f"[{name}]" for name in names)
            again = build_rows(collect(rounds, args.quick, expr))
            failures = check(again, args.tolerance)
        if failures:
            print("REGRESSION: compiled/Starlette ratios worse than the baseline:")
            for line in failures:
                print("  " + line)
            return 1
        print(f"check passed: no compiled/Starlette ratio worse than the baseline by > {args.tolerance:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
