"""``with TestClient(app):`` runs the app's lifespan: startup and shutdown, their failures, and
what the app may do around them, against the reference. Where the reference waits forever,
fastframe's answer is tested on its own (listed in docs/differences.md)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import anyio
import pytest

PACKAGES = ("starlette", "fastframe")

Script = Callable[[Any, Any, list[Any]], Any]


async def _startup(receive: Any, send: Any, log: list[Any], reply: str = "lifespan.startup.complete") -> None:
    log.append((await receive())["type"])
    await send({"type": reply})


async def _shutdown(receive: Any, send: Any, log: list[Any], reply: str = "lifespan.shutdown.complete") -> None:
    log.append((await receive())["type"])
    await send({"type": reply})


async def ok(receive: Any, send: Any, log: list[Any]) -> None:
    await _startup(receive, send, log)
    await _shutdown(receive, send, log)


async def raise_at_once(receive: Any, send: Any, log: list[Any]) -> None:
    raise RuntimeError("no lifespan here")


async def return_at_once(receive: Any, send: Any, log: list[Any]) -> None:
    return


async def raise_in_startup(receive: Any, send: Any, log: list[Any]) -> None:
    log.append((await receive())["type"])
    raise ValueError("startup failed")


async def startup_failed_then_raise(receive: Any, send: Any, log: list[Any]) -> None:
    await _startup(receive, send, log, "lifespan.startup.failed")
    raise ValueError("after reporting the failure")


async def startup_failed_with_message_then_raise(receive: Any, send: Any, log: list[Any]) -> None:
    log.append((await receive())["type"])
    await send({"type": "lifespan.startup.failed", "message": "database down"})
    raise ValueError("database down")


async def return_after_startup(receive: Any, send: Any, log: list[Any]) -> None:
    await _startup(receive, send, log)


async def raise_after_startup(receive: Any, send: Any, log: list[Any]) -> None:
    await _startup(receive, send, log)
    await anyio.sleep(0)
    raise LookupError("crashed while serving")


async def raise_in_shutdown(receive: Any, send: Any, log: list[Any]) -> None:
    await _startup(receive, send, log)
    log.append((await receive())["type"])
    raise KeyError("shutdown failed")


async def shutdown_failed(receive: Any, send: Any, log: list[Any]) -> None:
    await _startup(receive, send, log)
    await _shutdown(receive, send, log, "lifespan.shutdown.failed")


async def shutdown_failed_then_raise(receive: Any, send: Any, log: list[Any]) -> None:
    await shutdown_failed(receive, send, log)
    raise KeyError("after reporting the failure")


async def shutdown_complete_then_raise(receive: Any, send: Any, log: list[Any]) -> None:
    await ok(receive, send, log)
    raise KeyError("after shutting down")


async def shutdown_complete_then_linger(receive: Any, send: Any, log: list[Any]) -> None:
    await ok(receive, send, log)
    await anyio.sleep(0.02)
    log.append("lingered")


async def return_in_shutdown(receive: Any, send: Any, log: list[Any]) -> None:
    await _startup(receive, send, log)
    log.append((await receive())["type"])


async def startup_twice(receive: Any, send: Any, log: list[Any]) -> None:
    await _startup(receive, send, log)
    await send({"type": "lifespan.startup.complete"})
    await _shutdown(receive, send, log)


async def unknown_reply_to_startup(receive: Any, send: Any, log: list[Any]) -> None:
    await _startup(receive, send, log, "lifespan.ready")


async def unknown_reply_to_shutdown(receive: Any, send: Any, log: list[Any]) -> None:
    await _startup(receive, send, log)
    await _shutdown(receive, send, log, "lifespan.bye")


SCRIPTS: dict[str, Script] = {
    "ok": ok,
    "raise_at_once": raise_at_once,
    "return_at_once": return_at_once,
    "raise_in_startup": raise_in_startup,
    "startup_failed_then_raise": startup_failed_then_raise,
    "startup_failed_with_message_then_raise": startup_failed_with_message_then_raise,
    "return_after_startup": return_after_startup,
    "raise_after_startup": raise_after_startup,
    "raise_in_shutdown": raise_in_shutdown,
    "shutdown_failed": shutdown_failed,
    "shutdown_failed_then_raise": shutdown_failed_then_raise,
    "shutdown_complete_then_raise": shutdown_complete_then_raise,
    "shutdown_complete_then_linger": shutdown_complete_then_linger,
    "return_in_shutdown": return_in_shutdown,
    "startup_twice": startup_twice,
    "unknown_reply_to_startup": unknown_reply_to_startup,
    "unknown_reply_to_shutdown": unknown_reply_to_shutdown,
}


def client_for(pkg: str, app: Any, backend: str, **kwargs: Any) -> Any:
    return importlib.import_module(f"{pkg}.testclient").TestClient(app, backend=backend, **kwargs)


def _app(script: Script, log: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await script(receive, send, log)
            return
        log.append(("request", sorted(scope["state"])))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def run(pkg: str, script: Script, backend: str, raise_server_exceptions: bool = True) -> Any:
    log: list[Any] = []
    client = client_for(pkg, _app(script, log), backend, raise_server_exceptions=raise_server_exceptions)
    try:
        with client:
            log.append(client.get("/").status_code)
        error = None
    except Exception as exc:
        error = (type(exc).__name__, str(exc))
    return log, error, client.portal


@pytest.mark.parametrize("raise_server_exceptions", [True, False])
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_lifespan_matches_reference(anyio_backend: str, name: str, raise_server_exceptions: bool) -> None:
    expected = run("starlette", SCRIPTS[name], anyio_backend, raise_server_exceptions)
    assert run("fastframe", SCRIPTS[name], anyio_backend, raise_server_exceptions) == expected


def test_lifespan_outcomes_are_the_expected_ones(anyio_backend: str) -> None:
    """A few of the above spelled out, so that a mistake shared with the reference shows."""
    assert run("fastframe", ok, anyio_backend) == (
        ["lifespan.startup", ("request", []), 204, "lifespan.shutdown"],
        None,
        None,
    )
    assert run("fastframe", raise_in_startup, anyio_backend)[1] == ("ValueError", "startup failed")
    assert run("fastframe", raise_in_shutdown, anyio_backend)[1] == ("KeyError", "'shutdown failed'")
    assert run("fastframe", shutdown_failed, anyio_backend)[1] is None
    assert run("fastframe", shutdown_complete_then_linger, anyio_backend)[0][-1] == "lingered"


def test_client_can_be_entered_again(anyio_backend: str) -> None:
    def twice(pkg: str) -> Any:
        log: list[Any] = []
        client = client_for(pkg, _app(ok, log), anyio_backend)
        for _ in range(2):
            with client:
                log.append(client.get("/").status_code)
        log.append(client.get("/").status_code)  # outside: no lifespan, the request still works
        return log

    assert twice("fastframe") == twice("starlette")


def test_state_is_copied_into_each_request(anyio_backend: str) -> None:
    def state_of(pkg: str) -> Any:
        seen: list[Any] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "lifespan":
                await receive()
                scope["state"]["pool"] = "ready"
                await send({"type": "lifespan.startup.complete"})
                await receive()
                await send({"type": "lifespan.shutdown.complete"})
                return
            seen.append(dict(scope["state"]))
            scope["state"]["leak"] = True
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        client = client_for(pkg, app, anyio_backend)
        with client:
            client.get("/")
            client.get("/")
        return seen, client.app_state

    assert state_of("fastframe") == state_of("starlette") == ([{"pool": "ready"}] * 2, {"pool": "ready"})


# --- where the reference waits forever ------------------------------------------------------------


@pytest.mark.parametrize("message", [None, "database down"])
def test_startup_failed_then_returned(anyio_backend: str, message: str | None) -> None:
    """The block is entered (as in the reference); leaving it returns, where the reference waits
    for a shutdown reply from an app that has finished."""
    log: list[Any] = []

    async def script(receive: Any, send: Any, log: list[Any]) -> None:
        log.append((await receive())["type"])
        reply = {"type": "lifespan.startup.failed"}
        if message is not None:
            reply["message"] = message
        await send(reply)

    client = client_for("fastframe", _app(script, log), anyio_backend)
    with client:
        log.append(client.get("/").status_code)
    assert log == ["lifespan.startup", ("request", []), 204]
    assert client.portal is None
