"""FastAPI programs, unchanged, give their clients the same on fastframe as on the reference.

The programs below use FastAPI's documented patterns (TestClient requests, dependency overrides
and dependencies with yield, lifespan, websockets, background tasks, middleware including CORS,
GZip and an ``@app.middleware("http")`` function, exception handlers, HTTPException, validation
errors, response models, UploadFile and Form). All of them run in one fresh interpreter on the
real starlette and in another with ``fastframe.install_as_starlette()`` called first (see
tests/_subproc.py), each on both anyio backends, and print what their clients saw: status,
headers (but Date and Server), body, websocket messages and close codes, and the order of the
side effects the programs record. Each program's record must be the same in both.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from fastframe import speedups
from tests._subproc import ALIAS_PRELUDE, last_json, run_source

SCRIPT = r"""
import base64
import json
import os
import re
import sys
import tempfile
import traceback
from contextlib import asynccontextmanager

mode = sys.argv[1]
if mode == "reference":
    assert "fastframe" not in sys.modules

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Cookie,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    status,
)
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

import starlette.responses

assert starlette.responses.__name__ == ("starlette.responses" if mode == "reference" else "fastframe.responses")

DROPPED = {"date", "server"}


def header(key, value):
    # the expiry a deleted cookie gets is the time of the request
    return re.sub(r"expires=[^;]*GMT", "expires=(when sent)", value) if key.lower() == "set-cookie" else value


def seen(response):
    body = response.content
    try:
        shown = body.decode("utf-8")
    except UnicodeDecodeError:
        shown = "base64:" + base64.b64encode(body).decode()
    return [
        response.status_code,
        [[k, header(k, v)] for k, v in response.headers.multi_items() if k.lower() not in DROPPED],
        shown,
    ]


def failure(exc):
    return ["raised", type(exc).__name__, str(exc)]


def path_query_body(backend, log):
    class ItemIn(BaseModel):
        name: str
        price: float = Field(gt=0)
        tags: list[str] = []

    class ItemOut(BaseModel):
        name: str
        total: float
        tags: list[str] = []

    app = FastAPI(title="differential")

    @app.get("/items/{item_id}")
    def read_item(item_id: int, q: str | None = None, limit: int = Query(10, le=100)):
        return {"item_id": item_id, "q": q, "limit": limit}

    @app.post("/items", response_model=ItemOut, status_code=201)
    async def create(item: ItemIn, count: int = 1):
        return {"name": item.name, "total": item.price * count, "secret": "not in the model"}

    @app.get("/unset", response_model=ItemOut, response_model_exclude_unset=True)
    async def unset():
        return ItemOut(name="x", total=1)

    @app.get("/headers")
    async def headers(
        user_agent: str | None = Header(None), x_token: list[str] | None = Header(None), ads: str | None = Cookie(None)
    ):
        return {"user_agent": user_agent, "x_token": x_token, "ads": ads}

    @app.get("/request/{rest:path}")
    async def raw(request: Request, rest: str):
        return {
            "url": str(request.url),
            "path": request.url.path,
            "rest": rest,
            "query": list(request.query_params.multi_items()),
            "client": list(request.client or ()),
            "base_url": str(request.base_url),
            "url_for": str(request.url_for("read_item", item_id=3)),
        }

    out = []
    with TestClient(app, backend=backend) as client:
        out.append(seen(client.get("/items/5", params={"q": "x"})))
        out.append(seen(client.get("/items/abc")))
        out.append(seen(client.get("/items/1?limit=1000")))
        out.append(seen(client.post("/items?count=3", json={"name": "pen", "price": 1.5, "tags": ["a"]})))
        out.append(seen(client.post("/items", json={"name": "pen"})))
        out.append(seen(client.post("/items", json={"name": "pen", "price": -1})))
        out.append(seen(client.post("/items", content=b"{not json", headers={"content-type": "application/json"})))
        out.append(seen(client.post("/items", content=b"name=pen", headers={"content-type": "text/plain"})))
        out.append(seen(client.get("/unset")))
        out.append(seen(client.get("/headers", headers=[("x-token", "a"), ("x-token", "b")], cookies={"ads": "on"})))
        out.append(seen(client.get("/request/a/b%20c?x=1&x=2&y=")))
        out.append(seen(client.get("/nowhere")))
        out.append(seen(client.delete("/items")))
        out.append(seen(client.get("/items/5/")))
        out.append(seen(client.get("/openapi.json")))
        out.append(seen(client.get("/docs")))
        out.append(seen(client.get("/redoc")))
        out.append(seen(client.head("/items/5")))
    return out


def dependencies(backend, log):
    app = FastAPI()

    async def current_user():
        return "real"

    async def resource():
        log.append("open")
        try:
            yield "resource"
        except HTTPException as exc:
            log.append("error " + str(exc.status_code))
            raise
        finally:
            log.append("close")

    def token(x_token: str = Header()):
        if x_token != "secret":
            raise HTTPException(status_code=401, detail="bad token", headers={"WWW-Authenticate": "Bearer"})
        return x_token

    router = APIRouter(prefix="/secure", dependencies=[Depends(token)], tags=["secure"])

    @router.get("/data")
    async def data(res: str = Depends(resource)):
        log.append("handler")
        return {"res": res}

    @router.get("/fail")
    async def fail(res: str = Depends(resource)):
        raise HTTPException(status_code=409, detail={"why": "conflict"})

    app.include_router(router)

    @app.get("/me")
    async def me(user: str = Depends(current_user)):
        return {"user": user}

    out = []
    client = TestClient(app, backend=backend)
    out.append(seen(client.get("/me")))
    app.dependency_overrides[current_user] = lambda: "override"
    out.append(seen(client.get("/me")))
    app.dependency_overrides = {}
    out.append(seen(client.get("/me")))
    out.append(seen(client.get("/secure/data")))
    out.append(seen(client.get("/secure/data", headers={"x-token": "wrong"})))
    out.append(seen(client.get("/secure/data", headers={"x-token": "secret"})))
    out.append(seen(client.get("/secure/fail", headers={"x-token": "secret"})))
    out.append(list(log))
    return out


def lifespan_program(backend, log):
    @asynccontextmanager
    async def lifespan(app):
        log.append("startup")
        yield {"greeting": "hi"}
        log.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def index(request: Request):
        log.append("request")
        return {"greeting": request.state.greeting}

    out = []
    with TestClient(app, backend=backend) as client:
        out.append(seen(client.get("/")))
        log.append("served")
    log.append("after")

    @asynccontextmanager
    async def broken(app):
        raise RuntimeError("no database")
        yield

    try:
        with TestClient(FastAPI(lifespan=broken), backend=backend):
            out.append("entered")
    except Exception as exc:
        out.append(failure(exc))
    out.append(list(log))
    return out


def websockets(backend, log):
    app = FastAPI()

    @app.websocket("/ws/{room}")
    async def ws(websocket: WebSocket, room: str, nick: str = "anon"):
        await websocket.accept()
        try:
            while True:
                data = await websocket.receive_json()
                if data == "bye":
                    await websocket.close(code=4001, reason="bye " + nick)
                    log.append("closed " + room)
                    return
                await websocket.send_json({"room": room, "nick": nick, "echo": data})
        except WebSocketDisconnect as exc:
            log.append(["disconnect", room, exc.code])

    @app.websocket("/refuse")
    async def refuse(websocket: WebSocket):
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason="no")

    @app.websocket("/typed/{n}")
    async def typed(websocket: WebSocket, n: int):
        await websocket.accept()
        await websocket.send_text(str(n * 2))
        await websocket.send_bytes(b"\x00\x01")
        await websocket.close()

    @app.websocket("/broken")
    async def broken(websocket: WebSocket):
        await websocket.accept()
        raise RuntimeError("ws broke")

    out = []
    client = TestClient(app, backend=backend)
    with client.websocket_connect("/ws/lobby?nick=ada") as websocket:
        websocket.send_json({"n": 1})
        out.append(websocket.receive_json())
    with client.websocket_connect("/ws/hall") as websocket:
        websocket.send_json("bye")
        message = websocket.receive()
        out.append([message.get("type"), message.get("code"), message.get("reason")])
    for path in ("/refuse", "/typed/x", "/nowhere", "/broken"):
        try:
            with client.websocket_connect(path) as websocket:
                out.append(websocket.receive())
                out.append(websocket.receive())
        except WebSocketDisconnect as exc:
            out.append(["disconnect", path, exc.code, exc.reason])
        except Exception as exc:
            out.append([path] + failure(exc))
    with client.websocket_connect("/typed/21") as websocket:
        out.append([websocket.receive_text(), list(websocket.receive_bytes())])
        try:
            websocket.receive_text()
        except WebSocketDisconnect as exc:
            out.append(["disconnect", exc.code])
    out.append(list(log))
    return out


def background(backend, log):
    app = FastAPI()

    def write(message):
        log.append("task " + message)

    async def write_async(message):
        log.append("async task " + message)

    def queue(background_tasks: BackgroundTasks, q: str | None = None):
        if q:
            background_tasks.add_task(write, "from dependency " + q)
        return q

    @app.post("/send/{email}")
    async def send(email: str, background_tasks: BackgroundTasks, q: str | None = Depends(queue)):
        background_tasks.add_task(write, email)
        background_tasks.add_task(write_async, email)
        log.append("handler " + email)
        return {"queued": email}

    @app.get("/plain")
    async def plain():
        response = PlainTextResponse("with task")
        from starlette.background import BackgroundTask

        response.background = BackgroundTask(write, "plain")
        return response

    out = []
    client = TestClient(app, backend=backend)
    out.append(seen(client.post("/send/a@b.c?q=x")))
    log.append("after request")
    out.append(seen(client.get("/plain")))
    out.append(list(log))
    return out


def middleware(backend, log):
    app = FastAPI()
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://example.org"],
        allow_methods=["*"],
        allow_headers=["x-custom"],
        allow_credentials=True,
        expose_headers=["x-process"],
    )
    app.add_middleware(GZipMiddleware, minimum_size=100)

    @app.middleware("http")
    async def outer(request: Request, call_next):
        log.append("outer in " + request.url.path)
        response = await call_next(request)
        response.headers["X-Process"] = "outer"
        log.append("outer out " + str(response.status_code))
        return response

    @app.middleware("http")
    async def inner(request: Request, call_next):
        log.append("inner in")
        if request.url.path == "/short":
            return JSONResponse({"short": True}, status_code=202)
        try:
            response = await call_next(request)
        except ZeroDivisionError as exc:
            log.append("inner caught " + type(exc).__name__)
            return PlainTextResponse("caught", status_code=503)
        log.append("inner out")
        return response

    @app.get("/")
    async def index():
        log.append("endpoint")
        return {"ok": True}

    @app.get("/big")
    async def big():
        return PlainTextResponse("x" * 500)

    @app.get("/stream")
    async def stream():
        async def parts():
            for i in range(3):
                log.append("part " + str(i))
                yield ("chunk %d;" % i).encode()

        return StreamingResponse(parts(), media_type="text/plain")

    @app.get("/divide")
    async def divide():
        return 1 / 0

    out = []
    client = TestClient(app, backend=backend)
    origin = {"Origin": "https://example.org"}
    out.append(seen(client.get("/", headers=origin)))
    out.append(seen(client.get("/", headers={"Origin": "https://evil.example"})))
    out.append(seen(client.options("/", headers={**origin, "Access-Control-Request-Method": "POST"})))
    asking = {**origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-other"}
    out.append(seen(client.options("/", headers=asking)))
    asking = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    out.append(seen(client.options("/", headers=asking)))
    out.append(seen(client.get("/big", headers={"accept-encoding": "gzip"})))
    out.append(seen(client.get("/big", headers={"accept-encoding": "identity"})))
    out.append(seen(client.get("/stream")))
    out.append(seen(client.get("/short")))
    out.append(seen(client.get("/divide")))
    out.append(list(log))

    hosts = FastAPI()
    hosts.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.org", "*.example.org"])

    @hosts.get("/")
    async def host_index(request: Request):
        return {"host": request.headers["host"]}

    client = TestClient(hosts, base_url="http://api.example.org", backend=backend)
    out.append(seen(client.get("/")))
    out.append(seen(client.get("http://other.test/")))
    return out


def exception_handlers(backend, log):
    class Teapot(Exception):
        pass

    app = FastAPI()

    @app.exception_handler(Teapot)
    async def teapot(request: Request, exc: Teapot):
        log.append("teapot " + request.url.path)
        return JSONResponse({"detail": "short and stout"}, status_code=418)

    @app.get("/items/{item_id}")
    async def item(item_id: int):
        if item_id == 0:
            raise HTTPException(status_code=404, detail="Item not found", headers={"X-Error": "here"})
        if item_id == 1:
            raise Teapot()
        if item_id == 2:
            raise RuntimeError("boom")
        if item_id == 3:
            raise HTTPException(status_code=204)
        if item_id == 4:
            raise StarletteHTTPException(status_code=400, detail=["a", "list"])
        return {"item_id": item_id}

    out = []
    client = TestClient(app, raise_server_exceptions=False, backend=backend)
    for path in ("/items/0", "/items/1", "/items/2", "/items/3", "/items/4", "/items/5", "/items/x", "/nowhere"):
        out.append(seen(client.get(path)))
    try:
        TestClient(app, backend=backend).get("/items/2")
    except Exception as exc:
        out.append(failure(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_handler(request, exc):
        log.append(["http", exc.status_code])
        return PlainTextResponse("custom " + str(exc.detail), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_handler(request, exc):
        log.append(["validation", len(exc.errors())])
        return JSONResponse({"errors": jsonable_encoder(exc.errors()), "body": exc.body}, status_code=400)

    @app.exception_handler(500)
    async def server_error(request, exc):
        log.append(["500", type(exc).__name__])
        return PlainTextResponse("handled 500", status_code=500)

    app.middleware_stack = None  # handlers are read when the stack is built
    client = TestClient(app, raise_server_exceptions=False, backend=backend)
    for path in ("/items/0", "/items/2", "/items/4", "/items/x", "/nowhere"):
        out.append(seen(client.get(path)))
    out.append(seen(client.post("/items/5")))
    out.append(list(log))
    return out


def responses(backend, log):
    app = FastAPI()
    directory = tempfile.mkdtemp()
    with open(directory + "/hello.txt", "w") as handle:
        handle.write("hello file\n")
    os.utime(directory + "/hello.txt", (1_700_000_000, 1_700_000_000))  # the same Last-Modified and ETag in both runs
    app.mount("/static", StaticFiles(directory=directory), name="static")

    @app.get("/html", response_class=HTMLResponse)
    async def html():
        return "<h1>hi</h1>"

    @app.get("/text", response_class=PlainTextResponse, status_code=202)
    async def text():
        return "plain"

    @app.get("/redirect")
    async def redirect():
        return RedirectResponse("/text")

    @app.get("/cookie")
    async def cookie(response: Response):
        response.set_cookie("session", "abc", max_age=60, httponly=True, samesite="strict")
        response.headers["X-Extra"] = "1"
        response.status_code = 201
        return {"set": True}

    @app.get("/delete-cookie")
    async def delete_cookie():
        response = JSONResponse({"deleted": True})
        response.delete_cookie("session")
        return response

    @app.get("/file")
    async def file():
        return FileResponse(directory + "/hello.txt", filename="greeting.txt")

    @app.get("/empty", status_code=204)
    async def empty():
        return None

    @app.get("/unicode")
    async def unicode():
        return {"text": "h\u00e9llo \u2603", "float": 1.5, "none": None}

    out = []
    client = TestClient(app, backend=backend)
    paths = ["/html", "/text", "/cookie", "/delete-cookie", "/file", "/empty", "/unicode"]
    for path in paths + ["/static/hello.txt", "/static/missing.txt"]:
        out.append(seen(client.get(path)))
    out.append(seen(client.get("/redirect", follow_redirects=False)))
    out.append(seen(client.get("/redirect")))
    out.append(seen(client.get("/file", headers={"range": "bytes=0-4"})))
    return out


def uploads(backend, log):
    app = FastAPI()

    @app.post("/upload")
    async def upload(file: UploadFile, note: str = Form(), extra: list[str] = Form([])):
        content = await file.read()
        return {
            "filename": file.filename,
            "content_type": file.content_type,
            "size": file.size,
            "content": content.decode(),
            "note": note,
            "extra": extra,
        }

    @app.post("/many")
    async def many(files: list[UploadFile] = File()):
        return [[f.filename, (await f.read()).decode()] for f in files]

    @app.post("/login")
    def login(username: str = Form(), password: str = Form(min_length=3)):
        return {"username": username, "password_length": len(password)}

    out = []
    client = TestClient(app, backend=backend)
    out.append(
        seen(
            client.post(
                "/upload",
                files={"file": ("a.txt", b"file body", "text/plain")},
                data={"note": "n", "extra": ["1", "2"]},
            )
        )
    )
    out.append(seen(client.post("/upload", data={"note": "no file"})))
    out.append(seen(client.post("/many", files=[("files", ("x.txt", b"x")), ("files", ("y.txt", b"y"))])))
    out.append(seen(client.post("/login", data={"username": "ada", "password": "secret"})))
    out.append(seen(client.post("/login", data={"username": "ada", "password": "no"})))
    form = {"content-type": "application/x-www-form-urlencoded"}
    out.append(seen(client.post("/login", content=b"username=ada&password=long+enough", headers=form)))
    return out


def middleware_edges(backend, log):
    from starlette.background import BackgroundTask
    from starlette.middleware.base import BaseHTTPMiddleware

    app = FastAPI()
    app.state.counter = 0

    class Timing(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            body = await request.body()
            log.append(["timing in", request.method, len(body)])
            if request.url.path == "/refuse":
                raise HTTPException(status_code=403, detail="refused in middleware")
            response = await call_next(request)
            # what call_next gives, by the public classes it is an instance of (its own class is private)
            kinds = [isinstance(response, kind) for kind in (Response, StreamingResponse, JSONResponse)]
            log.append(["timing out", response.status_code, kinds, hasattr(response, "body_iterator")])
            return response

    app.add_middleware(Timing)

    @app.middleware("http")
    async def replace(request: Request, call_next):
        request.app.state.counter += 1
        response = await call_next(request)
        if request.url.path == "/replace":
            chunks = [chunk async for chunk in response.body_iterator]
            log.append(["replaced", b"".join(chunks).decode()])
            return PlainTextResponse("replaced", status_code=response.status_code, headers={"x-was": "json"})
        return response

    @app.post("/echo")
    async def echo(request: Request):
        data = await request.json()
        return {"data": data, "raw": (await request.body()).decode()}

    @app.get("/replace")
    def replaced():
        return {"original": True}

    @app.get("/stream-task")
    async def stream_task():
        async def parts():
            yield b"a"
            log.append("between parts")
            yield b"b"

        return StreamingResponse(parts(), background=BackgroundTask(log.append, "stream task"))

    @app.get("/refuse")
    async def refuse():
        return {"never": True}

    @app.get("/boom")
    async def boom():
        raise KeyError("boom")

    @app.get("/count")
    async def count(request: Request):
        return {"counter": request.app.state.counter}

    out = []
    client = TestClient(app, raise_server_exceptions=False, backend=backend)
    out.append(seen(client.post("/echo", json={"a": [1, 2]})))
    out.append(seen(client.get("/replace")))
    out.append(seen(client.get("/stream-task")))
    out.append(seen(client.get("/refuse")))
    out.append(seen(client.get("/boom")))
    out.append(seen(client.get("/count")))
    try:
        TestClient(app, backend=backend).get("/boom")
    except Exception as exc:
        out.append(failure(exc))
    out.append(list(log))
    return out


def routing_edges(backend, log):
    from fastapi.routing import APIRoute

    class Logged(APIRoute):
        def get_route_handler(self):
            handler = super().get_route_handler()

            async def logged(request):
                log.append(["route", self.path, request.method])
                response = await handler(request)
                response.headers["x-route"] = self.name
                return response

            return logged

    app = FastAPI()
    router = APIRouter(route_class=Logged)

    @router.get("/items")
    async def items():
        return ["a", "b"]

    @router.api_route("/multi", methods=["GET", "PUT"])
    def multi(request: Request):
        return {"method": request.method}

    app.include_router(router, prefix="/v1")

    sub = FastAPI(root_path_in_servers=False)

    @sub.get("/hello")
    async def sub_hello(request: Request):
        return {
            "root_path": request.scope.get("root_path"),
            "path": request.url.path,
            "url_for": str(request.url_for("sub_hello")),
        }

    app.mount("/sub", sub)

    def sync_resource():
        log.append("sync open")
        yield "sync"
        log.append("sync close")

    @app.get("/sync-dep")
    def sync_dep(value: str = Depends(sync_resource)):
        log.append("sync handler")
        return {"value": value}

    out = []
    client = TestClient(app, backend=backend)
    for method, path in (
        ("GET", "/v1/items"),
        ("GET", "/v1/items/"),
        ("POST", "/v1/items"),
        ("PUT", "/v1/multi"),
        ("DELETE", "/v1/multi"),
        ("GET", "/sub/hello"),
        ("GET", "/sub/nowhere"),
        ("GET", "/sub/openapi.json"),
        ("GET", "/sync-dep"),
    ):
        out.append([method, path] + seen(client.request(method, path, follow_redirects=False)))
    rooted = TestClient(app, root_path="/api", backend=backend)
    out.append(seen(rooted.get("/sub/hello")))
    out.append(seen(rooted.get("/openapi.json")))
    out.append(list(log))
    return out


# The programs to run, named by the test module (argv[2:]): one list, kept there.
PROGRAMS = {name: globals()[name] for name in sys.argv[2:]}

results = {}
for name, program in PROGRAMS.items():
    for backend in ("asyncio", "trio"):
        log = []
        try:
            results[name + "/" + backend] = program(backend, log)
        except Exception as exc:
            results[name + "/" + backend] = ["program failed", traceback.format_exc()[-2000:], log]
print(json.dumps(results, default=repr))
"""

PROGRAMS = [
    "path_query_body",
    "dependencies",
    "lifespan_program",
    "websockets",
    "background",
    "middleware",
    "exception_handlers",
    "responses",
    "uploads",
    "middleware_edges",
    "routing_edges",
]


@cache
def results(mode: str) -> dict[str, Any]:
    """Every program's record, on both backends, from one interpreter running in `mode`."""
    source = (ALIAS_PRELUDE if mode == "fastframe" else "") + SCRIPT
    # One hash seed for both: the order of a set of methods (an Allow header) follows string hashes.
    found: dict[str, Any] = last_json(run_source(source, mode, *PROGRAMS, timeout=50, env={"PYTHONHASHSEED": "0"}))
    return found


@pytest.mark.parametrize("program", PROGRAMS)
def test_fastapi_program_is_the_same_on_fastframe(program: str, anyio_backend: str) -> None:
    key = f"{program}/{anyio_backend}"
    reference = results("reference")[key]
    assert reference[0] != "program failed", reference[1]
    ours = results("fastframe")[key]
    assert ours == reference


def test_every_program_ran() -> None:
    assert sorted(results("reference")) == sorted(results("fastframe"))
    expected = [f"{name}/{backend}" for name in PROGRAMS for backend in ("asyncio", "trio")]
    assert sorted(results("fastframe")) == sorted(expected)
    assert speedups.IMPLEMENTATION in ALIAS_PRELUDE
