"""ServerErrorMiddleware: the outermost layer, answering an unhandled exception with a 500.

The exception is raised again afterwards, so the server logs it (and the TestClient raises it).
With `debug` the 500 shows the traceback: an HTML page for clients that accept HTML (the markup is
this project's own), plain text for the others.
"""

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

_Tracker = speedups.response.Tracker

STYLES = """
body { margin: 0; padding: 2rem; font: 15px/1.5 system-ui, sans-serif; color: #1d1d1f; background: #fff; }
header { border-bottom: 2px solid #c62828; margin-bottom: 1.5rem; }
header h1 { margin: 0; font-size: 1.6rem; color: #c62828; }
header h2 { margin: .2rem 0 .8rem; font-size: 1.1rem; font-weight: 500; overflow-wrap: anywhere; }
section.trace h3 { font-size: 1rem; margin: 0 0 .5rem; }
article.frame { border: 1px solid #ddd; border-radius: 6px; margin-bottom: .6rem; overflow: hidden; }
article.frame > p { margin: 0; padding: .4rem .8rem; background: #f6f6f6; }
article.frame code.where { font-weight: 600; }
button.toggle { float: right; font: inherit; border: 1px solid #aaa; border-radius: 4px; background: #fff; }
ol.source { margin: 0; padding: .4rem 0; list-style: none; font: 13px/1.45 ui-monospace, monospace; }
ol.source li { padding: 0 .8rem; white-space: pre; }
ol.source li.failing { background: #fde7e7; }
ol.source li span.no { display: inline-block; min-width: 3.5em; color: #888; }
.hidden { display: none; }
"""

JS = """
<script>
function toggleFrame(button) {
    var source = document.getElementById(button.dataset.frame);
    var hidden = source.classList.toggle("hidden");
    button.textContent = hidden ? "+" : "\u2212";
}
</script>
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>500 Server Error</title>
<style>{styles}</style>
</head>
<body>
<header>
<h1>500 Server Error</h1>
<h2>{error}</h2>
</header>
<section class="trace">
<h3>Traceback (innermost call first)</h3>
{exc_html}
</section>
{js}
</body>
</html>
"""

FRAME_TEMPLATE = """<article class="frame">
<p><button class="toggle" data-frame="{frame_id}" onclick="toggleFrame(this)">{collapse_button}</button>
File <code class="where">{frame_filename}</code>, line <b>{frame_lineno}</b>, in <code>{frame_name}</code></p>
<ol id="{frame_id}" class="source {collapsed}">{code_context}</ol>
</article>
"""

LINE = '<li><span class="no">{lineno}</span>{line}</li>\n'
CENTER_LINE = '<li class="failing"><span class="no">{lineno}</span>{line}</li>\n'


class ServerErrorMiddleware:
    def __init__(self, app: ASGIApp, handler: ExceptionHandler | None = None, debug: bool = False) -> None:
        self.app = app
        self.handler = handler
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watch = _Tracker(send)
        try:
            await self.app(scope, receive, watch.track)
        except Exception as exc:
            await self.answer(exc, scope, receive, send, watch.started)
            raise exc

    async def answer(self, exc: Exception, scope: Scope, receive: Receive, send: Send, response_started: bool) -> None:
        """The 500 for `exc`: made in any case (a handler may log), sent only if no response began.
        The caller raises `exc` again."""
        request = Request(scope)
        response: Any
        if self.debug:
            response = self.debug_response(request, exc)
        elif self.handler is None:
            response = self.error_response(request, exc)
        else:
            handler = self.handler
            if is_async_callable(handler):
                response = await handler(request, exc)  # type: ignore[arg-type]
            else:
                response = await run_in_threadpool(handler, request, exc)  # type: ignore[arg-type]
        if not response_started:
            await response(scope, receive, send)

    def format_line(self, index: int, line: str, frame_lineno: int, frame_index: int) -> str:
        """One source line of a frame, `index` lines into its context; the failing one is marked."""
        shown = html.escape(line).replace(" ", "&nbsp;")
        number = frame_lineno + index - frame_index
        return (CENTER_LINE if index == frame_index else LINE).format(lineno=number, line=shown)

    def generate_frame_html(self, frame: inspect.FrameInfo, is_collapsed: bool) -> str:
        context = frame.code_context or []
        lines = [
            self.format_line(offset, text.rstrip("\n"), frame.lineno, frame.index)  # type: ignore[arg-type]
            for offset, text in enumerate(context)
        ]
        where = html.escape(frame.filename)
        return FRAME_TEMPLATE.format(
            frame_id=f"{where}-{frame.lineno}",
            frame_filename=where,
            frame_lineno=frame.lineno,
            frame_name=html.escape(frame.function),
            collapse_button="+" if is_collapsed else "&minus;",
            collapsed="hidden" if is_collapsed else "",
            code_context="".join(lines),
        )

    def generate_html(self, exc: Exception, limit: int = 7) -> str:
        frames = inspect.getinnerframes(exc.__traceback__, limit) if exc.__traceback__ is not None else []
        # Innermost first; only it starts unfolded.
        shown = [self.generate_frame_html(frame, position > 0) for position, frame in enumerate(reversed(frames))]
        error = html.escape(f"{type(exc).__name__}: {exc}")
        return TEMPLATE.format(styles=STYLES, js=JS, error=error, exc_html="".join(shown))

    def generate_plain_text(self, exc: Exception) -> str:
        return "".join(traceback.format_exception(exc))

    def debug_response(self, request: Request, exc: Exception) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(self.generate_html(exc), status_code=500)
        return PlainTextResponse(self.generate_plain_text(exc), status_code=500)

    def error_response(self, request: Request, exc: Exception) -> Response:
        return PlainTextResponse("Internal Server Error", status_code=500)


# The class's own __call__, kept before anything can replace it on the class: Starlette.__call__
# stands in for this layer only while the class still has it (see fastframe.applications).
_OWN_CALL = ServerErrorMiddleware.__call__
