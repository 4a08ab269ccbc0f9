# cython: language_level=3
"""Compiled twin of fastframe/_pure/jsonenc.py: JSON for JSONResponse and Request.json().

A typed walk decides whether orjson's output is provably the stdlib's; if not, the stdlib (the
reference's own encoder/decoder) answers, so results and exceptions match the reference.
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
from libc.math cimport fabs, isfinite

cdef extern from *:
    """
    /* A str-keyed dict's values read in place: PyDict_Next costs several times the check made on each
       value. Only on CPython 3.11, whose dict layout this reads; elsewhere ff_str_values says no. */
    #if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION)
    #  ifndef Py_BUILD_CORE
    #    define Py_BUILD_CORE 1
    #    define FF_UNDEF_BUILD_CORE 1
    #  endif
    #  include "internal/pycore_dict.h"
    #  ifdef FF_UNDEF_BUILD_CORE
    #    undef Py_BUILD_CORE
    #  endif
    /* The first value slot of `d`, whose keys are all exact str, and in `count` and `step` how many
       slots there are and how many pointers apart; NULL (and nothing set) when a key may be another
       type. Deleted entries' slots hold NULL. */
    static PyObject **ff_str_values(PyObject *d, Py_ssize_t *count, Py_ssize_t *step) {
        PyDictObject *mp = (PyDictObject *)d;
        PyDictKeysObject *dk = mp->ma_keys;
        if (dk->dk_kind == DICT_KEYS_GENERAL) return NULL;
        *count = dk->dk_nentries;
        if (mp->ma_values != NULL) {
            *step = 1;
            return mp->ma_values->values;
        }
        *step = sizeof(PyDictUnicodeEntry) / sizeof(PyObject *);
        return &DK_UNICODE_ENTRIES(dk)[0].me_value;
    }
    #else
    static PyObject **ff_str_values(PyObject *d, Py_ssize_t *count, Py_ssize_t *step) {
        return NULL;
    }
    #endif
    """
    PyObject **ff_str_values(object d, Py_ssize_t *count, Py_ssize_t *step)

import json

import orjson

from fastframe._pure import jsonenc as _pure

cdef object _orjson_dumps = orjson.dumps
cdef object _orjson_loads = orjson.loads
cdef object _OrjsonEncodeError = orjson.JSONEncodeError
cdef object _stdlib_encode = _pure._encoder.encode
cdef object _stdlib_loads = json.loads

# Same limits as the pure twin (see there for why).
cdef int _MAX_DEPTH = _pure._MAX_DEPTH
cdef double _FLOAT_EXACT_BELOW = _pure._FLOAT_EXACT_BELOW
cdef Py_ssize_t _MAX_NESTING = _pure._MAX_BRACKETS
cdef Py_ssize_t _MAX_DIGITS = 18


cdef inline int _kind(PyObject *obj):
    """1: a leaf orjson writes as the stdlib does; 2: a container to walk; 0: neither."""
    cdef PyTypeObject *t = Py_TYPE(obj)
    cdef double d
    if t is &PyUnicode_Type or t is &PyLong_Type or t is &PyBool_Type or obj is <PyObject *>None:
        return 1
    if t is &PyFloat_Type:
        d = PyFloat_AS_DOUBLE(<object>obj)
        return 1 if isfinite(d) and (d == 0.0 or fabs(d) >= _FLOAT_EXACT_BELOW) else 0
    if t is &PyDict_Type or t is &PyList_Type or t is &PyTuple_Type:
        return 2
    return 0


cdef inline bint _plain_value(PyObject *value, int depth) except -1:
    """Whether `value`, an item of a container at `depth`, is one orjson writes as the stdlib does."""
    cdef int kind = _kind(value)
    return kind == 1 or (kind == 2 and _plain(<object>value, depth + 1))


cdef bint _plain(object obj, int depth) except -1:
    # Borrowed references throughout: nothing here runs Python code, so nothing can mutate obj.
    cdef int kind = _kind(<PyObject *>obj)
    cdef Py_ssize_t pos = 0, i, n
    cdef PyObject *key
    cdef PyObject *value
    if kind != 2:
        return kind == 1
    if depth >= _MAX_DEPTH:
        return False
    cdef PyObject **slots
    cdef Py_ssize_t step
    if type(obj) is dict:
        slots = ff_str_values(obj, &n, &step)
        if slots is not NULL:
            for i in range(n):
                value = slots[i * step]
                if value is NULL:
                    continue
                if not _plain_value(value, depth):
                    return False
            return True
        while PyDict_Next(obj, &pos, &key, &value):
            if Py_TYPE(key) is not &PyUnicode_Type:
                return False
            if not _plain_value(value, depth):
                return False
        return True
    if type(obj) is list:
        n = PyList_GET_SIZE(obj)
        for i in range(n):
            value = PyList_GET_ITEM(obj, i)
            if not _plain_value(value, depth):
                return False
        return True
    n = PyTuple_GET_SIZE(obj)
    for i in range(n):
        value = PyTuple_GET_ITEM(obj, i)
        if not _plain_value(value, depth):
            return False
    return True


def dumps(content):
    """Bytes of the reference JSONResponse body; raises what the reference raises."""
    if _plain(content, 0):
        try:
            return _orjson_dumps(content)
        except _OrjsonEncodeError:
            # Ints beyond 64 bits or surrogates in strings: the stdlib answers (or raises) as the reference.
            pass
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
