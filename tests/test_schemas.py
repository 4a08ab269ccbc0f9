from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import starlette.applications
import starlette.endpoints
import starlette.routing
import starlette.schemas
import starlette.testclient
import yaml

import fastframe.applications
import fastframe.endpoints
import fastframe.routing
import fastframe.schemas


def list_users(request: Any) -> None:
    """
    responses:
      200:
        description: A list of users.
    """


def no_docstring(request: Any) -> None:
    pass


def prose_only(request: Any) -> None:
    """Just prose, which YAML reads as a string, not a mapping."""


def with_separator(request: Any) -> None:
    """Summary for humans.
    ---
    responses:
      201: {description: Created.}
    """


async def websocket_endpoint(websocket: Any) -> None:
    pass  # pragma: no cover


def build(package: str) -> tuple[Any, Any]:
    routing: Any = fastframe.routing if package == "fastframe" else starlette.routing
    endpoints: Any = fastframe.endpoints if package == "fastframe" else starlette.endpoints
    schemas: Any = fastframe.schemas if package == "fastframe" else starlette.schemas
    applications: Any = fastframe.applications if package == "fastframe" else starlette.applications

    class Organisation(endpoints.HTTPEndpoint):
        def get(self, request: Any) -> None:
            """
            summary: Read an organisation.
            """

        def delete(self, request: Any) -> None:
            """
            summary: Delete an organisation.
            """

        def post(self, request: Any) -> None:
            """
            summary: Create an organisation.
            """

    generator = schemas.SchemaGenerator({"openapi": "3.0.0", "info": {"title": "Example", "version": "1.0"}})

    def schema(request: Any) -> Any:
        return generator.OpenAPIResponse(request=request)

    child = routing.Router(routes=[routing.Route("/child/{id:int}", list_users, methods=["GET", "PUT"])])
    routes = [
        routing.Route("/users", list_users, methods=["GET", "POST"]),
        routing.Route("/nodoc", no_docstring),
        routing.Route("/prose", prose_only),
        routing.Route("/separated", with_separator),
        routing.Route("/orgs/{name}", Organisation),
        routing.WebSocketRoute("/ws", websocket_endpoint),
        routing.Mount("/sub", routes=[routing.Route("/files/{p:path}", list_users)]),
        routing.Mount("/app", app=child),
        routing.Host("api.example.com", app=child),
        routing.Route("/hidden", list_users, include_in_schema=False),
        routing.Route("/schema", schema, include_in_schema=False),
    ]
    return generator, applications.Starlette(routes=routes)


def test_schema_matches_the_reference() -> None:
    ours, our_app = build("fastframe")
    theirs, their_app = build("starlette")
    assert ours.get_schema(our_app.routes) == theirs.get_schema(their_app.routes)


def test_endpoints_match_the_reference() -> None:
    ours, our_app = build("fastframe")
    theirs, their_app = build("starlette")

    def key(info: Any) -> tuple[str, str, str]:
        return (info.path, info.http_method, info.func.__qualname__)

    assert sorted(map(key, ours.get_endpoints(our_app.routes))) == sorted(
        map(key, theirs.get_endpoints(their_app.routes))
    )


def test_openapi_response_is_the_references_yaml(test_client_factory: Callable[..., Any]) -> None:
    _, our_app = build("fastframe")
    _, their_app = build("starlette")
    mine = test_client_factory(our_app).get("/schema")
    theirs = starlette.testclient.TestClient(their_app).get("/schema")
    assert mine.status_code == 200
    assert mine.headers["content-type"] == "application/vnd.oai.openapi"
    assert mine.content == theirs.content
    assert yaml.safe_load(mine.text)["paths"]["/orgs/{name}"]["delete"] == {"summary": "Delete an organisation."}


def test_openapi_response_requires_a_mapping() -> None:
    with pytest.raises(AssertionError, match="The schema passed to OpenAPIResponse should be a dictionary."):
        fastframe.schemas.OpenAPIResponse([1, 2])


def test_empty_base_schema_gets_paths() -> None:
    assert fastframe.schemas.SchemaGenerator({}).get_schema([]) == {"paths": {}}
