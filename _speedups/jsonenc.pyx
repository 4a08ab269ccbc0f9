# cython: language_level=3
"""Compiled twin of fastframe/_pure/jsonenc.py: JSON for JSONResponse and Request.json().

Encoding writes the builtin types itself, in one pass, exactly as the stdlib would; decoding uses
orjson where its result is provably the same. Anything else goes to the stdlib (the reference's own
encoder and decoder), so results and exceptions match the reference.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.object cimport PyObject, PyTypeObject
from libc.math cimport fabs, isfinite
from libc.stdint cimport uint64_t
from libc.string cimport memcpy, strlen
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.ref cimport Py_DECREF, Py_INCREF


# Everything the encoder reads goes through borrowed PyObject pointers: public API calls and macros
# only, no reference counting on the way down.
cdef extern from "Python.h":
    PyTypeObject PyUnicode_Type
    PyTypeObject PyLong_Type
    PyTypeObject PyBool_Type
    PyTypeObject PyFloat_Type
    PyTypeObject PyDict_Type
    PyTypeObject PyList_Type
    PyTypeObject PyTuple_Type
    PyObject *Py_None
    PyObject *Py_True
    PyTypeObject *Py_TYPE(PyObject *)
    int PyDict_Next(PyObject *p, Py_ssize_t *ppos, PyObject **pkey, PyObject **pvalue) noexcept
    Py_ssize_t PyList_GET_SIZE(PyObject *) noexcept
    PyObject *PyList_GET_ITEM(PyObject *, Py_ssize_t) noexcept
    Py_ssize_t PyTuple_GET_SIZE(PyObject *) noexcept
    PyObject *PyTuple_GET_ITEM(PyObject *, Py_ssize_t) noexcept
    double PyFloat_AS_DOUBLE(PyObject *) noexcept
    long long PyLong_AsLongLongAndOverflow(PyObject *, int *) noexcept
    bint PyUnicode_IS_ASCII(PyObject *) noexcept
    void *PyUnicode_DATA(PyObject *) noexcept
    Py_ssize_t PyUnicode_GET_LENGTH(PyObject *) noexcept
    const char *PyUnicode_AsUTF8AndSize(PyObject *, Py_ssize_t *) noexcept
    void PyErr_Clear()
    object PyBytes_FromStringAndSize(const char *, Py_ssize_t)
    char *PyOS_double_to_string(double val, char format_code, int precision, int flags, int *ptype) except NULL
    int Py_DTSF_ADD_DOT_0
    Py_ssize_t PY_SSIZE_T_MAX


# Eight bytes at a time: is any of them a control character, '"' or '\\' (what needs escaping)?
# The classic "has a zero byte" / "has a byte below n" tests, exact as yes/no answers for any bytes.
cdef extern from *:
    """
    #define FF_JSON_ONES 0x0101010101010101ULL
    #define FF_JSON_HIGHS 0x8080808080808080ULL
    static inline int ff_json_word_is_plain(uint64_t word) {
        uint64_t quote = word ^ (FF_JSON_ONES * '"');
        uint64_t backslash = word ^ (FF_JSON_ONES * '\\\\');
        uint64_t special = ((word - FF_JSON_ONES * 0x20) & ~word)
            | ((quote - FF_JSON_ONES) & ~quote)
            | ((backslash - FF_JSON_ONES) & ~backslash);
        return (special & FF_JSON_HIGHS) == 0;
    }
    """
    bint _word_is_plain "ff_json_word_is_plain"(uint64_t word) noexcept nogil

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

cdef enum:
    # Past `limit` the buffer always has this many more bytes: cached keys are copied in whole
    # 16-byte blocks, which may run up to 15 bytes beyond their text.
    _SLACK = 64
    # The buffer starts on dumps()'s stack; only bodies larger than this move to the heap.
    _STACK = 4096


cdef struct _Out:
    char *data
    char *at  # the next byte to write
    char *limit  # data + capacity - _SLACK
    Py_ssize_t capacity
    bint heap  # data is PyMem memory (else dumps()'s stack buffer)


cdef int _grow(_Out *out, Py_ssize_t more) except -1:
    """Room for `more` bytes at out.at (and the slack past them); moves the buffer to the heap."""
    cdef Py_ssize_t used = out.at - out.data
    cdef Py_ssize_t capacity = out.capacity
    cdef Py_ssize_t wanted
    cdef char *grown
    if more > (PY_SSIZE_T_MAX - used - _SLACK) // 2:
        raise MemoryError()
    wanted = used + more + _SLACK
    while capacity < wanted:
        capacity = capacity * 2 if capacity <= PY_SSIZE_T_MAX // 2 else wanted
    if out.heap:
        grown = <char *>PyMem_Realloc(out.data, capacity)
        if grown is NULL:
            raise MemoryError()
    else:
        grown = <char *>PyMem_Malloc(capacity)
        if grown is NULL:
            raise MemoryError()
        memcpy(grown, out.data, used)
        out.heap = True
    out.data = grown
    out.at = grown + used
    out.limit = grown + capacity - _SLACK
    out.capacity = capacity
    return 0


cdef inline int _room(_Out *out, Py_ssize_t more) except -1:
    if more > out.limit - out.at:
        return _grow(out, more)
    return 0


cdef inline int _write(_Out *out, const char *text, Py_ssize_t size) except -1:
    _room(out, size)
    memcpy(out.at, text, size)
    out.at += size
    return 0


cdef inline int _byte(_Out *out, char c) except -1:
    _room(out, 1)
    out.at[0] = c
    out.at += 1
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
    cdef Py_ssize_t i = 0, used, begin
    cdef unsigned char c = 0, escape = 0
    cdef uint64_t word
    cdef char *into
    _room(out, size + 2)
    into = out.at
    into[0] = b'"'
    into += 1
    begin = into - out.data  # an offset: an escape may move the buffer
    # Room is kept for the rest of the text as it is, plus the closing quote; an escape adds more.
    while True:
        # Plain text eight bytes at a time, while eight remain.
        while size - i >= 8:
            memcpy(&word, text + i, 8)
            if not _word_is_plain(word):
                break
            memcpy(into, &word, 8)
            into += 8
            i += 8
        if i < size and size >= 8 and size - i < 8 and (into - out.data) - begin == i:
            # A plain tail of a text written as it is so far: its last eight bytes, some again.
            memcpy(&word, text + size - 8, 8)
            if _word_is_plain(word):
                into = out.data + begin + size
                memcpy(into - 8, &word, 8)
                break
        # Byte by byte up to the next escape (within these eight bytes, or in the tail).
        while i < size:
            c = text[i]
            escape = _ESCAPES[c]
            if escape:
                break
            into[0] = <char>c
            into += 1
            i += 1
        if i == size:
            break
        # Room for this escape at its longest, and for the rest of the text and the quote.
        if 6 + (size - i - 1) + 1 > out.limit - into:
            used = into - out.data
            out.at = into
            _grow(out, 6 + (size - i - 1) + 1)
            into = out.data + used
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
        i += 1
    into[0] = b'"'
    out.at = into + 1
    return 0


cdef inline int _string(_Out *out, PyObject *value) except -1:
    """0 when the str cannot be UTF-8 (a lone surrogate): the stdlib then raises as the reference."""
    cdef Py_ssize_t size
    cdef const char *text
    if PyUnicode_IS_ASCII(value):
        _text(out, <const unsigned char *>PyUnicode_DATA(value), PyUnicode_GET_LENGTH(value))
        return 1
    text = PyUnicode_AsUTF8AndSize(value, &size)
    if text is NULL:
        PyErr_Clear()
        return 0
    _text(out, <const unsigned char *>text, size)
    return 1


# Dict keys repeat (the same str objects, field names, response after response): their written
# form, '"key":', is kept by the key object's identity. Each entry holds a reference to its key, so
# an address seen again is the same immutable str.
cdef enum:
    _KEYS = 512
    _KEY_LONGEST = 64  # a multiple of 16: entries are copied in 16-byte blocks

cdef struct _Key:
    PyObject *key
    Py_ssize_t size
    char text[_KEY_LONGEST]

cdef _Key _keys[_KEYS]


cdef int _key(_Out *out, PyObject *key) except -1:
    """Writes '"key":'; 0 when the key cannot be UTF-8."""
    cdef _Key *entry = &_keys[(<Py_ssize_t>key >> 4) & (_KEYS - 1)]
    cdef Py_ssize_t done, size, start
    if entry.key == key:
        size = entry.size
        _room(out, size)
        done = 0
        while done < size:
            # Whole blocks: the slack past out.limit holds what runs over the key's own bytes.
            memcpy(out.at + done, entry.text + done, 16)
            done += 16
        out.at += size
        return 1
    start = out.at - out.data  # an offset: writing may move the buffer
    if not _string(out, key):
        return 0
    _byte(out, b':')
    size = (out.at - out.data) - start
    if size <= _KEY_LONGEST:
        if entry.key is not NULL:
            Py_DECREF(<object>entry.key)
        Py_INCREF(<object>key)
        entry.key = key
        entry.size = size
        memcpy(entry.text, out.data + start, size)
    return 1


cdef int _integer(_Out *out, PyObject *value) except -1:
    """0 for an int beyond 64 bits: the stdlib writes (or refuses) those."""
    cdef int overflow = 0
    cdef long long number = PyLong_AsLongLongAndOverflow(value, &overflow)
    cdef unsigned long long magnitude
    cdef char digits[24]
    cdef int at = 24
    if overflow:
        return 0
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
    return 1


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
        # floor and ceil: 0 < scaled < 1e15 < 2**53, so the truncating cast is exact.
        low = <double>(<long long>scaled)
        high = low if low == scaled else low + 1.0
        # n / 10**k is the correctly rounded value of the decimal: it reads back iff it is `number`.
        low_back = low / _TENS[k] == number
        high_back = high != low and high / _TENS[k] == number
        if low_back and high_back:
            return -1
        if low_back or high_back:
            digits[0] = <long long>(low if low_back else high)
            return k
    return -1


cdef int _real(_Out *out, PyObject *value) except -1:
    """0 for nan and the infinities, which the reference refuses."""
    cdef double number = PyFloat_AS_DOUBLE(value)
    cdef double magnitude = fabs(number)
    cdef long long digits = 0
    cdef int fraction, at = 40, written
    cdef char text[40]
    cdef char *formatted
    if not isfinite(number):
        return 0
    fraction = _short_decimal(magnitude, &digits) if 1e-4 <= magnitude < 1e15 else -1
    if fraction < 0:
        # float.__repr__, which the stdlib encoder writes for floats.
        formatted = PyOS_double_to_string(number, b'r', 0, Py_DTSF_ADD_DOT_0, NULL)
        try:
            _write(out, formatted, strlen(formatted))
        finally:
            PyMem_Free(formatted)
        return 1
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
    return 1


cdef enum:
    _CONTAINER = 2  # what _scalar() answers for anything that is not a scalar


cdef inline int _scalar(_Out *out, PyObject *value) except -1:
    """Writes a str, int, bool, None or float: 1, or 0 (with `out` to be discarded) when the stdlib
    must encode the content; _CONTAINER for anything else. Not recursive, so it is inlined where
    containers write their items: only a nested container costs a call (to _container) of its own."""
    cdef PyTypeObject *kind = Py_TYPE(value)
    if kind is &PyUnicode_Type:
        return _string(out, value)
    if kind is &PyLong_Type:
        return _integer(out, value)
    if kind is &PyBool_Type:
        if value is Py_True:
            _write(out, b"true", 4)
        else:
            _write(out, b"false", 5)
        return 1
    if value is Py_None:
        _write(out, b"null", 4)
        return 1
    if kind is &PyFloat_Type:
        return _real(out, value)
    return _CONTAINER


cdef int _container(_Out *out, PyObject *value, int depth) except -1:
    """A dict, list or tuple at `depth`; 0 for anything else, or when nested too deep."""
    cdef PyTypeObject *kind = Py_TYPE(value)
    cdef Py_ssize_t position = 0, i, count
    cdef PyObject *key
    cdef PyObject *item
    cdef int done
    if depth >= _MAX_DEPTH:
        return 0
    if kind is &PyDict_Type:
        _byte(out, b'{')
        while PyDict_Next(value, &position, &key, &item):
            if Py_TYPE(key) is not &PyUnicode_Type:
                return 0
            if not _key(out, key):
                return 0
            done = _scalar(out, item)
            if done == _CONTAINER:
                done = _container(out, item, depth + 1)
            if not done:
                return 0
            _byte(out, b',')
        # The comma after the last item becomes the closing brace (or the brace follows the '{').
        if (out.at - 1)[0] == b',':
            (out.at - 1)[0] = b'}'
        else:
            _byte(out, b'}')
        return 1
    if kind is &PyList_Type:
        _byte(out, b'[')
        # The list is read afresh at each step: nothing here runs Python code, but stay safe.
        i = 0
        while i < PyList_GET_SIZE(value):
            item = PyList_GET_ITEM(value, i)
            done = _scalar(out, item)
            if done == _CONTAINER:
                done = _container(out, item, depth + 1)
            if not done:
                return 0
            _byte(out, b',')
            i += 1
        if i:
            (out.at - 1)[0] = b']'
        else:
            _byte(out, b']')
        return 1
    if kind is &PyTuple_Type:
        _byte(out, b'[')
        count = PyTuple_GET_SIZE(value)
        for i in range(count):
            item = PyTuple_GET_ITEM(value, i)
            done = _scalar(out, item)
            if done == _CONTAINER:
                done = _container(out, item, depth + 1)
            if not done:
                return 0
            _byte(out, b',')
        if count:
            (out.at - 1)[0] = b']'
        else:
            _byte(out, b']')
        return 1
    return 0


def dumps(content):
    """Bytes of the reference JSONResponse body; raises what the reference raises."""
    cdef char stack[_STACK]
    cdef _Out out
    cdef int done
    out.data = stack
    out.at = stack
    out.capacity = _STACK
    out.limit = stack + _STACK - _SLACK
    out.heap = False
    try:
        done = _scalar(&out, <PyObject *>content)
        if done == _CONTAINER:
            done = _container(&out, <PyObject *>content, 0)
        if done:
            return PyBytes_FromStringAndSize(out.data, out.at - out.data)
    finally:
        if out.heap:
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
