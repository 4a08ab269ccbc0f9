"""Running a program in a fresh interpreter, for the tests of the starlette alias.

`fastframe.install_as_starlette()` must run before anything imports starlette, and the suite
itself imports the real starlette for its differential tests; so a program that needs the alias
(or the reference, untouched by fastframe) runs in a child interpreter. The child inherits the
environment, so the compiled run of the suite tests the compiled engine and the
FASTFRAME_NO_EXTENSIONS=1 run the pure one; the child finds fastframe where this run imports it
from (the repository root comes first on its path, and is its working directory, so `examples`
imports too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fastframe
from fastframe import speedups

ROOT = Path(__file__).resolve().parent.parent

# Makes the child's `starlette` fastframe, and checks the child runs the implementation this one does.
ALIAS_PRELUDE = f"""
import fastframe
fastframe.install_as_starlette()
from fastframe import speedups
assert speedups.IMPLEMENTATION == {speedups.IMPLEMENTATION!r}, speedups.IMPLEMENTATION
"""


# sentry-sdk in a child: fastframe installed as starlette when the first argument is "fastframe",
# then a transport that keeps each envelope item as (type, payload) in `received`.
SENTRY_PRELUDE = r"""
import json
import sys

if sys.argv[1] == "fastframe":
    import fastframe

    fastframe.install_as_starlette()

import sentry_sdk
from sentry_sdk.transport import Transport

received = []


class Collect(Transport):
    def capture_envelope(self, envelope):
        for item in envelope.items:
            received.append((item.type, item.payload.json))
"""


def child_env() -> dict[str, str]:
    """This process's environment, with the fastframe this run imports first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(fastframe.__file__)), env.get("PYTHONPATH", "")]
    )
    return env


def run_source(source: str, *args: str, timeout: float = 50, env: Mapping[str, str] | None = None) -> str:
    """Runs `python -c source args...` and gives its stdout; a failing child fails the test.

    `env` adds to (or replaces in) the environment the child inherits.
    """
    done = subprocess.run(
        [sys.executable, "-c", source, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(ROOT),
        env={**child_env(), **(env or {})},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def last_json(stdout: str) -> Any:
    """The JSON document a child printed on its last line."""
    return json.loads(stdout.strip().splitlines()[-1])
