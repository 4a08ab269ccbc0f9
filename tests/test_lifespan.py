"""Router lifespan handling, compared with Starlette 1.10."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import starlette.applications
import starlette.responses
import starlette.routing
import starlette.testclient

from fastframe import applications as ff_applications
from fastframe import responses as ff_responses
from fastframe import routing as ff_routing

STARLETTE = SimpleNamespace(
    routing=starlette.routing, responses=starlette.responses, applications=starlette.applications
)
FASTFRAME = SimpleNamespace(routing=ff_routing, responses=ff_responses, applications=ff_applications)


def lifespans(events: list[str]) -> dict[str, Callable[..., Any]]:
    @contextlib.asynccontextmanager
    async def stateful(app: Any) -> AsyncIterator[dict[str, Any]]:
        events.append(f"startup {type(app).__name__}")
        yield {"db": "connected"}
        events.append("shutdown")

    @contextlib.asynccontextmanager
    async def stateless(app: Any) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    @contextlib.asynccontextmanager
    async def startup_fails(app: Any) -> AsyncIterator[None]:
        raise RuntimeError("startup boom")
        yield  # pragma: no cover

    @contextlib.asynccontextmanager
    async def shutdown_fails(app: Any) -> AsyncIterator[None]:
        yield
        raise ValueError("shutdown boom")

    async def async_generator(app: Any) -> AsyncIterator[dict[str, Any]]:
        events.append("agen startup")
        yield {"from": "agen"}
        events.append("agen shutdown")

    def generator(app: Any) -> Iterator[None]:
        events.append("gen startup")
        yield
        events.append("gen shutdown")

    return {
        "stateful": stateful,
        "stateless": stateless,
        "startup_fails": startup_fails,
        "shutdown_fails": shutdown_fails,
        "async_generator": async_generator,
        "generator": generator,
        "default": None,  # type: ignore[dict-item]
    }


async def drive_lifespan(app: Any, scope: dict[str, Any]) -> list[Any]:
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        message = dict(message)
        if "message" in message:
            # The traceback text names files; its last line names the error.
            message["message"] = message["message"].strip().splitlines()[-1]
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception as exc:
        sent.append(("raised", type(exc).__name__, str(exc)))
    return sent


def run_router_lifespan(mod: Any, which: str, with_state: bool) -> Any:
    events: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        router = mod.routing.Router(lifespan=lifespans(events)[which])
    scope: dict[str, Any] = {"type": "lifespan"}
    if with_state:
        scope["state"] = {}
    sent = asyncio.run(drive_lifespan(router, scope))
    warned = [(w.category.__name__, str(w.message)) for w in caught]
    return sent, events, scope.get("state"), warned, "router" in scope


@pytest.mark.parametrize("with_state", [True, False])
@pytest.mark.parametrize(
    "which", ["stateful", "stateless", "startup_fails", "shutdown_fails", "async_generator", "generator", "default"]
)
def test_router_lifespan_matches_reference(which: str, with_state: bool) -> None:
    expected = run_router_lifespan(STARLETTE, which, with_state)
    assert run_router_lifespan(FASTFRAME, which, with_state) == expected


def test_lifespan_receives_app_from_scope() -> None:
    seen: list[Any] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        seen.append(app)
        yield

    marker = object()
    sent = asyncio.run(drive_lifespan(ff_routing.Router(lifespan=lifespan), {"type": "lifespan", "app": marker}))
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert seen == [marker]


def test_generator_lifespan_wrappers_keep_the_name() -> None:
    for mod in (STARLETTE, FASTFRAME):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for which in ("async_generator", "generator"):
                router = mod.routing.Router(lifespan=lifespans([])[which])
                assert router.lifespan_context.__name__ == which


def app_outcome(mod: Any, client_factory: Callable[..., Any], which: str) -> Any:
    events: list[str] = []

    async def homepage(request: Any) -> Any:
        return mod.responses.JSONResponse({"state": dict(getattr(request.state, "_state", {}))})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = mod.applications.Starlette(routes=[mod.routing.Route("/", homepage)], lifespan=lifespans(events)[which])
    try:
        with client_factory(app) as client:
            body = client.get("/").json()
            events.append("request done")
    except Exception as exc:
        return events, ("raised", type(exc).__name__, str(exc))
    return events, body


@pytest.mark.parametrize(
    "which", ["stateful", "stateless", "startup_fails", "shutdown_fails", "async_generator", "generator", "default"]
)
def test_lifespan_through_application(test_client_factory: Callable[..., Any], anyio_backend: str, which: str) -> None:
    def reference_client(app: Any) -> Any:
        return starlette.testclient.TestClient(app, backend=anyio_backend)

    expected = app_outcome(STARLETTE, reference_client, which)
    assert app_outcome(FASTFRAME, test_client_factory, which) == expected
