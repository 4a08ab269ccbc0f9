# cython: language_level=3
"""Compiled twin of fastframe/_pure/response.py: a response's attributes, body and raw headers,
made in one call instead of three Python frames."""

from cpython.bytes cimport PyBytes_CheckExact
from cpython.long cimport PyLong_AsLongAndOverflow, PyLong_CheckExact
from cpython.unicode cimport PyUnicode_AsUTF8String, PyUnicode_CheckExact
from cpython.dict cimport PyDict_GetItemWithError, PyDict_SetItem, PyDict_Size
from cpython.object cimport PyObject
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE

from _slots cimport slot_offset, type_tag

__all__ = [
    "Tracker",
    "build_headers",
    "configure",
    "content_type",
    "init_response",
    "plain_answer",
    "speed_up_construction",
    "use_slots",
]

cdef extern from *:
    """
    /* A type's tp_vectorcall is what calling the type object runs; NULL means type.__call__.
       CPython never inherits it, so subclasses keep the generic path. */
    static void ff_set_vectorcall(PyObject *tp, void *fn) {
        ((PyTypeObject *)tp)->tp_vectorcall = (vectorcallfunc)fn;
    }
    static void *ff_get_vectorcall(PyObject *tp) {
        return (void *)((PyTypeObject *)tp)->tp_vectorcall;
    }
    /* Whether making an instance is object.__new__'s plain allocation. */
    static int ff_plain_new(PyObject *tp) {
        PyTypeObject *t = (PyTypeObject *)tp;
        return t->tp_new == PyBaseObject_Type.tp_new && t->tp_alloc == PyType_GenericAlloc
            && Py_IS_TYPE(tp, &PyType_Type);
    }
    /* object.__new__ with no arguments: it also lays out the instance's attribute storage. */
    static PyObject *ff_alloc(PyObject *tp, PyObject *no_args) {
        return PyBaseObject_Type.tp_new((PyTypeObject *)tp, no_args, NULL);
    }
    /* type.__call__ itself, with the vectorcall arguments as a tuple and a dict. */
    static PyObject *ff_type_call(PyObject *tp, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
        return _PyObject_MakeTpCall(PyThreadState_Get(), tp, args, PyVectorcall_NARGS(nargsf), kwnames);
    }
    """
    void ff_set_vectorcall(object tp, void *fn)
    void *ff_get_vectorcall(object tp)
    bint ff_plain_new(object tp)
    object ff_alloc(object tp, object no_args)
    object ff_type_call(object tp, PyObject **args, size_t nargsf, PyObject *kwnames)
    Py_ssize_t PyVectorcall_NARGS(size_t nargsf)

cdef extern from "Python.h":
    void Py_INCREF(object)
    void Py_XDECREF(PyObject *)

cdef object _render = None
cdef object _json_render = None
cdef object _json_dumps = None
cdef object _init_headers = None

cdef dict _content_types = {}
cdef dict _utf8_content_types = {}
cdef list _LENGTHS = [str(n).encode("latin-1") for n in range(1024)]
# The Content-Length header of each small length, shared: headers are immutable tuples.
cdef list _LENGTH_HEADERS = [(b"content-length", value) for value in _LENGTHS]
cdef tuple _BYTES_LIKE = (bytes, memoryview)


def configure(render, json_render, json_dumps, init_headers):
    global _render, _json_render, _json_dumps, _init_headers
    _render = render
    _json_render = json_render
    _json_dumps = json_dumps
    _init_headers = init_headers


# The slots _init_known fills, in this order, and where they lie in an instance.
cdef tuple _SLOT_NAMES = ("status_code", "background", "body", "raw_headers")
cdef tuple _slots = ()
cdef Py_ssize_t _slot_offsets[4]


def use_slots(cls):
    """Learn where `cls` (Response) keeps status_code, background, body and raw_headers: a class
    whose attributes are still these very slots gets them written there."""
    global _slots
    found = []
    for k, name in enumerate(_SLOT_NAMES):
        descriptor = getattr(cls, name)
        _slot_offsets[k] = slot_offset(descriptor)
        if _slot_offsets[k] == 0:
            raise TypeError(f"{cls.__name__}.{name} is not a slot")
        found.append(descriptor)
    _slots = tuple(found)


cdef inline void _put(self, Py_ssize_t k, value):
    cdef PyObject **slot = <PyObject **>(<char *><PyObject *>self + _slot_offsets[k])
    cdef PyObject *old = slot[0]
    Py_INCREF(value)
    slot[0] = <PyObject *>value
    Py_XDECREF(old)


def content_type(media_type, charset):
    return _content_type(media_type, charset)


cdef object _content_type(object media_type, object charset):
    cdef PyObject *found
    # The usual charset gets a cache keyed by the media type alone: no key tuple to build.
    if type(charset) is str and type(media_type) is str and <str>charset == "utf-8":
        found = PyDict_GetItemWithError(_utf8_content_types, media_type)
        if found is not NULL:
            return <object>found
    key = (media_type, charset)
    found = PyDict_GetItemWithError(_content_types, key)
    if found is not NULL:
        return <object>found
    text = media_type
    if text.startswith("text/") and "charset=" not in text.lower():
        text += "; charset=" + charset
    value = text.encode("latin-1")
    if PyDict_Size(_content_types) < 256:
        PyDict_SetItem(_content_types, key, value)
        if type(charset) is str and type(media_type) is str and <str>charset == "utf-8":
            PyDict_SetItem(_utf8_content_types, media_type, value)
    return value


cdef list _build(headers, body, status_code, media_type, charset):
    cdef bint populate_length = True
    cdef bint populate_type = True
    cdef list raw
    cdef Py_ssize_t length
    if headers is None:
        raw = []
    else:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        for name, _ in raw:
            if name == b"content-length":
                populate_length = False
            elif name == b"content-type":
                populate_type = False
    if populate_length and body is not None and status_code >= 200 and status_code != 204 and status_code != 304:
        length = len(body)
        raw.append(_LENGTH_HEADERS[length] if length < 1024 else (b"content-length", str(length).encode("latin-1")))
    if media_type is not None and populate_type:
        raw.append((b"content-type", _content_type(media_type, charset)))
    return raw


def build_headers(headers, body, status_code, media_type, charset):
    """The raw headers of a response: the given ones, then Content-Length and Content-Type unless given.

    ``body`` is None when the response has none yet (streaming and file responses).
    """
    return _build(headers, body, status_code, media_type, charset)


def init_response(self, content=None, status_code=200, headers=None, media_type=None, background=None):
    _init(self, content, status_code, headers, media_type, background)


cdef int _init(self, content, status_code, headers, media_type, background) except -1:
    self.status_code = status_code
    if media_type is not None:
        self.media_type = media_type
    self.background = background
    cls = type(self)
    render = cls.render
    if render is _render:
        if content is None:
            body = b""
        elif PyUnicode_CheckExact(content):
            charset = self.charset
            if type(charset) is str and <str>charset == "utf-8":
                body = PyUnicode_AsUTF8String(content)
            else:
                body = content.encode(charset)
        elif PyBytes_CheckExact(content) or isinstance(content, _BYTES_LIKE):
            body = content
        else:
            body = content.encode(self.charset)
    elif render is _json_render:
        body = _json_dumps(content)
    else:
        body = self.render(content)
    self.body = body
    if cls.init_headers is _init_headers:
        self.raw_headers = _build(headers, body, status_code, self.media_type, self.charset)
    else:
        self.init_headers(headers)
    return 0


# Classes whose construction skips type.__call__: the class, the __init__ it must still have, whether
# content is a required argument, and the version tag at which that was last confirmed.
cdef struct _Fast:
    PyObject *cls
    PyObject *inits
    bint content_required
    unsigned int tag
    # What the class's render, init_headers, media_type and charset make of the common arguments
    # (no headers, no media_type): _TEXT or _JSON with its Content-Type header (NULL: none), or
    # _GENERAL when _init must look them up.
    int flavor
    PyObject *type_header

cdef enum:
    _GENERAL = 0
    _TEXT = 1
    _JSON = 2

# Owns each _fast[i].type_header.
cdef list _fast_headers = [None] * 8

cdef _Fast _fast[8]
cdef int _nfast = 0
cdef tuple _FAST_CLASSES = ()
cdef tuple _PARAMS = ("content", "status_code", "headers", "media_type", "background")


def speed_up_construction(cls, tuple inits, bint content_required):
    """Make calling `cls` (exactly; not its subclasses) allocate it and run init_response's work
    directly, while `__new__` is object's and each (owner, init) in `inits` has `owner.__init__ is
    init`: the __init__ the call would run, which must do what init_response does."""
    global _nfast, _FAST_CLASSES
    if not isinstance(cls, type) or not ff_plain_new(cls) or ff_get_vectorcall(cls) != NULL or _nfast == 8:
        return
    # Kept alive here: the table holds borrowed pointers.
    _FAST_CLASSES += ((cls, inits),)
    _fast[_nfast].cls = <PyObject *>cls
    _fast[_nfast].inits = <PyObject *>inits
    _fast[_nfast].content_required = content_required
    _fast[_nfast].tag = 0
    _fast[_nfast].flavor = _GENERAL
    _nfast += 1
    ff_set_vectorcall(cls, <void *>_construct)


cdef object _construct(object cls, PyObject **args, size_t nargsf, PyObject *kwnames):
    cdef int i = 0
    cdef Py_ssize_t nargs = PyVectorcall_NARGS(nargsf)
    cdef Py_ssize_t nkw, k, j
    cdef unsigned int tag
    cdef unsigned int given = 0
    cdef PyObject *name
    cdef PyObject *values[5]
    while i < _nfast and _fast[i].cls != <PyObject *>cls:
        i += 1
    if i == _nfast or nargs > 5:
        return ff_type_call(cls, args, nargsf, kwnames)
    tag = type_tag(cls)
    if tag == 0 or tag != _fast[i].tag:
        # The class or a base changed: only its __new__ and __init__ decide whether this path holds.
        if not ff_plain_new(cls) or not _inits_hold(<tuple>_fast[i].inits):
            return ff_type_call(cls, args, nargsf, kwnames)
        _learn(i, cls)
        _fast[i].tag = type_tag(cls)
    for k in range(nargs):
        values[k] = args[k]
        given |= 1u << k
    if kwnames is not NULL:
        nkw = PyTuple_GET_SIZE(<object>kwnames)
        for k in range(nkw):
            name = PyTuple_GET_ITEM(<object>kwnames, k)
            for j in range(5):
                if name == PyTuple_GET_ITEM(_PARAMS, j):
                    break
            else:
                # Unknown, or a name spelled by a non-interned str: the generic call decides.
                return ff_type_call(cls, args, nargsf, kwnames)
            if given & (1u << j):
                return ff_type_call(cls, args, nargsf, kwnames)
            values[j] = args[nargs + k]
            given |= 1u << j
    if _fast[i].content_required and not (given & 1u):
        return ff_type_call(cls, args, nargsf, kwnames)
    self = ff_alloc(cls, ())
    if _fast[i].flavor != _GENERAL and not (given & 12u):
        content = <object>values[0] if given & 1u else None
        if _fast[i].flavor == _JSON or content is None or PyUnicode_CheckExact(content) or PyBytes_CheckExact(content):
            _init_known(
                self,
                &_fast[i],
                content,
                <object>values[1] if given & 2u else 200,
                <object>values[4] if given & 16u else None,
            )
            return self
    _init(
        self,
        <object>values[0] if given & 1u else None,
        <object>values[1] if given & 2u else 200,
        <object>values[2] if given & 4u else None,
        <object>values[3] if given & 8u else None,
        <object>values[4] if given & 16u else None,
    )
    return self


cdef bint _inits_hold(tuple inits) except -1:
    for owner, init in inits:
        if getattr(owner, "__init__") is not init:
            return False
    return True


cdef int _learn(int i, cls) except -1:
    """Note in _fast[i] what `cls` makes of content with no headers and no media_type argument."""
    cdef _Fast *fast = &_fast[i]
    fast.flavor = _GENERAL
    render = cls.render
    charset = cls.charset
    media_type = cls.media_type
    if cls.init_headers is not _init_headers or type(charset) is not str or <str>charset != "utf-8":
        return 0
    if not _slots:
        return 0
    for k in range(4):
        # The very descriptors use_slots read: writing at their offsets is what setting would do.
        if getattr(cls, <str>_SLOT_NAMES[k]) is not <object>PyTuple_GET_ITEM(_slots, k):
            return 0
    if media_type is None:
        header = None
    elif type(media_type) is str:
        header = (b"content-type", _content_type(media_type, charset))
    else:
        return 0
    if render is _render:
        fast.flavor = _TEXT
    elif render is _json_render:
        fast.flavor = _JSON
    else:
        return 0
    _fast_headers[i] = header
    fast.type_header = NULL if header is None else <PyObject *>header
    return 0


cdef int _init_known(self, _Fast *fast, content, status_code, background) except -1:
    """_init's work for a class _learn has read, with no headers and no media_type argument:
    str, bytes or None content for _TEXT, any for _JSON."""
    cdef long status = 0
    cdef int overflow = 1
    cdef Py_ssize_t length, count
    cdef list raw
    _put(self, 0, status_code)
    _put(self, 1, background)
    if fast.flavor == _JSON:
        body = _json_dumps(content)
    elif content is None:
        body = b""
    elif PyUnicode_CheckExact(content):
        body = PyUnicode_AsUTF8String(content)
    else:
        body = content
    _put(self, 2, body)
    if PyLong_CheckExact(status_code):
        status = PyLong_AsLongAndOverflow(status_code, &overflow)
    if overflow:
        raw = _build(None, body, status_code, self.media_type, "utf-8")
    else:
        # Made at its final size: one or two headers, or none.
        length_header = None
        if status >= 200 and status != 204 and status != 304:
            length = len(body)
            length_header = (
                _LENGTH_HEADERS[length] if length < 1024 else (b"content-length", str(length).encode("latin-1"))
            )
        raw = PyList_New((length_header is not None) + (fast.type_header is not NULL))
        count = 0
        if length_header is not None:
            Py_INCREF(length_header)
            PyList_SET_ITEM(raw, 0, length_header)
            count = 1
        if fast.type_header is not NULL:
            Py_INCREF(<object>fast.type_header)
            PyList_SET_ITEM(raw, count, <object>fast.type_header)
    _put(self, 3, raw)
    return 0


# plain_answer's (body, headers) by its arguments: the 404 and 405 answers repeat.
cdef dict _answers = {}


def plain_answer(status_code, detail, allow, media_type, charset):
    """(start message, body) of a Response of the framework's own class rendering the str `detail`,
    with an Allow header when `allow` is not None."""
    key = (status_code, detail, allow, media_type, charset)
    cdef PyObject *found = PyDict_GetItemWithError(_answers, key)
    cdef tuple made
    if found is NULL:
        body = detail.encode(charset)
        raw = _build(None, body, status_code, media_type, charset)
        if allow is not None:
            raw.insert(0, (b"allow", allow.encode("latin-1")))
        made = (body, tuple(raw))
        if PyDict_Size(_answers) >= 256:
            _answers.clear()
        PyDict_SetItem(_answers, key, made)
    else:
        made = <tuple>found
    return {"type": "http.response.start", "status": status_code, "headers": list(<tuple>made[1])}, made[0]


cdef class Tracker:
    """`track` is `send`, noting in `started` when a message starts an http response (or `started` from
    the start)."""

    cdef public object send
    cdef public bint started

    def __init__(self, send, started=False):
        self.send = send
        self.started = started

    def track(self, message):
        """The `send` to hand on, as a bound method: cheaper to call than an instance."""
        if message["type"] == "http.response.start":
            self.started = True
        return self.send(message)
