"""Subscriptions over WebSocket with the graphql-transport-ws protocol (the `graphql-ws` library's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup
from graphql import ExecutionResult, OperationType

from fastframe.background import BackgroundTasks
from fastframe.graphql._http import RequestError, params_from_mapping

if TYPE_CHECKING:
    from fastframe.graphql import GraphQLApp
    from fastframe.websockets import WebSocket

PROTOCOL = "graphql-transport-ws"

# Close codes defined by the protocol.
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
INIT_TIMEOUT = 4408
SUBSCRIBER_EXISTS = 4409
TOO_MANY_INITIALISATION_REQUESTS = 4429


class _Closed(Exception):
    pass


class GraphQLTransportWS:
    def __init__(self, app: GraphQLApp, websocket: WebSocket) -> None:
        self.app = app
        self.websocket = websocket
        self.init_received = False
        self.acknowledged = False
        self.closed = False
        self.operations: dict[str, anyio.CancelScope] = {}
        self.context: Any = None
        self.root: Any = None
        self.background = BackgroundTasks()

    async def run(self) -> None:
        if PROTOCOL not in self.websocket.scope.get("subprotocols", []):
            await self.websocket.close(code=SUBPROTOCOL_NOT_ACCEPTABLE)
            return
        await self.websocket.accept(subprotocol=PROTOCOL)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._init_timeout)
                try:
                    await self._read(tasks)
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            if self.background.tasks:
                await self.background()

    async def _read(self, tasks: TaskGroup) -> None:
        while not self.closed:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.closed = True
                return
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                try:
                    text = message["bytes"].decode("utf-8")
                except UnicodeDecodeError:
                    text = None
            try:
                await self._handle(text, tasks)
            except _Closed:
                return

    async def _close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            await self.websocket.close(code=code, reason=reason)
        raise _Closed()

    async def _send(self, message: dict[str, Any]) -> None:
        if not self.closed:
            await self.websocket.send_text(self.app._dumps(message).decode("utf-8"))

    async def _init_timeout(self) -> None:
        await anyio.sleep(self.app.connection_init_wait_timeout)
        if not self.init_received and not self.closed:
            self.closed = True
            await self.websocket.close(code=INIT_TIMEOUT, reason="Connection initialisation timeout")

    async def _handle(self, text: str | None, tasks: TaskGroup) -> None:
        try:
            message = self.app._loads(text.encode("utf-8")) if text is not None else None
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self._close(BAD_REQUEST, "Invalid message received")
            return
        kind = message["type"]
        if kind == "connection_init":
            await self._connection_init(message.get("payload"))
        elif kind == "ping":
            pong: dict[str, Any] = {"type": "pong"}
            if message.get("payload") is not None:
                pong["payload"] = message["payload"]
            await self._send(pong)
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self._subscribe(message, tasks)
        elif kind == "complete":
            scope = self.operations.pop(str(message.get("id")), None)
            if scope is not None:
                scope.cancel()
        else:
            await self._close(BAD_REQUEST, f"Invalid message type {kind!r}")

    async def _connection_init(self, payload: Any) -> None:
        if self.init_received:
            await self._close(TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests")
        self.init_received = True
        if payload is not None and not isinstance(payload, dict):
            await self._close(BAD_REQUEST, "The connection_init payload must be an object")
        ack: dict[str, Any] = {"type": "connection_ack"}
        if self.app.on_connect is not None:
            verdict = self.app.on_connect(self.websocket, payload)
            if hasattr(verdict, "__await__"):
                verdict = await verdict
            if verdict is False:
                await self._close(FORBIDDEN, "Forbidden")
            if isinstance(verdict, dict):
                ack["payload"] = verdict
        self.context = await self.app.context_for(self.websocket, self.background)
        self.root = await self.app.root_for(self.websocket)
        self.acknowledged = True
        await self._send(ack)

    async def _subscribe(self, message: dict[str, Any], tasks: TaskGroup) -> None:
        if not self.acknowledged:
            await self._close(UNAUTHORIZED, "Unauthorized")
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not operation_id:
            await self._close(BAD_REQUEST, "The subscribe message needs a non-empty string id")
        assert isinstance(operation_id, str)
        try:
            params = params_from_mapping(message.get("payload"))
        except RequestError as error:
            await self._close(BAD_REQUEST, error.message)
            return
        if operation_id in self.operations:
            await self._close(SUBSCRIBER_EXISTS, f"Subscriber for {operation_id} already exists")
        scope = anyio.CancelScope()
        self.operations[operation_id] = scope
        tasks.start_soon(self._operation, operation_id, params, scope)

    async def _operation(self, operation_id: str, params: Any, scope: anyio.CancelScope) -> None:
        from fastframe.graphql import OperationErrors

        with scope:
            try:
                prepared = self.app.prepare(params)
            except OperationErrors as failure:
                self.operations.pop(operation_id, None)
                await self._send({"id": operation_id, "type": "error", "payload": failure.formatted()})
                return
            try:
                if prepared.kind is OperationType.SUBSCRIPTION:
                    stream = await self.app.subscribe(prepared, params, self.context, self.root)
                    if isinstance(stream, ExecutionResult):
                        # The event stream could not be created: the protocol's error message.
                        self.operations.pop(operation_id, None)
                        payload = (stream.formatted.get("errors") or []) if stream.errors else []
                        await self._send({"id": operation_id, "type": "error", "payload": payload})
                        return
                    try:
                        async for result in stream:
                            await self._send({"id": operation_id, "type": "next", "payload": result.formatted})
                    finally:
                        aclose = getattr(stream, "aclose", None)
                        if aclose is not None:
                            await aclose()
                else:
                    result = await self.app.execute(prepared, params, self.context, self.root)
                    await self._send({"id": operation_id, "type": "next", "payload": result.formatted})
            except _Closed:
                return
            if self.operations.pop(operation_id, None) is not None:
                await self._send({"id": operation_id, "type": "complete"})
