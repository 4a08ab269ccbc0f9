# cython: language_level=3
"""Compiled twin of fastframe/_pure/http.py: ASGI header lookup, cookie and query-string parsing.

Exact `str`/`bytes`/`tuple` inputs take typed loops; anything else (subclasses, odd ASGI servers)
goes through the same generic operations as the pure twin, so results and exceptions match.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.tuple cimport PyTuple_GET_SIZE
from cpython.unicode cimport Py_UNICODE_ISSPACE, PyUnicode_DecodeLatin1, PyUnicode_DecodeUTF8
from libc.string cimport memcmp


cdef extern from "Python.h":
    int PyUnicode_KIND(object u)
    void *PyUnicode_DATA(object u)
    Py_UCS4 PyUnicode_READ(int kind, void *data, Py_ssize_t index) nogil

from http.cookies import _unquote as _cookie_unquote
from urllib.parse import unquote as _url_unquote

from fastframe._pure import http as _pure

# Header names asked for are few and repeat on every request: cache their lower-cased bytes.
cdef dict _needles = {}
cdef Py_ssize_t _NEEDLES_MAX = 1024

cdef enum:
    _PERCENT = 1
    _PLUS = 2
    _NON_ASCII = 4


cdef inline object _needle(object key):
    cdef object needle
    if type(key) is str:
        needle = _needles.get(key)
        if needle is None:
            needle = (<str>key).lower().encode("latin-1")
            if len(_needles) >= _NEEDLES_MAX:
                _needles.clear()
            _needles[key] = needle
        return needle
    return key.lower().encode("latin-1")


cdef inline bint _same(object name, object needle) except -1:
    cdef Py_ssize_t size
    if type(name) is bytes and type(needle) is bytes:
        size = PyBytes_GET_SIZE(name)
        return size == PyBytes_GET_SIZE(needle) and memcmp(
            PyBytes_AS_STRING(name), PyBytes_AS_STRING(needle), size
        ) == 0
    if name == needle:
        return True
    return False


cdef inline object _latin1(object value):
    if type(value) is bytes:
        return PyUnicode_DecodeLatin1(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), NULL)
    return value.decode("latin-1")


def header_get(raw, key, default=None):
    """First value of a header (case-insensitive name), latin-1 decoded; `default` when absent."""
    cdef object needle = _needle(key)
    cdef object item, name, value
    for item in raw:
        if type(item) is tuple and PyTuple_GET_SIZE(item) == 2:
            name = (<tuple>item)[0]
            value = (<tuple>item)[1]
        else:
            name, value = item
        if _same(name, needle):
            return _latin1(value)
    return default


def header_getlist(raw, key):
    """Every value of a header, in order, latin-1 decoded."""
    cdef object needle = _needle(key)
    cdef object item, name, value
    cdef list found = []
    for item in raw:
        if type(item) is tuple and PyTuple_GET_SIZE(item) == 2:
            name = (<tuple>item)[0]
            value = (<tuple>item)[1]
        else:
            name, value = item
        if _same(name, needle):
            found.append(_latin1(value))
    return found


def header_contains(raw, key):
    cdef object needle = _needle(key)
    cdef object item, name
    for item in raw:
        if type(item) is tuple and PyTuple_GET_SIZE(item) == 2:
            name = (<tuple>item)[0]
        else:
            name, _ = item
        if _same(name, needle):
            return True
    return False


def parse_cookie(cookie_string):
    """Lenient Cookie header parsing, as browsers send it (not RFC 6265's strict grammar)."""
    if type(cookie_string) is not str:
        return _pure.parse_cookie(cookie_string)
    cdef str s = <str>cookie_string
    cdef Py_ssize_t n = len(s)
    cdef Py_ssize_t start = 0, end, eq, ks, ke, vs, ve
    cdef Py_UCS4 c
    cdef dict cookies = {}
    cdef str value
    cdef int kind = PyUnicode_KIND(s)
    cdef void *data = PyUnicode_DATA(s)
    cdef bint backslash
    while start <= n:
        end = start
        eq = -1
        backslash = False
        while end < n:
            c = PyUnicode_READ(kind, data, end)
            if c == u";":
                break
            if c == u"=" and eq < 0:
                eq = end
            elif c == u"\\":
                backslash = True
            end += 1
        if eq < 0:
            # A bare token is a value with an empty name, which is how browsers treat it.
            ks = ke = vs = start
        else:
            ks = start
            ke = eq
            vs = eq + 1
        ve = end
        while ks < ke and Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, ks)):
            ks += 1
        while ke > ks and Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, ke - 1)):
            ke -= 1
        while vs < ve and Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, vs)):
            vs += 1
        while ve > vs and Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, ve - 1)):
            ve -= 1
        if ke > ks or ve > vs:
            if (
                ve - vs >= 2
                and PyUnicode_READ(kind, data, vs) == u'"'
                and PyUnicode_READ(kind, data, ve - 1) == u'"'
            ):
                # Only backslash escapes change a quoted value beyond losing its quotes.
                value = _cookie_unquote(s[vs:ve]) if backslash else s[vs + 1:ve - 1]
            else:
                value = s[vs:ve]
            cookies[s[ks:ke]] = value
        start = end + 1
    return cookies


cdef inline int _hex(Py_UCS4 c):
    if u"0" <= c <= u"9":
        return <int>c - 48
    if u"a" <= c <= u"f":
        return <int>c - 87
    if u"A" <= c <= u"F":
        return <int>c - 55
    return -1


cdef str _unquote_part(str s, int kind, void *data, Py_ssize_t start, Py_ssize_t end, int flags):
    cdef Py_ssize_t i, size
    cdef int hi, lo
    cdef Py_UCS4 c
    cdef char *buf
    if flags == 0:
        return s[start:end]
    if not flags & _PERCENT:
        return s[start:end].replace(u"+", u" ")
    if flags & _NON_ASCII:
        # Percent-escapes next to non-ASCII text: the stdlib's exact splitting rules apply.
        return _url_unquote(s[start:end].replace(u"+", u" "))
    buf = <char *>PyMem_Malloc(end - start + 1)
    if buf == NULL:
        raise MemoryError()
    try:
        size = 0
        i = start
        while i < end:
            c = PyUnicode_READ(kind, data, i)
            if c == u"%" and i + 2 < end:
                hi = _hex(PyUnicode_READ(kind, data, i + 1))
                lo = _hex(PyUnicode_READ(kind, data, i + 2))
                if hi >= 0 and lo >= 0:
                    buf[size] = <char>(hi * 16 + lo)
                    size += 1
                    i += 3
                    continue
            buf[size] = <char>(32 if c == u"+" else c)
            size += 1
            i += 1
        return PyUnicode_DecodeUTF8(buf, size, "replace")
    finally:
        PyMem_Free(buf)


def parse_query_string(query_string):
    """Query-string pairs in order, blank values kept, '+' as space, bad UTF-8 replaced."""
    if type(query_string) is not str:
        return _pure.parse_query_string(query_string)
    cdef str s = <str>query_string
    cdef Py_ssize_t n = len(s)
    cdef Py_ssize_t start = 0, end, eq
    cdef int flags, name_flags
    cdef Py_UCS4 c
    cdef list pairs = []
    if n == 0:
        return pairs
    cdef int kind = PyUnicode_KIND(s)
    cdef void *data = PyUnicode_DATA(s)
    while start <= n:
        end = start
        eq = -1
        flags = 0
        name_flags = 0
        while end < n:
            c = PyUnicode_READ(kind, data, end)
            if c == u"&":
                break
            if c == u"=":
                if eq < 0:
                    eq = end
                    name_flags = flags
                    flags = 0
            elif c == u"%":
                flags |= _PERCENT
            elif c == u"+":
                flags |= _PLUS
            elif c > 127:
                flags |= _NON_ASCII
            end += 1
        if end > start:
            if eq < 0:
                pairs.append((_unquote_part(s, kind, data, start, end, flags), u""))
            else:
                pairs.append(
                    (
                        _unquote_part(s, kind, data, start, eq, name_flags),
                        _unquote_part(s, kind, data, eq + 1, end, flags),
                    )
                )
        start = end + 1
    return pairs
