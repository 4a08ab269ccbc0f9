"""SchemaGenerator against the reference: the document for routes, mounts, hosts and sub-apps, with and
without docstrings, the OpenAPI version rule for QUERY operations, and docstring parsing."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
import starlette.applications
import starlette.endpoints
import starlette.routing
import starlette.schemas
import starlette.testclient
from hypothesis import given, settings
from hypothesis import strategies as st

import fastframe.applications
import fastframe.endpoints
import fastframe.routing
import fastframe.schemas

MODULES: dict[str, Any] = {
    "fastframe": (fastframe.schemas, fastframe.routing, fastframe.endpoints, fastframe.applications),
    "starlette": (starlette.schemas, starlette.routing, starlette.endpoints, starlette.applications),
}


def documented(request: Any) -> None:
    """
    summary: documented
    """


def undocumented(request: Any) -> None:
    pass


def prose(request: Any) -> None:
    """Only words for people."""


def listed(request: Any) -> None:
    """
    - not
    - a mapping
    """


def separated(request: Any) -> None:
    """Words first.
    ---
    summary: after the separator
    """


async def socket(websocket: Any) -> None:
    pass  # pragma: no cover


def routes_for(package: str) -> list[Any]:
    _, routing, endpoints, applications = MODULES[package]

    class Everything(endpoints.HTTPEndpoint):
        def get(self, request: Any) -> None:
            """summary: get"""

        def head(self, request: Any) -> None:
            """summary: head"""

        def post(self, request: Any) -> None:
            """summary: post"""

        def put(self, request: Any) -> None:
            """summary: put"""

        def patch(self, request: Any) -> None:
            """summary: patch"""

        def delete(self, request: Any) -> None:
            """summary: delete"""

        def options(self, request: Any) -> None:
            """summary: options"""

        def trace(self, request: Any) -> None:
            """summary: trace"""

        def query(self, request: Any) -> None:
            """summary: query"""

        def undocumented(self, request: Any) -> None:
            pass

    class Partly(endpoints.HTTPEndpoint):
        def get(self, request: Any) -> None:
            pass

        def post(self, request: Any) -> None:
            """summary: post only"""

    sub_app = applications.Starlette(routes=[routing.Route("/in-app/{n:int}", documented)])
    router = routing.Router(routes=[routing.Route("/in-router", documented, methods=["PUT", "QUERY"])])
    return [
        routing.Route("/plain", documented),
        routing.Route("/methods", documented, methods=["GET", "POST", "QUERY", "PATCH", "CUSTOM"]),
        routing.Route("/query-only", documented, methods=["QUERY"]),
        routing.Route("/undocumented", undocumented),
        routing.Route("/prose", prose),
        routing.Route("/listed", listed),
        routing.Route("/separated", separated),
        routing.Route("/class", Everything),
        routing.Route("/partly", Partly),
        routing.Route("/partial", functools.partial(documented)),
        routing.Route("/lambda", lambda request: None),
        routing.Route("/hidden", documented, include_in_schema=False),
        routing.Route("/users/{user_id:int}/files/{name:path}", documented),
        routing.WebSocketRoute("/ws", socket),
        routing.Mount(
            "/mounted/{tenant:str}",
            routes=[
                routing.Route("/leaf/{id:uuid}", documented),
                routing.Mount("/deeper", routes=[routing.Route("/", documented)]),
            ],
        ),
        routing.Mount("/app", app=sub_app),
        routing.Mount("/router", app=router),
        routing.Mount("/asgi", app=socket),
        routing.Host("api.example.com", app=router),
        routing.Host("{sub}.example.com", app=sub_app),
    ]


VERSIONS = ["3.0.0", "3.1.0", "3.2.0", "3.2", "3.10.1", "4.0", "2.0", "3", "x", None, 3.2, 3.19]


@pytest.mark.parametrize("version", VERSIONS, ids=repr)
def test_documents_match_the_reference(version: Any) -> None:
    base: dict[str, Any] = {"info": {"title": "t", "version": "1"}}
    if version is not None:
        base["openapi"] = version
    documents = []
    for package in ("fastframe", "starlette"):
        schemas = MODULES[package][0]
        documents.append(schemas.SchemaGenerator(dict(base)).get_schema(routes_for(package)))
    assert documents[0] == documents[1]
    query_paths = [path for path, item in documents[0]["paths"].items() if "query" in item]
    assert bool(query_paths) == (version in ("3.2.0", "3.2", "3.10.1", "4.0", 3.2, 3.19))


def test_endpoints_match_the_reference() -> None:
    found = []
    for package in ("fastframe", "starlette"):
        endpoints = MODULES[package][0].SchemaGenerator({}).get_endpoints(routes_for(package))
        found.append([(e.path, e.http_method, e.func.__qualname__) for e in endpoints])
    assert sorted(found[0]) == sorted(found[1])


version_text = st.one_of(
    st.text(alphabet="0123456789.-+ rcab\u0663\uff13", max_size=8),
    st.tuples(st.integers(0, 12), st.integers(0, 30)).map(lambda t: f"{t[0]}.{t[1]}"),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(),
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(version=version_text)
def test_the_query_rule_follows_the_reference(version: Any) -> None:
    documents = []
    for package in ("fastframe", "starlette"):
        schemas, routing, _, _ = MODULES[package]
        generator = schemas.SchemaGenerator({"openapi": version})
        documents.append(generator.get_schema([routing.Route("/q", documented, methods=["QUERY", "GET"])]))
    assert documents[0] == documents[1]


docstrings = st.one_of(
    st.none(),
    st.text(alphabet="ab: -\n\t[]{}#'\"1", max_size=30),
    st.lists(st.sampled_from(["a: 1", "b:\n  - x", "---", "- item", "c: [1", "  d: 2", "text"]), max_size=4).map(
        "\n".join
    ),
)


@settings(max_examples=400, deadline=None)
@given(docstring=docstrings)
def test_docstrings_parse_as_in_the_reference(docstring: str | None) -> None:
    def endpoint(request: Any) -> None:
        pass  # pragma: no cover

    endpoint.__doc__ = docstring
    results = []
    for package in ("fastframe", "starlette"):
        try:
            results.append(MODULES[package][0].SchemaGenerator({}).parse_docstring(endpoint))
        except Exception as exc:
            results.append(type(exc).__name__)
    assert results[0] == results[1]


@settings(max_examples=300, deadline=None)
@given(path=st.text(alphabet="/{}:abint_-.x9", max_size=24))
def test_convertors_are_removed_as_in_the_reference(path: str) -> None:
    ours = fastframe.schemas.SchemaGenerator({})._remove_converter(path)
    assert ours == starlette.schemas.SchemaGenerator({})._remove_converter(path)


def test_a_paths_mapping_in_the_base_is_filled_in_place() -> None:
    results = []
    for package in ("fastframe", "starlette"):
        schemas, routing, _, _ = MODULES[package]
        paths: dict[str, Any] = {"/given": {"get": {}}}
        generator = schemas.SchemaGenerator({"paths": paths})
        first = generator.get_schema([routing.Route("/a", documented)])
        second = generator.get_schema([routing.Route("/b", documented)])
        results.append((first, second, sorted(paths)))
    assert results[0] == results[1]


def test_the_openapi_response(test_client_factory: Callable[..., Any]) -> None:
    bodies = []
    for package, client_factory in (("fastframe", test_client_factory), ("starlette", starlette.testclient.TestClient)):
        schemas, routing, _, applications = MODULES[package]
        generator = schemas.SchemaGenerator({"openapi": "3.2.0", "info": {"title": "\u00e9", "version": "1"}})

        def schema(request: Any, generator: Any = generator) -> Any:
            return generator.OpenAPIResponse(request)

        app = applications.Starlette(routes=[*routes_for(package), routing.Route("/schema", schema)])
        response = client_factory(app).get("/schema")
        bodies.append((response.status_code, response.headers["content-type"], response.content))
    assert bodies[0] == bodies[1]
    assert bodies[0][1] == "application/vnd.oai.openapi"


@pytest.mark.parametrize("content", [[1], "text", None, 3])
def test_the_openapi_response_wants_a_mapping(content: Any) -> None:
    with pytest.raises(AssertionError, match="The schema passed to OpenAPIResponse should be a dictionary."):
        fastframe.schemas.OpenAPIResponse(content)
