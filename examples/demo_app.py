"""The demo service: the reference's quick-start with only the imports changed, plus server-sent events,
a websocket echo and a small GraphQL schema.

Run it with `scripts/demo`, then:
    curl http://127.0.0.1:8000/items
    curl -N http://127.0.0.1:8000/events
    curl -H 'content-type: application/json' -d '{"query": "{ items { name status } }"}' http://127.0.0.1:8000/graphql
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from graphql import GraphQLField, GraphQLList, GraphQLObjectType, GraphQLSchema, GraphQLString

from fastframe.applications import Starlette
from fastframe.graphql import GraphQLApp
from fastframe.requests import Request
from fastframe.responses import JSONResponse, StreamingResponse
from fastframe.routing import Route, WebSocketRoute
from fastframe.websockets import WebSocket, WebSocketDisconnect

EVENT_INTERVAL = 0.5


ITEMS = [{"name": "item-1", "status": "active"}]


async def list_items(request: Request) -> JSONResponse:
    return JSONResponse(ITEMS)


async def ticks(count: int) -> AsyncIterator[str]:
    for n in range(1, count + 1):
        yield f"event: tick\ndata: {{\"n\": {n}}}\n\n"
        if n < count:
            await anyio.sleep(EVENT_INTERVAL)


async def events(request: Request) -> StreamingResponse:
    count = int(request.query_params.get("count", "5"))
    return StreamingResponse(
        ticks(count), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


async def resolve_items(root: object, info: object) -> list[dict[str, str]]:
    return ITEMS


ItemType = GraphQLObjectType("Item", {"name": GraphQLField(GraphQLString), "status": GraphQLField(GraphQLString)})
schema = GraphQLSchema(
    query=GraphQLObjectType("Query", {"items": GraphQLField(GraphQLList(ItemType), resolve=resolve_items)})
)
graphql_app = GraphQLApp(schema)

app = Starlette(
    routes=[
        Route("/items", list_items),
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
        Route("/events", events),
        WebSocketRoute("/ws", echo),
    ]
)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
