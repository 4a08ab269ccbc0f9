"""Instructions per request under callgrind: fastframe compiled and pure against Starlette 1.10.

    python -m benchmarks.instructions [--check] [--save] [--tolerance 0.05] [-k SUBSTRING]

The timing suite (benchmarks.run) says how fast; this says how much work, and says it the same way
on every run: callgrind counts instructions, so a neighbour's load on a shared machine does not move
the figures. That makes it the regression gate CI runs. Each implementation runs in its own process
under valgrind (benchmarks.count_worker); the ratios to Starlette's count are compared with
benchmarks/instructions_baseline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.micro_ops import OPS
from benchmarks.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "benchmarks" / "instructions_baseline.json"
MARKS_SOURCE = ROOT / "benchmarks" / "callgrind_marks.c"
DEFAULT_TOLERANCE = 0.05
IMPLS: dict[str, tuple[str, dict[str, str]]] = {
    "starlette": ("starlette", {}),
    "pure": ("fastframe", {"FASTFRAME_NO_EXTENSIONS": "1"}),
    "compiled": ("fastframe", {}),
}
# Left out: file serving runs in a worker thread (its count depends on scheduling), and the 1 MiB
# scenarios would take minutes under valgrind for what the timing suite already shows.
SKIPPED = ("file_", "_1m")


def gated_scenarios() -> list[str]:
    return list(OPS) + [name for name in SCENARIOS if not any(part in name for part in SKIPPED)]


def build_marks(directory: Path) -> Path:
    """Compiles the client-request helper (needs valgrind's headers, which ship with valgrind)."""
    library = directory / "libffmarks.so"
    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC").split()[0] or "cc"
    subprocess.run([compiler, "-O2", "-shared", "-fPIC", str(MARKS_SOURCE), "-o", str(library)], check=True)
    return library


TRIGGER = "desc: Trigger: Client Request: "


def parse_dump(path: Path) -> tuple[str, int] | None:
    """(the name the worker gave the dump, instructions counted) from a callgrind output file's header."""
    name = None
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.startswith(TRIGGER):
                name = line[len(TRIGGER) :].strip()
            elif line.startswith("summary: "):
                return (name, int(line.split()[1])) if name else None
            elif line.startswith("fl=") or line.startswith("fn="):
                return None
    return None


def callgrind(label: str, command: list[str], env: dict[str, str], directory: Path) -> dict[str, float]:
    """Runs the worker `command` under callgrind and returns the instructions per request of each
    stretch it dumped (benchmarks.count_worker.count_stretches): (two - one) / N. `label` names the
    run's output folder and its failure."""
    # Same hashes every run, so dict and set probing costs the same.
    env = {**env, "PYTHONHASHSEED": "0"}
    out = directory / label
    out.mkdir()
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}/cg.%p",
        "--dump-instr=no",
        "--dump-line=no",
        *command,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"counting instructions for {label} failed (exit {proc.returncode})")
    parts: dict[str, dict[str, int]] = {}
    repeats: dict[str, int] = {}
    for path in out.iterdir():
        dump = parse_dump(path)
        if dump is None:
            continue
        name, count = dump
        scenario, part, n = name.split("|")
        parts.setdefault(scenario, {})[part] = count
        repeats[scenario] = int(n)
    return {s: (p["two"] - p["one"]) / repeats[s] for s, p in parts.items() if {"one", "two"} <= p.keys()}


def count_impl(impl: str, names: list[str], marks: Path, directory: Path) -> dict[str, float]:
    """Instructions per request for each scenario, for one implementation."""
    framework, extra = IMPLS[impl]
    env = {k: v for k, v in os.environ.items() if k != "FASTFRAME_NO_EXTENSIONS"}
    env.update(extra)
    command = [sys.executable, "-m", "benchmarks.count_worker", str(marks), framework, *names]
    return callgrind(impl, command, env, directory)


CountOne = Callable[[str, Path, Path], dict[str, float]]


def count_parallel(labels: Iterable[str], count: CountOne, workers: int) -> dict[str, dict[str, float]]:
    """`count(label, marks library, scratch directory)` for each label, `workers` valgrind runs at a time."""
    if shutil.which("valgrind") is None:
        raise SystemExit("counting instructions needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        marks = build_marks(directory)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {label: pool.submit(count, label, marks, directory) for label in labels}
            return {label: future.result() for label, future in futures.items()}


def collect(names: list[str]) -> dict[str, dict[str, float]]:
    return count_parallel(
        IMPLS, lambda impl, marks, directory: count_impl(impl, names, marks, directory), os.cpu_count() or 2
    )


def build_rows(counts: dict[str, dict[str, float]], names: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        row: dict[str, Any] = {"scenario": name, **{impl: counts[impl].get(name) for impl in IMPLS}}
        base = row["starlette"]
        for impl in ("compiled", "pure"):
            row[f"{impl}/starlette"] = row[impl] / base if row[impl] is not None and base else None
        rows.append(row)
    return rows


def fmt_count(value: float | None) -> str:
    return "—" if value is None else f"{value / 1000:,.1f}k"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| scenario | Starlette 1.10 | fastframe pure | fastframe compiled | compiled/Starlette | pure/Starlette |\n"
        "|---|---:|---:|---:|---:|---:|\n"
    )
    lines = [
        f"| {r['scenario']} | {fmt_count(r['starlette'])} | {fmt_count(r['pure'])} | {fmt_count(r['compiled'])} "
        f"| {fmt_ratio(r['compiled/starlette'])} | {fmt_ratio(r['pure/starlette'])} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def check(rows: list[dict[str, Any]], tolerance: float) -> list[str]:
    """Scenarios whose compiled or pure ratio to Starlette grew past the baseline by more than `tolerance`."""
    if not BASELINE.exists():
        raise SystemExit(f"no baseline at {BASELINE}: run with --save first")
    baseline = json.loads(BASELINE.read_text())["ratios"]
    failures = []
    for row in rows:
        for impl in ("compiled", "pure"):
            base = baseline.get(impl, {}).get(row["scenario"])
            now = row[f"{impl}/starlette"]
            if base is None or now is None:
                continue
            if now > base * (1 + tolerance):
                failures.append(
                    f"{row['scenario']}: {impl}/Starlette {now:.3f} vs baseline {base:.3f} "
                    f"(+{(now / base - 1) * 100:.1f}%, tolerance {tolerance * 100:.0f}%)"
                )
    return failures


def save_baseline(rows: list[dict[str, Any]]) -> None:
    ratios: dict[str, dict[str, float]] = {"compiled": {}, "pure": {}}
    if BASELINE.exists():
        # A -k run counts a subset: keep the baseline of the scenarios it did not count.
        ratios.update(json.loads(BASELINE.read_text()).get("ratios", {}))
    for row in rows:
        for impl in ("compiled", "pure"):
            if row[f"{impl}/starlette"] is not None:
                ratios[impl][row["scenario"]] = round(row[f"{impl}/starlette"], 4)
    BASELINE.write_text(
        json.dumps(
            {
                "what": "instructions per request (callgrind), ratio to Starlette 1.10; lower is less work",
                "machine": f"{platform.machine()} Python {platform.python_version()}",
                "saved": time.strftime("%Y-%m-%d"),
                "ratios": {impl: dict(sorted(values.items())) for impl, values in ratios.items()},
            },
            indent=2,
        )
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench --instructions", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail on a regression against the baseline")
    parser.add_argument("--save", action="store_true", help=f"rewrite {BASELINE.relative_to(ROOT)}")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    parser.add_argument("-k", dest="keyword", default=None, help="only scenarios whose name contains this")
    args = parser.parse_args(argv)

    names = [name for name in gated_scenarios() if args.keyword is None or args.keyword in name]
    if not names:
        raise SystemExit(f"no scenario matches {args.keyword!r}")
    started = time.monotonic()
    rows = build_rows(collect(names), names)
    table = markdown(rows)
    print(table)
    print(f"counted in {time.monotonic() - started:.0f} s")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "instructions-latest.md").write_text(table)
    if args.save:
        save_baseline(rows)
        print(f"baseline saved to {BASELINE.relative_to(ROOT)}")
    if args.check:
        failures = check(rows, args.tolerance)
        if failures:
            print("REGRESSION: more instructions per request than the baseline allows:")
            for line in failures:
                print("  " + line)
            return 1
        print(f"check passed: no ratio to Starlette more than {args.tolerance:.0%} above the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
