"""A small schema exercising async and sync resolvers, context, background tasks and subscriptions."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
)

EVENTS: list[str] = []


async def resolve_hello(root: Any, info: Any, name: str = "world") -> str:
    return f"Hello, {name}!"


def resolve_sync_off_loop(root: Any, info: Any) -> bool:
    # True when the resolver ran in a worker thread rather than on the event loop's thread.
    return threading.current_thread() is not threading.main_thread()


def resolve_user_agent(root: Any, info: Any) -> str:
    return str(info.context["request"].headers.get("user-agent", ""))


def resolve_fail(root: Any, info: Any) -> str:
    raise ValueError("resolver failed")


def resolve_nested(root: Any, info: Any) -> dict[str, Any]:
    return {"value": 1}


async def resolve_add(root: Any, info: Any, a: int, b: int) -> int:
    return a + b


async def resolve_schedule(root: Any, info: Any, note: str) -> bool:
    info.context["background"].add_task(EVENTS.append, note)
    return True


async def subscribe_count(root: Any, info: Any, to: int, delay: int = 0) -> AsyncIterator[int]:
    for n in range(1, to + 1):
        if delay:
            await anyio.sleep(delay / 1000)  # milliseconds
        yield n


async def resolve_event(value: int, info: Any, **args: Any) -> int:
    return value


def nested_type() -> GraphQLObjectType:
    nested: GraphQLObjectType = GraphQLObjectType(
        "Nested",
        lambda: {
            "value": GraphQLField(GraphQLInt),
            "child": GraphQLField(nested, resolve=lambda root, info: {"value": root["value"] + 1}),
        },
    )
    return nested


def build_schema() -> GraphQLSchema:
    query = GraphQLObjectType(
        "Query",
        {
            "hello": GraphQLField(
                GraphQLString,
                args={"name": GraphQLArgument(GraphQLString, default_value="world")},
                resolve=resolve_hello,
            ),
            "syncOffLoop": GraphQLField(GraphQLBoolean, resolve=resolve_sync_off_loop),
            "userAgent": GraphQLField(GraphQLString, resolve=resolve_user_agent),
            "fail": GraphQLField(GraphQLString, resolve=resolve_fail),
            "nested": GraphQLField(nested_type(), resolve=resolve_nested),
        },
    )
    mutation = GraphQLObjectType(
        "Mutation",
        {
            "add": GraphQLField(
                GraphQLInt,
                args={
                    "a": GraphQLArgument(GraphQLNonNull(GraphQLInt)),
                    "b": GraphQLArgument(GraphQLNonNull(GraphQLInt)),
                },
                resolve=resolve_add,
            ),
            "schedule": GraphQLField(
                GraphQLBoolean, args={"note": GraphQLArgument(GraphQLNonNull(GraphQLString))}, resolve=resolve_schedule
            ),
        },
    )
    subscription = GraphQLObjectType(
        "Subscription",
        {
            "count": GraphQLField(
                GraphQLNonNull(GraphQLInt),
                args={"to": GraphQLArgument(GraphQLNonNull(GraphQLInt)), "delay": GraphQLArgument(GraphQLInt)},
                subscribe=subscribe_count,
                resolve=resolve_event,
            ),
        },
    )
    return GraphQLSchema(query=query, mutation=mutation, subscription=subscription)
