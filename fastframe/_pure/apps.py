"""Pure-Python twin of ``_speedups/apps.pyx``: the base class of the framework's ASGI app classes.

The compiled twin's instances are called without type.__call__'s generic path; in Python there is
no cheaper way to call an instance, so here the base adds nothing.
"""

from __future__ import annotations

__all__ = ["CallableApp", "arm"]


class CallableApp:
    __slots__ = ()


def arm(self: object) -> None:
    """The compiled twin gives `self` its vectorcall entry here; Python instances need none."""
