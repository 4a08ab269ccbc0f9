"""Apps served by uvicorn for the end-to-end benchmark; BENCH_IMPL picks raw, starlette or fastframe."""

from __future__ import annotations

import os

from benchmarks import raw_apps
from benchmarks.scenarios import JSON_1K, build_hello, build_json, load_framework

IMPL = os.environ.get("BENCH_IMPL", "fastframe")

if IMPL == "raw":
    hello = raw_apps.hello()
    json_1k = raw_apps.json_response(JSON_1K)()
else:
    _fw = load_framework(IMPL)
    hello = build_hello(_fw)
    json_1k = build_json(JSON_1K)(_fw)
