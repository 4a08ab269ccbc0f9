# cython: language_level=3
"""Compiled twin of fastframe/_pure/response.py, read side by side with it: a response's status,
body and raw headers made in one call, through the public attribute protocol only."""

from cpython.bytes cimport PyBytes_CheckExact
from cpython.dict cimport PyDict_GetItemWithError, PyDict_SetItem, PyDict_Size
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.long cimport PyLong_AsLongAndOverflow, PyLong_CheckExact
from cpython.object cimport PyObject, PyObject_GenericGetDict
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM
from cpython.unicode cimport PyUnicode_AsUTF8String, PyUnicode_CheckExact

from functools import partial as _partial

__all__ = [
    "Tracker",
    "build_headers",
    "configure",
    "configure_headers",
    "configure_guard",
    "content_type",
    "forget_classes",
    "init_json_response",
    "init_response",
    "plain_answer",
    "response_headers",
    "wrap_app_handling_exceptions",
]

cdef object _stock_render = None
cdef object _stock_json_render = None
cdef object _json_dumps = None
cdef object _stock_init_headers = None
cdef object _response_class = None
cdef object _json_class = None
# Where JSONResponse.render reads `json` from, that module and its dumps when configured: while
# both are still there, _json_dumps answers for render.
cdef dict _json_globals = {}
cdef object _json_module = None
cdef dict _json_module_dict = {}
cdef object _json_original = None
cdef str _JSON = "json"
cdef str _DUMPS = "dumps"

cdef extern from *:
    """
    /* Sets an attribute through the descriptor that owns it, as setattr would after finding it. */
    static int ff_descr_set(PyObject *descr, PyObject *obj, PyObject *value) {
        return Py_TYPE(descr)->tp_descr_set(descr, obj, value);
    }
    """
    int ff_descr_set(object descr, object obj, object value) except -1

# The four attributes every response sets, and Response's own descriptors for them (its slots).
cdef tuple _FIELDS = ("status_code", "background", "body", "raw_headers")
cdef tuple _field_descriptors = ()


cdef object _fields_of(object cls):
    """Response's descriptors when `cls` still reaches them for all four names, else None
    (setattr then finds whatever the class put there)."""
    for name, own in zip(_FIELDS, _field_descriptors):
        if getattr(cls, name, None) is not own:
            return None
    return _field_descriptors

cdef dict _TYPE_VALUES = {}
# The usual charset's Content-Type headers by media type alone: no key tuple, no header tuple to make.
cdef dict _UTF8_TYPE_HEADERS = {}
cdef Py_ssize_t _TYPE_VALUES_KEPT = 256
cdef tuple _SHORT_LENGTHS = tuple([(b"content-length", str(size).encode("ascii")) for size in range(1024)])
cdef tuple _BYTES_LIKE = (bytes, memoryview)

# The attribute names init_response reads and writes, interned once.
cdef str _RENDER = "render"
cdef str _INIT_HEADERS = "init_headers"
cdef str _MEDIA_TYPE = "media_type"
cdef str _CHARSET = "charset"
cdef str _UTF8 = "utf-8"


# The charset objects seen equal to "utf-8" (class attributes, mostly): identity answers after that.
cdef object _utf8_seen = None


cdef inline bint _is_utf8(object charset):
    global _utf8_seen
    if charset is _UTF8 or charset is _utf8_seen:
        return True
    if type(charset) is str and <str>charset == _UTF8:
        _utf8_seen = charset
        return True
    return False


def configure(response_class, json_class, json_dumps, dict json_globals):
    """Name the framework's Response and JSONResponse, whose own render and init_headers are known,
    and the JSON encoder JSONResponse.render uses while the `json` in `json_globals` (the namespace
    render reads it from) and that module's `dumps` are the ones there now. Once either is patched,
    render itself is called, as the reference calls it."""
    global _stock_render, _stock_json_render, _json_dumps, _stock_init_headers, _response_class, _json_class
    global _field_descriptors, _json_globals, _json_module, _json_module_dict, _json_original
    _response_class, _json_class, _json_dumps = response_class, json_class, json_dumps
    _json_globals, _json_module = json_globals, json_globals["json"]
    _json_module_dict = vars(_json_module)
    _json_original = _json_module_dict["dumps"]
    _stock_render, _stock_init_headers = response_class.render, response_class.init_headers
    _stock_json_render = json_class.render
    owned = tuple([response_class.__dict__.get(name) for name in _FIELDS])
    # Only slots are written through their descriptor; a Response without them is set the usual way.
    _field_descriptors = owned if all([type(d).__name__ == "member_descriptor" for d in owned]) else ()
    _plans.clear()


def content_type(media_type, charset):
    """The Content-Type value: text types get the charset unless they name one."""
    return _content_type(media_type, charset)


cdef object _content_type(object media_type, object charset):
    cdef PyObject *known
    cdef bint usual = _is_utf8(charset)
    if usual and type(media_type) is str:
        known = PyDict_GetItemWithError(_UTF8_TYPE_HEADERS, media_type)
        if known is not NULL:
            return (<tuple>known)[1]
    key = (media_type, charset)
    known = PyDict_GetItemWithError(_TYPE_VALUES, key)
    if known is not NULL:
        return <object>known
    value = media_type
    if value.startswith("text/") and "charset=" not in value.lower():
        value = f"{value}; charset={charset}"
    encoded = value.encode("latin-1")
    if PyDict_Size(_TYPE_VALUES) < _TYPE_VALUES_KEPT:
        PyDict_SetItem(_TYPE_VALUES, key, encoded)
        if usual and type(media_type) is str:
            PyDict_SetItem(_UTF8_TYPE_HEADERS, media_type, (b"content-type", encoded))
    return encoded


# The last media type object given with the usual charset, and its header: responses of one class
# come in runs, each with its class's media_type object.
cdef object _last_media_type = None
cdef object _last_type_header = None


cdef object _type_header(object media_type, object charset):
    """(b"content-type", value): the usual charset's headers are made once and shared."""
    global _last_media_type, _last_type_header
    cdef PyObject *known
    if _is_utf8(charset) and type(media_type) is str:
        if media_type is _last_media_type:
            return _last_type_header
        known = PyDict_GetItemWithError(_UTF8_TYPE_HEADERS, media_type)
        if known is not NULL:
            _last_media_type, _last_type_header = media_type, <object>known
            return <object>known
    return (b"content-type", _content_type(media_type, charset))


cdef inline object _length_header(Py_ssize_t size):
    if size < 1024:
        return _SHORT_LENGTHS[size]
    return (b"content-length", str(size).encode("ascii"))


cdef list _headers(object headers, object body, object status_code, object media_type, object charset):
    cdef list raw
    cdef bint length_given = False, type_given = False
    cdef long status = 0
    cdef int overflow = 1
    cdef bint wants_length
    if headers is None:
        # The usual case, made at its final size: Content-Length and Content-Type, or one, or none.
        if PyLong_CheckExact(status_code):
            status = PyLong_AsLongAndOverflow(status_code, &overflow)
        if not overflow:
            wants_length = body is not None and status >= 200 and status != 204 and status != 304
            length = _length_header(len(body)) if wants_length else None
            kind = None if media_type is None else _type_header(media_type, charset)
            raw = PyList_New((length is not None) + (kind is not None))
            if length is not None:
                Py_INCREF(length)
                PyList_SET_ITEM(raw, 0, length)
            if kind is not None:
                Py_INCREF(kind)
                PyList_SET_ITEM(raw, length is not None, kind)
            return raw
        raw = []
    else:
        raw = []
        for key, value in headers.items():
            name = key.lower().encode("latin-1")
            raw.append((name, value.encode("latin-1")))
            length_given = length_given or name == b"content-length"
            type_given = type_given or name == b"content-type"
    if not length_given and body is not None and status_code >= 200 and status_code not in (204, 304):
        raw.append(_length_header(len(body)))
    if media_type is not None and not type_given:
        raw.append((b"content-type", _content_type(media_type, charset)))
    return raw


def build_headers(headers, body, status_code, media_type, charset):
    """A response's raw headers: the given ones lowered, then Content-Length (for a body, when the
    status allows one) and Content-Type, each unless given. ``body`` is None for responses that
    have none yet (streaming and file responses)."""
    return _headers(headers, body, status_code, media_type, charset)


def init_response(self, content=None, status_code=200, headers=None, media_type=None, background=None):
    """Response.__init__: status_code, media_type (when given), background, body, raw_headers."""
    _init(self, content, status_code, headers, media_type, background)


def init_json_response(self, content, status_code=200, headers=None, media_type=None, background=None):
    """JSONResponse.__init__: the next class's __init__ (Response's, usually this module's own), with
    the content required."""
    if type(self) is _json_class and getattr(_response_class, "__init__") is init_response:
        _init(self, content, status_code, headers, media_type, background)
    else:
        super(_json_class, self).__init__(content, status_code, headers, media_type, background)


cdef class _ClassPlan:
    """What _init reads from a response class, learned on its first response."""
    cdef object fields  # Response's slot descriptors when the class reaches all four, else None
    cdef object charset  # the class's charset when it is a str, else None (read the instance's)
    cdef int render  # 0: Response.render, 1: JSONResponse.render, 2: the class's own
    cdef bint stock_headers  # the class's init_headers is Response's
    cdef object media_type  # the class's media type
    cdef bint media_type_plain  # ... and it is None or a str (else read the instance's)


# By class. A response class's attributes are read once; responses.Response's metaclass calls
# forget_classes() whenever one is set or deleted on any response class.
cdef dict _plans = {}


cdef _ClassPlan _plan_of(object cls):
    cdef PyObject *known = PyDict_GetItemWithError(_plans, cls)
    if known is not NULL:
        return <_ClassPlan>known
    cdef _ClassPlan plan = _ClassPlan.__new__(_ClassPlan)
    plan.fields = _fields_of(cls) if _field_descriptors else None
    charset = getattr(cls, _CHARSET)
    plan.charset = charset if type(charset) is str else None
    render = getattr(cls, _RENDER)
    plan.render = 0 if render is _stock_render else 1 if render is _stock_json_render else 2
    plan.stock_headers = getattr(cls, _INIT_HEADERS) is _stock_init_headers
    plan.media_type = getattr(cls, _MEDIA_TYPE)
    plan.media_type_plain = plan.media_type is None or type(plan.media_type) is str
    if PyDict_Size(_plans) >= 256:
        _plans.clear()
    PyDict_SetItem(_plans, cls, plan)
    return plan


# The class of Response.headers and what it was configured with, named by configure_headers.
cdef object _mutable_headers = None
cdef object _mutable_headers_adopt = None
cdef object _mutable_headers_init = None
cdef str _HEADERS_KEY = "_headers"
cdef str _RAW_HEADERS = "raw_headers"
cdef str _INIT = "__init__"


def configure_headers(mutable_headers_class):
    """Name MutableHeaders, the class of Response.headers."""
    global _mutable_headers, _mutable_headers_adopt, _mutable_headers_init
    _mutable_headers = mutable_headers_class
    _mutable_headers_adopt = mutable_headers_class.adopt
    _mutable_headers_init = mutable_headers_class.__init__


def response_headers(response):
    """Response.headers: a MutableHeaders over the response's own raw_headers, made on first
    read and kept in the instance dict under `_headers`, where the reference keeps it."""
    cdef dict held = PyObject_GenericGetDict(response, NULL)
    cdef PyObject *found = PyDict_GetItemWithError(held, _HEADERS_KEY)
    if found is not NULL and <object>found is not None:
        return <object>found
    raw = getattr(response, _RAW_HEADERS)
    if type(raw) is list and getattr(_mutable_headers, _INIT) is _mutable_headers_init:
        # What MutableHeaders(raw=raw) makes, without a Python frame for __init__.
        view = _mutable_headers_adopt(raw)
    else:
        view = _mutable_headers(raw=raw)
    # Into the dict read above: where the reference's `self._headers = ...` puts it.
    PyDict_SetItem(held, _HEADERS_KEY, view)
    return view


# What wrap_app_handling_exceptions binds, named by configure_guard.
cdef object _guarded = None
cdef object _handlers_key = None
cdef object _no_handlers = None
cdef str _SCOPE = "scope"


def configure_guard(guarded, handlers_key, no_handlers):
    """Name the coroutine function that runs an app answering its exceptions, given (app,
    handlers, connection, scope, receive, send), and where a scope keeps the handlers."""
    global _guarded, _handlers_key, _no_handlers
    _guarded, _handlers_key, _no_handlers = guarded, handlers_key, no_handlers


def wrap_app_handling_exceptions(app, conn):
    """`app` answering its exceptions with the handlers in `conn`'s scope, as a route does: an ASGI
    callable (a partial, no closure made) whose call returns the guarded coroutine."""
    return _partial(_guarded, app, getattr(conn, _SCOPE).get(_handlers_key, _no_handlers), conn)


def forget_classes():
    """Drop what was learned about response classes: one of their attributes changed."""
    _plans.clear()


cdef inline bint _json_unpatched() except -1:
    """`json.dumps`, as JSONResponse.render reads it, is still the one configure() saw."""
    cdef PyObject *found = PyDict_GetItemWithError(_json_globals, _JSON)
    if found is NULL or found is not <PyObject *>_json_module:
        return False
    found = PyDict_GetItemWithError(_json_module_dict, _DUMPS)
    return found is not NULL and found is <PyObject *>_json_original


cdef int _init(self, content, status_code, headers, media_type, background) except -1:
    cdef _ClassPlan plan = _plan_of(type(self))
    fields = plan.fields
    if fields is None:
        self.status_code = status_code
    else:
        ff_descr_set(<object>PyTuple_GET_ITEM(fields, 0), self, status_code)
    if media_type is not None:
        self.media_type = media_type
    if fields is None:
        self.background = background
    else:
        ff_descr_set(<object>PyTuple_GET_ITEM(fields, 1), self, background)
    # From the class when it holds plain values there (the instance, just made, has none of its
    # own but a media_type given above); through the instance otherwise, as the reference reads.
    charset = plan.charset
    if charset is None:
        charset = getattr(self, _CHARSET)
    if plan.render == 0:
        if content is None:
            body = b""
        elif PyUnicode_CheckExact(content):
            if _is_utf8(charset):
                body = PyUnicode_AsUTF8String(content)
            else:
                body = content.encode(charset)
        elif PyBytes_CheckExact(content) or isinstance(content, _BYTES_LIKE):
            body = content
        else:
            body = content.encode(charset)
    elif plan.render == 1:
        if _json_unpatched():
            body = _json_dumps(content)
        else:
            body = self.render(content)
    else:
        body = self.render(content)
    if fields is None:
        self.body = body
    else:
        ff_descr_set(<object>PyTuple_GET_ITEM(fields, 2), self, body)
    if plan.stock_headers:
        if media_type is None and plan.media_type_plain:
            media_type = plan.media_type
        else:
            media_type = getattr(self, _MEDIA_TYPE)
        raw = _headers(headers, body, status_code, media_type, charset)
        if fields is None:
            self.raw_headers = raw
        else:
            ff_descr_set(<object>PyTuple_GET_ITEM(fields, 3), self, raw)
    else:
        self.init_headers(headers)
    return 0


# plain_answer's (body, headers) by its arguments: the 404 and 405 answers repeat.
cdef dict _ANSWERS = {}


def plain_answer(status_code, detail, allow, media_type, charset):
    """(start message, body) a plain-text Response of `detail` would send, with an Allow header
    first when `allow` is not None."""
    key = (status_code, detail, allow, media_type, charset)
    cdef PyObject *known = PyDict_GetItemWithError(_ANSWERS, key)
    cdef tuple made
    if known is NULL:
        body = detail.encode(charset)
        raw = _headers(None, body, status_code, media_type, charset)
        if allow is not None:
            raw.insert(0, (b"allow", allow.encode("latin-1")))
        made = (body, tuple(raw))
        if PyDict_Size(_ANSWERS) >= 256:
            _ANSWERS.clear()
        PyDict_SetItem(_ANSWERS, key, made)
    else:
        made = <tuple>known
    return {"type": "http.response.start", "status": status_code, "headers": list(<tuple>made[1])}, made[0]


cdef class Tracker:
    """Hands messages on to `send` through `track`, noting in `started` when one starts an http
    response (`started` may be given as already true)."""

    cdef public object send
    cdef public bint started

    def __init__(self, send, started=False):
        self.send = send
        self.started = started

    def track(self, message):
        """The `send` to pass on: a bound method, cheaper to call than the instance would be."""
        if message["type"] == "http.response.start":
            self.started = True
        return self.send(message)
