"""StreamingResponse: a body sent chunk by chunk as an iterable produces it.

Import it from fastframe.responses, which re-exports it once Response exists.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping
from functools import partial
from types import AsyncGeneratorType

from fastframe._disconnect import server_reports_disconnects, until_disconnect, wait_for_disconnect, websocket_denial
from fastframe.background import BackgroundTask
from fastframe.concurrency import iterate_in_threadpool
from fastframe.requests import ClientDisconnect
from fastframe.responses import AsyncContentStream, ContentStream, Response
from fastframe.types import Receive, Scope, Send

_BINARY = (bytes, memoryview)


def init_unsized(
    response: Response,
    status_code: int,
    headers: Mapping[str, str] | None,
    media_type: str | None,
    background: BackgroundTask | None,
) -> None:
    """What Response.__init__ sets, less the body: it is sent later, so there is no Content-Length yet."""
    response.status_code = status_code
    if media_type is not None:
        response.media_type = media_type
    response.background = background
    response.init_headers(headers)


class StreamingResponse(Response):
    body_iterator: AsyncContentStream

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        # A plain iterable may block, so each step of it runs in the thread pool. (Most bodies are async
        # generators: the exact type is checked before the slower ABC check.)
        if type(content) is AsyncGeneratorType or isinstance(content, AsyncIterable):
            self.body_iterator = content  # type: ignore[assignment]
        else:
            self.body_iterator = iterate_in_threadpool(content)
        init_unsized(self, status_code, headers, media_type, background)

    async def listen_for_disconnect(self, receive: Receive) -> None:
        await wait_for_disconnect(receive)

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        charset = self.charset
        async for chunk in self.body_iterator:
            body = chunk if isinstance(chunk, _BINARY) else chunk.encode(charset)
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            # A denial response: nobody listens, and a failed send stays what it is.
            await self.stream_response(websocket_denial(send))
        elif server_reports_disconnects(scope):
            try:
                await self.stream_response(send)
            except OSError:
                raise ClientDisconnect()
        else:
            await until_disconnect(partial(self.stream_response, send), partial(self.listen_for_disconnect, receive))
        if self.background is not None:
            await self.background()


StreamingResponse.__module__ = "fastframe.responses"
