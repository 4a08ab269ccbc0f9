"""BaseHTTPMiddleware and the less common messages and orderings, against the reference:
early hints, a start without headers, repeated disconnect polls, backgrounds that must not hold
the response back, and context variables that the endpoint and its error handler see."""

from __future__ import annotations

import contextvars
import types
from typing import Any

import anyio
import pytest

from tests.middleware.frameworks import OURS, REF

SCOPE = {
    "type": "http",
    "method": "GET",
    "path": "/",
    "raw_path": b"/",
    "headers": [],
    "query_string": b"",
    "http_version": "1.1",
    "scheme": "http",
    "server": ("testserver", 80),
    "root_path": "",
    "asgi": {"version": "3.0"},
    "extensions": {"http.response.early_hint": {}},
}


async def serve(app: Any, body: list[dict[str, Any]] | None = None, disconnect_delay: float = 0.05) -> list[Any]:
    """One request over raw ASGI; the log has what the server saw and when it was asked."""
    log: list[Any] = []
    pending = list(body or [{"type": "http.request", "body": b"", "more_body": False}])

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        log.append("server asked for a message")
        await anyio.sleep(disconnect_delay)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        log.append(dict(message))

    try:
        with anyio.fail_after(10):
            await app(dict(SCOPE), receive, send)
    except Exception as exc:
        log.append(("raised", repr(exc)))
    return log


async def passthrough(request: Any, call_next: Any) -> Any:
    return await call_next(request)


async def both(build: Any, **options: Any) -> tuple[list[Any], list[Any]]:
    return await serve(build(OURS), **options), await serve(build(REF), **options)


@pytest.mark.anyio
async def test_early_hints_go_straight_to_the_server() -> None:
    def build(ns: types.SimpleNamespace) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload; as=style"]})
            await ns.PlainTextResponse("page")(scope, receive, send)

        return ns.BaseHTTPMiddleware(app, passthrough)

    ours, ref = await both(build)
    assert ours == ref
    assert ours[0]["type"] == "http.response.early_hint"


@pytest.mark.anyio
@pytest.mark.parametrize("replace", [False, True])
async def test_a_start_without_headers(replace: bool) -> None:
    def build(ns: types.SimpleNamespace) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 204})
            await send({"type": "http.response.body"})

        async def dispatch(request: Any, call_next: Any) -> Any:
            response = await call_next(request)
            if replace:
                response.headers["x-added"] = "1"
            return response

        return ns.BaseHTTPMiddleware(app, dispatch)

    ours, ref = await both(build)
    assert ours == ref


@pytest.mark.anyio
async def test_repeated_receives_after_the_client_left() -> None:
    def build(ns: types.SimpleNamespace) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            seen = [(await receive())["type"] for _ in range(4)]
            await ns.PlainTextResponse(",".join(seen))(scope, receive, send)

        return ns.BaseHTTPMiddleware(app, passthrough)

    ours, ref = await both(build)
    assert ours == ref
    # The server is asked once; the later polls are answered without it.
    assert ours.count("server asked for a message") == 1


@pytest.mark.anyio
async def test_backgrounds_run_after_the_response_is_complete() -> None:
    def build(ns: types.SimpleNamespace) -> Any:
        events: list[str] = []

        async def slow() -> None:
            events.append("app background started")
            await anyio.sleep(0.05)
            events.append("app background done")

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await ns.PlainTextResponse("done", background=ns.BackgroundTask(slow))(scope, receive, send)

        async def dispatch(request: Any, call_next: Any) -> Any:
            response = await call_next(request)

            async def own() -> None:
                events.append("dispatch background")

            response.background = ns.BackgroundTask(own)
            return response

        inner = ns.BaseHTTPMiddleware(app, dispatch)

        async def outer(scope: Any, receive: Any, send: Any) -> None:
            async def logged(message: Any) -> None:
                events.append(f"sent {message['type']} more={message.get('more_body')}")
                await send(message)

            await inner(scope, receive, logged)
            await send({"type": "log", "events": events})

        return outer

    ours, ref = await both(build)
    assert ours == ref
    events = ours[-1]["events"]
    assert events.index("sent http.response.body more=False") < events.index("app background started")


TRACE: contextvars.ContextVar[str] = contextvars.ContextVar("test_base_messages_trace", default="none")


def test_context_set_in_dispatch_reaches_the_endpoint_and_its_error_handler(anyio_backend: str) -> None:
    def build(ns: types.SimpleNamespace) -> Any:
        async def ok(request: Any) -> Any:
            return ns.PlainTextResponse(f"endpoint saw {TRACE.get()}")

        async def fail(request: Any) -> Any:
            raise LookupError("missing")

        async def on_lookup(request: Any, exc: Exception) -> Any:
            return ns.PlainTextResponse(f"handler saw {TRACE.get()}", status_code=404)

        async def dispatch(request: Any, call_next: Any) -> Any:
            TRACE.set(request.headers.get("x-trace", "unset"))
            return await call_next(request)

        return ns.Starlette(
            routes=[ns.Route("/ok", ok), ns.Route("/fail", fail)],
            middleware=[ns.Middleware(ns.BaseHTTPMiddleware, dispatch=dispatch)],
            exception_handlers={LookupError: on_lookup},
        )

    results = []
    for ns in (OURS, REF):
        with ns.client(build(ns), backend=anyio_backend) as session:
            results.append(
                [(r.status_code, r.text) for r in (session.get(p, headers={"x-trace": "t1"}) for p in ("/ok", "/fail"))]
            )
    assert results[0] == results[1] == [(200, "endpoint saw t1"), (404, "handler saw t1")]
