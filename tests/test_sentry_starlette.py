"""sentry-sdk's Starlette integration reports on fastframe what it reports on the reference.

The integration patches ``starlette.*`` modules, so fastframe has to be what ``starlette`` names:
each run happens in a fresh interpreter that calls ``fastframe.install_as_starlette()`` before
importing sentry_sdk (the integration also checks ``starlette.__version__``, which the alias gives
as the reference's). The same app is then served once on the reference and once on fastframe, with
an in-memory transport, and the error events and transactions (names, sources, status, request
data) must be the same, with tracing on, sampled out, and off.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from fastframe import speedups
from tests._subproc import SENTRY_PRELUDE, last_json, run_source

SCRIPT = SENTRY_PRELUDE + r"""
import importlib
import pkgutil
import types

from sentry_sdk.integrations.starlette import StarletteIntegration

side, rate, backend = sys.argv[1], sys.argv[2], sys.argv[3]
options = {} if rate == "off" else {"traces_sample_rate": float(rate)}
sentry_sdk.init(
    dsn="http://public@localhost/1",
    transport=Collect,
    integrations=[StarletteIntegration()],
    auto_enabling_integrations=False,
    default_integrations=False,
    release="test",
    **options,
)

from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient

assert Starlette.__module__.startswith(side if side == "fastframe" else "starlette")


async def hello(request):
    return PlainTextResponse("hello " + request.path_params["name"])


async def fails(request):
    raise ValueError("failed on " + request.path_params["x"])


async def reads_then_fails(request):
    payload = await request.json()
    raise KeyError(payload["missing"] if "missing" in payload else "no key")


async def refused(request):
    raise HTTPException(status_code=int(request.path_params["code"]), detail="refused")


async def answers(request):
    return JSONResponse({"id": request.path_params["id"]})


class Thing(HTTPEndpoint):
    async def get(self, request):
        raise RuntimeError("thing failed")


async def echo(websocket):
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


inner = Starlette(routes=[Route("/item/{id:int}", answers), Route("/refused/{code:int}", refused)])
app = Starlette(
    routes=[
        Route("/hello/{name}", hello),
        Route("/fails/{x}", fails),
        Route("/post", reads_then_fails, methods=["POST"]),
        Route("/refused/{code:int}", refused),
        Route("/thing", Thing),
        WebSocketRoute("/ws", echo),
        Mount("/sub", app=inner),
    ]
)
client = TestClient(app, raise_server_exceptions=False, backend=backend)
answers_seen = [
    client.get("/hello/ada?q=1").status_code,
    client.get("/fails/7").status_code,
    client.post("/post", json={"k": "v", "n": [1, 2]}).status_code,
    client.get("/refused/503").status_code,
    client.get("/refused/404").status_code,
    client.get("/thing").status_code,
    client.get("/sub/item/3").status_code,
    client.get("/sub/refused/500").status_code,
    client.get("/nowhere").status_code,
]
with client.websocket_connect("/ws") as websocket:
    websocket.send_text("hi")
    answers_seen.append(websocket.receive_text())
sentry_sdk.flush()

VOLATILE = ("thread.", "sentry.segment.id", "process.", "server.address", "sentry.release")


def value(attribute):
    return attribute.get("value") if isinstance(attribute, dict) else attribute


def summary(kind, payload):
    if kind == "event":
        request = payload.get("request") or {}
        return {
            "transaction": payload.get("transaction"),
            "transaction_info": payload.get("transaction_info"),
            "level": payload.get("level"),
            "exceptions": [
                [v.get("type"), v.get("value"), v.get("mechanism")]
                for v in (payload.get("exception") or {}).get("values", [])
            ],
            "request": {k: request.get(k) for k in ("url", "method", "query_string", "data")},
        }
    if kind in ("span", "transaction"):
        spans = payload.get("items") or payload.get("spans") or [payload]
        return [
            {
                "name": span.get("name", span.get("transaction")),
                "status": span.get("status"),
                "is_segment": span.get("is_segment"),
                "attributes": sorted(
                    [k, repr(value(v))]
                    for k, v in (span.get("attributes") or {}).items()
                    if not k.startswith(VOLATILE)
                ),
            }
            for span in spans
        ]
    return {"keys": sorted(payload)}


implementation = sys.modules["fastframe.speedups"].IMPLEMENTATION if side == "fastframe" else None
items = sorted(json.dumps([kind, summary(kind, payload)]) for kind, payload in received)
print(json.dumps({"implementation": implementation, "answers": answers_seen, "items": items}))
"""


def run(side: str, rate: str, backend: str) -> dict[str, Any]:
    result: dict[str, Any] = last_json(run_source(SCRIPT, side, rate, backend))
    result["items"] = [json.loads(item) for item in result["items"]]
    return result


@pytest.mark.timeout(120)
@pytest.mark.parametrize("rate", ["1.0", "0.0", "off"])
def test_sentry_reports_the_same_on_fastframe(rate: str, anyio_backend: str) -> None:
    reference = run("reference", rate, anyio_backend)
    ours = run("fastframe", rate, anyio_backend)
    assert ours["implementation"] == speedups.IMPLEMENTATION
    assert ours["answers"] == reference["answers"]
    assert ours["items"] == reference["items"]
    events = [summary for kind, summary in ours["items"] if kind == "event"]
    # What the integration promises, seen on fastframe: errors captured with route names.
    assert {event["transaction"] for event in events} >= {"/fails/{x}", "/post", "/thing"}
    assert all(event["transaction_info"] == {"source": "route"} for event in events)
    if rate == "1.0":
        names = {span["name"] for kind, spans in ours["items"] if kind == "span" for span in spans}
        assert {"/hello/{name}", "/fails/{x}", "/ws"} <= names
