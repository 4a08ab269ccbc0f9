"""A typical FastAPI app of 60 routes for the FastAPI benchmark (benchmarks/fastapi_bench.py).

The code is the same for both engines: the process chooses. Imported as is, FastAPI runs on
Starlette; imported after `fastframe.install_as_starlette()` (or under `python -m fastframe serve
benchmarks.fastapi_apps:app`), every `starlette` import FastAPI makes resolves to fastframe.

Routes, in declaration order (FastAPI's own /openapi.json, /docs, /docs/oauth2-redirect and /redoc
come first, added when the app is created):

 1. GET /                   a dict: the hello route
 2. GET /items/{item_id}    an int path parameter and query parameters `q: str | None`, `limit: int`
 3. POST /items             a pydantic model as the JSON body, returned
 4. GET /models/{item_id}   `response_model=ItemOut`: the returned dict is validated and filtered
 5-59. GET /r{n}/{x}        filler routes of the same shape, none of which matches /r60/...
 60. GET /r60/{x}           the route declared 60th, reached after all the others
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

ROUTES = 60


class ItemIn(BaseModel):
    name: str
    price: float
    tags: list[str] = []


class ItemOut(BaseModel):
    id: int
    name: str
    price: float


def _filler(n: int):
    async def handler(x: str):
        return {"route": n, "x": x}

    handler.__name__ = f"route_{n}"
    return handler


def build_app() -> FastAPI:
    app = FastAPI(title="fastframe FastAPI benchmark")

    @app.get("/")
    async def hello():
        return {"message": "Hello World"}

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None, limit: int = 10):
        return {"item_id": item_id, "q": q, "limit": limit}

    @app.post("/items")
    async def create_item(item: ItemIn):
        return item

    @app.get("/models/{item_id}", response_model=ItemOut)
    async def read_model(item_id: int):
        # The extra field is dropped by the response model.
        return {"id": item_id, "name": "widget", "price": 9.5, "secret": "hidden"}

    for n in range(5, ROUTES + 1):
        app.get(f"/r{n}/{{x}}")(_filler(n))
    return app


app = build_app()
