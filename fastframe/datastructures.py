"""The value types of a request and a response: URLs, multi-dicts, headers, uploads, state.

`Headers` and `HTTPConnection` (in requests.py) are built on every request, so their storage is a
twin data type from `fastframe.speedups` (compiled where possible); everything else is plain Python.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    MutableMapping,
    Sequence,
    ValuesView,
)
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, NamedTuple, TypeVar
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit

from fastframe import speedups
from fastframe._utils import parse_host_header
from fastframe.concurrency import run_in_threadpool
from fastframe.types import Scope

_http = speedups.http
_parse_query = _http.parse_query
_parse_query_string = _http.parse_query_string
if TYPE_CHECKING:
    from fastframe._pure.http import HeaderList, MultiStore
else:
    HeaderList = _http.HeaderList
    MultiStore = _http.MultiStore


class Address(NamedTuple):
    host: str
    port: int


_KeyType = TypeVar("_KeyType")
# Keys of a mapping are invariant; the values of a read-only multi-dict may be covariant.
_CovariantValueType = TypeVar("_CovariantValueType", covariant=True)


# --- URLs -----------------------------------------------------------------------------------------

_PORT_OF_SCHEME = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Characters a raw ASGI path may hold that would end the path if written into a URL as they are.
_PATH_ESCAPES = str.maketrans({"\\": "%5C", "?": "%3F", "#": "%23"})


def _authority_of(scope: Scope) -> str | None:
    """The host[:port] a request was made to: a valid Host header, else the server address."""
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1")
            parsed = parse_host_header(host)
            if parsed is not None and (parsed.port is None or int(parsed.port) < 65536):
                return host
            break
    server = scope.get("server")
    if server is None:
        return None
    host, port = server
    if ":" in host:
        host = f"[{host}]"
    # KeyError for a scheme with no default port, as the reference raises.
    if port == _PORT_OF_SCHEME[scope.get("scheme", "http")]:
        return host
    return f"{host}:{port}"


def _url_of_scope(scope: Scope) -> str:
    # The authority never comes from the path: the path's own delimiters are escaped, and a path
    # that could be read as "//authority" is kept a path.
    path: str = scope["path"].translate(_PATH_ESCAPES)
    query = scope.get("query_string", b"")
    query_text = query.decode() if query else ""
    authority = _authority_of(scope)
    if authority is None:
        if path[:2] == "//":
            path = "/%2F" + path[2:]
        return urlunsplit(("", "", path, query_text, ""))
    return urlunsplit((scope.get("scheme", "http"), authority, path, query_text, ""))


def _bracket_ipv6(host: str) -> str:
    if ":" not in host:
        return host
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return host
    return f"[{host}]"


class URL:
    """A URL string, split into its components on first use."""

    __slots__ = ("_text", "_split")

    def __init__(self, url: str = "", scope: Scope | None = None, **components: Any) -> None:
        if scope is not None:
            assert not url, 'Cannot set both "url" and "scope".'
            assert not components, 'Cannot set both "scope" and "**components".'
            url = _url_of_scope(scope)
        elif components:
            assert not url, 'Cannot set both "url" and "**components".'
            url = str(URL().replace(**components))
        self._text = url
        self._split: SplitResult | None = None

    def _parts(self) -> SplitResult:
        split = self._split
        if split is None:
            split = self._split = urlsplit(self._text)
        return split

    @property
    def components(self) -> SplitResult:
        return self._parts()

    @property
    def scheme(self) -> str:
        return self._parts().scheme

    @property
    def netloc(self) -> str:
        return self._parts().netloc

    @property
    def path(self) -> str:
        return self._parts().path

    @property
    def query(self) -> str:
        return self._parts().query

    @property
    def fragment(self) -> str:
        return self._parts().fragment

    @property
    def username(self) -> None | str:
        return self._parts().username

    @property
    def password(self) -> None | str:
        return self._parts().password

    @property
    def hostname(self) -> None | str:
        return self._parts().hostname

    @property
    def port(self) -> int | None:
        return self._parts().port

    @property
    def is_secure(self) -> bool:
        return self._parts().scheme in ("https", "wss")

    def _netloc_with(self, changes: dict[str, Any]) -> str:
        """The netloc with the given userinfo/host/port parts replaced (consumed from `changes`)."""
        # Every part is read before any is used: a bad port in the URL fails first, as in the reference.
        host = changes.pop("hostname", None)
        port = changes.pop("port", self.port)
        user = changes.pop("username", self.username)
        password = changes.pop("password", self.password)
        if host is None:
            # The host as written (its case and brackets kept), not urlsplit's lower-cased hostname.
            host = self.netloc.rpartition("@")[2]
            if not host.endswith("]"):
                host = host.rsplit(":", 1)[0]
        else:
            host = _bracket_ipv6(host)
        netloc = host if port is None else f"{host}:{port}"
        if user is None:
            return netloc
        # Concatenated, not formatted: a user name that is not a string is refused, as in the reference.
        userinfo = user if password is None else user + f":{password}"
        return f"{userinfo}@{netloc}"

    def replace(self, **kwargs: Any) -> URL:
        if kwargs.keys() & {"username", "password", "hostname", "port"}:
            kwargs["netloc"] = self._netloc_with(kwargs)
        return self.__class__(self._parts()._replace(**kwargs).geturl())

    def _with_params(self, params: MultiDict) -> URL:
        return self.replace(query=urlencode(params.multi_items()))

    def include_query_params(self, **kwargs: Any) -> URL:
        params = MultiDict(_parse_query_string(self.query))
        params.update({str(name): str(value) for name, value in kwargs.items()})
        return self._with_params(params)

    def replace_query_params(self, **kwargs: Any) -> URL:
        return self.replace(query=urlencode([(str(name), str(value)) for name, value in kwargs.items()]))

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        doomed = {keys} if isinstance(keys, str) else set(keys)
        kept = [(name, value) for name, value in _parse_query_string(self.query) if name not in doomed]
        return self._with_params(MultiDict(kept))

    def __eq__(self, other: Any) -> bool:
        # Compares by text with anything, as the reference does (URL("1") == 1 holds).
        return self._text == str(other)

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        shown = self.replace(password="********") if self.password else self
        return f"{type(self).__name__}({str(shown)!r})"


def _unambiguous_path(path: str) -> str:
    """`path` with what browsers would read as another host escaped: backslashes (taken for
    slashes) and a leading "//"."""
    path = path.replace("\\", "%5C")
    return "/%2F" + path[2:] if path[:2] == "//" else path


class URLPath(str):
    """A path, with the protocol and host it is to be reached by; made absolute against a base URL."""

    protocol: str
    host: str

    def __new__(cls, path: str, protocol: Literal["http", "websocket", ""] = "", host: str = "") -> URLPath:
        assert protocol in ("http", "websocket", "")
        return str.__new__(cls, _unambiguous_path(path))

    def __init__(self, path: str, protocol: Literal["http", "websocket", ""] = "", host: str = "") -> None:
        self.protocol = protocol
        self.host = host

    def make_absolute_url(self, base_url: str | URL) -> URL:
        base = URL(base_url) if isinstance(base_url, str) else base_url
        scheme = base.scheme
        if self.protocol:
            plain, secure = ("http", "https") if self.protocol == "http" else ("ws", "wss")
            scheme = secure if base.is_secure else plain
        return URL(scheme=scheme, netloc=self.host or base.netloc, path=base.path.rstrip("/") + self)


# --- small values ---------------------------------------------------------------------------------


class Secret:
    """A string that keeps itself out of reprs and tracebacks."""

    def __init__(self, value: str):
        self._value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}('**********')"

    def __str__(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)


def _split_on_commas(text: str) -> list[str]:
    # shell-style: quotes group, a backslash escapes, '#' starts a comment, as the reference reads it
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace, lexer.whitespace_split = ",", True
    return [token.strip() for token in lexer]


class CommaSeparatedStrings(Sequence[str]):
    __slots__ = ("_items",)

    def __init__(self, value: str | Sequence[str]):
        self._items = _split_on_commas(value) if isinstance(value, str) else list(value)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int | slice) -> Any:
        return self._items[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"

    def __str__(self) -> str:
        return ", ".join(map(repr, self._items))


# --- multi-dicts ----------------------------------------------------------------------------------


def _pairs_of(source: Any) -> list[tuple[Any, Any]]:
    """The (key, value) pairs of a multi-dict, a mapping or an iterable of pairs, in order."""
    if not source:
        return []
    multi_items = getattr(source, "multi_items", None)
    if multi_items is not None:
        return list(multi_items())
    if hasattr(source, "keys"):
        return list(source.items())
    return list(source)


class ImmutableMultiDict(MultiStore, Mapping[_KeyType, _CovariantValueType]):
    """Keys with one or more values. Indexing gives a key's last value; `getlist` gives them all.

    The storage is the twin `MultiStore`'s: `_pairs` holds every pair in order; `_last` maps each
    key to its last value, its keys in the order they first appeared (what `keys()`, `values()`
    and `items()` show). `get` is the store's own.
    """

    __slots__ = ()

    _pairs: list[tuple[_KeyType, _CovariantValueType]]
    _last: dict[_KeyType, _CovariantValueType]

    def __init__(
        self,
        *args: ImmutableMultiDict[_KeyType, _CovariantValueType]
        | Mapping[_KeyType, _CovariantValueType]
        | Iterable[tuple[_KeyType, _CovariantValueType]],
        **kwargs: Any,
    ) -> None:
        assert len(args) < 2, "Too many arguments."
        pairs = _pairs_of(args[0]) if args else []
        if kwargs:
            pairs += kwargs.items()
        self._pairs = pairs
        self._last = dict(pairs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # get() reads the storage directly; a subclass with its own __getitem__ gets Mapping's get
        # back, so that get() goes through it as in the reference.
        if "__getitem__" in cls.__dict__ and "get" not in cls.__dict__:
            cls.get = Mapping.get  # type: ignore[assignment]

    # `_list` is the reference's private name for the pair list; FastAPI's own tests (and code
    # that reaches past the public API) read and replace it. Replacing it leaves each key's last
    # value as it was, as there.
    @property
    def _list(self) -> list[tuple[_KeyType, _CovariantValueType]]:
        return self._pairs

    @_list.setter
    def _list(self, pairs: list[tuple[_KeyType, _CovariantValueType]]) -> None:
        self._pairs = pairs

    def getlist(self, key: Any) -> list[_CovariantValueType]:
        return [value for name, value in self._pairs if name == key]

    def keys(self) -> KeysView[_KeyType]:
        return self._last.keys()

    def values(self) -> ValuesView[_CovariantValueType]:
        return self._last.values()

    def items(self) -> ItemsView[_KeyType, _CovariantValueType]:
        return self._last.items()

    def multi_items(self) -> list[tuple[_KeyType, _CovariantValueType]]:
        return self._pairs.copy()

    def __getitem__(self, key: _KeyType) -> _CovariantValueType:
        return self._last[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._last

    def __iter__(self) -> Iterator[_KeyType]:
        return iter(self._last)

    def __len__(self) -> int:
        return len(self._last)

    def __eq__(self, other: Any) -> bool:
        # Only the order among one key's values counts: a stable sort by key keeps it.
        if not isinstance(other, type(self)):
            return False
        return _by_key(self._pairs) == _by_key(other._pairs)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._pairs!r})"


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _by_key(pairs: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    return sorted(pairs, key=_first)


class MultiDict(ImmutableMultiDict[Any, Any]):
    __slots__ = ()

    def _drop(self, key: Any) -> list[Any]:
        """Remove every pair of `key` from the pair list; their values, in order."""
        dropped = [value for name, value in self._pairs if name == key]
        if dropped:
            self._pairs = [pair for pair in self._pairs if pair[0] != key]
        return dropped

    def __setitem__(self, key: Any, value: Any) -> None:
        self.setlist(key, [value])

    def __delitem__(self, key: Any) -> None:
        del self._last[key]
        self._drop(key)

    def pop(self, key: Any, default: Any = None) -> Any:
        self._drop(key)
        return self._last.pop(key, default)

    def popitem(self) -> tuple[Any, Any]:
        key, value = self._last.popitem()
        self._drop(key)
        return key, value

    def poplist(self, key: Any) -> list[Any]:
        self._last.pop(key, None)
        return self._drop(key)

    def clear(self) -> None:
        self._pairs.clear()
        self._last.clear()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        last = self._last
        if key in last:
            return last[key]
        last[key] = default
        self._pairs.append((key, default))
        return default

    def setlist(self, key: Any, values: list[Any]) -> None:
        self._drop(key)
        if values:
            self._pairs.extend((key, value) for value in values)
            self._last[key] = values[-1]
        else:
            self._last.pop(key, None)

    def append(self, key: Any, value: Any) -> None:
        self._pairs.append((key, value))
        self._last[key] = value

    def update(
        self,
        *args: MultiDict | Mapping[Any, Any] | list[tuple[Any, Any]],
        **kwargs: Any,
    ) -> None:
        incoming = MultiDict(*args, **kwargs)
        replaced = incoming._last.keys()
        self._pairs = [pair for pair in self._pairs if pair[0] not in replaced]
        self._pairs.extend(incoming._pairs)
        self._last.update(incoming._last)


class QueryParams(ImmutableMultiDict[str, str]):
    """An immutable multi-dict of query parameters, from a query string or from pairs."""

    __slots__ = ()

    def __init__(
        self,
        *args: ImmutableMultiDict[Any, Any] | Mapping[Any, Any] | list[tuple[Any, Any]] | str | bytes,
        **kwargs: Any,
    ) -> None:
        assert len(args) < 2, "Too many arguments."
        source = args[0] if args else []
        if isinstance(source, (str, bytes)) and not kwargs:
            # The twin parses and builds the key map in one pass (bytes are read as latin-1).
            self._pairs, self._last = _parse_query(source)
            return
        if isinstance(source, (str, bytes)):
            source = _parse_query(source)[0]
        pairs = _pairs_of(source)
        if kwargs:
            pairs += kwargs.items()
        # Keys become strings after the key map is built, so that keys equal only as strings
        # (1 and "1") resolve as the reference resolves them.
        self._pairs = [(str(name), str(value)) for name, value in pairs]
        self._last = {str(name): str(value) for name, value in dict(pairs).items()}

    def __str__(self) -> str:
        return urlencode(self._pairs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


# --- uploads and forms ----------------------------------------------------------------------------


class UploadFile:
    """An uploaded file: a spooled temporary file whose disk I/O runs off the event loop."""

    def __init__(
        self,
        file: BinaryIO,
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.filename = filename
        self.file = file
        self.size = size
        self.headers = headers or Headers()

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type", None)

    @property
    def _in_memory(self) -> bool:
        # Only a SpooledTemporaryFile that has not rolled over is known to stay off the disk.
        return not getattr(self.file, "_rolled", True)

    def _write_may_touch_disk(self, growth: int) -> bool:
        # On disk already, or this write makes the spooled file roll over to disk.
        if not self._in_memory:
            return True
        limit = getattr(self.file, "_max_size", 0)
        return bool(limit) and self.file.tell() + growth > limit

    async def _on_file(self, in_thread: bool, operation: Callable[..., Any], *args: Any) -> Any:
        # Memory-only operations cost less than a thread hop; anything on disk takes one.
        if in_thread:
            return await run_in_threadpool(operation, *args)
        return operation(*args)

    async def write(self, data: bytes) -> None:
        if self.size is not None:
            self.size += len(data)
        await self._on_file(self._write_may_touch_disk(len(data)), self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        return await self._on_file(not self._in_memory, self.file.read, size)  # type: ignore[no-any-return]

    async def seek(self, offset: int) -> None:
        await self._on_file(not self._in_memory, self.file.seek, offset)

    async def close(self) -> None:
        await self._on_file(not self._in_memory, self.file.close)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"


class FormData(ImmutableMultiDict[str, "UploadFile | str"]):
    """An immutable multi-dict of form fields; file fields are `UploadFile`s."""

    __slots__ = ()

    def __init__(
        self,
        *args: FormData | Mapping[str, str | UploadFile] | list[tuple[str, str | UploadFile]],
        **kwargs: str | UploadFile,
    ) -> None:
        super().__init__(*args, **kwargs)

    async def close(self) -> None:
        # Every pair, not each key's last value: a field sent more than once (a list of files)
        # holds one open upload per part.
        for _, upload in self._pairs:
            if isinstance(upload, UploadFile):
                await upload.close()


# --- headers --------------------------------------------------------------------------------------


def _latin1_pair(name: str, value: str) -> tuple[bytes, bytes]:
    return name.lower().encode("latin-1"), value.encode("latin-1")


class Headers(HeaderList, Mapping[str, str]):
    """An immutable, case-insensitive multi-dict over a raw ASGI header list, decoded on access.

    Lookups (`get`, `[]`, `in`, `getlist`, `len`) are the twin `HeaderList`'s, over `_raw`.
    """

    __slots__ = ()

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: list[tuple[bytes, bytes]] | None = None,
        scope: MutableMapping[str, Any] | None = None,
    ) -> None:
        if headers is not None:
            assert raw is None, 'Cannot set both "headers" and "raw".'
            assert scope is None, 'Cannot set both "headers" and "scope".'
            self._raw = [_latin1_pair(name, value) for name, value in headers.items()]
        elif raw is not None:
            assert scope is None, 'Cannot set both "raw" and "scope".'
            self._raw = raw
        elif scope is not None:
            # A list of our own, put back into the scope so that later changes through either agree.
            self._raw = scope["headers"] = list(scope["headers"])
        else:
            self._raw = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # As ImmutableMultiDict: a subclass's own __getitem__ is what its get() must go through.
        if "__getitem__" in cls.__dict__ and "get" not in cls.__dict__:
            cls.get = Mapping.get  # type: ignore[assignment]

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        # A copy: the list may be shared with the scope, and this view is read-only.
        return list(self._raw)

    # The reference's private name for the raw list, read and replaced by code that reaches past
    # the public API (FastAPI's own tests among it): the list itself, not a copy.
    @property
    def _list(self) -> list[tuple[bytes, bytes]]:
        return self._raw  # type: ignore[no-any-return]

    @_list.setter
    def _list(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw

    def keys(self) -> list[str]:  # type: ignore[override]
        return [name.decode("latin-1") for name, _ in self._raw]

    def values(self) -> list[str]:  # type: ignore[override]
        return [value.decode("latin-1") for _, value in self._raw]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self._raw]

    def mutablecopy(self) -> MutableHeaders:
        return MutableHeaders(raw=list(self._raw))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Headers) and sorted(self._raw) == sorted(other._raw)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        decoded = self.items()
        as_dict = dict(decoded)
        # A dict would hide repeated names: show the raw list then.
        if len(as_dict) == len(decoded):
            return f"{type(self).__name__}({as_dict!r})"
        return f"{type(self).__name__}(raw={self.raw!r})"


class MutableHeaders(Headers):
    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        """Set a header: the first of that name is replaced in place, any others removed."""
        pair = _latin1_pair(key, value)
        name = pair[0]
        raw = self._raw
        at = next((index for index, item in enumerate(raw) if item[0] == name), None)
        if at is None:
            raw.append(pair)
            return
        raw[at] = pair
        # In place: the list may be the scope's own.
        raw[at + 1 :] = [item for item in raw[at + 1 :] if item[0] != name]

    if TYPE_CHECKING:

        def __delitem__(self, key: str) -> None: ...

    else:
        __delitem__ = _http.delete_header

    def __ior__(self, other: Mapping[str, str]) -> MutableHeaders:
        _require_mapping(other)
        self.update(other)
        return self

    def __or__(self, other: Mapping[str, str]) -> MutableHeaders:
        _require_mapping(other)
        merged = self.mutablecopy()
        merged.update(other)
        return merged

    if TYPE_CHECKING:

        @property
        def raw(self) -> list[tuple[bytes, bytes]]: ...

    else:
        raw = property(_http.own_raw)

    def setdefault(self, key: str, value: str) -> str:
        pair = _latin1_pair(key, value)
        for name, existing in self._raw:
            if name == pair[0]:
                return existing.decode("latin-1")  # type: ignore[no-any-return]
        self._raw.append(pair)
        return value

    def update(self, other: Mapping[str, str]) -> None:  # type: ignore[override]
        for key, value in other.items():
            self[key] = value

    def append(self, key: str, value: str) -> None:
        """Add a header, keeping any others of the same name."""
        self._raw.append(_latin1_pair(key, value))

    def add_vary_header(self, vary: str) -> None:
        self["vary"] = ", ".join([*self.getlist("vary"), vary])


def _require_mapping(other: Any) -> None:
    if not isinstance(other, Mapping):
        raise TypeError(f"Expected a mapping but got {type(other).__name__}")


# --- state ----------------------------------------------------------------------------------------


class State:
    """An attribute bag for app and request state: `state.x` is `state["x"]`, both over one dict."""

    _state: dict[str, Any]

    def __init__(self, state: dict[str, Any] | None = None):
        object.__setattr__(self, "_state", {} if state is None else state)

    def __getattr__(self, key: Any) -> Any:
        # Only reached for names that are not real attributes; "_state" itself is one until set.
        if key != "_state":
            try:
                return self[key]
            except KeyError:
                pass
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{key}'")

    def __setattr__(self, key: Any, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: Any) -> None:
        del self[key]

    def __getitem__(self, key: str) -> Any:
        return self._state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __delitem__(self, key: str) -> None:
        del self._state[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._state)

    def __len__(self) -> int:
        return len(self._state)
