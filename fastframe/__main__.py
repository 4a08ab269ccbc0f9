"""`python -m fastframe`: the version, the implementation in use and which hot paths are compiled.

`python -m fastframe serve module:app [uvicorn options]` serves an unchanged Starlette or FastAPI
app on fastframe: it installs fastframe as `starlette` (fastframe.install_as_starlette()) and then
runs uvicorn's command line with the remaining arguments.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from fastframe import __version__, speedups
from fastframe._as_starlette import ENV_VAR, SERVE_APP_VAR, SERVE_FACTORY, SERVE_FACTORY_VAR, active

USAGE = """usage: python -m fastframe                              the version, implementation and hot paths
       python -m fastframe serve module:app [options]   uvicorn with fastframe installed as starlette
                                                        (options are uvicorn's; `serve --help` lists them)"""


def _env_setting() -> str:
    return os.environ.get(ENV_VAR, "")


def status() -> int:
    print(f"fastframe {__version__}")
    print(f"implementation: {speedups.IMPLEMENTATION}")
    for name in speedups.HOT_PATHS:
        if name not in speedups.COMPILED:
            state = "not available"
        elif speedups.COMPILED[name]:
            state = "compiled (cython)"
        else:
            state = "pure python"
        print(f"  {name}: {state}")
    if speedups.NO_EXTENSIONS:
        print("FASTFRAME_NO_EXTENSIONS is set: pure-Python twins selected")
    if active():
        alias = "active in this process"
    else:
        alias = "not active in this process"
    setting = _env_setting()
    if setting == "0":
        alias += f"; {ENV_VAR}=0: `python -m fastframe serve` would serve on the real starlette"
    else:
        alias += "; `python -m fastframe serve` would install it"
    print(f"starlette alias (import starlette -> fastframe): {alias}")
    return 0


def serve(args: Sequence[str]) -> int:
    """Run uvicorn's command line on `args`, the app imported with fastframe installed as starlette.

    uvicorn is handed `fastframe._as_starlette:serve_app` as a factory, which installs the alias
    (unless FASTFRAME_AS_STARLETTE=0) and then imports the app given on the command line: that
    way the worker and reload processes uvicorn starts, fresh interpreters, get the alias too.
    """
    try:
        import click
        from uvicorn.main import main as uvicorn_main
    except ImportError:
        print("python -m fastframe serve needs uvicorn: pip install fastframe[server]", file=sys.stderr)
        return 1
    try:
        ctx = uvicorn_main.make_context("python -m fastframe serve", list(args))
        os.environ[SERVE_APP_VAR] = ctx.params["app"]
        os.environ[SERVE_FACTORY_VAR] = "1" if ctx.params.get("factory") else "0"
        if _env_setting() != "0":
            os.environ[ENV_VAR] = "1"
        ctx.params["app"] = SERVE_FACTORY
        ctx.params["factory"] = True
        with ctx:
            uvicorn_main.invoke(ctx)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        return status()
    if args[0] == "serve":
        return serve(args[1:])
    print(USAGE, file=sys.stderr)
    return 0 if args[0] in ("-h", "--help", "help") else 2


if __name__ == "__main__":
    sys.exit(main())
