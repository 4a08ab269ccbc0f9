# cython: language_level=3
"""Compiled twin of fastframe/_pure/http.py: ASGI header lookup, cookie and query-string parsing.

Exact `str`/`bytes`/`tuple` inputs take typed loops; anything else (subclasses, odd ASGI servers)
goes through the same generic operations as the pure twin, so results and exceptions match.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject_Hash
from cpython.ref cimport PyObject, Py_INCREF, Py_XDECREF
from cpython.tuple cimport PyTuple_GET_SIZE
from cpython.unicode cimport Py_UNICODE_ISSPACE, PyUnicode_DecodeLatin1, PyUnicode_DecodeUTF8, PyUnicode_New
from libc.string cimport memcmp, memcpy


cdef extern from "Python.h":
    int PyUnicode_KIND(object u)
    void *PyUnicode_DATA(object u)
    Py_UCS4 PyUnicode_READ(int kind, void *data, Py_ssize_t index) nogil
    int PyUnicode_1BYTE_KIND
    Py_ssize_t PyUnicode_GET_LENGTH(object u)
    bint PyUnicode_IS_ASCII(object u)

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
    return _header_get(raw, key, default)


cdef object _header_get(object raw, object key, object default):
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


# --- text from latin-1 buffers --------------------------------------------------------------------


cdef inline str _text(const unsigned char *p, Py_ssize_t size, bint ascii):
    """The latin-1 text of a buffer; known-ASCII text skips the decoder's scan for wide characters."""
    cdef str text
    if ascii:
        text = PyUnicode_New(size, 127)
        memcpy(PyUnicode_DATA(text), p, size)
        return text
    return PyUnicode_DecodeLatin1(<const char *>p, size, NULL)


# Cookie and parameter names repeat from request to request: a small direct-mapped table hands back
# the same str (hash already computed) instead of building, hashing and freeing a new one each time.
# Only names are kept, never values, which may be secrets.
cdef enum:
    _NAME_SLOTS = 512
    _NAME_MAX = 48

cdef PyObject *_names[512]


cdef str _name(const unsigned char *p, Py_ssize_t size, bint ascii):
    cdef Py_ssize_t i
    cdef unsigned int h = 2166136261u
    cdef PyObject *entry
    cdef str name
    if size == 0 or size > _NAME_MAX:
        return _text(p, size, ascii)
    for i in range(size):
        h = (h ^ p[i]) * 16777619u
    h &= _NAME_SLOTS - 1
    entry = _names[h]
    if (
        entry != NULL
        and PyUnicode_GET_LENGTH(<object>entry) == size
        and memcmp(PyUnicode_DATA(<object>entry), p, size) == 0
    ):
        return <str>entry
    name = _text(p, size, ascii)
    PyObject_Hash(name)
    # Read the slot again: making the str may have collected garbage, and a finaliser parsed.
    entry = _names[h]
    Py_INCREF(name)
    _names[h] = <PyObject *>name
    Py_XDECREF(entry)
    return name


# --- cookies -------------------------------------------------------------------------------------


cdef inline str _latin1_slice(const unsigned char *p, Py_ssize_t size):
    return PyUnicode_DecodeLatin1(<const char *>p, size, NULL)


cdef dict _cookies_latin1(const unsigned char *p, Py_ssize_t n):
    """parse_cookie over latin-1 text held as bytes: each name and value is decoded straight from the buffer."""
    cdef Py_ssize_t start = 0, end, eq, ks, ke, vs, ve
    cdef unsigned char c
    cdef dict cookies = {}
    cdef str value
    cdef bint backslash, ascii
    while start <= n:
        end = start
        eq = -1
        backslash = False
        ascii = True
        while end < n:
            c = p[end]
            if c == 59:  # ;
                break
            if c == 61 and eq < 0:  # =
                eq = end
            elif c == 92:  # backslash
                backslash = True
            elif c > 127:
                ascii = False
            end += 1
        if eq < 0:
            # A bare token is a value with an empty name, which is how browsers treat it.
            ks = ke = vs = start
        else:
            ks = start
            ke = eq
            vs = eq + 1
        ve = end
        while ks < ke and Py_UNICODE_ISSPACE(p[ks]):
            ks += 1
        while ke > ks and Py_UNICODE_ISSPACE(p[ke - 1]):
            ke -= 1
        while vs < ve and Py_UNICODE_ISSPACE(p[vs]):
            vs += 1
        while ve > vs and Py_UNICODE_ISSPACE(p[ve - 1]):
            ve -= 1
        if ke > ks or ve > vs:
            if ve - vs >= 2 and p[vs] == 34 and p[ve - 1] == 34:  # "..."
                # Only backslash escapes change a quoted value beyond losing its quotes.
                if backslash:
                    value = _cookie_unquote(_latin1_slice(p + vs, ve - vs))
                else:
                    value = _text(p + vs + 1, ve - vs - 2, ascii)
            else:
                value = _text(p + vs, ve - vs, ascii)
            cookies[_name(p + ks, ke - ks, ascii)] = value
        start = end + 1
    return cookies


cdef dict _cookies_wide(str s):
    """parse_cookie over text with characters beyond latin-1."""
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
                value = _cookie_unquote(s[vs:ve]) if backslash else s[vs + 1:ve - 1]
            else:
                value = s[vs:ve]
            cookies[s[ks:ke]] = value
        start = end + 1
    return cookies


def parse_cookie(cookie_string):
    """Lenient Cookie header parsing, as browsers send it (not RFC 6265's strict grammar)."""
    if type(cookie_string) is not str:
        return _pure.parse_cookie(cookie_string)
    if PyUnicode_KIND(cookie_string) == PyUnicode_1BYTE_KIND:
        # Latin-1 text is stored one byte a character: the bytes parser reads it as is.
        return _cookies_latin1(<const unsigned char *>PyUnicode_DATA(cookie_string), len(<str>cookie_string))
    return _cookies_wide(<str>cookie_string)


cdef bytes _COOKIE = b"cookie"


def cookies_from_headers(raw):
    """The cookies of every Cookie header in a raw ASGI list, read as one list (later names win)."""
    cdef object item, name, value
    cdef list values = []
    cdef bint all_bytes = True
    for item in raw:
        if type(item) is tuple and PyTuple_GET_SIZE(item) == 2:
            name = (<tuple>item)[0]
            value = (<tuple>item)[1]
        else:
            name, value = item
        if _same(name, _COOKIE):
            if type(value) is not bytes:
                all_bytes = False
            values.append(value)
    if not values:
        return {}
    if not all_bytes:
        # Same operations as the pure twin, so odd values fail (or not) the same way.
        if len(values) == 1:
            return parse_cookie(values[0].decode("latin-1"))
        return parse_cookie("; ".join([value.decode("latin-1") for value in values]))
    if len(values) == 1:
        value = values[0]
    else:
        value = b"; ".join(values)
    return _cookies_latin1(<const unsigned char *>PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value))


# --- query strings -------------------------------------------------------------------------------


cdef inline int _hex(Py_UCS4 c):
    if u"0" <= c <= u"9":
        return <int>c - 48
    if u"a" <= c <= u"f":
        return <int>c - 87
    if u"A" <= c <= u"F":
        return <int>c - 55
    return -1


cdef str _unescape_latin1(const unsigned char *p, Py_ssize_t size, int flags):
    """One name or value of a query string held as latin-1 bytes, as parse_qsl would give it."""
    cdef Py_ssize_t i, out
    cdef int hi, lo
    cdef unsigned char c
    cdef char stack[256]
    stack[0] = 0  # silences a false "may be used uninitialised" warning
    cdef char *buf
    if flags == 0:
        return _text(p, size, True)
    if flags == _NON_ASCII:
        return PyUnicode_DecodeLatin1(<const char *>p, size, NULL)
    if flags & _PERCENT and flags & _NON_ASCII:
        # Percent-escapes next to non-ASCII text: the stdlib's exact splitting rules apply.
        return _url_unquote(PyUnicode_DecodeLatin1(<const char *>p, size, NULL).replace(u"+", u" "))
    if size <= 256:
        buf = stack
    else:
        buf = <char *>PyMem_Malloc(size)
        if buf == NULL:
            raise MemoryError()
    try:
        if not flags & _PERCENT:
            for i in range(size):
                c = p[i]
                buf[i] = <char>(32 if c == 43 else c)
            return PyUnicode_DecodeLatin1(buf, size, NULL)
        out = 0
        i = 0
        while i < size:
            c = p[i]
            if c == 37 and i + 2 < size:  # %
                hi = _hex(p[i + 1])
                lo = _hex(p[i + 2])
                if hi >= 0 and lo >= 0:
                    buf[out] = <char>(hi * 16 + lo)
                    out += 1
                    i += 3
                    continue
            buf[out] = <char>(32 if c == 43 else c)
            out += 1
            i += 1
        return PyUnicode_DecodeUTF8(buf, out, "replace")
    finally:
        if size > 256:
            PyMem_Free(buf)


cdef inline Py_ssize_t _scan_pair(
    const unsigned char *p, Py_ssize_t start, Py_ssize_t n, Py_ssize_t *eq, int *flags, int *name_flags
):
    """Where the pair at `start` of a latin-1 query string ends (its '&' or n), with the position of
    its first '=' (or -1) and what needs unescaping in the name and in the value (or the lone name)."""
    cdef Py_ssize_t end = start
    cdef unsigned char c
    eq[0] = -1
    flags[0] = 0
    name_flags[0] = 0
    while end < n:
        c = p[end]
        if c == 38:  # &
            break
        if c == 61:  # =
            if eq[0] < 0:
                eq[0] = end
                name_flags[0] = flags[0]
                flags[0] = 0
        elif c == 37:  # %
            flags[0] |= _PERCENT
        elif c == 43:  # +
            flags[0] |= _PLUS
        elif c > 127:
            flags[0] |= _NON_ASCII
        end += 1
    return end


cdef void _query_latin1(const unsigned char *p, Py_ssize_t n, list pairs, dict mapping) except *:
    """Appends each pair of a latin-1 query string to `pairs` and, if given, sets it in `mapping`."""
    cdef Py_ssize_t start = 0, end, eq
    cdef int flags, name_flags
    cdef str name, value
    while start < n:
        end = _scan_pair(p, start, n, &eq, &flags, &name_flags)
        if end > start:
            if eq < 0:
                name = _name(p + start, end - start, True) if flags == 0 else _unescape_latin1(p + start, end - start, flags)
                value = u""
            else:
                if name_flags == 0:
                    name = _name(p + start, eq - start, True)
                else:
                    name = _unescape_latin1(p + start, eq - start, name_flags)
                value = _unescape_latin1(p + eq + 1, end - eq - 1, flags)
            pairs.append((name, value))
            if mapping is not None:
                mapping[name] = value
        start = end + 1


cdef str _unquote_wide(str s, int kind, void *data, Py_ssize_t start, Py_ssize_t end, int flags):
    if flags == 0:
        return s[start:end]
    if not flags & _PERCENT:
        return s[start:end].replace(u"+", u" ")
    # Text beyond latin-1 is never plain ASCII: the stdlib's exact splitting rules apply.
    return _url_unquote(s[start:end].replace(u"+", u" "))


cdef list _query_wide(str s):
    """parse_query_string over text with characters beyond latin-1."""
    cdef Py_ssize_t n = len(s)
    cdef Py_ssize_t start = 0, end, eq
    cdef int flags, name_flags
    cdef Py_UCS4 c
    cdef list pairs = []
    cdef int kind = PyUnicode_KIND(s)
    cdef void *data = PyUnicode_DATA(s)
    while start < n:
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
            end += 1
        if end > start:
            if eq < 0:
                pairs.append((_unquote_wide(s, kind, data, start, end, flags), u""))
            else:
                pairs.append(
                    (
                        _unquote_wide(s, kind, data, start, eq, name_flags),
                        _unquote_wide(s, kind, data, eq + 1, end, flags),
                    )
                )
        start = end + 1
    return pairs


def parse_query_string(query_string):
    """Query-string pairs in order, blank values kept, '+' as space, bad UTF-8 replaced."""
    if type(query_string) is not str:
        return _pure.parse_query_string(query_string)
    cdef list pairs
    if PyUnicode_KIND(query_string) != PyUnicode_1BYTE_KIND:
        return _query_wide(<str>query_string)
    pairs = []
    _query_latin1(<const unsigned char *>PyUnicode_DATA(query_string), len(<str>query_string), pairs, None)
    return pairs


def parse_query(query_string):
    """parse_query_string's pairs and their dict (last value wins); bytes are read as latin-1."""
    cdef list pairs
    cdef dict mapping
    if type(query_string) is bytes:
        pairs = []
        mapping = {}
        _query_latin1(
            <const unsigned char *>PyBytes_AS_STRING(query_string), PyBytes_GET_SIZE(query_string), pairs, mapping
        )
        return pairs, mapping
    if type(query_string) is str and PyUnicode_KIND(query_string) == PyUnicode_1BYTE_KIND:
        pairs = []
        mapping = {}
        _query_latin1(<const unsigned char *>PyUnicode_DATA(query_string), len(<str>query_string), pairs, mapping)
        return pairs, mapping
    if type(query_string) is str:
        pairs = _query_wide(<str>query_string)
        return pairs, dict(pairs)
    return _pure.parse_query(query_string)


cdef object _query_get(object query_string, object key, object default):
    """parse_query(query_string)[1].get(key, default), without building the other pairs."""
    if type(query_string) is not bytes or type(key) is not str or not PyUnicode_IS_ASCII(key):
        return parse_query(query_string)[1].get(key, default)
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(query_string)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(query_string)
    cdef const char *k = <const char *>PyUnicode_DATA(key)
    cdef Py_ssize_t k_size = PyUnicode_GET_LENGTH(key)
    cdef Py_ssize_t start = 0, end, eq, name_end
    cdef Py_ssize_t found_start = -1, found_end = 0
    cdef int flags, name_flags, found_flags = 0
    cdef bint match
    while start < n:
        end = _scan_pair(p, start, n, &eq, &flags, &name_flags)
        if end > start:
            if eq < 0:
                name_end = end
                name_flags = flags
            else:
                name_end = eq
            if name_flags == 0:
                match = name_end - start == k_size and memcmp(p + start, k, k_size) == 0
            else:
                match = _unescape_latin1(p + start, name_end - start, name_flags) == key
            if match:
                # The dict keeps the last value given for a name.
                if eq < 0:
                    found_start = found_end = end
                    found_flags = 0
                else:
                    found_start = eq + 1
                    found_end = end
                    found_flags = flags
        start = end + 1
    if found_start < 0:
        return default
    return _unescape_latin1(p + found_start, found_end - found_start, found_flags)


# --- the types behind the multi-dicts, Headers and HTTPConnection ------------------------------------------------

cdef object _MISSING = object()


cdef extern from *:
    """
    /* An instance of `cls`, a subtype of `base` that inherits base's tp_new, made by that tp_new
       as `base.__new__(cls)` would make it, without looking __new__ up and packing arguments. */
    static PyObject *ff_new_like(PyObject *base, PyObject *cls, PyObject *no_args) {
        newfunc make = (newfunc)PyType_GetSlot((PyTypeObject *)base, Py_tp_new);
        return make((PyTypeObject *)cls, no_args, NULL);
    }
    static int ff_same_new(PyObject *base, PyObject *cls) {
        return PyType_GetSlot((PyTypeObject *)base, Py_tp_new) == PyType_GetSlot((PyTypeObject *)cls, Py_tp_new);
    }
    """
    object ff_new_like(object base, object cls, object no_args)
    bint ff_same_new(object base, object cls)


cdef tuple _NO_ARGS = ()


cdef object _new_like(object base, object cls):
    """base.__new__(cls) for a subclass `cls` of the compiled type `base`: made by base's tp_new
    directly while `cls` has that one (no __new__ of its own), else through the usual call."""
    if ff_same_new(base, cls):
        return ff_new_like(base, cls, _NO_ARGS)
    return base.__new__(cls)


cdef class MultiStore:
    """The storage of a multi-dict: every (key, value) pair in order, and each key's last value.

    One made by from_query() holds the raw query string instead, until a read other than get()
    needs the pairs: get() answers from the raw string without building them.
    """

    cdef object _raw
    cdef object _pair_list, _last_values

    @classmethod
    def from_query(cls, query):
        """An instance of `cls` over a raw query string, parsed when first needed."""
        cdef MultiStore made = <MultiStore>_new_like(MultiStore, cls)
        if type(query) is bytes:
            made._raw = query
        else:
            made._pair_list, made._last_values = parse_query(query)
        return made

    cdef inline int _parsed(self) except -1:
        if self._raw is not None:
            self._pair_list, self._last_values = parse_query(self._raw)
            self._raw = None
        return 0

    @property
    def _pairs(self):
        self._parsed()
        return self._pair_list

    @_pairs.setter
    def _pairs(self, value):
        self._parsed()
        self._pair_list = value

    @property
    def _last(self):
        self._parsed()
        return self._last_values

    @_last.setter
    def _last(self, value):
        self._parsed()
        self._last_values = value

    def get(self, key, default=None):
        if self._raw is not None:
            return _query_get(self._raw, key, default)
        return self._last_values.get(key, default)


cdef class HeaderList:
    """A raw ASGI header list read by name: the lookups `Headers` answers, over a list it owns."""

    cdef public object _raw

    @classmethod
    def adopt(cls, raw):
        """An instance of `cls` over `raw` as it is, without running `cls.__init__`."""
        cdef HeaderList made = <HeaderList>_new_like(HeaderList, cls)
        made._raw = raw
        return made

    def get(self, key, default=None):
        return _header_get(self._raw, key, default)

    def __getitem__(self, key):
        value = _header_get(self._raw, key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key):
        return header_contains(self._raw, key)

    def getlist(self, key):
        return header_getlist(self._raw, key)

    def __len__(self):
        return len(self._raw)


cdef class Connection:
    """What an HTTP request or WebSocket session keeps: its scope, its channels, and caches
    that stay None until first used (a new instance has every object field None already)."""

    cdef public object scope, _receive, _send
    cdef public object _url, _base_url, _headers, _query_params, _cookies, _state, _form
    cdef public bint _stream_consumed, _is_disconnected

    def _open(self, scope, receive, send):
        """Set the scope and channels, and empty every cache."""
        _reset(self, scope, receive, send)


cdef inline void _reset(Connection conn, scope, receive, send):
    conn.scope = scope
    conn._receive = receive
    conn._send = send
    conn._url = conn._base_url = conn._headers = conn._query_params = None
    conn._cookies = conn._state = conn._form = None
    conn._stream_consumed = conn._is_disconnected = False


# The pure twin's: the defaults of Request's channels are coroutine functions, kept in Python.
empty_receive = _pure.empty_receive
empty_send = _pure.empty_send
cdef str _HTTP_TYPE = "http"


def init_request(Connection self, scope, receive=_pure.empty_receive, send=_pure.empty_send):
    """Request.__init__ itself (it binds as a method): no Python frame for every Request made."""
    assert scope["type"] == _HTTP_TYPE
    _reset(self, scope, receive, send)


# The classes of the views a connection makes on first read, named by configure_views.
cdef object _headers_class = None
cdef object _mutable_headers_class = None
cdef object _query_class = None
cdef object _query_from = None
cdef str _HEADERS = "headers"
cdef str _QUERY_STRING = "query_string"
cdef str _PATH_PARAMS = "path_params"
cdef str _METHOD = "method"
cdef str _COOKIE_NAME = "cookie"


def configure_views(headers_class, mutable_headers_class, query_class):
    """Name Headers, MutableHeaders and QueryParams, the views the accessors below make."""
    global _headers_class, _mutable_headers_class, _query_class, _query_from
    if not (issubclass(headers_class, HeaderList) and issubclass(mutable_headers_class, HeaderList)):
        raise TypeError("the header views must be HeaderList subclasses")
    _headers_class, _mutable_headers_class, _query_class = headers_class, mutable_headers_class, query_class
    _query_from = query_class.from_query


def connection_headers(Connection conn):
    """HTTPConnection.headers: the scope's headers as Headers over a list of their own, which
    goes back into the scope (as Headers(scope=...)), so that later changes through either agree."""
    cdef HeaderList made
    headers = conn._headers
    if headers is None:
        scope = conn.scope
        raw = list(scope[_HEADERS])
        made = <HeaderList>_new_like(HeaderList, _headers_class)
        made._raw = raw
        conn._headers = made
        scope[_HEADERS] = raw
        return made
    return headers


def connection_query_params(Connection conn):
    """HTTPConnection.query_params, parsed on first read and kept."""
    params = conn._query_params
    if params is None:
        query = conn.scope[_QUERY_STRING]
        # From bytes, as servers send it, the view may answer get() without parsing it all.
        params = _query_from(query) if type(query) is bytes else _query_class(query)
        conn._query_params = params
    return params


def connection_cookies(Connection conn):
    """HTTPConnection.cookies: every Cookie header counts (HTTP/2 sends one per cookie), a later
    name wins. Read through `conn.headers`, which a subclass may redefine."""
    cookies = conn._cookies
    if cookies is None:
        headers = getattr(conn, _HEADERS)
        if type(headers) is _headers_class or type(headers) is _mutable_headers_class:
            cookies = cookies_from_headers((<HeaderList>headers)._raw)
        else:
            values = headers.getlist(_COOKIE_NAME)
            cookies = parse_cookie("; ".join(values)) if values else {}
        conn._cookies = cookies
    return cookies


def connection_path_params(Connection conn):
    """HTTPConnection.path_params: a new empty dict when the router set none."""
    return conn.scope.get(_PATH_PARAMS, {})


def request_method(Connection request):
    """Request.method."""
    return request.scope[_METHOD]


def own_raw(HeaderList headers):
    """MutableHeaders.raw: the list itself, which changes through the view."""
    return headers._raw


def delete_header(HeaderList headers, key):
    """MutableHeaders.__delitem__: every header of that name goes, the list is changed in place
    (it may be the scope's or a response's own); a missing name is no error."""
    name = _needle(key)
    raw = headers._raw
    raw[:] = [item for item in raw if item[0] != name]


cdef object _request_class = None
cdef object _request_init = None


# The configured class's __init__ is still the one it had then: its metaclass tells
# note_request_init() when __init__ is set or deleted on it.
cdef bint _request_init_kept = False


def configure_request(cls):
    """Name the Request class new_request makes (a subclass of Connection)."""
    global _request_class, _request_init, _request_init_kept
    if not issubclass(cls, Connection):
        raise TypeError(f"{cls.__name__} is not a subclass of Connection")
    _request_class = cls
    _request_init = cls.__init__
    _request_init_kept = True


def note_request_init():
    """The configured class's __init__ was set or deleted: new_request calls the class itself
    until it is the configured one again."""
    global _request_init_kept
    _request_init_kept = _request_class is not None and _request_class.__init__ is _request_init


def new_request(scope, receive, send):
    """Request(scope, receive, send) for an http scope: the three fields set, the rest None."""
    cls = _request_class
    if not _request_init_kept:
        # A patched __init__ is honoured: it may set up more than the fields.
        return cls(scope, receive, send)
    cdef Connection made = <Connection>_new_like(Connection, cls)
    made.scope = scope
    made._receive = receive
    made._send = send
    return made
