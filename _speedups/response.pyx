# cython: language_level=3
"""Compiled twin of fastframe/_pure/response.py: a response's attributes, body and raw headers,
made in one call instead of three Python frames."""

from cpython.bytes cimport PyBytes_CheckExact
from cpython.unicode cimport PyUnicode_AsUTF8String, PyUnicode_CheckExact
from cpython.dict cimport PyDict_GetItemWithError, PyDict_SetItem, PyDict_Size
from cpython.object cimport PyObject

__all__ = ["Tracker", "build_headers", "configure", "content_type", "init_response", "plain_answer"]

cdef object _render = None
cdef object _json_render = None
cdef object _json_dumps = None
cdef object _init_headers = None

cdef dict _content_types = {}
cdef dict _utf8_content_types = {}
cdef list _LENGTHS = [str(n).encode("latin-1") for n in range(1024)]
cdef tuple _BYTES_LIKE = (bytes, memoryview)


def configure(render, json_render, json_dumps, init_headers):
    global _render, _json_render, _json_dumps, _init_headers
    _render = render
    _json_render = json_render
    _json_dumps = json_dumps
    _init_headers = init_headers


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
        raw.append((b"content-length", _LENGTHS[length] if length < 1024 else str(length).encode("latin-1")))
    if media_type is not None and populate_type:
        raw.append((b"content-type", _content_type(media_type, charset)))
    return raw


def build_headers(headers, body, status_code, media_type, charset):
    """The raw headers of a response: the given ones, then Content-Length and Content-Type unless given.

    ``body`` is None when the response has none yet (streaming and file responses).
    """
    return _build(headers, body, status_code, media_type, charset)


def init_response(self, content=None, status_code=200, headers=None, media_type=None, background=None):
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


def plain_answer(status_code, detail, allow, media_type, charset):
    """(start message, body) of a Response of the framework's own class rendering the str `detail`,
    with an Allow header when `allow` is not None."""
    body = detail.encode(charset)
    cdef list raw = _build(None, body, status_code, media_type, charset)
    if allow is not None:
        raw.insert(0, (b"allow", allow.encode("latin-1")))
    return {"type": "http.response.start", "status": status_code, "headers": raw}, body


cdef class Tracker:
    """`send`, noting in `started` when a message starts an http response (or `started` from the start)."""

    cdef public object send
    cdef public bint started

    def __init__(self, send, started=False):
        self.send = send
        self.started = started

    def __call__(self, message):
        if message["type"] == "http.response.start":
            self.started = True
        return self.send(message)
