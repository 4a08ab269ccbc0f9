"""Malformed input gets the reference's answer, and the app keeps serving afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import starlette.applications
import starlette.responses
import starlette.routing
import starlette.testclient

from fastframe.applications import Starlette
from fastframe.responses import JSONResponse
from fastframe.routing import Route


def build(package: str) -> Any:
    app_cls: Any = Starlette if package == "fastframe" else starlette.applications.Starlette
    route: Any = Route if package == "fastframe" else starlette.routing.Route
    json_response: Any = JSONResponse if package == "fastframe" else starlette.responses.JSONResponse

    async def echo(request: Any) -> Any:
        return json_response(
            {
                "cookies": request.cookies,
                "query": request.query_params.multi_items(),
                "path": request.url.path,
                "path_param": request.path_params.get("rest"),
            }
        )

    async def body_json(request: Any) -> Any:
        return json_response({"json": await request.json()})

    return app_cls(routes=[route("/json", body_json, methods=["POST"]), route("/{rest:path}", echo)])


def outcome(client: Any, method: str, url: str, **kwargs: Any) -> tuple[Any, ...]:
    try:
        response = client.request(method, url, **kwargs)
    except Exception as exc:  # the exception type is part of the behaviour
        return ("raised", type(exc).__name__)
    return (response.status_code, response.headers.get("content-type"), response.content)


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/c", {"headers": {"cookie": 'a=1; b; =c; d="x\\"y"; e=%ZZ; ;; f=="; g=\\\\'}}),
    ("GET", "/c", {"headers": {"cookie": ";;;===;;"}}),
    ("GET", "/c", {"headers": {"cookie": "a=" + "x" * 5000}}),
    ("GET", "/q?a=%ZZ&b=%&c=%e9&d=%C3%A9&e=%%%41&f=+&g", {}),
    ("GET", "/q?=&&=x&y=&%00=%00", {}),
    ("GET", "/caf%C3%A9/%FF%FE/x%00y", {}),
    ("GET", "/%ZZ/%/..%2F..%2Fetc", {}),
    ("POST", "/json", {"content": b"{not json", "headers": {"content-type": "application/json"}}),
    ("POST", "/json", {"content": b"", "headers": {"content-type": "application/json"}}),
    ("POST", "/json", {"content": b"\xff\xfe\x00", "headers": {"content-type": "application/json"}}),
    ("POST", "/json", {"content": b"[1, 2", "headers": {"content-type": "application/json"}}),
    ("POST", "/json", {"content": b"NaN", "headers": {"content-type": "application/json"}}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), CASES)
def test_malformed_input_matches_the_reference(
    test_client_factory: Callable[..., Any], method: str, url: str, kwargs: dict[str, Any]
) -> None:
    ours = test_client_factory(build("fastframe"))
    theirs = starlette.testclient.TestClient(build("starlette"))
    assert outcome(ours, method, url, **kwargs) == outcome(theirs, method, url, **kwargs)
    # Nothing broke: the next ordinary request is served.
    assert ours.get("/ok").status_code == 200


def test_non_utf8_raw_path_matches_the_reference() -> None:
    import anyio

    scope_base: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/caf\udcc3\udca9",
        "raw_path": b"/caf\xc3\xa9/\xff",
        "query_string": b"x=\xff",
        "headers": [(b"host", b"example.org")],
    }

    async def run(app: Any) -> list[Any]:
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        try:
            await app(dict(scope_base), receive, send)
        except Exception as exc:
            return ["raised", type(exc).__name__]
        return [(m["type"], m.get("status"), m.get("body")) for m in sent]

    assert anyio.run(run, build("fastframe")) == anyio.run(run, build("starlette"))
