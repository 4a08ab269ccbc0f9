"""The GraphQL scenario: one small schema, served by fastframe's GraphQLApp and, for Starlette, by the
usual third-party glue: graphql-core called from a plain endpoint."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

QUERY = "query User($id: Int!) { user(id: $id) { id name email friends { name } } }"
BODY = json.dumps({"query": QUERY, "variables": {"id": 7}}).encode()
EXPECTED = json.dumps(
    {
        "data": {
            "user": {
                "id": 7,
                "name": "user-7",
                "email": "user-7@example.com",
                "friends": [{"name": "user-8"}, {"name": "user-9"}],
            }
        }
    },
    separators=(",", ":"),
).encode()


def schema() -> Any:
    from graphql import (
        GraphQLArgument,
        GraphQLField,
        GraphQLInt,
        GraphQLList,
        GraphQLNonNull,
        GraphQLObjectType,
        GraphQLSchema,
        GraphQLString,
    )

    def person(n: int) -> dict[str, Any]:
        return {"id": n, "name": f"user-{n}", "email": f"user-{n}@example.com"}

    async def resolve_user(root: Any, info: Any, id: int) -> dict[str, Any]:
        return person(id)

    async def resolve_friends(user: dict[str, Any], info: Any) -> list[dict[str, Any]]:
        return [person(user["id"] + 1), person(user["id"] + 2)]

    user_type: GraphQLObjectType = GraphQLObjectType(
        "User",
        lambda: {
            "id": GraphQLField(GraphQLInt),
            "name": GraphQLField(GraphQLString),
            "email": GraphQLField(GraphQLString),
            "friends": GraphQLField(GraphQLList(user_type), resolve=resolve_friends),
        },
    )
    query = GraphQLObjectType(
        "Query",
        {
            "user": GraphQLField(
                user_type, args={"id": GraphQLArgument(GraphQLNonNull(GraphQLInt))}, resolve=resolve_user
            )
        },
    )
    return GraphQLSchema(query=query)


def build(fw: SimpleNamespace) -> Any:
    if fw.package == "fastframe":
        from fastframe.graphql import GraphQLApp

        return fw.Starlette(routes=[fw.Route("/graphql", GraphQLApp(schema()), methods=["POST"])])

    import graphql

    graphql_schema = schema()

    async def endpoint(request: Any) -> Any:
        data = await request.json()
        result = await graphql.graphql(
            graphql_schema,
            data["query"],
            variable_values=data.get("variables"),
            operation_name=data.get("operationName"),
            context_value={"request": request},
        )
        return fw.JSONResponse(result.formatted)

    return fw.Starlette(routes=[fw.Route("/graphql", endpoint, methods=["POST"])])
