# cython: language_level=3
"""Compiled twin of fastframe/_pure/routing.py: the route table (which routes may match a path).

Same keys, same candidates, same cache policy as the pure twin. An exact-`str` path is
walked character by character with a running hash: at each '/' the hash of the prefix read
so far is probed in a small open-addressing table of the filed prefixes, and each segment's
hash is probed in the segment-trie node's table of literal children, so no substring is cut
out of the path for either. Anything unusual (a path that is not an exact `str`, a filed
prefix that is not one, prefixes deeper than the fixed arrays, a path reaching more trie
ends than they hold) takes the pure twin's generic operations, so results and exceptions
match.
"""

from collections.abc import Sequence

cimport cython

from cpython.dict cimport PyDict_GetItemWithError, PyDict_SetItem, PyDict_Size
from cpython.long cimport PyLong_AsLong, PyLong_AsSsize_t
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF
from cpython.set cimport PySet_Contains, PySet_GET_SIZE
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_New, PyTuple_SET_ITEM
from libc.stdint cimport uint64_t

from _slots cimport slot_offset, type_tag


cdef extern from "Python.h":
    int PyUnicode_KIND(object u)
    void *PyUnicode_DATA(object u)
    Py_UCS4 PyUnicode_READ(int kind, void *data, Py_ssize_t index) nogil
    Py_ssize_t PyUnicode_GET_LENGTH(object u)
    Py_ssize_t PyUnicode_Tailmatch(object s, object sub, Py_ssize_t start, Py_ssize_t end, int direction) except -1
    Py_ssize_t PyUnicode_FindChar(object s, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end, int direction) except -2
    Py_ssize_t PY_SSIZE_T_MAX
    object PyUnicode_Substring(object s, Py_ssize_t start, Py_ssize_t end)
    ctypedef struct PyTypeObject:
        void *tp_getattro
    void *PyObject_GenericGetAttr
    PyTypeObject *Py_TYPE(object o)


__all__ = [
    "MATCHER",
    "OPAQUE",
    "ROUTE_PARAMS",
    "ROUTE_STATIC",
    "SEGMENT_KEYS",
    "WEBSOCKET_PARAMS",
    "WEBSOCKET_STATIC",
    "Resolver",
    "RouteTable",
    "TableKey",
    "route_for",
    "use_route_slots",
]

# This table accepts the three-item keys (with segment shapes); the router gives two-item keys otherwise.
SEGMENT_KEYS = True

TableKey = tuple[str, bool] | tuple[str, bool, tuple[str | None, ...] | None] | bool | None

cdef tuple _EMPTY = ()
cdef Py_ssize_t _CACHE_SIZE = 512
# Parts of a result: up to two static hits, one per filed prefix on the path, the segment-trie
# hits, the always-list. A table whose prefixes are deeper than the fixed arrays allow, or a
# path reaching more trie ends than they hold, takes the generic lookup.
cdef enum:
    _MAX_PARTS = 64

cdef uint64_t _FNV_OFFSET = 14695981039346656037ULL
cdef uint64_t _FNV_PRIME = 1099511628211ULL


cdef struct _Node:
    uint64_t hash
    Py_ssize_t length
    PyObject *prefix  # borrowed: kept alive by RouteTable._keep
    PyObject *hits    # borrowed tuple; NULL marks an empty slot


cdef inline Py_ssize_t _slot(uint64_t h, Py_ssize_t mask):
    # FNV's low bits depend only on the low bits of each character: fold the high ones in.
    return <Py_ssize_t>((h ^ (h >> 29) ^ (h >> 47)) & <uint64_t>mask)


cdef inline uint64_t _hash_str(str text):
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef Py_ssize_t i
    cdef uint64_t h = _FNV_OFFSET
    for i in range(PyUnicode_GET_LENGTH(text)):
        h = (h ^ <uint64_t>PyUnicode_READ(kind, data, i)) * _FNV_PRIME
    return h


cdef tuple _merge(PyObject **parts, Py_ssize_t count):
    """Ascending union of sorted, disjoint tuples of ints."""
    cdef Py_ssize_t cursor[_MAX_PARTS]
    cdef Py_ssize_t head[_MAX_PARTS]
    cdef Py_ssize_t total = 0
    cdef Py_ssize_t j, out, best, smallest
    cdef object item
    cdef tuple result
    for j in range(count):
        cursor[j] = 0
        head[j] = PyLong_AsSsize_t(<object>PyTuple_GET_ITEM(<tuple>parts[j], 0))
        total += PyTuple_GET_SIZE(<tuple>parts[j])
    result = PyTuple_New(total)
    for out in range(total):
        best = 0
        smallest = head[0]
        for j in range(1, count):
            if head[j] < smallest:
                smallest = head[j]
                best = j
        item = <object>PyTuple_GET_ITEM(<tuple>parts[best], cursor[best])
        Py_INCREF(item)
        PyTuple_SET_ITEM(result, out, item)
        cursor[best] += 1
        if cursor[best] < PyTuple_GET_SIZE(<tuple>parts[best]):
            head[best] = PyLong_AsSsize_t(<object>PyTuple_GET_ITEM(<tuple>parts[best], cursor[best]))
        else:
            head[best] = PY_SSIZE_T_MAX
    return result


cdef struct _Edge:
    uint64_t hash
    Py_ssize_t length
    PyObject *key    # borrowed: kept alive by _Trie.children
    PyObject *child  # borrowed _Trie; NULL marks an empty slot


cdef class _Trie:
    """A segment-trie node: children by literal segment, the any-segment child, routes ending here.

    When every literal is an exact str, ``edges`` holds them hashed like the prefix table, so a
    segment is looked up without being cut out of the path.
    """

    cdef dict children
    cdef _Trie any
    cdef tuple hits
    cdef _Edge *edges
    cdef Py_ssize_t mask

    def __cinit__(self):
        self.edges = NULL

    def __dealloc__(self):
        if self.edges is not NULL:
            PyMem_Free(self.edges)
            self.edges = NULL

    cdef _hash_edges(self):
        cdef Py_ssize_t capacity = 4
        cdef Py_ssize_t slot
        cdef uint64_t h
        for part in self.children:
            if type(part) is not str:
                return
        while capacity < 2 * len(self.children):
            capacity *= 2
        self.edges = <_Edge *>PyMem_Malloc(capacity * sizeof(_Edge))
        if self.edges is NULL:
            raise MemoryError()
        self.mask = capacity - 1
        for slot in range(capacity):
            self.edges[slot].child = NULL
        for part, child in self.children.items():
            h = _hash_str(part)
            slot = _slot(h, self.mask)
            while self.edges[slot].child is not NULL:
                slot = (slot + 1) & self.mask
            self.edges[slot].hash = h
            self.edges[slot].length = PyUnicode_GET_LENGTH(part)
            self.edges[slot].key = <PyObject *>part
            self.edges[slot].child = <PyObject *>child

    cdef PyObject *find(self, uint64_t h, str path, Py_ssize_t start, Py_ssize_t end) except? NULL:
        """The literal child for ``path[start:end]`` (whose running hash is ``h``), or NULL."""
        cdef Py_ssize_t slot
        cdef _Edge *edge
        if self.edges is NULL:
            if not self.children:
                return NULL
            return PyDict_GetItemWithError(self.children, PyUnicode_Substring(path, start, end))
        slot = _slot(h, self.mask)
        while True:
            edge = &self.edges[slot]
            if edge.child is NULL:
                return NULL
            if edge.hash == h and edge.length == end - start and PyUnicode_Tailmatch(
                path, <object>edge.key, start, end, -1
            ):
                return edge.child
            slot = (slot + 1) & self.mask


cdef _Trie _compile_trie(tuple node):
    cdef _Trie out = _Trie.__new__(_Trie)
    out.children = {}
    out.any = None
    out.hits = tuple(node[1]) if node[1] else None
    for part, child in node[0].items():
        if part is None:
            out.any = _compile_trie(child)
        else:
            out.children[part] = _compile_trie(child)
    if out.children:
        out._hash_edges()
    return out


cdef class RouteTable:
    """Built once from one key per route index; answers the ascending candidate indices for a path."""

    cdef dict _static
    cdef dict _nodes
    cdef tuple _always
    cdef object _max_depth
    cdef object _trie
    cdef _Trie _fast_trie
    cdef Py_ssize_t _depth
    cdef dict _cache
    cdef public object size
    # The hashed prefix table; used only when every filed prefix is an exact str.
    cdef _Node *_table
    cdef Py_ssize_t _mask
    cdef Py_ssize_t _longest
    cdef bint _generic
    cdef list _keep
    cdef list _keys

    def __cinit__(self):
        self._table = NULL

    def __dealloc__(self):
        if self._table is not NULL:
            PyMem_Free(self._table)
            self._table = NULL

    @cython.boundscheck(True)
    @cython.wraparound(True)
    def __init__(self, keys):
        cdef dict static = {}
        cdef dict nodes = {}
        cdef list always = []
        cdef list seen = []
        max_depth = 0
        trie = ({}, [])
        for index, key in enumerate(keys):
            seen.append(key)
            if key is None or key is True:
                always.append(index)
            elif key is False:
                continue
            else:
                prefix, exact = key[0], key[1]
                segments = key[2] if len(key) > 2 else None
                if exact:
                    static.setdefault(prefix, []).append(index)
                elif segments is not None:
                    at = trie
                    for part in segments:
                        at = at[0].setdefault(part, ({}, []))
                    at[1].append(index)
                else:
                    node = prefix[: prefix.rfind("/") + 1]
                    if not node:
                        # No slash to anchor on: try it everywhere rather than risk a miss.
                        always.append(index)
                        continue
                    nodes.setdefault(node, []).append(index)
                    max_depth = max(max_depth, node.count("/"))
        self._static = {k: tuple(v) for k, v in static.items()}
        self._nodes = {k: tuple(v) for k, v in nodes.items()}
        self._always = tuple(always)
        self._max_depth = max_depth
        self._trie = trie if trie[0] else None
        self._fast_trie = _compile_trie(trie) if trie[0] else None
        self._cache = {}
        self.size = len(keys)
        self._keys = seen
        self._build_table()

    def __reduce__(self):
        # Copies and pickles rebuild from the keys, as the C tables cannot be copied.
        return (type(self), (self._keys,), self.size)

    def __setstate__(self, size):
        self.size = size

    cdef _build_table(self):
        cdef Py_ssize_t capacity = 8
        cdef Py_ssize_t slot, longest = 0
        cdef uint64_t h
        if self._table is not NULL:
            PyMem_Free(self._table)
            self._table = NULL
        self._keep = []
        self._generic = False
        for node in self._nodes:
            if type(node) is not str:
                self._generic = True
                return
        if self._max_depth + 3 > _MAX_PARTS:
            self._generic = True
            return
        self._depth = self._max_depth
        while capacity < 2 * len(self._nodes):
            capacity *= 2
        self._table = <_Node *>PyMem_Malloc(capacity * sizeof(_Node))
        if self._table is NULL:
            raise MemoryError()
        self._mask = capacity - 1
        for slot in range(capacity):
            self._table[slot].hits = NULL
        for node, hits in self._nodes.items():
            self._keep.append((node, hits))
            h = _hash_str(node)
            slot = _slot(h, self._mask)
            while self._table[slot].hits is not NULL:
                slot = (slot + 1) & self._mask
            self._table[slot].hash = h
            self._table[slot].length = PyUnicode_GET_LENGTH(node)
            self._table[slot].prefix = <PyObject *>node
            self._table[slot].hits = <PyObject *>hits
            if self._table[slot].length > longest:
                longest = self._table[slot].length
        self._longest = longest

    def candidates(self, path):
        """Ascending indices of the routes that may match ``path``."""
        return self._candidates(path)

    cdef object _candidates(self, object path):
        cdef PyObject *cached = PyDict_GetItemWithError(self._cache, path)
        if cached is not NULL:
            return <object>cached
        cdef object result = None
        if type(path) is str and not self._generic:
            result = self._lookup(<str>path)
        if result is None:
            result = self._lookup_generic(path)
        if PyDict_Size(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        PyDict_SetItem(self._cache, path, result)
        return result

    cdef object _lookup(self, str path):
        """The candidates, or None when they do not fit the fixed arrays."""
        cdef PyObject *parts[_MAX_PARTS]
        cdef Py_ssize_t count = 0
        cdef PyObject *hit
        cdef Py_ssize_t length = PyUnicode_GET_LENGTH(path)
        cdef Py_ssize_t depth, i, end, slot
        cdef int kind = PyUnicode_KIND(path)
        cdef void *data = PyUnicode_DATA(path)
        cdef Py_UCS4 c
        cdef uint64_t h
        cdef _Node *entry

        hit = PyDict_GetItemWithError(self._static, path)
        if hit is not NULL:
            parts[count] = hit
            count += 1
        if length and PyUnicode_READ(kind, data, length - 1) == u'\n':
            hit = PyDict_GetItemWithError(self._static, PyUnicode_Substring(path, 0, length - 1))
            if hit is not NULL:
                parts[count] = hit
                count += 1
        depth = self._depth
        if depth:
            h = _FNV_OFFSET
            end = length if length < self._longest else self._longest
            for i in range(end):
                c = PyUnicode_READ(kind, data, i)
                h = (h ^ <uint64_t>c) * _FNV_PRIME
                if c != u'/':
                    continue
                slot = _slot(h, self._mask)
                while True:
                    entry = &self._table[slot]
                    if entry.hits is NULL:
                        break
                    if entry.hash == h and entry.length == i + 1 and PyUnicode_Tailmatch(
                        path, <object>entry.prefix, 0, i + 1, -1
                    ):
                        parts[count] = entry.hits
                        count += 1
                        break
                    slot = (slot + 1) & self._mask
                depth -= 1
                if not depth:
                    break
        if self._fast_trie is not None and length and PyUnicode_READ(kind, data, 0) == u'/':
            if _walk(self._fast_trie, path, 1, length, parts, &count):
                return None
        if self._always:
            parts[count] = <PyObject *>self._always
            count += 1
        if count == 0:
            return _EMPTY
        if count == 1:
            return <tuple>parts[0]
        return _merge(parts, count)

    @cython.boundscheck(True)
    @cython.wraparound(True)
    cdef tuple _lookup_generic(self, path):
        # The pure twin's operations, step for step, for inputs outside the fast path.
        found = []
        hit = self._static.get(path)
        if hit is not None:
            found.append(hit)
        if path[-1:] == "\n":
            hit = self._static.get(path[:-1])
            if hit is not None:
                found.append(hit)
        depth = self._max_depth
        if depth:
            nodes = self._nodes
            pos = path.find("/")
            while pos >= 0 and depth:
                hit = nodes.get(path[: pos + 1])
                if hit is not None:
                    found.append(hit)
                pos = path.find("/", pos + 1)
                depth -= 1
        if self._trie is not None and path[:1] == "/":
            _walk_generic(self._trie, path[1:].split("/"), found)
        if self._always:
            found.append(self._always)
        if not found:
            return _EMPTY
        if len(found) == 1:
            return found[0]
        return _merge_list(found)


cdef inline bint _reach(_Trie child, bint last, str path, Py_ssize_t end, Py_ssize_t length,
                        PyObject **parts, Py_ssize_t *count) except -1:
    if not last:
        return _walk(child, path, end + 1, length, parts, count)
    if child.hits is not None:
        # Room stays for the always-list.
        if count[0] >= _MAX_PARTS - 1:
            return True
        parts[count[0]] = <PyObject *>child.hits
        count[0] += 1
    return False


cdef bint _walk(_Trie node, str path, Py_ssize_t start, Py_ssize_t length,
                PyObject **parts, Py_ssize_t *count) except -1:
    """Adds the routes ending at trie nodes the segments from ``start`` reach; True on overflow."""
    cdef int kind = PyUnicode_KIND(path)
    cdef void *data = PyUnicode_DATA(path)
    cdef Py_ssize_t end = start
    cdef uint64_t h = _FNV_OFFSET
    cdef uint64_t before_last = _FNV_OFFSET
    cdef Py_UCS4 c = 0
    cdef bint last
    cdef PyObject *child
    while end < length:
        c = PyUnicode_READ(kind, data, end)
        if c == u'/':
            break
        before_last = h
        h = (h ^ <uint64_t>c) * _FNV_PRIME
        end += 1
    last = end == length
    child = node.find(h, path, start, end)
    if child is not NULL and _reach(<_Trie>child, last, path, end, length, parts, count):
        return True
    # "$" also matches before a final newline.
    if last and end > start and c == u'\n':
        child = node.find(before_last, path, start, end - 1)
        if child is not NULL and _reach(<_Trie>child, last, path, end, length, parts, count):
            return True
    if node.any is not None and _reach(node.any, last, path, end, length, parts, count):
        return True
    return False


@cython.boundscheck(True)
@cython.wraparound(True)
cdef _walk_generic(tuple trie, parts, list found):
    cdef Py_ssize_t last = len(parts) - 1
    cdef list stack = [(trie, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > last:
            if node[1]:
                found.append(tuple(node[1]))
            continue
        children = node[0]
        part = parts[depth]
        child = children.get(part)
        if child is not None:
            stack.append((child, depth + 1))
        if depth == last and part[-1:] == "\n":
            child = children.get(part[:-1])
            if child is not None:
                stack.append((child, depth + 1))
        child = children.get(None)
        if child is not None:
            stack.append((child, depth + 1))


cdef tuple _merge_list(list found):
    cdef list merged = []
    for part in found:
        merged.extend(part)
    merged.sort()
    return tuple(merged)


ROUTE_STATIC = 0
ROUTE_PARAMS = 1
WEBSOCKET_STATIC = 2
WEBSOCKET_PARAMS = 3
MATCHER = 4
OPAQUE = 5


cdef inline object _get(object mapping, object key, object default):
    cdef PyObject *found
    if type(mapping) is dict:
        found = PyDict_GetItemWithError(<dict>mapping, key)
        if found is NULL:
            return default
        return <object>found
    return mapping.get(key, default)


cdef inline object _item(object mapping, object key):
    cdef PyObject *found
    if type(mapping) is dict:
        found = PyDict_GetItemWithError(<dict>mapping, key)
        if found is NULL:
            raise KeyError(key)
        return <object>found
    return mapping[key]


cdef inline int _set(object mapping, object key, object value) except -1:
    if type(mapping) is dict:
        return PyDict_SetItem(<dict>mapping, key, value)
    mapping[key] = value
    return 0


cdef tuple _NO_ROUTE = (None, None)
cdef object _USE_REGEX = object()


# The route attributes matching reads, by index; where each lies in an instance of a route class
# whose attribute is one of the framework's own slots (a _Layout), so reading is one load.
cdef enum:
    _ENDPOINT = 0
    _METHODS = 1
    _PATH_REGEX = 2
    _CONVERTORS = 3
    _APP = 4
    _ROUTES = 5
    _TABLE_FOR = 6
    _NAMES = 7
    _MAX_LAYOUTS = 8

# A route's attributes, then a router's.
cdef tuple _ROUTE_ATTRS = ("endpoint", "methods", "path_regex", "param_convertors", "app", "routes", "_table_for")

cdef struct _Layout:
    PyTypeObject *cls
    # The class's version tag when learned: any change to it or a base gives it a new one.
    unsigned int tag
    # 0: not a framework slot, read the attribute the usual way.
    Py_ssize_t offsets[_NAMES]

cdef _Layout _layouts[_MAX_LAYOUTS]
cdef int _nlayouts = 0
# Keeps the classes in _layouts alive: they are compared by address.
cdef list _layout_classes = []
# The framework's slot descriptors by attribute index; a class is read directly only through these.
cdef list _slot_descriptors = [[] for _ in range(_NAMES)]


def use_route_slots(*classes):
    """Note the route classes whose endpoint, methods, path_regex, param_convertors and app are slots,
    and the router classes whose routes and _table_for are: route_for and the resolver read those
    slots directly from instances of them and of their subclasses that leave the attributes alone."""
    for cls in classes:
        for k in range(_NAMES):
            descriptor = cls.__dict__.get(_ROUTE_ATTRS[k])
            if slot_offset(descriptor) != 0:
                (<list>_slot_descriptors[k]).append(descriptor)


cdef _Layout *_layout_of(object route) except? NULL:
    global _nlayouts
    cdef PyTypeObject *cls = Py_TYPE(route)
    cdef unsigned int tag = type_tag(<object>cls)
    cdef int i
    cdef _Layout *layout
    for i in range(_nlayouts):
        if _layouts[i].cls == cls:
            if _layouts[i].tag == tag and tag != 0:
                return &_layouts[i]
            layout = &_layouts[i]
            break
    else:
        if _nlayouts == _MAX_LAYOUTS or tag == 0:
            return NULL
        layout = &_layouts[_nlayouts]
        _layout_classes.append(<object>cls)
        layout.cls = cls
        _nlayouts += 1
    _learn_layout(layout, <object>cls)
    layout.tag = type_tag(<object>cls)
    return layout if layout.tag != 0 else NULL


cdef int _learn_layout(_Layout *layout, object cls) except -1:
    cdef Py_ssize_t k
    for k in range(_NAMES):
        layout.offsets[k] = 0
    if (<PyTypeObject *>cls).tp_getattro != PyObject_GenericGetAttr:
        return 0
    for k in range(_NAMES):
        descriptor = getattr(cls, <str>_ROUTE_ATTRS[k], None)
        for known in <list>_slot_descriptors[k]:
            if descriptor is known:
                layout.offsets[k] = slot_offset(descriptor)
                break
    return 0


cdef object _REQUIRED = object()


cdef inline object _attr(object route, _Layout *layout, int k, object default=_REQUIRED):
    """route.<_ROUTE_ATTRS[k]> (or `default` when it has none), from its slot when the layout knows it."""
    cdef PyObject *value
    if layout is not NULL and layout.offsets[k] != 0:
        value = (<PyObject **>(<char *><PyObject *>route + layout.offsets[k]))[0]
        if value is not NULL:
            return <object>value
    if default is _REQUIRED:
        return getattr(route, <str>_ROUTE_ATTRS[k])
    return getattr(route, <str>_ROUTE_ATTRS[k], default)


cdef object _scan(tuple spec, object route, _Layout *layout, str path):
    """A parameter route's path params by scanning `path` (see routing._segments for `spec`): a dict,
    None when the route's regex would not match, or _USE_REGEX when the route changed since."""
    if _attr(route, layout, _PATH_REGEX) is not <object>PyTuple_GET_ITEM(spec, 0):
        return _USE_REGEX
    cdef tuple literals = <tuple>PyTuple_GET_ITEM(spec, 1)
    cdef tuple names = <tuple>PyTuple_GET_ITEM(spec, 2)
    cdef tuple used = <tuple>PyTuple_GET_ITEM(spec, 3)
    cdef tuple kinds = <tuple>PyTuple_GET_ITEM(spec, 4)
    cdef Py_ssize_t count = PyTuple_GET_SIZE(names), i, pos = 0, start, size
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(path)
    cdef int kind = PyUnicode_KIND(path)
    cdef void *data = PyUnicode_DATA(path)
    cdef Py_UCS4 c
    cdef bint digits
    cdef PyObject *found
    convertors = _attr(route, layout, _CONVERTORS)
    if type(convertors) is not dict or PyDict_Size(convertors) != count:
        return _USE_REGEX
    for i in range(count):
        found = PyDict_GetItemWithError(<dict>convertors, <object>PyTuple_GET_ITEM(names, i))
        if found is not PyTuple_GET_ITEM(used, i):
            return _USE_REGEX
    # "$" also matches before a final newline: the regex decides such paths.
    if PyUnicode_FindChar(path, 10, 0, length, 1) >= 0:
        return _USE_REGEX
    cdef dict params = {}
    for i in range(count):
        literal = <str>PyTuple_GET_ITEM(literals, i)
        size = PyUnicode_GET_LENGTH(literal)
        if size and not PyUnicode_Tailmatch(path, literal, pos, pos + size, -1):
            return None
        pos += size
        start = pos
        digits = <object>PyTuple_GET_ITEM(kinds, i) == 1
        while pos < length:
            c = PyUnicode_READ(kind, data, pos)
            if (digits and (c < u'0' or c > u'9')) or c == u'/':
                break
            pos += 1
        if pos == start:
            return None
        value = PyUnicode_Substring(path, start, pos)
        params[<object>PyTuple_GET_ITEM(names, i)] = int(value) if digits else value
    literal = <str>PyTuple_GET_ITEM(literals, count)
    size = PyUnicode_GET_LENGTH(literal)
    if length - pos != size or (size and not PyUnicode_Tailmatch(path, literal, pos, length, -1)):
        return None
    return params


cdef class Resolver:
    """Compiled twin of the pure Resolver: the same matching, in order, without a Python frame per
    candidate. Every route attribute is read per request, as the pure twin does."""

    cdef RouteTable _table
    cdef tuple _plans
    cdef object _full
    cdef object _partial
    cdef object _routes
    cdef Py_ssize_t _size
    cdef object _first
    cdef object _last
    cdef tuple _answers
    cdef tuple _partials

    @cython.boundscheck(True)
    @cython.wraparound(True)
    def __init__(self, RouteTable table, plans, full, partial, routes, direct=None):
        self._table = table
        self._plans = tuple(plans)
        self._full = full
        self._partial = partial
        self._routes = routes
        self._size = len(routes)
        self._first = routes[0] if self._size > 0 else None
        self._last = routes[-1] if self._size > 0 else None
        if direct is None:
            direct = [None] * len(self._plans)
        # lookup's answers, made once: (route, direct entry) for a full match, (route, None) for a partial.
        # Only routes matched here, methods included, keep their direct entry: the dispatcher then calls
        # the endpoint without checking the method again.
        self._answers = tuple(
            [
                (plan[1], entry if plan[0] <= WEBSOCKET_PARAMS else None)
                for plan, entry in zip(self._plans, direct, strict=True)
            ]
        )
        self._partials = tuple([(plan[1], None) for plan in self._plans])

    cdef inline bint _fresh(self, routes):
        return routes is self._routes and len(routes) == self._size and (
            self._size == 0 or (routes[0] is self._first and routes[self._size - 1] is self._last)
        )

    cpdef lookup(self, scope, routes):
        """(route, direct entry) for a full match by a route that still has the app the entry was
        made from, (route, None) for another full match or a partial one, (None, None) for none;
        None, without looking, when the routes changed."""
        if not self._fresh(routes):
            return None
        return self._answer(self._find(scope))

    cdef inline tuple _answer(self, Py_ssize_t index):
        if index >= 0:
            return <tuple>PyTuple_GET_ITEM(self._answers, index)
        if index == -1:
            return _NO_ROUTE
        return <tuple>PyTuple_GET_ITEM(self._partials, -2 - index)

    cdef Py_ssize_t _find(self, scope) except? -3:
        cdef object path = scope["path"]
        cdef object root_path = _get(scope, "root_path", "")
        cdef object route_path = path
        cdef Py_ssize_t index, partial = -1, n, position
        cdef long kind
        cdef tuple candidates, plan
        cdef object route, regex, entry, found, params, outer, path_params, methods, convertors, match, child_scope, matcher
        cdef object partial_scope = None, partial_endpoint = None, partial_params = None
        cdef bint partial_route = False
        cdef bint wrong
        cdef _Layout *layout
        if root_path and path.startswith(root_path):
            if len(path) == len(root_path):
                route_path = ""
            elif path[len(root_path)] == "/":
                route_path = path[len(root_path):]
        candidates = <tuple>self._table._candidates(route_path)
        n = PyTuple_GET_SIZE(candidates)
        for position in range(n):
            index = PyLong_AsSsize_t(<object>PyTuple_GET_ITEM(candidates, position))
            plan = <tuple>PyTuple_GET_ITEM(self._plans, index)
            kind = PyLong_AsLong(<object>PyTuple_GET_ITEM(plan, 0))
            route = <object>PyTuple_GET_ITEM(plan, 1)
            if kind <= 3:
                layout = _layout_of(route)
                matcher = <object>PyTuple_GET_ITEM(plan, 2)
                if kind == 0 or kind == 2:
                    regex = _attr(route, layout, _PATH_REGEX)
                    if matcher is None or regex is not <object>PyTuple_GET_ITEM(matcher, 0) or route_path != <object>PyTuple_GET_ITEM(matcher, 1):
                        if regex.match(route_path) is None:
                            continue
                    params = {}
                else:
                    params = _USE_REGEX
                    if matcher is not None and type(route_path) is str:
                        params = _scan(<tuple>matcher, route, layout, <str>route_path)
                        if params is None:
                            continue
                    if params is _USE_REGEX:
                        found = _attr(route, layout, _PATH_REGEX).match(route_path)
                        if found is None:
                            continue
                        params = found.groupdict()
                        convertors = _attr(route, layout, _CONVERTORS)
                        for key, value in params.items():
                            params[key] = convertors[key].convert(value)
                outer = _get(scope, "path_params", None)
                if outer:
                    path_params = dict(outer)
                    path_params.update(params)
                else:
                    path_params = params
                if kind <= 1:
                    methods = _attr(route, layout, _METHODS)
                    if type(methods) is set:
                        wrong = PySet_GET_SIZE(methods) != 0 and not PySet_Contains(methods, _item(scope, "method"))
                    else:
                        wrong = methods and scope["method"] not in methods
                    if wrong:
                        if partial < 0:
                            partial = index
                            partial_route = True
                            # The child scope's values: set after "route", as the update of a dict would.
                            partial_endpoint = _attr(route, layout, _ENDPOINT)
                            partial_params = path_params
                        continue
                _set(scope, "route", route)
                _set(scope, "endpoint", _attr(route, layout, _ENDPOINT))
                _set(scope, "path_params", path_params)
                entry = <object>PyTuple_GET_ITEM(<tuple>PyTuple_GET_ITEM(self._answers, index), 1)
                if entry is not None and _attr(route, layout, _APP) is not <object>PyTuple_GET_ITEM(entry, 0):
                    # The route's app was replaced since: no direct entry, the route handles the request.
                    return -2 - index
                return index
            if kind == 4:
                matcher = <object>PyTuple_GET_ITEM(plan, 2)
                match, child_scope = matcher(scope, route_path)
            else:
                match, child_scope = route.matches(scope)
            if match is self._full:
                scope["route"] = route
                scope.update(child_scope)
                return index
            if match is self._partial and partial < 0:
                partial = index
                partial_scope = child_scope
        if partial < 0:
            return -1
        scope["route"] = <object>PyTuple_GET_ITEM(<tuple>PyTuple_GET_ITEM(self._plans, partial), 1)
        if partial_route:
            scope["endpoint"] = partial_endpoint
            scope["path_params"] = partial_params
        else:
            scope.update(partial_scope)
        return -2 - partial


def route_for(router, scope, scope_type):
    """Router._route_for in one call: (route, direct entry), (route, None) for a partial match,
    (None, None) for none; the tables are rebuilt through router._tables() when stale or missing."""
    cdef _Layout *layout = _layout_of(router)
    tables = _attr(router, layout, _TABLE_FOR, None)
    if tables is None:
        tables = router._tables()
    cdef Py_ssize_t which = 0 if scope_type == "http" else 1
    resolver = tables[6][which]
    routes = _attr(router, layout, _ROUTES)
    found = (<Resolver>resolver).lookup(scope, routes) if type(resolver) is Resolver else resolver.lookup(scope, routes)
    if found is None:
        resolver = router._tables()[6][which]
        found = resolver.lookup(scope, router.routes)
    return found
