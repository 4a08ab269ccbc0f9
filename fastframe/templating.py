from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Any

from fastframe.background import BackgroundTask
from fastframe.datastructures import URL
from fastframe.requests import Request
from fastframe.responses import HTMLResponse
from fastframe.types import Message, Receive, Scope, Send

try:
    import jinja2
except ModuleNotFoundError as _missing:  # pragma: no cover - jinja2 is in the full extra
    raise ImportError("jinja2 must be installed to use Jinja2Templates") from _missing


@jinja2.pass_context
def _url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> URL:
    # Templates reach the router through the request every TemplateResponse puts in the context.
    return context["request"].url_for(name, **path_params)  # type: ignore[no-any-return]


class _TemplateResponse(HTMLResponse):
    def __init__(
        self,
        template: Any,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ):
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A server (or the TestClient) that asks for it is told which template and context made the page.
        if "http.response.debug" in scope.get("extensions", ()):
            await send(self._debug_message())
        await super().__call__(scope, receive, send)

    def _debug_message(self) -> Message:
        return {"type": "http.response.debug", "info": {"template": self.template, "context": self.context}}


class Jinja2Templates:
    def __init__(
        self,
        directory: str | PathLike[str] | Sequence[str | PathLike[str]] | None = None,
        *,
        context_processors: list[Callable[[Request], dict[str, Any]]] | None = None,
        env: jinja2.Environment | None = None,
    ) -> None:
        # Exactly one of the two: templates found in directories, or an environment set up by the caller.
        assert bool(directory) != bool(env), "either 'directory' or 'env' arguments must be passed"
        self.context_processors = context_processors or []
        if env is None:
            loader = jinja2.FileSystemLoader(directory)  # type: ignore[arg-type]
            env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape())
        self.env = env
        self._setup_env_defaults(env)

    def _setup_env_defaults(self, env: jinja2.Environment) -> None:
        # A url_for the caller's environment already defines is theirs to keep.
        env.globals.setdefault("url_for", _url_for)

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        # The caller's dict is filled in place; what the context processors return wins over it.
        if context is None:
            context = {}
        context.setdefault("request", request)
        for processor in self.context_processors:
            context.update(processor(request))
        return _TemplateResponse(
            self.get_template(name),
            context,
            status_code=status_code,
            headers=headers,
            media_type=media_type,
            background=background,
        )
