# cython: language_level=3
"""Compiled twin of fastframe/_pure/routing.py: the route table, read side by side with it.

Same entries, same candidates, same answers and scope changes. What differs is only how: the
resolving loop runs without a Python frame per candidate, a route's attributes are read with the
public attribute protocol (so properties, class changes and instance changes are all seen), and a
leaf whose parameters are plain text or digits, each ending at a "/" or the end, is matched by
scanning the path instead of running its regex (which gives the same params).
"""

cimport cython
from cpython.dict cimport PyDict_GetItemWithError, PyDict_SetItem, PyDict_Size
from cpython.long cimport PyLong_FromVoidPtr
from cpython.object cimport PyObject
from cpython.set cimport PySet_Contains, PySet_GET_SIZE
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE

import re


cdef extern from "Python.h":
    int PyUnicode_KIND(object u)
    void *PyUnicode_DATA(object u)
    Py_UCS4 PyUnicode_READ(int kind, void *data, Py_ssize_t index) nogil
    Py_ssize_t PyUnicode_GET_LENGTH(object u)
    Py_ssize_t PyUnicode_Tailmatch(object s, object sub, Py_ssize_t start, Py_ssize_t end, int direction) except -1
    Py_ssize_t PyUnicode_FindChar(object s, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end, int direction) except -2
    object PyUnicode_Substring(object s, Py_ssize_t start, Py_ssize_t end)
    object PyLong_FromUnicodeObject(object u, int base)


__all__ = [
    "DIGITS",
    "HTTP_LEAF",
    "OTHER",
    "OTHER_PARAM",
    "TEXT",
    "WEBSOCKET_LEAF",
    "RouteTable",
    "configure_matches",
    "literal_prefix",
    "note_app_change",
    "route_matches",
    "same_routes",
    "websocket_route_matches",
]

cdef enum:
    _HTTP_LEAF = 0
    _WEBSOCKET_LEAF = 1
    _OTHER = 2

HTTP_LEAF = _HTTP_LEAF
WEBSOCKET_LEAF = _WEBSOCKET_LEAF
OTHER = _OTHER

TEXT = 0
DIGITS = 1
OTHER_PARAM = 2

cdef tuple _NOTHING = (None, None)
# Bumped whenever any route's app is replaced (see note_app_change): a table built since has every
# route's app as its entry holds it, and need not read it back.
cdef unsigned long long _app_changes = 0


def note_app_change():
    """A route's app was replaced: tables built before read each route's app again."""
    global _app_changes
    _app_changes += 1
cdef Py_ssize_t _REMEMBERED = 512

# The route attributes the table reads, as interned names.
cdef str _PATH_REGEX = "path_regex"
cdef str _PARAM_CONVERTORS = "param_convertors"
cdef str _ENDPOINT = "endpoint"
cdef str _METHODS = "methods"
cdef str _APP = "app"
cdef str _PATH_PARAMS = "path_params"
cdef str _ROUTE = "route"
cdef str _METHOD = "method"
cdef str _PATH = "path"
cdef str _ROOT_PATH = "root_path"
cdef str _TYPE = "type"
cdef str _HTTP = "http"
cdef str _WEBSOCKET = "websocket"

# Match.NONE, Match.PARTIAL and Match.FULL, for the routes' own matches() (configure_matches).
cdef object _MATCH_NONE = None
cdef object _MATCH_PARTIAL = None
cdef object _MATCH_FULL = None


cdef class _Trie:
    """Segment shapes: children by literal segment, the child for any segment, entries ending here."""

    cdef dict literal
    cdef _Trie wildcard
    cdef list ends

    def __cinit__(self):
        self.literal = {}
        self.wildcard = None
        self.ends = []

    cdef void add(self, tuple parts, Py_ssize_t index) except *:
        cdef _Trie node = self
        cdef _Trie child
        for part in parts:
            if part is None:
                if node.wildcard is None:
                    node.wildcard = _Trie()
                node = node.wildcard
            else:
                child = node.literal.get(part)
                if child is None:
                    child = node.literal[part] = _Trie()
                node = child
        node.ends.append(index)

    @cython.wraparound(True)
    cdef void collect(self, list segments, Py_ssize_t depth, list into) except *:
        cdef Py_ssize_t count = len(segments)
        cdef _Trie child
        if depth == count:
            into.extend(self.ends)
            return
        segment = segments[depth]
        child = self.literal.get(segment)
        if child is not None:
            child.collect(segments, depth + 1, into)
        if depth == count - 1 and segment.endswith("\n"):
            # "$" matches before a final newline: the last literal may be followed by one.
            child = self.literal.get(segment[:-1])
            if child is not None:
                child.collect(segments, depth + 1, into)
        if self.wildcard is not None:
            self.wildcard.collect(segments, depth + 1, into)


cdef class _Index:
    """For one scope type: the entries worth trying for a path, in the routes' order."""

    cdef dict exact
    cdef dict under
    cdef Py_ssize_t deepest
    cdef _Trie trie
    cdef tuple anywhere
    cdef dict seen

    def __init__(self, tuple entries, list indices):
        cdef dict exact = {}
        cdef dict under = {}
        cdef list anywhere = []
        cdef _Trie trie = _Trie()
        cdef bint has_trie = False
        cdef Py_ssize_t cut
        for index in indices:
            shape = (<tuple>entries[index])[2]
            if shape is None:
                anywhere.append(index)
            elif shape[0] == "static":
                exact.setdefault(shape[1], []).append(index)
            elif shape[0] == "segments":
                trie.add(tuple(shape[1]), index)
                has_trie = True
            else:
                # Filed under the prefix's text up to its last "/": every path it matches starts so.
                text = shape[1]
                cut = text.rfind("/")
                if cut < 0:
                    anywhere.append(index)
                else:
                    under.setdefault(text[: cut + 1], []).append(index)
        self.exact = {path: tuple(found) for path, found in exact.items()}
        self.under = {prefix: tuple(found) for prefix, found in under.items()}
        self.deepest = max([prefix.count("/") for prefix in under] or [0])
        self.trie = trie if has_trie else None
        self.anywhere = tuple(anywhere)
        self.seen = {}

    cdef tuple candidates(self, path):
        cdef PyObject *hit = PyDict_GetItemWithError(self.seen, path)
        if hit is not NULL:
            return <tuple>hit
        found = self._gather(path)
        if PyDict_Size(self.seen) >= _REMEMBERED:
            self.seen.clear()
        PyDict_SetItem(self.seen, path, found)
        return found

    @cython.boundscheck(True)
    @cython.wraparound(True)
    cdef tuple _gather(self, str path):
        cdef list groups = []
        cdef list ends
        cdef Py_ssize_t slash, remaining
        for text in ((path, path[:-1]) if path.endswith("\n") else (path,)):
            hit = self.exact.get(text)
            if hit is not None:
                groups.append(hit)
        if self.deepest:
            slash = path.find("/")
            remaining = self.deepest
            while slash >= 0 and remaining:
                hit = self.under.get(path[: slash + 1])
                if hit is not None:
                    groups.append(hit)
                slash = path.find("/", slash + 1)
                remaining -= 1
        if self.trie is not None and path.startswith("/"):
            ends = []
            self.trie.collect(path[1:].split("/"), 0, ends)
            if ends:
                # The trie gives them in the order it walks, not the routes' order.
                ends.sort()
                groups.append(tuple(ends))
        if self.anywhere:
            groups.append(self.anywhere)
        if len(groups) == 1:
            return groups[0]
        return tuple(sorted([index for group in groups for index in group]))


cdef inline object _route_path(dict scope):
    """The path relative to root_path, as the reference's routing sees it."""
    path = scope[_PATH]
    cdef PyObject *found = PyDict_GetItemWithError(scope, _ROOT_PATH)
    if found is NULL:
        return path
    root = <object>found
    if type(root) is str and type(path) is str:
        if PyUnicode_GET_LENGTH(root) == 0:
            return path
        return _below(<str>path, <str>root)
    if not root:
        return path
    if path.startswith(root):
        if len(path) == len(root):
            return ""
        if path[len(root)] == "/":
            return path[len(root):]
    return path


cdef object _below(str path, str root):
    cdef Py_ssize_t size = PyUnicode_GET_LENGTH(root)
    if not PyUnicode_Tailmatch(path, root, 0, size, -1):
        return path
    if PyUnicode_GET_LENGTH(path) == size:
        return ""
    if PyUnicode_READ(PyUnicode_KIND(path), PyUnicode_DATA(path), size) == u"/":
        return PyUnicode_Substring(path, size, PyUnicode_GET_LENGTH(path))
    return path


cdef class _Scan:
    """How to read a leaf's params by scanning: its literals and each parameter's name and kind."""

    cdef tuple literals
    cdef tuple names
    cdef tuple convertors
    cdef tuple digits
    cdef Py_ssize_t count


cdef _Scan _scan_for(tuple entry):
    """The scan of a leaf entry, when its params are all TEXT or DIGITS and each ends at a "/"."""
    shape = entry[2]
    params = entry[4]
    literals = entry[7]
    if shape is None or shape[0] != "segments" or not params or len(literals) != len(params) + 1:
        return None
    for literal in literals:
        if type(literal) is not str:
            return None
    for position in range(1, len(literals)):
        # Between two params the literal must start with "/" (an empty one would make the first
        # param end where the next begins, which only the regex can tell); after the last one it
        # may be empty (the param runs to the end).
        if not literals[position].startswith("/") and (literals[position] or position < len(literals) - 1):
            return None
    if not literals[0].startswith("/"):
        return None
    for name, convertor, kind in params:
        if kind != TEXT and kind != DIGITS:
            return None
    cdef _Scan scan = _Scan()
    scan.literals = tuple(literals)
    scan.names = tuple([param[0] for param in params])
    scan.convertors = tuple([param[1] for param in params])
    scan.digits = tuple([param[2] == DIGITS for param in params])
    scan.count = len(params)
    return scan


cdef object _USE_REGEX = object()


cdef object _scanned(_Scan scan, str path, object convertors):
    """The params of a scanned leaf: a dict, None when the path does not match, or _USE_REGEX when
    the regex must decide (a newline in the path, or convertors that are not the ones scanned)."""
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(path)
    cdef int kind = PyUnicode_KIND(path)
    cdef void *data = PyUnicode_DATA(path)
    cdef Py_ssize_t at = 0, start, size, position
    cdef Py_UCS4 c
    cdef bint digits
    cdef PyObject *convertor
    if type(convertors) is not dict:
        return _USE_REGEX
    for position in range(scan.count):
        convertor = PyDict_GetItemWithError(<dict>convertors, <object>PyTuple_GET_ITEM(scan.names, position))
        if convertor is not PyTuple_GET_ITEM(scan.convertors, position):
            return _USE_REGEX
    # "$" also matches before a final newline: the regex decides such paths.
    if PyUnicode_FindChar(path, 10, 0, length, 1) >= 0:
        return _USE_REGEX
    cdef dict params = {}
    for position in range(scan.count):
        literal = <str>PyTuple_GET_ITEM(scan.literals, position)
        size = PyUnicode_GET_LENGTH(literal)
        if size and (at + size > length or not PyUnicode_Tailmatch(path, literal, at, at + size, -1)):
            return None
        at += size
        start = at
        digits = <object>PyTuple_GET_ITEM(scan.digits, position) is True
        while at < length:
            c = PyUnicode_READ(kind, data, at)
            if c == u"/" or (digits and (c < u"0" or c > u"9")):
                break
            at += 1
        if at == start:
            return None
        text = PyUnicode_Substring(path, start, at)
        PyDict_SetItem(params, <object>PyTuple_GET_ITEM(scan.names, position), PyLong_FromUnicodeObject(text, 10) if digits else text)
    literal = <str>PyTuple_GET_ITEM(scan.literals, scan.count)
    size = PyUnicode_GET_LENGTH(literal)
    if length - at != size or (size and not PyUnicode_Tailmatch(path, literal, at, length, -1)):
        return None
    return params


cdef class _Leaf:
    """What resolving needs of one entry, read once from it."""

    cdef int kind
    cdef object route
    cdef object regex
    cdef bint static
    cdef _Scan scan
    cdef object app
    cdef tuple answer
    cdef tuple partial

    @staticmethod
    cdef _Leaf of(tuple entry):
        cdef _Leaf leaf = _Leaf.__new__(_Leaf)
        leaf.kind = entry[0]
        leaf.route = entry[1]
        shape = entry[2]
        leaf.static = shape is not None and shape[0] == "static"
        leaf.regex = entry[3]
        leaf.scan = _scan_for(entry) if leaf.kind != _OTHER else None
        leaf.app = entry[5]
        leaf.answer = (entry[1], entry[6])
        leaf.partial = (entry[1], None)
        return leaf


cdef object _leaf_params(_Leaf leaf, object route_path):
    """The converted path params of a leaf route matching `route_path`, or None when it does not."""
    route = leaf.route
    regex = getattr(route, _PATH_REGEX)
    if regex is leaf.regex:
        if leaf.static:
            # Only "static" entries of this exact path (or it and a newline) are candidates.
            return {}
        if leaf.scan is not None and type(route_path) is str:
            params = _scanned(leaf.scan, <str>route_path, getattr(route, _PARAM_CONVERTORS))
            if params is not _USE_REGEX:
                return params
    return _regex_params(route, regex, route_path)


cdef object _regex_params(route, regex, route_path):
    """The converted params of `regex` matching `route_path`, or None when it does not."""
    found = regex.match(route_path)
    if found is None:
        return None
    params = found.groupdict()
    if params:
        convertors = getattr(route, _PARAM_CONVERTORS)
        for name, text in params.items():
            params[name] = convertors[name].convert(text)
    return params


cdef class RouteTable:
    """Built once from the entries of a router's routes (see the pure twin's module docstring)."""

    cdef readonly tuple entries
    cdef unsigned long long _app_changes
    cdef _Index _http
    cdef _Index _websocket
    cdef object _full
    cdef object _partial
    cdef tuple _leaves

    def __init__(self, entries, full, partial):
        self._app_changes = _app_changes
        self.entries = tuple(entries)
        self._http = _Index(self.entries, [i for i, e in enumerate(self.entries) if e[0] != WEBSOCKET_LEAF])
        self._websocket = _Index(self.entries, [i for i, e in enumerate(self.entries) if e[0] != HTTP_LEAF])
        self._full = full
        self._partial = partial
        self._leaves = tuple([_Leaf.of(<tuple>entry) for entry in self.entries])

    def __reduce__(self):
        return (RouteTable, (self.entries, self._full, self._partial))

    def candidates(self, path, scope_type="http"):
        """Ascending indices of the entries that may match `path` for this scope type."""
        return (self._http if scope_type == "http" else self._websocket).candidates(path)

    def resolve(self, dict scope, scope_type):
        """(route, direct) for the route answering `scope` (direct None unless it may stand in for the
        route's app), (None, None) when none does; the scope gets "route" and the child scope."""
        cdef object route_path
        cdef PyObject *hit = PyDict_GetItemWithError(scope, _ROOT_PATH)
        if hit is NULL or (type(<object>hit) is str and PyUnicode_GET_LENGTH(<object>hit) == 0):
            route_path = scope[_PATH]
        else:
            route_path = _route_path(scope)
        cdef _Index index = self._http if scope_type == "http" else self._websocket
        hit = PyDict_GetItemWithError(index.seen, route_path)
        cdef tuple candidates = <tuple>hit if hit is not NULL else index.candidates(route_path)
        cdef Py_ssize_t count = PyTuple_GET_SIZE(candidates)
        cdef Py_ssize_t at, position
        cdef _Leaf leaf
        cdef _Leaf fallback = None
        cdef object route, params, outer, endpoint, methods
        # A partial match's child scope: a route's own (OTHER), or a leaf's endpoint and params.
        cdef object fallback_scope = None, fallback_endpoint = None, fallback_params = None
        cdef bint wrong
        for at in range(count):
            position = <Py_ssize_t><object>PyTuple_GET_ITEM(candidates, at)
            leaf = <_Leaf>PyTuple_GET_ITEM(self._leaves, position)
            route = leaf.route
            if leaf.kind == _OTHER:
                match, child_scope = route.matches(scope)
                if match is self._full:
                    scope[_ROUTE] = route
                    scope.update(child_scope)
                    return leaf.answer
                if match is self._partial and fallback is None:
                    fallback = leaf
                    fallback_scope = child_scope
                continue
            params = _leaf_params(leaf, route_path)
            if params is None:
                continue
            hit = PyDict_GetItemWithError(scope, _PATH_PARAMS)
            if hit is not NULL and <object>hit:
                outer = dict(<object>hit)
                outer.update(params)
                params = outer
            endpoint = getattr(route, _ENDPOINT)
            if leaf.kind == _HTTP_LEAF:
                methods = getattr(route, _METHODS)
                if type(methods) is set:
                    if PySet_GET_SIZE(methods) == 0:
                        wrong = False
                    else:
                        hit = PyDict_GetItemWithError(scope, _METHOD)
                        if hit is NULL:
                            raise KeyError(_METHOD)
                        wrong = not PySet_Contains(methods, <object>hit)
                else:
                    wrong = bool(methods) and scope[_METHOD] not in methods
                if wrong:
                    if fallback is None:
                        fallback = leaf
                        fallback_endpoint = endpoint
                        fallback_params = params
                    continue
            scope[_ROUTE] = route
            scope[_ENDPOINT] = endpoint
            scope[_PATH_PARAMS] = params
            if (
                <object>PyTuple_GET_ITEM(leaf.answer, 1) is not None
                and self._app_changes != _app_changes
                and getattr(route, _APP) is not leaf.app
            ):
                # The route's app was replaced since the entry was made: the route handles it.
                return leaf.partial
            return leaf.answer
        if fallback is None:
            return _NOTHING
        scope[_ROUTE] = fallback.route
        if fallback.kind == _OTHER:
            scope.update(fallback_scope)
        else:
            scope[_ENDPOINT] = fallback_endpoint
            scope[_PATH_PARAMS] = fallback_params
        return fallback.partial

    def any_match(self, dict scope, scope_type):
        """Whether any route matches `scope` at all (fully or partially), changing nothing in it."""
        route_path = _route_path(scope)
        cdef _Index index = self._http if scope_type == "http" else self._websocket
        for position in index.candidates(route_path):
            entry = self.entries[position]
            if entry[0] == OTHER:
                match = entry[1].matches(scope)[0]
                if match is self._full or match is self._partial:
                    return True
                continue
            if _leaf_params(<_Leaf>self._leaves[position], route_path) is not None:
                return True
        return False


def same_routes(routes, tuple snapshot):
    """Whether `routes` holds exactly the objects of `snapshot`, in order."""
    if len(routes) != len(snapshot):
        return False
    for mine, theirs in zip(routes, snapshot):
        if mine is not theirs:
            return False
    return True


# -- a route's own matches() ---------------------------------------------------------------------
# Asked for each route in turn by routers that scan their routes themselves (FastAPI's among
# them): one call per route, the path worked out and the regex run without a Python frame.


def configure_matches(none, partial, full):
    """Give the Match members the routes' matches() answer with."""
    global _MATCH_NONE, _MATCH_PARTIAL, _MATCH_FULL
    _MATCH_NONE, _MATCH_PARTIAL, _MATCH_FULL = none, partial, full


cdef object _path_below_root(scope):
    if type(scope) is dict:
        return _route_path(<dict>scope)
    path = scope[_PATH]
    root = scope.get(_ROOT_PATH, "")
    if root and path.startswith(root):
        below = path[len(root):]
        if not below or below[0] == "/":
            return below
    return path


# The literal text each regex's matches must start with, by pattern: a path without it is turned
# away without running the regex (a router asking every route meets mostly misses). Bounded: a
# pattern left out is only run.
cdef dict _PREFIXES = {}
cdef Py_ssize_t _PREFIXES_KEPT = 4096
cdef str _PATTERN = "pattern"
cdef str _FLAGS = "flags"
# Flags under which the pattern's text is not what it matches literally.
cdef long _LITERAL_BREAKING = re.IGNORECASE | re.VERBOSE
cdef str _META = ".^$*+?{}[]()|"
cdef str _QUANTIFIERS = "*+?{"


def literal_prefix(str pattern):
    """The text every match of `pattern` (a regex without flags) starts with, "" when unknown."""
    if "|" in pattern or not pattern.startswith("^"):
        return ""
    cdef Py_ssize_t at = 1, end = len(pattern), step
    cdef list pieces = []
    while at < end:
        char = pattern[at]
        if char == "\\":
            if at + 1 >= end or pattern[at + 1].isalnum() or pattern[at + 1] == "_":
                break  # a class (\d, \w), an anchor (\A, \b), a backreference or a code
            char = pattern[at + 1]
            step = 2
        elif char in _META:
            break
        else:
            step = 1
        if at + step < end and pattern[at + step] in _QUANTIFIERS:
            break  # the character is optional or repeated
        pieces.append(char)
        at += step
    return "".join(pieces)


# _required_prefix's answers by regex object, each kept with its regex (so that its id is not
# reused while the entry lives): asked once per route per request, this skips reading the
# pattern and flags. Bounded like _PREFIXES.
cdef dict _BY_REGEX = {}
cdef object _REGEX_TYPE = re.Pattern


cdef object _required_prefix(regex):
    """The literal start `regex` requires of a match, or None to just run it."""
    if type(regex) is not _REGEX_TYPE:
        # Only compiled patterns are known never to change.
        return _prefix_of(regex)
    key = PyLong_FromVoidPtr(<void *>regex)
    cdef PyObject *hit = PyDict_GetItemWithError(_BY_REGEX, key)
    if hit is not NULL and <object>PyTuple_GET_ITEM(<object>hit, 0) is regex:
        return <object>PyTuple_GET_ITEM(<object>hit, 1)
    prefix = _prefix_of(regex)
    if PyDict_Size(_BY_REGEX) < _PREFIXES_KEPT:
        _BY_REGEX[key] = (regex, prefix)
    return prefix


cdef object _prefix_of(regex):
    pattern = getattr(regex, _PATTERN, None)
    if type(pattern) is not str:
        return None
    cdef PyObject *hit = PyDict_GetItemWithError(_PREFIXES, pattern)
    if hit is not NULL:
        prefix = <object>hit
    else:
        prefix = literal_prefix(pattern)
        if PyDict_Size(_PREFIXES) < _PREFIXES_KEPT:
            _PREFIXES[pattern] = prefix
    if not prefix or getattr(regex, _FLAGS, 0) & _LITERAL_BREAKING:
        return None
    return prefix


cdef object _matched_params(route, scope):
    """The route's converted path params, the scope's own first, or None when its regex fails."""
    regex = getattr(route, _PATH_REGEX)
    path = _path_below_root(scope)
    if type(path) is str:
        prefix = _required_prefix(regex)
        if prefix is not None and not (<str>path).startswith(prefix):
            return None
    params = _regex_params(route, regex, path)
    if params is None:
        return None
    outer = scope.get(_PATH_PARAMS)
    if not outer:
        return params
    combined = dict(outer)
    combined.update(params)
    return combined


def route_matches(self, scope):
    """Route.matches: the path, then the method."""
    if scope[_TYPE] != _HTTP:
        return _MATCH_NONE, {}
    params = _matched_params(self, scope)
    if params is None:
        return _MATCH_NONE, {}
    child_scope = {_ENDPOINT: getattr(self, _ENDPOINT), _PATH_PARAMS: params}
    methods = getattr(self, _METHODS)
    if methods and scope[_METHOD] not in methods:
        return _MATCH_PARTIAL, child_scope
    return _MATCH_FULL, child_scope


def websocket_route_matches(self, scope):
    """WebSocketRoute.matches: the path alone."""
    if scope[_TYPE] != _WEBSOCKET:
        return _MATCH_NONE, {}
    params = _matched_params(self, scope)
    if params is None:
        return _MATCH_NONE, {}
    return _MATCH_FULL, {_ENDPOINT: getattr(self, _ENDPOINT), _PATH_PARAMS: params}
