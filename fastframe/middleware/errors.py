from __future__ import annotations

import html
import inspect
import traceback
from typing import Any

from fastframe import speedups
from fastframe._utils import is_async_callable
from fastframe.concurrency import run_in_threadpool
from fastframe.requests import Request
from fastframe.responses import HTMLResponse, PlainTextResponse, Response
from fastframe.types import ASGIApp, ExceptionHandler, Receive, Scope, Send

Tracker = speedups.response.Tracker

# The debug page is our own markup; it shows what the reference's page shows:
# the exception type and message, then each frame (most recent first) with its
# surrounding source lines, all but the innermost frame collapsed.
STYLES = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 1.5em; color: #222; }
h1 { color: #b00020; margin: 0 0 .3em; }
h2 { font-weight: normal; margin: 0 0 1em; word-break: break-word; }
.traceback-container { border: 1px solid #ccc; border-radius: 4px; }
.traceback-title { background: #f4f4f4; margin: 0; padding: .5em 1em; font-weight: bold; }
.frame-title { margin: 0; padding: .4em 1em; border-top: 1px solid #e4e4e4; background: #fafafa; }
.frame-filename { font-family: monospace; }
.collapse-btn { float: right; cursor: pointer; padding: 0 .5em; border: 1px solid #999; border-radius: 3px; }
.source-code { font-family: monospace; background: #fff; padding: .3em 0; }
.source-code p { margin: 0; white-space: pre; padding: 0 1em; }
.collapsed { display: none; }
.lineno { color: #888; margin-right: 1em; }
.center-line { background: #ffeaa7; }
"""

JS = """
<script type="text/javascript">
function collapse(button) {
    var target = document.getElementById(button.getAttribute("data-frame-id"));
    if (target.classList.toggle("collapsed")) { button.innerHTML = "+"; } else { button.innerHTML = "&#8210;"; }
}
</script>
"""

TEMPLATE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>500 Server Error</title>
<style>{styles}</style>
</head>
<body>
<h1>500 Server Error</h1>
<h2>{error}</h2>
<div class="traceback-container">
<p class="traceback-title">Traceback</p>
<div>{exc_html}</div>
</div>
{js}
</body>
</html>
"""

FRAME_TEMPLATE = """<div>
<p class="frame-title">File <span class="frame-filename">{frame_filename}</span>,
line <i>{frame_lineno}</i>, in <b>{frame_name}</b>
<span class="collapse-btn" data-frame-id="{frame_id}" onclick="collapse(this)">{collapse_button}</span></p>
<div id="{frame_id}" class="source-code {collapsed}">{code_context}</div>
</div>
"""

LINE = '<p><span class="lineno">{lineno}.</span>{line}</p>\n'
CENTER_LINE = '<p class="center-line"><span class="lineno">{lineno}.</span>{line}</p>\n'


class ServerErrorMiddleware:
    """Outermost middleware: turns an unhandled exception into a 500 response, then re-raises it.

    Re-raising lets the server log the error and lets the TestClient surface it.
    """

    def __init__(self, app: ASGIApp, handler: ExceptionHandler | None = None, debug: bool = False) -> None:
        self.app = app
        self.handler = handler
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        tracker = Tracker(send)
        try:
            await self.app(scope, receive, tracker.track)
        except Exception as exc:
            await self.answer(exc, scope, receive, send, tracker.started)
            raise exc

    async def answer(self, exc: Exception, scope: Scope, receive: Receive, send: Send, response_started: bool) -> None:
        """Send the 500 response for `exc` unless the response already started; the caller re-raises."""
        request = Request(scope)
        response: Any
        if self.debug:
            response = self.debug_response(request, exc)
        elif self.handler is None:
            response = self.error_response(request, exc)
        elif is_async_callable(self.handler):
            response = await self.handler(request, exc)  # type: ignore[arg-type]
        else:
            response = await run_in_threadpool(self.handler, request, exc)  # type: ignore[arg-type]

        if not response_started:
            await response(scope, receive, send)

    def format_line(self, index: int, line: str, frame_lineno: int, frame_index: int) -> str:
        escaped = html.escape(line).replace(" ", "&nbsp;")
        lineno = (frame_lineno - frame_index) + index
        template = CENTER_LINE if index == frame_index else LINE
        return template.format(lineno=lineno, line=escaped)

    def generate_frame_html(self, frame: inspect.FrameInfo, is_collapsed: bool) -> str:
        code_context = "".join(
            self.format_line(index, line.rstrip("\n"), frame.lineno, frame.index)  # type: ignore[arg-type]
            for index, line in enumerate(frame.code_context or [])
        )
        filename = html.escape(frame.filename)
        return FRAME_TEMPLATE.format(
            frame_filename=filename,
            frame_lineno=frame.lineno,
            frame_name=html.escape(frame.function),
            frame_id=f"{filename}-{frame.lineno}",
            collapse_button="+" if is_collapsed else "&#8210;",
            collapsed="collapsed" if is_collapsed else "",
            code_context=code_context,
        )

    def generate_html(self, exc: Exception, limit: int = 7) -> str:
        exc_html = ""
        is_collapsed = False
        frames = inspect.getinnerframes(exc.__traceback__, limit) if exc.__traceback__ else []
        for frame in reversed(frames):
            exc_html += self.generate_frame_html(frame, is_collapsed)
            is_collapsed = True
        error = f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}"
        return TEMPLATE.format(styles=STYLES, js=JS, error=error, exc_html=exc_html)

    def generate_plain_text(self, exc: Exception) -> str:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def debug_response(self, request: Request, exc: Exception) -> Response:
        accept = request.headers.get("accept", "")
        if "text/html" in accept:
            return HTMLResponse(self.generate_html(exc), status_code=500)
        return PlainTextResponse(self.generate_plain_text(exc), status_code=500)

    def error_response(self, request: Request, exc: Exception) -> Response:
        return PlainTextResponse("Internal Server Error", status_code=500)
