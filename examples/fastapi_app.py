"""A small, typical FastAPI app, unchanged: it imports fastapi (and so starlette) as usual.

Serve it on fastframe with

    python -m fastframe serve examples.fastapi_app:app --port 8000

which installs fastframe as `starlette` before uvicorn imports this module. `uvicorn
examples.fastapi_app:app` serves the same app on the real Starlette.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, WebSocket
from pydantic import BaseModel
from starlette.middleware.cors import CORSMiddleware


class ItemIn(BaseModel):
    name: str
    price: float
    tags: list[str] = []


class ItemOut(BaseModel):
    id: int
    name: str
    price: float


ITEMS: dict[int, ItemOut] = {}
AUDIT: list[str] = []


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    ITEMS[1] = ItemOut(id=1, name="item-1", price=9.5)
    yield
    ITEMS.clear()


app = FastAPI(title="fastframe example", lifespan=lifespan)
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"])


def pagination(offset: int = 0, limit: int = 10) -> dict[str, int]:
    return {"offset": offset, "limit": limit}


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "Hello World"}


@app.get("/items")
async def list_items(page: dict[str, int] = Depends(pagination)) -> list[ItemOut]:
    items = sorted(ITEMS.values(), key=lambda item: item.id)
    return items[page["offset"] : page["offset"] + page["limit"]]


@app.get("/items/{item_id}", response_model=ItemOut)
async def get_item(item_id: int) -> ItemOut:
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="Item not found")
    return ITEMS[item_id]


@app.post("/items", response_model=ItemOut, status_code=201)
async def create_item(item: ItemIn, background: BackgroundTasks) -> ItemOut:
    new = ItemOut(id=max(ITEMS, default=0) + 1, name=item.name, price=item.price)
    ITEMS[new.id] = new
    background.add_task(AUDIT.append, f"created {new.id}")
    return new


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(f"echo: {text}")
