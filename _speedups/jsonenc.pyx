# cython: language_level=3
"""Compiled twin of fastframe/_pure/jsonenc.py: JSON for JSONResponse and Request.json().

Encoding writes the builtin types itself, in one pass, exactly as the stdlib would; decoding uses
orjson where its result is provably the same. Anything else goes to the stdlib (the reference's own
encoder and decoder), so results and exceptions match the reference.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_Next
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.object cimport PyObject, PyTypeObject
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE


cdef extern from "Python.h":
    PyTypeObject PyUnicode_Type
    PyTypeObject PyLong_Type
    PyTypeObject PyBool_Type
    PyTypeObject PyFloat_Type
    PyTypeObject PyDict_Type
    PyTypeObject PyList_Type
    PyTypeObject PyTuple_Type
    PyTypeObject *Py_TYPE(PyObject *)
from libc.math cimport ceil, fabs, floor, isfinite
from libc.string cimport memcpy, strlen
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.ref cimport Py_DECREF, Py_INCREF


cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object u)
    void *PyUnicode_DATA(object u)
    Py_ssize_t PyUnicode_GET_LENGTH(object u)
    const char *PyUnicode_AsUTF8AndSize(object u, Py_ssize_t *size) noexcept
    void PyErr_Clear()
    char *PyOS_double_to_string(double val, char format_code, int precision, int flags, int *ptype) except NULL
    int Py_DTSF_ADD_DOT_0

import json

import orjson

from fastframe._pure import jsonenc as _pure

cdef object _orjson_loads = orjson.loads
cdef object _stdlib_encode = _pure._encoder.encode
cdef object _stdlib_loads = json.loads

# Same limits as the pure twin (see there for why).
cdef int _MAX_DEPTH = _pure._MAX_DEPTH
cdef Py_ssize_t _MAX_NESTING = _pure._MAX_BRACKETS
cdef Py_ssize_t _MAX_DIGITS = 18


# --- encoding: a one-pass encoder for the builtin types whose JSON the stdlib's is --------------
#
# The reference's body is json.dumps(content, ensure_ascii=False, allow_nan=False,
# separators=(",", ":")).encode("utf-8"). For exact dicts with str keys, lists, tuples, str, int,
# bool, None and finite floats that text is fixed by the JSON grammar, the stdlib's escaping and
# float.__repr__; writing it directly costs one pass. Anything else (other types or subclasses,
# non-str keys, non-finite floats, huge ints, strings that cannot be UTF-8, deep nesting, which
# includes cycles) stops the pass, and the stdlib encodes the content from the start: it gives the
# reference's bytes or raises the reference's exception.

cdef struct _Out:
    char *data
    Py_ssize_t size
    Py_ssize_t capacity


cdef int _reserve(_Out *out, Py_ssize_t more) except -1:
    cdef Py_ssize_t wanted = out.size + more
    cdef Py_ssize_t capacity = out.capacity
    cdef char *grown
    if wanted <= capacity:
        return 0
    while capacity < wanted:
        capacity *= 2
    grown = <char *>PyMem_Realloc(out.data, capacity)
    if grown is NULL:
        raise MemoryError()
    out.data = grown
    out.capacity = capacity
    return 0


cdef inline int _write(_Out *out, const char *text, Py_ssize_t size) except -1:
    if out.size + size > out.capacity:
        _reserve(out, size)
    memcpy(out.data + out.size, text, size)
    out.size += size
    return 0


cdef inline int _byte(_Out *out, char c) except -1:
    if out.size + 1 > out.capacity:
        _reserve(out, 1)
    out.data[out.size] = c
    out.size += 1
    return 0


cdef const char *_HEX = "0123456789abcdef"
# What the stdlib writes for each byte of a string's UTF-8 (ensure_ascii=False): 0 for the byte
# itself; else the letter after the backslash ("u" for the \\u00XX form).
cdef unsigned char _ESCAPES[256]


cdef void _fill_escapes() noexcept:
    cdef int c
    for c in range(256):
        _ESCAPES[c] = 0
    for c in range(0x20):
        _ESCAPES[c] = b'u'
    _ESCAPES[b'\n'] = b'n'
    _ESCAPES[b'\r'] = b'r'
    _ESCAPES[b'\t'] = b't'
    _ESCAPES[0x08] = b'b'
    _ESCAPES[0x0c] = b'f'
    _ESCAPES[b'"'] = b'"'
    _ESCAPES[b'\\'] = b'\\'


_fill_escapes()


cdef int _text(_Out *out, const unsigned char *text, Py_ssize_t size) except -1:
    """A JSON string of UTF-8 `text`, escaped as the stdlib escapes with ensure_ascii=False."""
    cdef Py_ssize_t i
    cdef unsigned char c, escape
    cdef char *into
    if out.size + size + 2 > out.capacity:
        _reserve(out, size + 2)
    into = out.data + out.size
    into[0] = b'"'
    into += 1
    for i in range(size):
        c = text[i]
        escape = _ESCAPES[c]
        if escape == 0:
            into[0] = <char>c
            into += 1
            continue
        # Room for this escape at its longest, and for the rest of the text written as it is.
        out.size = into - out.data
        if out.size + 6 + (size - i) + 1 > out.capacity:
            _reserve(out, 6 + (size - i) + 1)
        into = out.data + out.size
        into[0] = b'\\'
        into[1] = <char>escape
        if escape == b'u':
            into[2] = b'0'
            into[3] = b'0'
            into[4] = _HEX[c >> 4]
            into[5] = _HEX[c & 15]
            into += 6
        else:
            into += 2
    into[0] = b'"'
    out.size = into + 1 - out.data
    return 0


cdef bint _string(_Out *out, object value) except -1:
    """False when the str cannot be UTF-8 (a lone surrogate): the stdlib then raises as the reference."""
    cdef Py_ssize_t size
    cdef const char *text
    if PyUnicode_IS_ASCII(value):
        return _text(out, <const unsigned char *>PyUnicode_DATA(value), PyUnicode_GET_LENGTH(value)) == 0
    text = PyUnicode_AsUTF8AndSize(value, &size)
    if text is NULL:
        PyErr_Clear()
        return False
    _text(out, <const unsigned char *>text, size)
    return True


# Dict keys repeat (the same str objects, field names, response after response): their written
# form, '"key":', is kept by the key object's identity. Each entry holds a reference to its key, so
# an address seen again is the same immutable str.
cdef struct _Key:
    PyObject *key
    char *text
    Py_ssize_t size

cdef enum:
    _KEYS = 512
    _KEY_LONGEST = 64

cdef _Key _keys[_KEYS]


cdef bint _key(_Out *out, object key) except -1:
    """Writes '"key":'; False when the key cannot be UTF-8."""
    cdef Py_ssize_t slot = (<Py_ssize_t><PyObject *>key >> 4) & (_KEYS - 1)
    cdef _Key *entry = &_keys[slot]
    cdef Py_ssize_t start
    cdef char *text
    if entry.key == <PyObject *>key:
        _write(out, entry.text, entry.size)
        return True
    start = out.size
    if not _string(out, key):
        return False
    _byte(out, b':')
    if out.size - start <= _KEY_LONGEST:
        text = <char *>PyMem_Malloc(out.size - start)
        if text is not NULL:
            memcpy(text, out.data + start, out.size - start)
            if entry.key is not NULL:
                PyMem_Free(entry.text)
                Py_DECREF(<object>entry.key)
            Py_INCREF(key)
            entry.key = <PyObject *>key
            entry.text = text
            entry.size = out.size - start
    return True


cdef bint _integer(_Out *out, object value) except -1:
    """False for an int beyond 64 bits: the stdlib writes (or refuses) those."""
    cdef int overflow = 0
    cdef long long number = PyLong_AsLongLongAndOverflow(value, &overflow)
    cdef unsigned long long magnitude
    cdef char digits[24]
    cdef int at = 24
    if overflow:
        return False
    magnitude = <unsigned long long>(-(number + 1)) + 1 if number < 0 else <unsigned long long>number
    while True:
        at -= 1
        digits[at] = <char>(48 + magnitude % 10)
        magnitude //= 10
        if magnitude == 0:
            break
    if number < 0:
        at -= 1
        digits[at] = b'-'
    _write(out, digits + at, 24 - at)
    return True


# Powers of ten, exact as doubles up to 10**22.
cdef double _TENS[16]


cdef void _fill_tens() noexcept:
    cdef int k
    _TENS[0] = 1.0
    for k in range(1, 16):
        _TENS[k] = _TENS[k - 1] * 10.0


_fill_tens()


cdef int _short_decimal(double number, long long *digits) noexcept:
    """The number of fraction digits k of the shortest decimal d/10**k (d in `digits`) that reads
    back as `number` (positive, 1e-4 <= number < 1e15), or -1 when that is not one of at most 15
    significant digits found unambiguously (float.__repr__ then decides)."""
    cdef int k
    cdef double scaled, low, high
    cdef bint low_back, high_back
    for k in range(16):
        scaled = number * _TENS[k]
        if scaled >= 1e15:
            return -1
        low = floor(scaled)
        high = ceil(scaled)
        # n / 10**k is the correctly rounded value of the decimal: it reads back iff it is `number`.
        low_back = low / _TENS[k] == number
        high_back = high != low and high / _TENS[k] == number
        if low_back and high_back:
            return -1
        if low_back or high_back:
            digits[0] = <long long>(low if low_back else high)
            return k
    return -1


cdef bint _real(_Out *out, object value) except -1:
    """False for nan and the infinities, which the reference refuses."""
    cdef double number = PyFloat_AS_DOUBLE(value)
    cdef double magnitude = fabs(number)
    cdef long long digits = 0
    cdef int fraction, at = 40, written
    cdef char text[40]
    cdef char *formatted
    if not isfinite(number):
        return False
    fraction = _short_decimal(magnitude, &digits) if 1e-4 <= magnitude < 1e15 else -1
    if fraction < 0:
        # float.__repr__, which the stdlib encoder writes for floats.
        formatted = PyOS_double_to_string(number, b'r', 0, Py_DTSF_ADD_DOT_0, NULL)
        if formatted is NULL:
            raise MemoryError()
        try:
            _write(out, formatted, strlen(formatted))
        finally:
            PyMem_Free(formatted)
        return True
    # Fixed notation, as repr writes numbers in this range: `fraction` digits after the point ("0"
    # for an integral value), then the integer part, at least "0"; written from the right.
    if fraction == 0:
        at -= 1
        text[at] = b'0'
    for written in range(fraction):
        at -= 1
        text[at] = <char>(48 + digits % 10)
        digits //= 10
    at -= 1
    text[at] = b'.'
    while True:
        at -= 1
        text[at] = <char>(48 + digits % 10)
        digits //= 10
        if digits == 0:
            break
    if number < 0:
        at -= 1
        text[at] = b'-'
    _write(out, text + at, 40 - at)
    return True


cdef bint _value(_Out *out, object value, int depth) except -1:
    """Writes `value`; False (with `out` to be discarded) when the stdlib must encode the content."""
    cdef PyTypeObject *kind = Py_TYPE(<PyObject *>value)
    cdef Py_ssize_t position = 0, i, count
    cdef PyObject *key
    cdef PyObject *item
    cdef bint first = True
    if kind is &PyUnicode_Type:
        return _string(out, value)
    if kind is &PyBool_Type:
        if value is True:
            _write(out, b"true", 4)
        else:
            _write(out, b"false", 5)
        return True
    if kind is &PyLong_Type:
        return _integer(out, value)
    if value is None:
        _write(out, b"null", 4)
        return True
    if kind is &PyFloat_Type:
        return _real(out, value)
    if depth >= _MAX_DEPTH:
        return False
    if kind is &PyDict_Type:
        _byte(out, b'{')
        while PyDict_Next(value, &position, &key, &item):
            if Py_TYPE(key) is not &PyUnicode_Type:
                return False
            if not first:
                _byte(out, b',')
            first = False
            if not _key(out, <object>key):
                return False
            if not _value(out, <object>item, depth + 1):
                return False
        _byte(out, b'}')
        return True
    if kind is &PyList_Type:
        _byte(out, b'[')
        # The list is read afresh at each step: nothing here runs Python code, but stay safe.
        i = 0
        while i < PyList_GET_SIZE(value):
            if i:
                _byte(out, b',')
            if not _value(out, <object>PyList_GET_ITEM(value, i), depth + 1):
                return False
            i += 1
        _byte(out, b']')
        return True
    if kind is &PyTuple_Type:
        _byte(out, b'[')
        count = PyTuple_GET_SIZE(value)
        for i in range(count):
            if i:
                _byte(out, b',')
            if not _value(out, <object>PyTuple_GET_ITEM(value, i), depth + 1):
                return False
        _byte(out, b']')
        return True
    return False


def dumps(content):
    """Bytes of the reference JSONResponse body; raises what the reference raises."""
    cdef _Out out
    cdef bint done
    out.data = <char *>PyMem_Malloc(256)
    if out.data is NULL:
        raise MemoryError()
    out.size = 0
    out.capacity = 256
    try:
        done = _value(&out, content, 0)
        if done:
            return PyBytes_FromStringAndSize(out.data, out.size)
    finally:
        PyMem_Free(out.data)
    return _stdlib_encode(content).encode("utf-8")


cdef bint _orjson_safe(bytes body):
    """No integer that could leave 64 bits (orjson would make it a float), no deep nesting."""
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(body)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(body)
    cdef Py_ssize_t i = 0, depth = 0, digits = 0
    cdef unsigned char c
    cdef bint in_string = False
    while i < n:
        c = p[i]
        if in_string:
            if c == b'\\':
                i += 1
            elif c == b'"':
                in_string = False
        elif c >= b'0' and c <= b'9':
            digits += 1
            if digits > _MAX_DIGITS:
                return False
            i += 1
            continue
        elif c == b'"':
            in_string = True
        elif c == b'[' or c == b'{':
            depth += 1
            if depth > _MAX_NESTING:
                return False
        elif c == b']' or c == b'}':
            depth -= 1
        digits = 0
        i += 1
    return True


def loads(body):
    """json.loads(body), as the reference Request.json() does it."""
    if type(body) is bytes and _orjson_safe(<bytes>body):
        try:
            return _orjson_loads(body)
        except ValueError:
            # NaN/Infinity, BOMs, UTF-16/32, lone surrogates, errors: the stdlib decides.
            pass
    return _stdlib_loads(body)
