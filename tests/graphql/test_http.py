from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fastframe.applications import Starlette
from fastframe.graphql import GraphQLApp
from fastframe.routing import Route
from tests.graphql.schema import EVENTS, build_schema

GQL = "application/graphql-response+json"


@pytest.fixture
def client(test_client_factory: Callable[..., Any]) -> Any:
    app = Starlette(routes=[Route("/graphql", GraphQLApp(build_schema()), methods=["GET", "POST", "PUT"])])
    return test_client_factory(app)


def make_client(test_client_factory: Callable[..., Any], **options: Any) -> Any:
    return test_client_factory(Starlette(routes=[Route("/graphql", GraphQLApp(build_schema(), **options))]))


def test_post_json_query(client: Any) -> None:
    response = client.post("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"hello": "Hello, world!"}}


def test_get_query_with_variables(client: Any) -> None:
    response = client.get(
        "/graphql", params={"query": "query Q($n: String) { hello(name: $n) }", "variables": '{"n": "GET"}'}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "Hello, GET!"}}


def test_post_application_graphql(client: Any) -> None:
    response = client.post(
        "/graphql",
        content=b"query Q($n: String) { hello(name: $n) }",
        params={"variables": '{"n": "raw"}'},
        headers={"content-type": "application/graphql"},
    )
    assert response.json() == {"data": {"hello": "Hello, raw!"}}


def test_operation_name_selects_the_operation(client: Any) -> None:
    query = 'query A { hello(name: "a") } query B { hello(name: "b") }'
    assert client.post("/graphql", json={"query": query, "operationName": "B"}).json() == {
        "data": {"hello": "Hello, b!"}
    }
    response = client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert "Must provide operation name" in response.json()["errors"][0]["message"]
    response = client.post("/graphql", json={"query": query, "operationName": "C"}, headers={"accept": GQL})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "Unknown operation named 'C'."}]}


def test_mutation_over_post_and_refused_over_get(client: Any) -> None:
    mutation = "mutation { add(a: 2, b: 3) }"
    assert client.post("/graphql", json={"query": mutation}).json() == {"data": {"add": 5}}
    response = client.get("/graphql", params={"query": mutation})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "Only queries can be sent with GET" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("accept", "status", "media_type"),
    [(None, 200, "application/json"), ("application/json", 200, "application/json"), (GQL, 400, GQL)],
)
def test_parse_and_validation_errors(client: Any, accept: str | None, status: int, media_type: str) -> None:
    headers = {"accept": accept} if accept else {}
    for query in ("{ hello", "{ nope }"):
        response = client.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code == status
        assert response.headers["content-type"] == media_type
        body = response.json()
        assert "data" not in body and body["errors"][0]["message"]


def test_variable_coercion_error_is_a_request_error(client: Any) -> None:
    response = client.post(
        "/graphql",
        json={"query": "mutation M($a: Int!) { add(a: $a, b: 1) }", "variables": {}},
        headers={"accept": GQL},
    )
    assert response.status_code == 400
    assert "Variable '$a'" in response.json()["errors"][0]["message"]


def test_execution_errors_keep_status_200_and_data(client: Any) -> None:
    response = client.post("/graphql", json={"query": "{ hello fail }"}, headers={"accept": GQL})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"hello": "Hello, world!", "fail": None}
    assert body["errors"][0]["message"] == "resolver failed"
    assert body["errors"][0]["path"] == ["fail"]


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"json": [1, 2]}, 400, "must be a JSON object"),
        ({"json": {"variables": {}}}, 400, "no 'query'"),
        ({"json": {"query": 5}}, 400, "'query' parameter must be a string"),
        ({"json": {"query": "{ hello }", "variables": [1]}}, 400, "'variables' parameter must be a JSON object"),
        ({"json": {"query": "{ hello }", "operationName": 3}}, 400, "'operationName' parameter must be a string"),
        ({"content": b"{ hello }", "headers": {"content-type": "text/plain"}}, 415, "Unsupported content type"),
    ],
)
def test_malformed_requests_get_4xx(client: Any, kwargs: dict[str, Any], status: int, message: str) -> None:
    response = client.post("/graphql", **kwargs)
    assert response.status_code == status
    assert message in response.json()["errors"][0]["message"]


def test_bad_variables_in_query_string(client: Any) -> None:
    response = client.get("/graphql", params={"query": "{ hello }", "variables": "{oops"})
    assert response.status_code == 400
    assert "'variables' parameter is not valid JSON" in response.json()["errors"][0]["message"]


def test_other_methods_are_refused(client: Any) -> None:
    response = client.put("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


def test_accept_negotiation(client: Any) -> None:
    both = f"application/json;q=0.5, {GQL}"
    assert client.post("/graphql", json={"query": "{ hello }"}, headers={"accept": both}).headers["content-type"] == GQL
    assert (
        client.post("/graphql", json={"query": "{ hello }"}, headers={"accept": "*/*"}).headers["content-type"]
        == "application/json"
    )
    response = client.post("/graphql", json={"query": "{ hello }"}, headers={"accept": "text/plain"})
    assert response.status_code == 406


def test_graphiql_page_and_switching_it_off(test_client_factory: Callable[..., Any]) -> None:
    client = make_client(test_client_factory)
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()
    off = make_client(test_client_factory, graphiql=False)
    response = off.get("/graphql", headers={"accept": "text/html,application/json"})
    assert response.status_code == 400
    assert "no 'query'" in response.json()["errors"][0]["message"]


def test_context_has_the_request(client: Any) -> None:
    response = client.post("/graphql", json={"query": "{ userAgent }"}, headers={"user-agent": "probe/1.0"})
    assert response.json() == {"data": {"userAgent": "probe/1.0"}}


@pytest.mark.parametrize("asynchronous", [False, True])
def test_custom_context_factory(test_client_factory: Callable[..., Any], asynchronous: bool) -> None:
    def sync_factory(request: Any) -> dict[str, Any]:
        return {"tenant": request.headers.get("x-tenant")}

    async def async_factory(request: Any) -> dict[str, Any]:
        return {"tenant": request.headers.get("x-tenant")}

    from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, GraphQLString

    async def tenant(root: Any, info: Any) -> str:
        assert info.context["request"] is not None
        return str(info.context["tenant"])

    schema = GraphQLSchema(GraphQLObjectType("Query", {"tenant": GraphQLField(GraphQLString, resolve=tenant)}))
    app = GraphQLApp(schema, context_value=async_factory if asynchronous else sync_factory)
    client = test_client_factory(Starlette(routes=[Route("/", app, methods=["POST"])]))
    assert client.post("/", json={"query": "{ tenant }"}, headers={"x-tenant": "acme"}).json() == {
        "data": {"tenant": "acme"}
    }


def test_background_tasks_run_after_the_response(client: Any) -> None:
    EVENTS.clear()
    response = client.post("/graphql", json={"query": 'mutation { schedule(note: "sent") }'})
    assert response.json() == {"data": {"schedule": True}}
    assert EVENTS == ["sent"]


def test_sync_resolvers_run_in_the_thread_pool(client: Any) -> None:
    assert client.post("/graphql", json={"query": "{ syncOffLoop }"}).json() == {"data": {"syncOffLoop": True}}


def test_max_depth(test_client_factory: Callable[..., Any]) -> None:
    client = make_client(test_client_factory, max_depth=3)
    ok = client.post("/graphql", json={"query": "{ nested { child { value } } }"})
    assert ok.json() == {"data": {"nested": {"child": {"value": 2}}}}
    deep = "{ nested { child { child { child { value } } } } }"
    response = client.post("/graphql", json={"query": deep}, headers={"accept": GQL})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Query depth 5 exceeds the maximum allowed depth of 3."
    via_fragment = "query { nested { ...F } } fragment F on Nested { child { child { child { value } } } }"
    assert (
        client.post("/graphql", json={"query": via_fragment}).json()["errors"][0]["message"].startswith("Query depth 5")
    )


def test_max_query_size(test_client_factory: Callable[..., Any]) -> None:
    client = make_client(test_client_factory, max_query_size=20)
    assert client.post("/graphql", json={"query": "{ hello }"}).status_code == 200
    response = client.post("/graphql", json={"query": "{ hello " + " " * 30 + "}"}, headers={"accept": GQL})
    assert response.status_code == 400
    assert "maximum allowed size of 20" in response.json()["errors"][0]["message"]


def test_subscription_over_plain_http_is_refused(client: Any) -> None:
    response = client.post("/graphql", json={"query": "subscription { count(to: 2) }"}, headers={"accept": GQL})
    assert response.status_code == 400
    assert "text/event-stream" in response.json()["errors"][0]["message"]


def test_subscription_over_server_sent_events(client: Any) -> None:
    with client.stream(
        "POST",
        "/graphql",
        json={"query": "subscription { count(to: 3) }"},
        headers={"accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = [block for block in text.split("\n\n") if block]
    assert events == [
        'event: next\ndata: {"data":{"count":1}}',
        'event: next\ndata: {"data":{"count":2}}',
        'event: next\ndata: {"data":{"count":3}}',
        "event: complete\ndata: ",
    ]


def test_query_over_server_sent_events(client: Any) -> None:
    response = client.post("/graphql", json={"query": "{ hello }"}, headers={"accept": "text/event-stream"})
    assert response.text == 'event: next\ndata: {"data":{"hello":"Hello, world!"}}\n\nevent: complete\ndata: \n\n'
