from __future__ import annotations

import ipaddress
import shlex
from collections.abc import (
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    MutableMapping,
    Sequence,
    ValuesView,
)
from operator import itemgetter
from typing import Any, BinaryIO, Literal, NamedTuple, TypeVar, cast
from urllib.parse import SplitResult, urlencode, urlsplit

from fastframe import speedups
from fastframe._utils import parse_host_header
from fastframe.concurrency import run_in_threadpool
from fastframe.types import Scope

_http = speedups.http
_header_get = _http.header_get
_header_getlist = _http.header_getlist
_header_contains = _http.header_contains
_parse_query_string = _http.parse_query_string
_parse_query = _http.parse_query

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_SECURE_SCHEMES = ("https", "wss")


class Address(NamedTuple):
    host: str
    port: int


_KeyType = TypeVar("_KeyType")
# Mapping keys are invariant but values are covariant; a read-only multidict can be covariant in its values.
_CovariantValueType = TypeVar("_CovariantValueType", covariant=True)


class URL:
    __slots__ = ("_url", "_components")

    def __init__(self, url: str = "", scope: Scope | None = None, **components: Any) -> None:
        if scope is not None:
            assert not url, 'Cannot set both "url" and "scope".'
            assert not components, 'Cannot set both "scope" and "**components".'
            url = _url_from_scope(scope)
        elif components:
            assert not url, 'Cannot set both "url" and "**components".'
            url = URL("").replace(**components).components.geturl()
        self._url = url
        self._components: SplitResult | None = None

    @property
    def components(self) -> SplitResult:
        components = self._components
        if components is None:
            components = self._components = urlsplit(self._url)
        return components

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    @property
    def username(self) -> None | str:
        return self.components.username

    @property
    def password(self) -> None | str:
        return self.components.password

    @property
    def hostname(self) -> None | str:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        return self.components.port

    @property
    def is_secure(self) -> bool:
        return self.scheme in _SECURE_SCHEMES

    def replace(self, **kwargs: Any) -> URL:
        if "username" in kwargs or "password" in kwargs or "hostname" in kwargs or "port" in kwargs:
            hostname = kwargs.pop("hostname", None)
            port = kwargs.pop("port", self.port)
            username = kwargs.pop("username", self.username)
            password = kwargs.pop("password", self.password)

            if hostname is None:
                # Keep the host as written (case, brackets), not urlsplit's lower-cased form.
                hostname = self.netloc.rpartition("@")[2]
                if hostname[-1:] != "]":
                    hostname = hostname.rsplit(":", 1)[0]
            elif ":" in hostname and _is_ipv6(hostname):
                hostname = f"[{hostname}]"

            netloc = hostname
            if port is not None:
                netloc += f":{port}"
            if username is not None:
                userpass = username
                if password is not None:
                    userpass += f":{password}"
                netloc = f"{userpass}@{netloc}"
            kwargs["netloc"] = netloc

        components = self.components._replace(**kwargs)
        return self.__class__(components.geturl())

    def include_query_params(self, **kwargs: Any) -> URL:
        params = MultiDict(_parse_qsl_blank(self.query))
        params.update({str(key): str(value) for key, value in kwargs.items()})
        return self.replace(query=urlencode(params.multi_items()))

    def replace_query_params(self, **kwargs: Any) -> URL:
        return self.replace(query=urlencode([(str(key), str(value)) for key, value in kwargs.items()]))

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        if isinstance(keys, str):
            keys = [keys]
        params = MultiDict(_parse_qsl_blank(self.query))
        for key in keys:
            params.pop(key, None)
        return self.replace(query=urlencode(params.multi_items()))

    def __eq__(self, other: Any) -> bool:
        # Any object compares by its string form (URL("1") == 1 holds in the reference too).
        return str(self) == str(other)

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        url = str(self)
        if self.password:
            url = str(self.replace(password="********"))
        return f"{self.__class__.__name__}({url!r})"


def _parse_qsl_blank(query: str) -> list[tuple[str, str]]:
    return cast(list[tuple[str, str]], _parse_query_string(query))


def _is_ipv6(hostname: str) -> bool:
    try:
        ipaddress.IPv6Address(hostname)
    except ValueError:
        return False
    return True


def _url_from_scope(scope: Scope) -> str:
    scheme = scope.get("scheme", "http")
    server = scope.get("server")
    path = scope["path"]
    query_string = scope.get("query_string", b"")

    host = None
    host_header = _header_get(scope["headers"], "host")
    if host_header is not None:
        parsed = parse_host_header(host_header)
        # A Host header that is not a valid authority (or names an impossible port) is ignored.
        if parsed is not None and (parsed.port is None or int(parsed.port) <= 65535):
            host = host_header

    if host is not None:
        url = f"{scheme}://{host}{path}"
    elif server is None:
        url = path
    else:
        server_host, server_port = server
        if ":" in server_host:
            server_host = f"[{server_host}]"
        if server_port == _DEFAULT_PORTS[scheme]:
            url = f"{scheme}://{server_host}{path}"
        else:
            url = f"{scheme}://{server_host}:{server_port}{path}"

    if query_string:
        url += "?" + query_string.decode()
    return url


class URLPath(str):
    """A path plus the protocol and host it is to be reached with; made absolute against a base URL."""

    protocol: str
    host: str

    def __new__(cls, path: str, protocol: Literal["http", "websocket", ""] = "", host: str = "") -> URLPath:
        assert protocol in ("http", "websocket", "")
        # A path starting "//" (or with backslashes, which browsers read as slashes) would be taken
        # for a protocol-relative URL to another host: an open redirect.
        path = path.replace("\\", "%5C")
        if path.startswith("//"):
            path = "/%2F" + path[2:]
        return str.__new__(cls, path)

    def __init__(self, path: str, protocol: Literal["http", "websocket", ""] = "", host: str = "") -> None:
        self.protocol = protocol
        self.host = host

    def make_absolute_url(self, base_url: str | URL) -> URL:
        if isinstance(base_url, str):
            base_url = URL(base_url)
        if self.protocol:
            if self.protocol == "http":
                scheme = "https" if base_url.is_secure else "http"
            else:
                scheme = "wss" if base_url.is_secure else "ws"
        else:
            scheme = base_url.scheme

        netloc = self.host or base_url.netloc
        path = base_url.path.rstrip("/") + str(self)
        return URL(scheme=scheme, netloc=netloc, path=path)


class Secret:
    """A string that keeps itself out of reprs and tracebacks."""

    def __init__(self, value: str):
        self._value = value

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}('**********')"

    def __str__(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)


class CommaSeparatedStrings(Sequence[str]):
    __slots__ = ("_items",)

    def __init__(self, value: str | Sequence[str]):
        if isinstance(value, str):
            splitter = shlex.shlex(value, posix=True)
            splitter.whitespace = ","
            splitter.whitespace_split = True
            self._items = [item.strip() for item in splitter]
        else:
            self._items = list(value)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int | slice) -> Any:
        return self._items[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({list(self)!r})"

    def __str__(self) -> str:
        return ", ".join(repr(item) for item in self)


class ImmutableMultiDict(Mapping[_KeyType, _CovariantValueType]):
    __slots__ = ("_dict", "_list")

    _dict: dict[_KeyType, _CovariantValueType]
    _list: list[tuple[_KeyType, _CovariantValueType]]

    def __init__(
        self,
        *args: ImmutableMultiDict[_KeyType, _CovariantValueType]
        | Mapping[_KeyType, _CovariantValueType]
        | Iterable[tuple[_KeyType, _CovariantValueType]],
        **kwargs: Any,
    ) -> None:
        assert len(args) < 2, "Too many arguments."

        value: Any = args[0] if args else []
        if kwargs:
            value = ImmutableMultiDict(value).multi_items() + ImmutableMultiDict(kwargs).multi_items()

        if not value:
            items: list[tuple[Any, Any]] = []
        elif hasattr(value, "multi_items"):
            items = list(value.multi_items())
        elif hasattr(value, "keys"):
            items = list(value.items())
        else:
            items = list(value)

        self._dict = dict(items)
        self._list = items

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # get() skips __getitem__ for speed; a subclass that redefines __getitem__ gets Mapping's get back.
        if "__getitem__" in cls.__dict__ and "get" not in cls.__dict__:
            cls.get = Mapping.get  # type: ignore[method-assign,assignment]

    def get(self, key: Any, default: Any = None) -> Any:
        return self._dict.get(key, default)

    def getlist(self, key: Any) -> list[_CovariantValueType]:
        return [item_value for item_key, item_value in self._list if item_key == key]

    def keys(self) -> KeysView[_KeyType]:
        return self._dict.keys()

    def values(self) -> ValuesView[_CovariantValueType]:
        return self._dict.values()

    def items(self) -> ItemsView[_KeyType, _CovariantValueType]:
        return self._dict.items()

    def multi_items(self) -> list[tuple[_KeyType, _CovariantValueType]]:
        return list(self._list)

    def __getitem__(self, key: _KeyType) -> _CovariantValueType:
        return self._dict[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[_KeyType]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, self.__class__):
            return False
        # Order matters only among values of the same key.
        return sorted(self._list, key=itemgetter(0)) == sorted(other._list, key=itemgetter(0))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.multi_items()!r})"


class MultiDict(ImmutableMultiDict[Any, Any]):
    __slots__ = ()

    def __setitem__(self, key: Any, value: Any) -> None:
        self.setlist(key, [value])

    def __delitem__(self, key: Any) -> None:
        self._list = [(k, v) for k, v in self._list if k != key]
        del self._dict[key]

    def pop(self, key: Any, default: Any = None) -> Any:
        self._list = [(k, v) for k, v in self._list if k != key]
        return self._dict.pop(key, default)

    def popitem(self) -> tuple[Any, Any]:
        key, value = self._dict.popitem()
        self._list = [(k, v) for k, v in self._list if k != key]
        return key, value

    def poplist(self, key: Any) -> list[Any]:
        values = [v for k, v in self._list if k == key]
        self.pop(key)
        return values

    def clear(self) -> None:
        self._dict.clear()
        self._list.clear()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self._dict[key] = default
            self._list.append((key, default))
        return self[key]

    def setlist(self, key: Any, values: list[Any]) -> None:
        if not values:
            self.pop(key, None)
        else:
            existing = [(k, v) for k, v in self._list if k != key]
            self._list = existing + [(key, value) for value in values]
            self._dict[key] = values[-1]

    def append(self, key: Any, value: Any) -> None:
        self._list.append((key, value))
        self._dict[key] = value

    def update(
        self,
        *args: MultiDict | Mapping[Any, Any] | list[tuple[Any, Any]],
        **kwargs: Any,
    ) -> None:
        value = MultiDict(*args, **kwargs)
        existing = [(k, v) for k, v in self._list if k not in value.keys()]
        self._list = existing + value.multi_items()
        self._dict.update(value)


class QueryParams(ImmutableMultiDict[str, str]):
    """An immutable multidict of query parameters, from a query string or from pairs."""

    # A request's QueryParams may start out holding only its raw query string (set by requests.py):
    # get() then scans it, and anything else parses it once, through __getattr__ on the unset slots.
    __slots__ = ("_query",)

    _query: bytes | None

    def __init__(
        self,
        *args: ImmutableMultiDict[Any, Any] | Mapping[Any, Any] | list[tuple[Any, Any]] | str | bytes,
        **kwargs: Any,
    ) -> None:
        assert len(args) < 2, "Too many arguments."

        self._query = None
        value = args[0] if args else []

        if (type(value) is bytes or type(value) is str) and not kwargs:
            # One pass gives both the pairs and the dict, already strings.
            self._list, self._dict = _parse_query(value)
            return
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str):
            items: list[tuple[str, str]] = _parse_query_string(value)
            if not kwargs:
                self._list = items
                self._dict = dict(items)
                return
            super().__init__(items, **kwargs)
        else:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._list = [(str(k), str(v)) for k, v in self._list]
        self._dict = {str(k): str(v) for k, v in self._dict.items()}

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal lookup fails: for _list and _dict, that means "not parsed yet".
        if name == "_list" or name == "_dict":
            try:
                query = object.__getattribute__(self, "_query")
            except AttributeError:
                query = None
            if query is not None:
                self._list, self._dict = _parse_query(query)
                self._query = None
                return object.__getattribute__(self, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'", name=name, obj=self)

    # The twin function is the method itself: no Python frame between the caller and the scan.
    get = _http.query_params_get

    def __str__(self) -> str:
        return urlencode(self._list)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({str(self)!r})"


class UploadFile:
    """An uploaded file: a spooled temporary file with async methods that keep disk I/O off the event loop."""

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
        # A SpooledTemporaryFile that has not rolled over yet; plain file objects count as not in memory.
        rolled_to_disk = getattr(self.file, "_rolled", True)
        return not rolled_to_disk

    def _will_roll(self, size_to_add: int) -> bool:
        # True when the write may touch disk: the file is already on disk, or this write
        # pushes a SpooledTemporaryFile past max_size and makes it roll over.
        if not self._in_memory:
            return True
        max_size: int = getattr(self.file, "_max_size", 0)
        if not max_size:
            return False
        return bool(self.file.tell() + size_to_add > max_size)

    async def write(self, data: bytes) -> None:
        if self.size is not None:
            self.size += len(data)

        if self._will_roll(len(data)):
            await run_in_threadpool(self.file.write, data)
        else:
            self.file.write(data)

    async def read(self, size: int = -1) -> bytes:
        if self._in_memory:
            return self.file.read(size)
        return await run_in_threadpool(self.file.read, size)

    async def seek(self, offset: int) -> None:
        if self._in_memory:
            self.file.seek(offset)
        else:
            await run_in_threadpool(self.file.seek, offset)

    async def close(self) -> None:
        if self._in_memory:
            self.file.close()
        else:
            await run_in_threadpool(self.file.close)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"


class FormData(ImmutableMultiDict[str, "UploadFile | str"]):
    """An immutable multidict of form fields; file fields are UploadFile."""

    __slots__ = ()

    def __init__(
        self,
        *args: FormData | Mapping[str, str | UploadFile] | list[tuple[str, str | UploadFile]],
        **kwargs: str | UploadFile,
    ) -> None:
        super().__init__(*args, **kwargs)

    async def close(self) -> None:
        for _, value in self.multi_items():
            if isinstance(value, UploadFile):
                await value.close()


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive multidict over the raw ASGI header list, decoded on access."""

    __slots__ = ("_list",)

    _list: list[tuple[bytes, bytes]]

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: list[tuple[bytes, bytes]] | None = None,
        scope: MutableMapping[str, Any] | None = None,
    ) -> None:
        if headers is not None:
            assert raw is None, 'Cannot set both "headers" and "raw".'
            assert scope is None, 'Cannot set both "headers" and "scope".'
            self._list = [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()]
        elif raw is not None:
            assert scope is None, 'Cannot set both "raw" and "scope".'
            self._list = raw
        elif scope is not None:
            # Our own copy, written back so later mutations through the scope stay in step.
            self._list = scope["headers"] = list(scope["headers"])
        else:
            self._list = []

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        # A copy: an immutable Headers must not hand out its (possibly shared) list.
        return list(self._list)

    def keys(self) -> list[str]:  # type: ignore[override]
        return [key.decode("latin-1") for key, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]
        return [value.decode("latin-1") for _, value in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(key.decode("latin-1"), value.decode("latin-1")) for key, value in self._list]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # get() skips __getitem__ for speed; a subclass that redefines __getitem__ gets Mapping's get back.
        if "__getitem__" in cls.__dict__ and "get" not in cls.__dict__:
            cls.get = Mapping.get  # type: ignore[method-assign,assignment]

    def getlist(self, key: str) -> list[str]:
        return cast(list[str], _header_getlist(self._list, key))

    def mutablecopy(self) -> MutableHeaders:
        return MutableHeaders(raw=self._list[:])

    # The twin functions are the methods themselves: no Python frame between the caller and the scan.
    get = _http.headers_get
    __getitem__ = _http.headers_getitem

    def __contains__(self, key: Any) -> bool:
        return cast(bool, _header_contains(self._list, key))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._list)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Headers):
            return False
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        as_dict = dict(self.items())
        if len(as_dict) == len(self):
            return f"{class_name}({as_dict!r})"
        return f"{class_name}(raw={self.raw!r})"


class MutableHeaders(Headers):
    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        """Set the header, replacing the first occurrence and dropping any others."""
        set_key = key.lower().encode("latin-1")
        set_value = value.encode("latin-1")

        found_indexes: list[int] = []
        for idx, (item_key, _) in enumerate(self._list):
            if item_key == set_key:
                found_indexes.append(idx)

        for idx in reversed(found_indexes[1:]):
            del self._list[idx]

        if found_indexes:
            self._list[found_indexes[0]] = (set_key, set_value)
        else:
            self._list.append((set_key, set_value))

    def __delitem__(self, key: str) -> None:
        del_key = key.lower().encode("latin-1")
        # In place: the list may be the scope's own header list.
        self._list[:] = [item for item in self._list if item[0] != del_key]

    def __ior__(self, other: Mapping[str, str]) -> MutableHeaders:
        if not isinstance(other, Mapping):
            raise TypeError(f"Expected a mapping but got {other.__class__.__name__}")
        self.update(other)
        return self

    def __or__(self, other: Mapping[str, str]) -> MutableHeaders:
        if not isinstance(other, Mapping):
            raise TypeError(f"Expected a mapping but got {other.__class__.__name__}")
        new = self.mutablecopy()
        new.update(other)
        return new

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return self._list

    def setdefault(self, key: str, value: str) -> str:
        set_key = key.lower().encode("latin-1")
        set_value = value.encode("latin-1")
        for item_key, item_value in self._list:
            if item_key == set_key:
                return item_value.decode("latin-1")
        self._list.append((set_key, set_value))
        return value

    def update(self, other: Mapping[str, str]) -> None:  # type: ignore[override]
        for key, val in other.items():
            self[key] = val

    def append(self, key: str, value: str) -> None:
        """Add a header without replacing existing ones of the same name."""
        self._list.append((key.lower().encode("latin-1"), value.encode("latin-1")))

    def add_vary_header(self, vary: str) -> None:
        existing = self.getlist("vary")
        if existing:
            vary = ", ".join([*existing, vary])
        self["vary"] = vary


class State:
    """An attribute bag for app and request state; also readable as a mapping."""

    _state: dict[str, Any]

    def __init__(self, state: dict[str, Any] | None = None):
        if state is None:
            state = {}
        super().__setattr__("_state", state)

    def __setattr__(self, key: Any, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: Any) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"'{self.__class__.__name__}' object has no attribute '{key}'")

    def __delattr__(self, key: Any) -> None:
        del self._state[key]

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
