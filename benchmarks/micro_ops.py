"""The hot-path operations the micro benchmarks time and count: fastframe's twins against the
reference's equivalent code."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from benchmarks.scenarios import JSON_1K, PARSE_HEADERS, PARSE_QUERY

COOKIE = dict(PARSE_HEADERS)[b"cookie"].decode("latin-1")
QUERY = PARSE_QUERY.decode("latin-1")


def reference_ops() -> dict[str, Callable[[], Any]]:
    from starlette.datastructures import Headers, QueryParams
    from starlette.requests import cookie_parser
    from starlette.responses import JSONResponse, PlainTextResponse

    raw = list(PARSE_HEADERS)
    return {
        "micro_response_init": lambda: PlainTextResponse("Hello, world!", headers={"x-id": "7"}),
        "micro_cookie_parse": lambda: cookie_parser(COOKIE),
        "micro_query_parse": lambda: QueryParams(QUERY).get("sort"),
        "micro_header_get": lambda: Headers(raw=raw).get("x-request-id"),
        "micro_json_encode_1k": lambda: JSONResponse(JSON_1K).body,
    }


def fastframe_ops() -> dict[str, Callable[[], Any]]:
    speedups = importlib.import_module("fastframe.speedups")
    http = speedups.http
    jsonenc = speedups.jsonenc
    # The twin alone, on a bare object: what a PlainTextResponse costs to make, minus the class.
    plain = importlib.import_module("fastframe.responses").PlainTextResponse
    init_response = speedups.response.init_response
    raw = list(PARSE_HEADERS)
    return {
        "micro_response_init": lambda: init_response(
            plain.__new__(plain), "Hello, world!", 200, {"x-id": "7"}, None, None
        ),
        "micro_cookie_parse": lambda: http.parse_cookie(COOKIE),
        "micro_query_parse": lambda: http.parse_query_string(QUERY),
        "micro_header_get": lambda: http.header_get(raw, "x-request-id"),
        "micro_json_encode_1k": lambda: jsonenc.dumps(JSON_1K),
    }


OPS = ["micro_cookie_parse", "micro_query_parse", "micro_header_get", "micro_json_encode_1k", "micro_response_init"]
