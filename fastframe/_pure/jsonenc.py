"""Pure-Python twin of JSON encoding for JSONResponse: compact, UTF-8, NaN refused."""

from __future__ import annotations

import json
from typing import Any

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


def dumps(content: Any) -> bytes:
    return _encoder.encode(content).encode("utf-8")
