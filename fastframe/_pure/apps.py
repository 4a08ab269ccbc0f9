"""Pure-Python twin of ``_speedups/apps.pyx``: the base class of the framework's ASGI app classes.

The compiled twin's instances are called without type.__call__'s generic path; in Python there is
no cheaper way to call an instance, so here the base adds nothing.
"""

from __future__ import annotations

__all__ = ["CallableApp", "arm"]


# object itself: a base of its own would only lengthen the app classes' MRO, and with it every
# lookup of their attributes that misses the type cache.
CallableApp = object


def arm(self: object) -> None:
    """The compiled twin gives `self` its vectorcall entry here; Python instances need none."""
