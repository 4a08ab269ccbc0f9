"""Pure-Python twin of _speedups/jsonenc.pyx: JSON for JSONResponse and Request.json().

The reference encodes with json.dumps(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
and decodes with json.loads. orjson is used only where its result is provably the same; everything
else goes to the stdlib, which then produces the reference's output or exception.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:  # kept out of the module namespace: the compiled twin must mirror every public name
    from typing import Any

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
_decode = json.loads
_orjson_dumps = orjson.dumps
_orjson_loads = orjson.loads
_OrjsonEncodeError = orjson.JSONEncodeError

# orjson refuses nesting deeper than 254 when encoding; well below it nobody's stack is at risk.
_MAX_DEPTH = 128
# orjson writes 1e-05 as 0.00001 (and 1e-7 as 1e-7): only this band formats differently from repr().
_FLOAT_EXACT_BELOW = 1e-4
# A JSON integer with 19+ digits may leave int64/uint64, which orjson turns into a float. Mapping
# every digit to "0" and searching for a run is much faster than a regular expression.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19
# Beyond this many brackets the stdlib might hit RecursionError where orjson would not.
_MAX_BRACKETS = 256


def _plain(obj: Any, depth: int) -> bool:
    """True when orjson's bytes for `obj` are the stdlib's (exact builtin types only)."""
    t = type(obj)
    if t is str or t is int or t is bool or obj is None:
        return True
    if t is float:
        return math.isfinite(obj) and (obj == 0.0 or abs(obj) >= _FLOAT_EXACT_BELOW)
    if depth >= _MAX_DEPTH:
        return False
    if t is dict:
        for k, v in obj.items():
            if type(k) is not str or not _plain(v, depth + 1):
                return False
        return True
    if t is list or t is tuple:
        for v in obj:
            if not _plain(v, depth + 1):
                return False
        return True
    return False


def _stdlib_dumps(content: Any) -> bytes:
    return _encoder.encode(content).encode("utf-8")


def dumps(content: Any) -> bytes:
    """Bytes of the reference JSONResponse body; raises what the reference raises."""
    if _plain(content, 0):
        try:
            return _orjson_dumps(content)
        except _OrjsonEncodeError:
            # Ints beyond 64 bits or surrogates in strings: the stdlib answers (or raises) as the reference.
            pass
    return _stdlib_dumps(content)


def _orjson_safe(body: bytes) -> bool:
    return body.count(b"[") + body.count(b"{") <= _MAX_BRACKETS and _LONG_DIGIT_RUN not in body.translate(
        _DIGITS_TO_ZERO
    )


def loads(body: Any) -> Any:
    """json.loads(body), as the reference Request.json() does it."""
    if type(body) is bytes and _orjson_safe(body):
        try:
            return _orjson_loads(body)
        except ValueError:
            # NaN/Infinity, BOMs, UTF-16/32, lone surrogates, errors: the stdlib decides.
            pass
    return _decode(body)
