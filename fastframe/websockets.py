from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from fastframe import speedups
from fastframe.requests import HTTPConnection, StateT
from fastframe.responses import Response
from fastframe.types import Message, Receive, Scope, Send


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


_CONNECTING = WebSocketState.CONNECTING
_CONNECTED = WebSocketState.CONNECTED
_DISCONNECTED = WebSocketState.DISCONNECTED
_RESPONSE = WebSocketState.RESPONSE


class WebSocketDisconnect(Exception):
    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        # BaseException.__new__ already recorded the positional arguments as .args,
        # which is what str()/repr() show; only the attributes are set here.
        self.code = code
        self.reason = reason or ""


class WebSocketDisconnected(RuntimeError):
    # Misuse of a socket that is already closed (or never accepted), as opposed to
    # WebSocketDisconnect, which reports that the peer went away.
    pass


# The reference emits compact JSON that keeps non-ASCII text and accepts NaN and
# non-str keys: the stdlib with these settings. jsonenc.dumps gives the same bytes
# except that it refuses NaN/Infinity and surrogates (ValueError); those go to the stdlib.
_stdlib_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_stdlib_loads = json.loads
_fast_dumps: Callable[[Any], bytes] = speedups.jsonenc.dumps
_fast_loads: Callable[[bytes], Any] = speedups.jsonenc.loads


def _json_text(data: Any) -> str:
    try:
        return _fast_dumps(data).decode("utf-8")
    except ValueError:
        return _stdlib_encode(data)


def _json_bytes(data: Any) -> bytes:
    try:
        return _fast_dumps(data)
    except ValueError:
        return _stdlib_encode(data).encode("utf-8")


def _json_loads_text(text: Any) -> Any:
    """json.loads(text), as the reference's receive_json does it.

    jsonenc.loads(b) equals json.loads(b), which decodes b by sniffing a BOM or NUL bytes among
    the first four; without either, that is json.loads(text) of the text b was encoded from.
    """
    if type(text) is str and "\x00" not in text[:4] and not text.startswith("\ufeff"):
        try:
            return _fast_loads(text.encode("utf-8"))
        except ValueError:
            # Lone surrogates, or JSON the stdlib rejects: let it raise its own error on the text.
            pass
    return _stdlib_loads(text)


_NOT_CONNECTED = 'WebSocket is not connected. Need to call "accept" first.'
_BAD_MODE = 'The "mode" argument should be "text" or "binary".'


def _unexpected_receive(message_type: Any) -> RuntimeError:
    return RuntimeError(
        f'Expected ASGI message "websocket.receive" or "websocket.disconnect", but got {message_type!r}'
    )


class WebSocket(HTTPConnection[StateT]):
    __slots__ = ("_receive", "_send", "client_state", "application_state", "_hooked")

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        # HTTPConnection.__init__, inlined: one WebSocket is built per connection.
        self.scope = scope
        self._url = None
        self._base_url = None
        self._headers = None
        self._query_params = None
        self._cookies = None
        self._state = None
        self._receive = receive
        self._send = send
        self.client_state = _CONNECTING
        self.application_state = _CONNECTING
        # The typed methods below talk to the ASGI callables directly unless receive(), send()
        # or _raise_on_disconnect() was overridden (or patched on the class): then every
        # message goes through those, as in the reference.
        cls = type(self)
        self._hooked = (
            cls.receive is not _BASE_RECEIVE
            or cls.send is not _BASE_SEND
            or cls._raise_on_disconnect is not _BASE_CHECK
        )

    async def receive(self) -> Message:
        state = self.client_state
        if state is _CONNECTED:
            message = await self._receive()
            message_type = message["type"]
            if message_type == "websocket.receive":
                return message
            if message_type == "websocket.disconnect":
                self.client_state = _DISCONNECTED
                return message
            raise _unexpected_receive(message_type)
        if state is _CONNECTING:
            message = await self._receive()
            message_type = message["type"]
            if message_type != "websocket.connect":
                raise RuntimeError(f'Expected ASGI message "websocket.connect", but got {message_type!r}')
            self.client_state = _CONNECTED
            return message
        raise WebSocketDisconnected('Cannot call "receive" once a disconnect message has been received.')

    async def send(self, message: Message) -> None:
        state = self.application_state
        if state is _CONNECTED:
            message_type = message["type"]
            if message_type == "websocket.send":
                pass
            elif message_type == "websocket.close":
                self.application_state = _DISCONNECTED
            else:
                raise RuntimeError(
                    f'Expected ASGI message "websocket.send" or "websocket.close", but got {message_type!r}'
                )
            try:
                await self._send(message)
            except OSError:
                # The transport went away under us: report it as an abnormal closure.
                self.application_state = _DISCONNECTED
                raise WebSocketDisconnect(code=1006)
            return
        if state is _CONNECTING:
            message_type = message["type"]
            if message_type == "websocket.accept":
                self.application_state = _CONNECTED
            elif message_type == "websocket.close":
                self.application_state = _DISCONNECTED
            elif message_type == "websocket.http.response.start":
                self.application_state = _RESPONSE
            else:
                raise RuntimeError(
                    'Expected ASGI message "websocket.accept", "websocket.close" or '
                    f'"websocket.http.response.start", but got {message_type!r}'
                )
            await self._send(message)
            return
        if state is _RESPONSE:
            message_type = message["type"]
            if message_type != "websocket.http.response.body":
                raise RuntimeError(f'Expected ASGI message "websocket.http.response.body", but got {message_type!r}')
            if not message.get("more_body", False):
                self.application_state = _DISCONNECTED
            await self._send(message)
            return
        raise WebSocketDisconnected('Cannot call "send" once a close message has been sent.')

    # The methods below handle the common state inline (one coroutine frame instead of
    # two or three) and hand every other state to send()/receive(), which raise the errors.

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        headers = headers or []
        hooked = self._hooked
        if self.client_state is _CONNECTING:
            # The connect message must be consumed before the handshake can be answered.
            if hooked:
                await self.receive()
            else:
                message = await self._receive()
                message_type = message["type"]
                if message_type != "websocket.connect":
                    raise RuntimeError(f'Expected ASGI message "websocket.connect", but got {message_type!r}')
                self.client_state = _CONNECTED
        message = {"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers}
        if self.application_state is _CONNECTING and not hooked:
            self.application_state = _CONNECTED
            await self._send(message)
        else:
            await self.send(message)

    def _raise_on_disconnect(self, message: Message) -> None:
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message["code"], message.get("reason"))

    async def receive_text(self) -> str:
        if self.application_state is not _CONNECTED:
            raise WebSocketDisconnected(_NOT_CONNECTED)
        if self.client_state is not _CONNECTED or self._hooked:
            message = await self.receive()
            self._raise_on_disconnect(message)
            return message["text"]  # type: ignore[no-any-return]
        message = await self._receive()
        message_type = message["type"]
        if message_type == "websocket.receive":
            return message["text"]  # type: ignore[no-any-return]
        if message_type == "websocket.disconnect":
            self.client_state = _DISCONNECTED
            raise WebSocketDisconnect(message["code"], message.get("reason"))
        raise _unexpected_receive(message_type)

    async def receive_bytes(self) -> bytes:
        if self.application_state is not _CONNECTED:
            raise WebSocketDisconnected(_NOT_CONNECTED)
        if self.client_state is not _CONNECTED or self._hooked:
            message = await self.receive()
            self._raise_on_disconnect(message)
            return message["bytes"]  # type: ignore[no-any-return]
        message = await self._receive()
        message_type = message["type"]
        if message_type == "websocket.receive":
            return message["bytes"]  # type: ignore[no-any-return]
        if message_type == "websocket.disconnect":
            self.client_state = _DISCONNECTED
            raise WebSocketDisconnect(message["code"], message.get("reason"))
        raise _unexpected_receive(message_type)

    async def receive_json(self, mode: str = "text") -> Any:
        if mode != "text" and mode != "binary":
            raise RuntimeError(_BAD_MODE)
        if self.application_state is not _CONNECTED:
            raise WebSocketDisconnected(_NOT_CONNECTED)
        if self.client_state is not _CONNECTED or self._hooked:
            message = await self.receive()
            self._raise_on_disconnect(message)
        else:
            message = await self._receive()
            message_type = message["type"]
            if message_type == "websocket.disconnect":
                self.client_state = _DISCONNECTED
                raise WebSocketDisconnect(message["code"], message.get("reason"))
            if message_type != "websocket.receive":
                raise _unexpected_receive(message_type)
        if mode == "text":
            return _json_loads_text(message["text"])
        return _json_loads_text(message["bytes"].decode("utf-8"))

    async def iter_text(self) -> AsyncIterator[str]:
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    async def send_text(self, data: str) -> None:
        if self.application_state is not _CONNECTED or self._hooked:
            await self.send({"type": "websocket.send", "text": data})
            return
        try:
            await self._send({"type": "websocket.send", "text": data})
        except OSError:
            self.application_state = _DISCONNECTED
            raise WebSocketDisconnect(code=1006)

    async def send_bytes(self, data: bytes) -> None:
        if self.application_state is not _CONNECTED or self._hooked:
            await self.send({"type": "websocket.send", "bytes": data})
            return
        try:
            await self._send({"type": "websocket.send", "bytes": data})
        except OSError:
            self.application_state = _DISCONNECTED
            raise WebSocketDisconnect(code=1006)

    async def send_json(self, data: Any, mode: str = "text") -> None:
        if mode == "text":
            message: Message = {"type": "websocket.send", "text": _json_text(data)}
        elif mode == "binary":
            message = {"type": "websocket.send", "bytes": _json_bytes(data)}
        else:
            raise RuntimeError(_BAD_MODE)
        if self.application_state is not _CONNECTED or self._hooked:
            await self.send(message)
            return
        try:
            await self._send(message)
        except OSError:
            self.application_state = _DISCONNECTED
            raise WebSocketDisconnect(code=1006)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        message = {"type": "websocket.close", "code": code, "reason": reason or ""}
        state = self.application_state
        if self._hooked:
            await self.send(message)
        elif state is _CONNECTED:
            self.application_state = _DISCONNECTED
            try:
                await self._send(message)
            except OSError:
                raise WebSocketDisconnect(code=1006)
        elif state is _CONNECTING:
            self.application_state = _DISCONNECTED
            await self._send(message)
        else:
            await self.send(message)

    async def send_denial_response(self, response: Response) -> None:
        if "websocket.http.response" in self.scope.get("extensions", {}):
            await response(self.scope, self.receive, self.send)
        else:
            raise RuntimeError("The server doesn't support the Websocket Denial Response extension.")


_BASE_RECEIVE = WebSocket.receive
_BASE_SEND = WebSocket.send
_BASE_CHECK = WebSocket._raise_on_disconnect


class WebSocketClose:
    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.close", "code": self.code, "reason": self.reason})
