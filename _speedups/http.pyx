# cython: language_level=3
"""Compiled twin of fastframe/_pure/http.py (placeholder until the http helper lands)."""

from fastframe._pure.http import (  # noqa
    parse_cookie, parse_query_string, header_get, header_getlist, header_contains,
)
