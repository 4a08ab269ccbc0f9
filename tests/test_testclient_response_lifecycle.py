"""The life of an HTTP response in the TestClient, against the reference.

What the test receives when the app reuses its buffers; when closing a response waits for the
app (its body is complete: background work runs to the end) and when it cancels it (the body
is not); what closing the client does to responses left open; which app errors reach the test
and when; and the ASGI debug and trailers extensions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from tests.test_testclient import _raising_app

PACKAGES = ("starlette", "fastframe")


def client_for(pkg: str, app: Any, backend: str, **kwargs: Any) -> Any:
    return importlib.import_module(f"{pkg}.testclient").TestClient(app, backend=backend, **kwargs)


def both(make: Callable[[str], Any]) -> list[Any]:
    return [make(pkg) for pkg in PACKAGES]


# --- buffers the app reuses ------------------------------------------------------------------------


async def _reusing_app(scope: Any, receive: Any, send: Any) -> None:
    buffer = bytearray(b"AAAA")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x", b"1")]})
    await send({"type": "http.response.body", "body": buffer, "more_body": True})
    buffer[:] = b"BBBB"
    await send({"type": "http.response.body", "body": memoryview(buffer), "more_body": True})
    buffer[:] = b"CCCC"
    await send({"type": "http.response.body", "body": buffer})
    buffer[:] = b"DDDD"


@pytest.mark.parametrize("read", ["get", "iter_raw", "iter_bytes", "read"])
def test_body_is_copied_when_sent(anyio_backend: str, read: str) -> None:
    def run(pkg: str) -> Any:
        client = client_for(pkg, _reusing_app, anyio_backend)
        if read == "get":
            return client.get("/").content
        with client.stream("GET", "/") as response:
            if read == "read":
                return response.read()
            chunks = list(getattr(response, read)())
            return [type(chunk).__name__ for chunk in chunks], b"".join(chunks)

    results = both(run)
    assert results[1] == results[0]
    assert b"AAAABBBBCCCC" in (results[1] if read in ("get", "read") else results[1][1:])


# --- closing a response -------------------------------------------------------------------------


def _background_app(log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await send({"type": "http.response.body", "body": b"part", "more_body": True})
            await send({"type": "http.response.body", "body": b"done"})
            log.append("body sent")
            await anyio.sleep(0.05)
            log.append("background done")
        except BaseException as exc:
            log.append(("app stopped by", "cancellation" if isinstance(exc, anyio.get_cancelled_exc_class()) else exc))
            raise

    return app


@pytest.mark.parametrize("lifespan", [False, True], ids=["", "lifespan"])
@pytest.mark.parametrize("in_except", [False, True], ids=["", "in except"])
@pytest.mark.parametrize("taken", [0, 1, 2])
def test_closing_a_response(anyio_backend: str, taken: int, in_except: bool, lifespan: bool) -> None:
    """Closed once the test holds its last part, a response waits for the app; earlier, it cancels it."""

    def read_and_close(client: Any) -> list[bytes]:
        with client.stream("GET", "/") as response:
            chunks = response.iter_raw()
            return [next(chunks) for _ in range(taken)]

    def run(pkg: str) -> Any:
        log: list[Any] = []
        client = client_for(pkg, _background_app(log), anyio_backend)
        if lifespan:
            client.__enter__()
        try:
            if not in_except:
                got = read_and_close(client)
            else:
                try:
                    raise LookupError("unrelated, being handled")
                except LookupError:
                    got = read_and_close(client)
        finally:
            if lifespan:
                client.__exit__(None, None, None)
        return got, log

    results = both(run)
    assert results[1] == results[0]
    if taken == 2:
        assert results[1][1] == ["body sent", "background done"]
    else:
        assert results[1][1] == [("app stopped by", "cancellation")]


@pytest.mark.parametrize("how", ["read", "get"])
def test_a_whole_response_waits_for_background_work(anyio_backend: str, how: str) -> None:
    def run(pkg: str) -> Any:
        log: list[Any] = []
        client = client_for(pkg, _background_app(log), anyio_backend)
        if how == "get":
            content = client.get("/").content
        else:
            with client.stream("GET", "/") as response:
                content = response.read()
                log.append("read returned")
        return content, log

    results = both(run)
    assert results[1] == results[0]
    assert results[1][1][:2] == ["body sent", "background done"]


def _open_response_app(log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            log.append("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await send({"type": "http.response.body", "body": b"part", "more_body": True})
            await send({"type": "http.response.body", "body": b"more", "more_body": True})
            await anyio.sleep(30)
        except BaseException as exc:
            log.append(("app stopped by", "cancellation" if isinstance(exc, anyio.get_cancelled_exc_class()) else exc))
            raise

    return app


@pytest.mark.parametrize("how", ["close", "exit"])
@pytest.mark.parametrize("lifespan", [False, True], ids=["", "lifespan"])
def test_closing_the_client_cancels_open_responses(anyio_backend: str, lifespan: bool, how: str) -> None:
    def run(pkg: str) -> Any:
        log: list[Any] = []
        client = client_for(pkg, _open_response_app(log), anyio_backend)
        if lifespan:
            client.__enter__()
        response = client.send(client.build_request("GET", "/"), stream=True)
        first = next(response.iter_raw())
        if how == "exit" and lifespan:
            client.__exit__(None, None, None)
        else:
            client.close()
            log.append("client closed")
            if lifespan:
                client.__exit__(None, None, None)
        return first, log

    results = both(run)
    assert results[1] == results[0]
    assert results[1][1][0] == ("app stopped by", "cancellation")
    if lifespan:
        assert results[1][1][-1] == "shutdown"


# --- errors of the app, and when the test sees them -----------------------------------------------


@pytest.mark.parametrize("raise_server_exceptions", [True, False])
@pytest.mark.parametrize("taken", [1, 2, 3])
@pytest.mark.parametrize("where", ["mid_body", "after_body", "fine"])
def test_app_errors_while_streaming(anyio_backend: str, where: str, taken: int, raise_server_exceptions: bool) -> None:
    def run(pkg: str) -> Any:
        client = client_for(pkg, _raising_app(where), anyio_backend, raise_server_exceptions=raise_server_exceptions)
        seen: list[Any] = []
        try:
            with client.stream("GET", "/") as response:
                chunks = response.iter_raw()
                for _ in range(taken):
                    try:
                        seen.append(next(chunks))
                    except StopIteration:
                        seen.append("end")
                    except Exception as exc:
                        seen.append(("iteration raised", type(exc).__name__))
            seen.append("closed")
        except Exception as exc:
            seen.append(("close raised", type(exc).__name__))
        return seen

    results = both(run)
    assert results[1] == results[0]
    if where == "fine" or not raise_server_exceptions:
        assert not any(isinstance(item, tuple) for item in results[1])


@pytest.mark.parametrize("raise_server_exceptions", [True, False])
def test_app_error_reaches_a_buffered_request(anyio_backend: str, raise_server_exceptions: bool) -> None:
    def run(pkg: str) -> Any:
        outcomes = []
        for where in ("mid_body", "after_body"):
            client = client_for(
                pkg, _raising_app(where), anyio_backend, raise_server_exceptions=raise_server_exceptions
            )
            try:
                outcomes.append(client.get("/").content)
            except Exception as exc:
                outcomes.append((type(exc).__name__, str(exc)))
        return outcomes

    results = both(run)
    assert results[1] == results[0]


# --- the debug and trailers extensions ---------------------------------------------------------------

START = {"type": "http.response.start", "status": 200, "headers": []}
BODY = {"type": "http.response.body", "body": b"x"}

DEBUG_CASES: dict[str, list[dict[str, Any]]] = {
    "none": [START, BODY],
    "template and context": [
        {"type": "http.response.debug", "info": {"template": "page.html", "context": {"a": 1}}},
        START,
        BODY,
    ],
    "other keys only": [{"type": "http.response.debug", "info": {"other": 1}}, START, BODY],
    "the last one wins": [
        {"type": "http.response.debug", "info": {"template": "first.html"}},
        {"type": "http.response.debug", "info": {"context": {"b": 2}}},
        START,
        BODY,
    ],
    "after the start": [START, {"type": "http.response.debug", "info": {"template": "late.html"}}, BODY],
    "after the response": [
        START,
        {"type": "http.response.debug", "info": {"template": "kept.html"}},
        BODY,
        {"type": "http.response.debug", "info": {"template": "ignored.html"}},
    ],
    "without info": [{"type": "http.response.debug"}, START, BODY],
    "with trailers": [
        {"type": "http.response.debug", "info": {"template": "t.html"}},
        {**START, "trailers": True},
        BODY,
        {"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")], "more_trailers": True},
        {"type": "http.response.trailers", "headers": [(b"x-more", b"1")]},
    ],
}


@pytest.mark.parametrize("raise_server_exceptions", [True, False])
@pytest.mark.parametrize("case", list(DEBUG_CASES))
def test_debug_and_trailers_extensions(anyio_backend: str, case: str, raise_server_exceptions: bool) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["extensions"] == {"http.response.debug": {}, "http.response.trailers": {}}
        for message in DEBUG_CASES[case]:
            await send(dict(message))

    def run(pkg: str) -> Any:
        client = client_for(pkg, app, anyio_backend, raise_server_exceptions=raise_server_exceptions)
        try:
            response = client.get("/")
        except Exception as exc:
            return type(exc).__name__, str(exc)
        return (
            response.content,
            list(response.extensions.items()),
            getattr(response, "template", "absent"),
            getattr(response, "context", "absent"),
        )

    results = both(run)
    assert results[1] == results[0]
    if case == "with trailers":
        assert results[1][1] == [
            ("http.response.trailers", [(b"x-checksum", b"abc"), (b"x-more", b"1")]),
            ("http.response.debug", {"template": "t.html"}),
        ]


@pytest.mark.parametrize("websocket", [False, True], ids=["http", "websocket"])
def test_app_answering_from_a_task_of_its_own(anyio_backend: str, websocket: bool) -> None:
    """The response (or the handshake) may come from any task the app starts."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def answer() -> None:
            if scope["type"] == "websocket":
                await receive()
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.send", "text": "from a child task"})
                await send({"type": "websocket.close"})
                return
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"from a child task"})

        async with anyio.create_task_group() as group:
            group.start_soon(answer)

    def run(pkg: str) -> Any:
        client = client_for(pkg, app, anyio_backend)
        if not websocket:
            return client.get("/").text
        with client.websocket_connect("/ws") as session:
            return session.receive_text()

    assert both(run) == ["from a child task"] * 2
