"""WebSocket sessions over ASGI: the connection object, its states and its exceptions.

A session has two sides that move on their own: what the client has told the app
(`client_state`) and what the app has told the client (`application_state`). Each side is a
small state machine, kept below as a table of the ASGI message types it takes in each state and
where each leads; `receive()` and `send()` check every message against it.

The typed methods (`accept`, `receive_text`, `send_json`, `close`, ...) stand for calls of
`receive()`, `send()` and `_raise_on_disconnect()`, as in the reference, so that a subclass, a
patch on the class or a replacement on the instance sees every message. While none of that has
happened they do the work in their own frame instead, taking the table's common moves directly:
a session is a handful of such calls, and a coroutine frame less on each is much of their cost.
"""

from __future__ import annotations

import contextlib
import enum
import json
from abc import ABCMeta
from collections.abc import AsyncIterator, Iterable
from typing import Any, ClassVar, NoReturn

from fastframe import speedups
from fastframe.requests import HTTPConnection
from fastframe.responses import Response
from fastframe.types import Message, Receive, Scope, Send


class WebSocketDisconnect(Exception):
    # args stay what the caller passed (the reference never calls Exception.__init__).
    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""


class WebSocketDisconnected(RuntimeError):
    """The session was used after its side of the conversation had ended."""


class WebSocketState(enum.Enum):
    """Where one side of a session stands; RESPONSE: the app is refusing the handshake with an HTTP response."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


_CONNECTING = WebSocketState.CONNECTING
_CONNECTED = WebSocketState.CONNECTED
_DISCONNECTED = WebSocketState.DISCONNECTED
_RESPONSE = WebSocketState.RESPONSE

# Where a denial response's body part leads depends on its more_body: decided in _Side.advance.
_BY_MORE_BODY = None
_UNEXPECTED = object()


class _Side:
    """One direction's state machine: per state, the message types allowed and the state each leads to."""

    __slots__ = ("moves", "ended")

    def __init__(self, moves: dict[WebSocketState, tuple[str, dict[Any, Any]]], ended: str) -> None:
        self.moves = moves
        self.ended = ended

    def advance(self, state: WebSocketState, message: Message) -> WebSocketState:
        """The state after `message`; raises the reference's error for a message out of turn."""
        if state is _DISCONNECTED:
            raise WebSocketDisconnected(self.ended)
        expected, table = self.moves[state]
        kind = message["type"]
        try:
            following = table.get(kind, _UNEXPECTED)
        except TypeError:
            # An unhashable type: the reference tests one expected type with ==, several with `in`.
            if len(table) > 1:
                raise
            following = _UNEXPECTED
        if following is _UNEXPECTED:
            raise RuntimeError(f"Expected ASGI message {expected}, but got {kind!r}")
        if following is _BY_MORE_BODY:
            return _RESPONSE if message.get("more_body", False) else _DISCONNECTED
        return following  # type: ignore[no-any-return]


_FROM_CLIENT = _Side(
    {
        _CONNECTING: ('"websocket.connect"', {"websocket.connect": _CONNECTED}),
        _CONNECTED: (
            '"websocket.receive" or "websocket.disconnect"',
            {"websocket.receive": _CONNECTED, "websocket.disconnect": _DISCONNECTED},
        ),
    },
    'Cannot call "receive" once a disconnect message has been received.',
)
_FROM_APP = _Side(
    {
        _CONNECTING: (
            '"websocket.accept", "websocket.close" or "websocket.http.response.start"',
            {
                "websocket.accept": _CONNECTED,
                "websocket.close": _DISCONNECTED,
                "websocket.http.response.start": _RESPONSE,
            },
        ),
        _CONNECTED: (
            '"websocket.send" or "websocket.close"',
            {"websocket.send": _CONNECTED, "websocket.close": _DISCONNECTED},
        ),
        _RESPONSE: ('"websocket.http.response.body"', {"websocket.http.response.body": _BY_MORE_BODY}),
    },
    'Cannot call "send" once a close message has been sent.',
)

_NOT_ACCEPTED = 'WebSocket is not connected. Need to call "accept" first.'
_BAD_MODE = 'The "mode" argument should be "text" or "binary".'
_MODES = ("text", "binary")
_DENIAL_EXTENSION = "websocket.http.response"
# What a transport failure on an open connection is reported as: an abnormal closure.
_ABNORMAL_CLOSURE = 1006


# The methods the typed ones stand for (see WebSocket): overridden or patched, they are called.
_STOOD_FOR = ("receive", "send", "_raise_on_disconnect")


class _WebSocketType(ABCMeta):
    """Keeps a WebSocket class's `_plain_io` true exactly while the class has WebSocket's own
    receive(), send() and _raise_on_disconnect(), whether they are overridden in a subclass or
    patched on a class later (instrumentation, mock.patch.object). Sessions read it when made."""

    def __init__(cls, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _note_plain_io(cls)

    def __setattr__(cls, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in _STOOD_FOR:
            _note_plain_io(cls)

    def __delattr__(cls, name: str) -> None:
        super().__delattr__(name)
        if name in _STOOD_FOR:
            _note_plain_io(cls)


_own_io: list[Any] = []  # WebSocket's own methods, in _STOOD_FOR's order, once it exists


def _note_plain_io(cls: type) -> None:
    """Set `_plain_io` on `cls` and on every class below it, which inherit what changed."""
    pending = [cls]
    while pending:
        klass = pending.pop()
        plain = [getattr(klass, name) for name in _STOOD_FOR] == _own_io
        type.__setattr__(klass, "_plain_io", plain)
        pending.extend(klass.__subclasses__())


class WebSocket(HTTPConnection, metaclass=_WebSocketType):
    """A websocket session: the scope's connection details, plus the conversation."""

    # _hooks is truthy when the typed methods must call what they stand for: True when the class
    # has its own receive(), send() or _raise_on_disconnect(), else the instance's attribute dict,
    # which a replacement made on the instance (websocket.send = ...) fills.
    __slots__ = ("client_state", "application_state", "_hooks")
    _plain_io: ClassVar[bool]

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        self._open(scope, receive, send)
        self.client_state = _CONNECTING
        self.application_state = _CONNECTING
        self._hooks: Any = self.__dict__ if self._plain_io else True

    # --- every message passes here, checked against its side's state ---------------------------

    async def receive(self) -> Message:
        """The next ASGI message from the client."""
        if self.client_state is _DISCONNECTED:
            raise WebSocketDisconnected(_FROM_CLIENT.ended)
        message = await self._receive()
        self.client_state = _FROM_CLIENT.advance(self.client_state, message)
        return message

    async def send(self, message: Message) -> None:
        """Pass an ASGI message to the client."""
        was_open = self.application_state is _CONNECTED
        self.application_state = _FROM_APP.advance(self.application_state, message)
        try:
            await self._send(message)
        except OSError:
            if was_open:
                self._lost()
            raise

    def _lost(self) -> None:
        # Called while the transport's OSError is being handled: it becomes the context.
        self.application_state = _DISCONNECTED
        raise WebSocketDisconnect(code=_ABNORMAL_CLOSURE)

    def _raise_on_disconnect(self, message: Message) -> None:
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message["code"], message.get("reason"))

    def _not_data(self, message: Message) -> NoReturn:
        """The short path's answer to a message other than websocket.receive on an open session."""
        self.client_state = _FROM_CLIENT.advance(_CONNECTED, message)  # an unknown type raises here
        self._raise_on_disconnect(message)  # and the only other move, a disconnect, here
        raise AssertionError(message)

    async def _data(self) -> Message:
        """receive() and _raise_on_disconnect() for a data message, as the reference's typed receives do."""
        if self.application_state is not _CONNECTED:
            raise WebSocketDisconnected(_NOT_ACCEPTED)
        message = await self.receive()
        self._raise_on_disconnect(message)
        return message

    # --- the typed methods -----------------------------------------------------------------------

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        message = {"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers or []}
        if self._hooks or self.client_state is not _CONNECTING or self.application_state is not _CONNECTING:
            if self.client_state is _CONNECTING:
                # The handshake starts with the client's websocket.connect, not read yet.
                await self.receive()
            await self.send(message)
            return
        connect = await self._receive()
        if connect["type"] != "websocket.connect":
            _FROM_CLIENT.advance(_CONNECTING, connect)  # raises the reference's error
        self.client_state = self.application_state = _CONNECTED
        await self._send(message)

    async def receive_text(self) -> str:
        if self._hooks or self.client_state is not _CONNECTED or self.application_state is not _CONNECTED:
            return (await self._data())["text"]  # type: ignore[no-any-return]
        message = await self._receive()
        if message["type"] != "websocket.receive":
            self._not_data(message)
        return message["text"]  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        if self._hooks or self.client_state is not _CONNECTED or self.application_state is not _CONNECTED:
            return (await self._data())["bytes"]  # type: ignore[no-any-return]
        message = await self._receive()
        if message["type"] != "websocket.receive":
            self._not_data(message)
        return message["bytes"]  # type: ignore[no-any-return]

    async def receive_json(self, mode: str = "text") -> Any:
        if mode not in _MODES:
            raise RuntimeError(_BAD_MODE)
        if self._hooks or self.client_state is not _CONNECTED or self.application_state is not _CONNECTED:
            message = await self._data()
        else:
            message = await self._receive()
            if message["type"] != "websocket.receive":
                self._not_data(message)
        if mode == "text":
            return _json_loads_text(message["text"])
        return _json_loads_text(message["bytes"].decode("utf-8"))

    async def iter_text(self) -> AsyncIterator[str]:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                yield await self.receive_text()

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                yield await self.receive_bytes()

    async def iter_json(self) -> AsyncIterator[Any]:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                yield await self.receive_json()

    async def send_text(self, data: str) -> None:
        message = {"type": "websocket.send", "text": data}
        if self._hooks or self.application_state is not _CONNECTED:
            return await self.send(message)
        try:
            await self._send(message)
        except OSError:
            self._lost()

    async def send_bytes(self, data: bytes) -> None:
        message = {"type": "websocket.send", "bytes": data}
        if self._hooks or self.application_state is not _CONNECTED:
            return await self.send(message)
        try:
            await self._send(message)
        except OSError:
            self._lost()

    async def send_json(self, data: Any, mode: str = "text") -> None:
        if mode not in _MODES:
            raise RuntimeError(_BAD_MODE)
        message: Message
        if mode == "text":
            message = {"type": "websocket.send", "text": _json_text(data)}
        else:
            message = {"type": "websocket.send", "bytes": _json_bytes(data)}
        if self._hooks or self.application_state is not _CONNECTED:
            return await self.send(message)
        try:
            await self._send(message)
        except OSError:
            self._lost()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        message = {"type": "websocket.close", "code": code, "reason": reason or ""}
        if self._hooks or self.application_state is not _CONNECTED:
            return await self.send(message)
        self.application_state = _DISCONNECTED
        try:
            await self._send(message)
        except OSError:
            self._lost()

    async def send_denial_response(self, response: Response) -> None:
        """Refuse the handshake with an HTTP response (the ASGI websocket denial extension)."""
        if _DENIAL_EXTENSION not in self.scope.get("extensions", {}):
            raise RuntimeError("The server doesn't support the Websocket Denial Response extension.")
        await response(self.scope, self.receive, self.send)


_own_io.extend(getattr(WebSocket, name) for name in _STOOD_FOR)
_note_plain_io(WebSocket)


class WebSocketClose:
    """An ASGI app that closes the websocket it is given (or refuses its handshake)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.close", "code": self.code, "reason": self.reason})


# --- JSON as the reference writes and reads it on a websocket --------------------------------------
# The reference uses json.dumps(separators=(",", ":"), ensure_ascii=False), NaN allowed, and
# json.loads. The jsonenc twin gives the same bytes and values where it answers; everything it
# refuses (NaN, lone surrogates, errors) is handed to the stdlib, which then answers or raises as
# the reference does.

_fast_dumps = speedups.jsonenc.dumps
_fast_loads = speedups.jsonenc.loads
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The stdlib's own json.dumps and json.loads: while `json` here still has them the twin answers; a
# patched one (or a replaced `json`) is called as the reference calls it.
_STDLIB_DUMPS = json.dumps
_STDLIB_LOADS = json.loads


def _json_text(data: Any) -> str:
    if json.dumps is not _STDLIB_DUMPS:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)  # type: ignore[no-any-return]
    try:
        return _fast_dumps(data).decode("utf-8")  # type: ignore[no-any-return]
    except ValueError:
        return _encoder.encode(data)


def _json_bytes(data: Any) -> bytes:
    if json.dumps is not _STDLIB_DUMPS:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")  # type: ignore[no-any-return]
    try:
        return _fast_dumps(data)  # type: ignore[no-any-return]
    except ValueError:
        return _encoder.encode(data).encode("utf-8")


def _json_loads_text(text: Any) -> Any:
    """json.loads(text) for the text of a message (also used by WebSocketEndpoint)."""
    # json.loads reads bytes and str alike except for a leading BOM and NULs among the first four
    # characters (its encoding sniffing), so only text without either goes to the bytes decoder.
    if json.loads is not _STDLIB_LOADS:
        return json.loads(text)
    if type(text) is str and not text.startswith("\ufeff") and "\x00" not in text[:4]:
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: only the stdlib's str decoder takes them
            pass
        else:
            return _fast_loads(raw)
    return json.loads(text)
