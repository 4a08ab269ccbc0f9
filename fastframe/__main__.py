"""`python -m fastframe`: the version, the implementation in use and which hot paths are compiled."""

from __future__ import annotations

import sys

from fastframe import __version__, speedups


def main() -> int:
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
