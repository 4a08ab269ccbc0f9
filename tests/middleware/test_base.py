from __future__ import annotations

import contextvars
import gc
import types
import warnings
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import starlette.applications
import starlette.background
import starlette.exceptions
import starlette.middleware
import starlette.middleware.base
import starlette.requests
import starlette.responses
import starlette.routing
from starlette.testclient import TestClient as RefTestClient

import fastframe.applications
import fastframe.background
import fastframe.exceptions
import fastframe.middleware
import fastframe.middleware.base
import fastframe.requests
import fastframe.responses
import fastframe.routing


def namespace(root: str) -> types.SimpleNamespace:
    pkg = {"fastframe": fastframe, "starlette": starlette}[root]
    return types.SimpleNamespace(
        name=root,
        Starlette=pkg.applications.Starlette,
        Route=pkg.routing.Route,
        Middleware=pkg.middleware.Middleware,
        BaseHTTPMiddleware=pkg.middleware.base.BaseHTTPMiddleware,
        PlainTextResponse=pkg.responses.PlainTextResponse,
        StreamingResponse=pkg.responses.StreamingResponse,
        Response=pkg.responses.Response,
        Request=pkg.requests.Request,
        BackgroundTask=pkg.background.BackgroundTask,
        HTTPException=pkg.exceptions.HTTPException,
    )


FF, REF = namespace("fastframe"), namespace("starlette")

SCOPE = {
    "type": "http",
    "method": "GET",
    "path": "/",
    "headers": [],
    "query_string": b"",
    "http_version": "1.1",
    "scheme": "http",
    "server": ("testserver", 80),
    "root_path": "",
    "asgi": {"version": "3.0"},
}


async def drive(
    app: Any,
    log: list[Any],
    *,
    chunks: list[dict[str, Any]] | None = None,
    disconnect_after: float = 0.5,
    fail_send_at: int | None = None,
    method: str = "GET",
) -> Any:
    """Raw ASGI run; the log collects what the server saw, the app and the middleware did."""
    pending = list(chunks or [])
    count = 0

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await anyio.sleep(disconnect_after)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        if fail_send_at is not None and count >= fail_send_at:
            log.append("send failed")
            raise OSError("client went away")
        log.append({k: v for k, v in message.items()})

    try:
        with anyio.fail_after(5):
            await app(dict(SCOPE, method=method), receive, send)
    except Exception as exc:
        return repr(exc)
    return None


def differential(build: Callable[[types.SimpleNamespace, list[Any]], Any], **options: Any) -> Any:
    async def run() -> tuple[Any, Any]:
        outcomes = []
        for ns in (FF, REF):
            log: list[Any] = []
            error = await drive(build(ns, log), log, **options)
            outcomes.append((error, log))
        return outcomes[0], outcomes[1]

    return run


def streaming_app(ns: types.SimpleNamespace, log: list[Any], n: int = 3, delay: float = 0.0, **kw: Any) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def gen() -> Any:
            for i in range(n):
                yield f"c{i}"
                await anyio.sleep(delay)

        await ns.StreamingResponse(gen(), **kw)(scope, receive, send)

    return app


def plain_app(ns: types.SimpleNamespace, log: list[Any], **kw: Any) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await ns.PlainTextResponse("hello", **kw)(scope, receive, send)

    return app


async def passthrough(request: Any, call_next: Any) -> Any:
    return await call_next(request)


async def add_header(request: Any, call_next: Any) -> Any:
    response = await call_next(request)
    response.headers["x-dispatch"] = "1"
    return response


# -- raw ASGI differential tests ----------------------------------------------------------------


def _case_streaming_wrapper(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def dispatch(request: Any, call_next: Any) -> Any:
        response = await call_next(request)

        async def upper(iterator: Any) -> Any:
            async for chunk in iterator:
                yield chunk.upper()

        return ns.StreamingResponse(upper(response.body_iterator), headers=dict(response.headers))

    return ns.BaseHTTPMiddleware(streaming_app(ns, log), dispatch)


def _case_replaced_iterator(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def dispatch(request: Any, call_next: Any) -> Any:
        response = await call_next(request)

        async def exclaim(iterator: Any) -> Any:
            async for chunk in iterator:
                yield chunk + b"!"

        response.body_iterator = exclaim(response.body_iterator)
        return response

    return ns.BaseHTTPMiddleware(streaming_app(ns, log), dispatch)


def _case_consume_and_replace(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def dispatch(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        data = b"".join([chunk async for chunk in response.body_iterator])
        return ns.Response(data, headers={"x-length": str(len(data))})

    return ns.BaseHTTPMiddleware(streaming_app(ns, log), dispatch)


def _case_timeout_around_call_next(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def dispatch(request: Any, call_next: Any) -> Any:
        with anyio.fail_after(2):
            response = await call_next(request)
        response.headers["x-timed"] = "1"
        return response

    return ns.BaseHTTPMiddleware(streaming_app(ns, log), dispatch)


def _case_timeout_around_call_next_plain(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def dispatch(request: Any, call_next: Any) -> Any:
        with anyio.fail_after(2):
            return await call_next(request)

    return ns.BaseHTTPMiddleware(plain_app(ns, log), dispatch)


def _case_raise_after_call_next(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def dispatch(request: Any, call_next: Any) -> Any:
        await call_next(request)
        raise KeyError("after call_next")

    return ns.BaseHTTPMiddleware(streaming_app(ns, log), dispatch)


def _case_raise_in_body_iterator(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def dispatch(request: Any, call_next: Any) -> Any:
        response = await call_next(request)

        async def fail(iterator: Any) -> Any:
            async for chunk in iterator:
                yield chunk
                raise KeyError("in iterator")

        response.body_iterator = fail(response.body_iterator)
        return response

    return ns.BaseHTTPMiddleware(streaming_app(ns, log), dispatch)


def _case_exception_mid_stream(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x", b"1")]})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise ValueError("mid-stream")

    return ns.BaseHTTPMiddleware(app, passthrough)


def _case_exception_before_start_caught(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("boom")

    async def dispatch(request: Any, call_next: Any) -> Any:
        try:
            return await call_next(request)
        except ValueError as exc:
            return ns.PlainTextResponse(f"caught {exc}", status_code=500)

    return ns.BaseHTTPMiddleware(app, dispatch)


def _case_exception_before_start(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("boom")

    return ns.BaseHTTPMiddleware(app, passthrough)


def _case_no_response(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    return ns.BaseHTTPMiddleware(app, passthrough)


def _case_no_response_caught(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    async def dispatch(request: Any, call_next: Any) -> Any:
        try:
            return await call_next(request)
        except RuntimeError as exc:
            return ns.PlainTextResponse(str(exc), status_code=502)

    return ns.BaseHTTPMiddleware(app, dispatch)


def _case_dispatch_returns_none(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def dispatch(request: Any, call_next: Any) -> Any:
        await call_next(request)

    return ns.BaseHTTPMiddleware(plain_app(ns, log), dispatch)


def _case_body_before_start(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.body", "body": b"x"})

    return ns.BaseHTTPMiddleware(app, passthrough)


def _case_start_only(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})

    return ns.BaseHTTPMiddleware(app, passthrough)


def _case_debug_info(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.debug", "info": {"template": "t.html", "context": {}}})
        await ns.PlainTextResponse("rendered")(scope, receive, send)

    return ns.BaseHTTPMiddleware(app, passthrough)


def _case_own_response(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def dispatch(request: Any, call_next: Any) -> Any:
        return ns.PlainTextResponse("short-circuit", status_code=401)

    return ns.BaseHTTPMiddleware(plain_app(ns, log), dispatch)


def _case_replaced_response_app_still_finishes(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def background() -> None:
        log.append("app background ran")

    async def dispatch(request: Any, call_next: Any) -> Any:
        await call_next(request)
        return ns.PlainTextResponse("replaced")

    return ns.BaseHTTPMiddleware(plain_app(ns, log, background=ns.BackgroundTask(background)), dispatch)


def _case_streaming_background(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def background() -> None:
        log.append("background ran")

    return ns.BaseHTTPMiddleware(streaming_app(ns, log, background=ns.BackgroundTask(background)), add_header)


def _case_nested(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    def tag(name: str) -> Any:
        async def dispatch(request: Any, call_next: Any) -> Any:
            log.append(f"{name} before")
            response = await call_next(request)
            log.append(f"{name} after")
            response.headers[name] = "1"
            return response

        return dispatch

    inner = ns.BaseHTTPMiddleware(streaming_app(ns, log), tag("inner"))
    return ns.BaseHTTPMiddleware(inner, tag("outer"))


def _case_mixed_with_reference_inside(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    inner = REF.BaseHTTPMiddleware(streaming_app(REF, log), add_header)
    return ns.BaseHTTPMiddleware(inner, add_header)


def _case_subclass(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    class Sub(ns.BaseHTTPMiddleware):  # type: ignore[name-defined,misc]
        async def dispatch(self, request: Any, call_next: Any) -> Any:
            response = await call_next(request)
            response.headers["x-sub"] = "1"
            return response

    return Sub(plain_app(ns, log))


def _case_response_attributes(ns: types.SimpleNamespace, log: list[Any]) -> Any:
    async def dispatch(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        log.append((response.status_code, dict(response.headers), response.media_type, response.background))
        response.status_code = 203
        return response

    return ns.BaseHTTPMiddleware(plain_app(ns, log), dispatch)


RAW_CASES = {name[len("_case_") :]: fn for name, fn in dict(globals()).items() if name.startswith("_case_")}


@pytest.mark.anyio
@pytest.mark.parametrize("case", list(RAW_CASES))
async def test_raw_asgi_matches_reference(case: str) -> None:
    ours, ref = await differential(RAW_CASES[case])()
    assert ours == ref


@pytest.mark.anyio
async def test_client_disconnect_mid_stream_matches_reference() -> None:
    def build(ns: types.SimpleNamespace, log: list[Any]) -> Any:
        return ns.BaseHTTPMiddleware(streaming_app(ns, log, n=100, delay=0.01), passthrough)

    ours, ref = await differential(build, disconnect_after=0.035)()
    assert ours[0] == ref[0] is None
    # Both stop streaming once the disconnect is seen; exactly where depends on timing.
    assert len(ours[1]) < 100
    assert ours[1][0] == ref[1][0]


@pytest.mark.anyio
async def test_send_failing_mid_stream_matches_reference() -> None:
    def build(ns: types.SimpleNamespace, log: list[Any]) -> Any:
        return ns.BaseHTTPMiddleware(streaming_app(ns, log, n=5), passthrough)

    ours, ref = await differential(build, fail_send_at=3)()
    assert ours == ref


@pytest.mark.anyio
@pytest.mark.parametrize("read", ["body", "stream", "none"])
async def test_request_body_in_dispatch_and_endpoint(read: str) -> None:
    chunks = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": False},
    ]

    def build(ns: types.SimpleNamespace, log: list[Any]) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            messages = []
            while True:
                message = await receive()
                messages.append(message)
                if not message.get("more_body"):
                    break
            log.append(("app received", messages))
            await ns.PlainTextResponse("ok")(scope, receive, send)

        async def dispatch(request: Any, call_next: Any) -> Any:
            if read == "body":
                log.append(("dispatch body", await request.body()))
            elif read == "stream":
                log.append(("dispatch stream", [chunk async for chunk in request.stream()]))
            return await call_next(request)

        return ns.BaseHTTPMiddleware(app, dispatch)

    ours, ref = await differential(build, chunks=chunks, method="POST")()
    assert ours == ref


@pytest.mark.anyio
async def test_body_streamed_past_dispatch_leaves_no_abandoned_generator() -> None:
    """The endpoint reads a body dispatch did not touch: no async generator is left for the
    collector, which trio reports as a ResourceWarning (an error under `-W error`)."""
    chunks = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": False},
    ]

    def build(ns: types.SimpleNamespace, log: list[Any]) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            request = ns.Request(scope, receive)
            body = await request.body()
            log.append(("app body", body))
            await ns.PlainTextResponse(body.decode())(scope, receive, send)

        return ns.BaseHTTPMiddleware(app, passthrough)

    outcomes = []
    for ns in (FF, REF):
        log: list[Any] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            error = await drive(build(ns, log), log, chunks=chunks, method="POST")
            gc.collect()
            await anyio.lowlevel.checkpoint()
        collected = [w for w in caught if "garbage collected" in str(w.message)]
        outcomes.append((error, log, len(collected)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.anyio
async def test_background_runs_after_the_response_is_sent() -> None:
    log: list[Any] = []

    async def background() -> None:
        log.append("background")

    app = FF.BaseHTTPMiddleware(plain_app(FF, log, background=FF.BackgroundTask(background)), add_header)
    assert await drive(app, log) is None
    assert log[-1] == "background"
    assert log[-2] == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.anyio
async def test_streaming_is_not_buffered() -> None:
    log: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def gen() -> Any:
            yield b"first"
            log.append("producing second")
            yield b"second"

        await FF.StreamingResponse(gen())(scope, receive, send)

    await drive(FF.BaseHTTPMiddleware(app, add_header), log)
    first = log.index({"type": "http.response.body", "body": b"first", "more_body": True})
    assert first < log.index("producing second")


V: contextvars.ContextVar[str] = contextvars.ContextVar("V", default="unset")


@pytest.mark.anyio
async def test_contextvars_match_reference() -> None:
    def build(ns: types.SimpleNamespace, log: list[Any]) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            log.append(("endpoint sees", V.get()))
            V.set("endpoint")

            async def background() -> None:
                log.append(("background sees", V.get()))

            await ns.PlainTextResponse("x", background=ns.BackgroundTask(background))(scope, receive, send)

        async def dispatch(request: Any, call_next: Any) -> Any:
            V.set("dispatch")
            response = await call_next(request)
            log.append(("dispatch sees after call_next", V.get()))
            V.set("dispatch-after")
            return response

        inner = ns.BaseHTTPMiddleware(app, dispatch)

        async def outer(scope: Any, receive: Any, send: Any) -> None:
            V.set("outer")
            await inner(scope, receive, send)
            log.append(("outer sees", V.get()))

        return outer

    ours, ref = await differential(build)()
    assert ours == ref
    assert ("dispatch sees after call_next", "dispatch") in ours[1]


@pytest.mark.anyio
async def test_non_http_scopes_pass_through() -> None:
    seen = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def dispatch(request: Any, call_next: Any) -> Any:
        raise AssertionError("not for non-http")

    await FF.BaseHTTPMiddleware(app, dispatch)({"type": "lifespan"}, None, None)
    assert seen == ["lifespan"]


def test_default_dispatch_is_abstract() -> None:
    async def call() -> None:
        await FF.BaseHTTPMiddleware(plain_app(FF, []))(dict(SCOPE), None, None)

    with pytest.raises(NotImplementedError):
        anyio.run(call)


# -- through applications and test clients ---------------------------------------------------------


def build_app(ns: types.SimpleNamespace, dispatch: Any) -> Any:
    async def homepage(request: Any) -> Any:
        return ns.PlainTextResponse("home")

    async def echo(request: Any) -> Any:
        return ns.PlainTextResponse(b"echo:" + await request.body())

    async def stream(request: Any) -> Any:
        async def gen() -> Any:
            for i in range(3):
                yield f"chunk{i},"

        return ns.StreamingResponse(gen(), media_type="text/plain")

    async def forbidden(request: Any) -> Any:
        raise ns.HTTPException(status_code=403, detail="nope")

    async def teapot_error(request: Any) -> Any:
        raise LookupError("handled by app handler")

    async def crash(request: Any) -> Any:
        raise ValueError("unhandled")

    async def lookup_handler(request: Any, exc: Exception) -> Any:
        return ns.PlainTextResponse(f"handled {exc}", status_code=418)

    return ns.Starlette(
        routes=[
            ns.Route("/", homepage),
            ns.Route("/echo", echo, methods=["POST"]),
            ns.Route("/stream", stream),
            ns.Route("/forbidden", forbidden),
            ns.Route("/teapot", teapot_error),
            ns.Route("/crash", crash),
        ],
        middleware=[ns.Middleware(ns.BaseHTTPMiddleware, dispatch=dispatch)],
        exception_handlers={LookupError: lookup_handler},
    )


async def reading_dispatch(request: Any, call_next: Any) -> Any:
    body = await request.body()
    response = await call_next(request)
    response.headers["x-seen-body"] = str(len(body))
    return response


async def catching_dispatch(request: Any, call_next: Any) -> Any:
    try:
        response = await call_next(request)
    except ValueError as exc:
        return starlette.responses.PlainTextResponse(f"dispatch caught {exc}", status_code=500)
    response.headers["x-dispatch"] = "1"
    return response


@pytest.mark.parametrize("dispatch", [add_header, reading_dispatch, catching_dispatch])
@pytest.mark.parametrize(
    "method, path, content",
    [
        ("GET", "/", None),
        ("POST", "/echo", b"payload"),
        ("GET", "/stream", None),
        ("GET", "/forbidden", None),
        ("GET", "/teapot", None),
        ("GET", "/missing", None),
    ],
)
def test_app_matches_reference(
    test_client_factory: Callable[..., Any],
    anyio_backend: str,
    dispatch: Any,
    method: str,
    path: str,
    content: bytes | None,
) -> None:
    ours = test_client_factory(build_app(FF, dispatch)).request(method, path, content=content)
    ref = RefTestClient(build_app(REF, dispatch), backend=anyio_backend).request(method, path, content=content)
    assert (ours.status_code, ours.headers.multi_items(), ours.content) == (
        ref.status_code,
        ref.headers.multi_items(),
        ref.content,
    )


def test_unhandled_exception_reaches_the_client(test_client_factory: Callable[..., Any]) -> None:
    client = test_client_factory(build_app(FF, add_header))
    with pytest.raises(ValueError, match="unhandled"):
        client.get("/crash")


def test_exception_in_call_next_reaches_dispatch(test_client_factory: Callable[..., Any]) -> None:
    response = test_client_factory(build_app(FF, catching_dispatch)).get("/crash")
    assert (response.status_code, response.text) == (500, "dispatch caught unhandled")


def test_streaming_wrapper_through_test_client(test_client_factory: Callable[..., Any], anyio_backend: str) -> None:
    def build(ns: types.SimpleNamespace) -> Any:
        return _case_streaming_wrapper(ns, [])

    ours = test_client_factory(build(FF)).get("/")
    ref = RefTestClient(build(REF), backend=anyio_backend).get("/")
    assert (ours.status_code, ours.headers.multi_items(), ours.content) == (
        ref.status_code,
        ref.headers.multi_items(),
        ref.content,
    )
    assert ours.content == b"C0C1C2"
