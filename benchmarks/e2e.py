"""End to end: each implementation under uvicorn (uvloop, httptools, one worker, no access log) on
127.0.0.1, loaded by wrk for a bounded time, implementations alternated over rounds.

    python -m benchmarks.e2e [--rounds 4] [--duration 5] [--connections 64]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

from benchmarks.run import IMPLS, RESULTS, ROOT

APPS = {"hello": ("hello", "/"), "json_1k": ("json_1k", "/json")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pin(core: int) -> list[str]:
    """taskset prefix pinning to one core when the machine has two or more."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(core)]
    return []


def wait_listening(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


UVICORN_OPTIONS = ["--host", "127.0.0.1", "--loop", "uvloop", "--http", "httptools", "--workers", "1"]
UVICORN_OPTIONS += ["--no-access-log", "--log-level", "warning"]


def load_server(
    launch: list[str], env: dict[str, str], path: str, duration: int, connections: int, label: str
) -> float:
    """Requests/s wrk gets from `python LAUNCH APP-OPTIONS --port P` (uvicorn's options) on `path`,
    after a second of warm-up; the server is stopped however that ends."""
    port = free_port()
    server = subprocess.Popen(
        pin(0) + [sys.executable, *launch, *UVICORN_OPTIONS, "--port", str(port)], cwd=ROOT, env=env
    )
    try:
        wait_listening(port)
        url = f"http://127.0.0.1:{port}{path}"
        subprocess.run(pin(1) + ["wrk", "-t1", "-c", str(connections), "-d1s", url], capture_output=True)
        out = subprocess.run(
            pin(1) + ["wrk", "-t1", "-c", str(connections), f"-d{duration}s", url],
            capture_output=True,
            text=True,
            timeout=duration + 30,
        ).stdout
        match = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if not match or "Non-2xx" in out or ("Socket errors" in out and "read 0" not in out):
            raise RuntimeError(f"wrk output for {label} unusable:\n{out}")
        return float(match.group(1))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def serve_and_load(impl: str, app: str, path: str, duration: int, connections: int) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("FASTFRAME_NO_EXTENSIONS", "BENCH_IMPL")}
    env.update(IMPLS[impl])
    launch = ["-m", "uvicorn", f"benchmarks.e2e_apps:{app}"]
    return load_server(launch, env, path, duration, connections, f"{impl}/{app}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench --e2e", description=__doc__)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per measurement")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    samples: dict[tuple[str, str], list[float]] = {}
    for r in range(args.rounds):
        order = list(IMPLS) if r % 2 == 0 else list(reversed(IMPLS))
        for app, (target, path) in APPS.items():
            for impl in order:
                rps = serve_and_load(impl, target, path, args.duration, args.connections)
                samples.setdefault((app, impl), []).append(rps)
                print(f"  round {r + 1}: {app:8} {impl:10} {rps:10.0f} req/s", file=sys.stderr, flush=True)

    lines = [
        "| app | raw ASGI | Starlette 1.10 | fastframe pure | fastframe compiled "
        "| compiled/raw | compiled/Starlette | pure/Starlette |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for app in APPS:
        med = {impl: statistics.median(samples[(app, impl)]) for impl in IMPLS}
        lines.append(
            f"| {app} | {med['raw']:,.0f} | {med['starlette']:,.0f} | {med['pure']:,.0f} "
            f"| {med['compiled']:,.0f} "
            f"| {med['compiled'] / med['raw']:.2f} | {med['compiled'] / med['starlette']:.2f} "
            f"| {med['pure'] / med['starlette']:.2f} |"
        )
    table = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "e2e-latest.md").write_text(
        f"median requests/s over {args.rounds} alternating rounds, {args.duration}s each, "
        f"{args.connections} connections\n\n{table}"
    )
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
