"""Build script: compiles the Cython hot paths in _speedups/ into fastframe._speedups.

FASTFRAME_NO_EXTENSIONS=1 builds a pure-Python package. When compiling fails the
pure package is installed with a banner, unless FASTFRAME_REQUIRE_EXTENSIONS=1
(CI and scripts/test), where the failure is fatal.
"""

import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
NO_EXTENSIONS = bool(os.environ.get("FASTFRAME_NO_EXTENSIONS"))
REQUIRE_EXTENSIONS = bool(os.environ.get("FASTFRAME_REQUIRE_EXTENSIONS"))


def banner(message: str) -> None:
    line = "*" * 75
    print(f"\n{line}\n{message}\n{line}\n", file=sys.stderr)


class BuildFailed(Exception):
    pass


class OptionalBuildExt(build_ext):
    """Turns a compiler failure into BuildFailed so the pure package can be installed instead."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            raise BuildFailed(str(exc)) from exc

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            raise BuildFailed(str(exc)) from exc


def extensions() -> list[Extension]:
    sources = sorted((HERE / "_speedups").glob("*.pyx"))
    exts = [
        Extension(
            f"fastframe._speedups.{src.stem}",
            [str(src.relative_to(HERE))],
            extra_compile_args=["-O3"] if sys.platform != "win32" else [],
        )
        for src in sources
    ]
    from Cython.Build import cythonize

    return cythonize(
        exts,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
        },
    )


def run_setup(with_extensions: bool) -> None:
    kwargs: dict = {}
    if with_extensions:
        kwargs["ext_modules"] = extensions()
        kwargs["cmdclass"] = {"build_ext": OptionalBuildExt}
    setup(**kwargs)


if NO_EXTENSIONS:
    banner("FASTFRAME_NO_EXTENSIONS is set: building the pure-Python fastframe.")
    run_setup(False)
else:
    try:
        run_setup(True)
    except (BuildFailed, ImportError) as exc:
        if REQUIRE_EXTENSIONS:
            banner(f"Compiling fastframe's extensions failed and FASTFRAME_REQUIRE_EXTENSIONS is set:\n{exc}")
            raise
        banner(
            "WARNING: fastframe's Cython extensions could not be compiled "
            f"({exc}).\nInstalling the pure-Python fastframe instead: it works the same, only slower."
        )
        run_setup(False)
