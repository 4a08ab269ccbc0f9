"""FastAPI, unchanged, on fastframe installed as starlette (fastframe.install_as_starlette()).

This suite imports the real starlette for its differential tests, so every scenario runs in a
fresh interpreter that installs the alias before it imports fastapi. The interpreter inherits
the environment, so the compiled run of the suite tests the compiled engine and the
FASTFRAME_NO_EXTENSIONS=1 run the pure one.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx2
import pytest

from fastframe import speedups
from tests._subproc import ALIAS_PRELUDE, ROOT, child_env, run_source


def run_python(code: str, *, alias: bool = True) -> str:
    source = (ALIAS_PRELUDE if alias else "") + textwrap.dedent(code) + "\nprint('done')\n"
    out = run_source(source, timeout=60)
    assert out.rstrip().endswith("done"), out
    return out


def test_starlette_modules_are_fastframe_modules() -> None:
    out = run_python(
        """
        import sys
        import fastapi
        import starlette, starlette.responses, starlette.middleware.cors
        import fastframe.responses, fastframe.middleware.cors
        # Starlette's top level holds only its version: the alias's says which release fastframe stands in for
        assert starlette.__version__ == "1.10.0" and fastframe.__version__ != "1.10.0"
        assert starlette.responses.JSONResponse is fastframe.responses.JSONResponse
        assert sys.modules["starlette.responses"] is fastframe.responses
        assert starlette.middleware.cors.CORSMiddleware is fastframe.middleware.cors.CORSMiddleware
        assert fastapi.responses.JSONResponse is fastframe.responses.JSONResponse
        assert fastapi.Request is fastframe.requests.Request
        # every starlette module anything imported is a fastframe module
        for name, module in sys.modules.items():
            if name.startswith("starlette."):
                assert module.__name__ == "fastframe" + name[len("starlette"):], (name, module)
        # the distribution FastAPI depends on is left as installed
        import importlib.metadata
        print("version", importlib.metadata.version("starlette"))
        fastframe.install_as_starlette()  # again: harmless
        """
    )
    assert "version 1.10.0" in out


def test_refused_when_starlette_was_imported_first() -> None:
    out = run_python(
        """
        import starlette.responses
        import fastframe
        try:
            fastframe.install_as_starlette()
        except RuntimeError as exc:
            print("refused:", exc)
        import sys
        assert sys.modules["starlette.responses"].__name__ == "starlette.responses"
        """,
        alias=False,
    )
    assert "refused:" in out
    assert "already imported from the real starlette: starlette, " in out
    assert "before starlette is imported" in out


def test_missing_submodule_names_the_alias() -> None:
    out = run_python(
        """
        try:
            import starlette.no_such_module
        except ModuleNotFoundError as exc:
            print("missing:", exc.name, "|", exc)
        """
    )
    assert "missing: starlette.no_such_module" in out
    assert "fastframe.no_such_module" in out


def test_path_query_body_and_response_model() -> None:
    run_python(
        """
        from fastapi import FastAPI, Query
        from fastapi.testclient import TestClient
        from pydantic import BaseModel

        class ItemIn(BaseModel):
            name: str
            price: float

        class ItemOut(BaseModel):
            name: str
            total: float

        app = FastAPI()

        @app.get("/items/{item_id}")
        def read_item(item_id: int, q: str | None = None, limit: int = Query(10, le=100)):
            return {"item_id": item_id, "q": q, "limit": limit}

        @app.post("/items", response_model=ItemOut, status_code=201)
        async def create(item: ItemIn, count: int = 1):
            return {"name": item.name, "total": item.price * count, "secret": "not in the model"}

        with TestClient(app) as client:
            assert client.get("/items/5", params={"q": "x"}).json() == {"item_id": 5, "q": "x", "limit": 10}
            r = client.get("/items/abc")
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "item_id"], r.text
            assert client.get("/items/1?limit=1000").status_code == 422
            r = client.post("/items?count=3", json={"name": "pen", "price": 1.5})
            assert r.status_code == 201 and r.json() == {"name": "pen", "total": 4.5}, r.text
            assert client.post("/items", json={"name": "pen"}).status_code == 422
            assert client.get("/nowhere").status_code == 404
            assert client.delete("/items").status_code == 405
            assert client.get("/openapi.json").json()["paths"]["/items"]["post"]["responses"]["201"]
            assert client.get("/docs").status_code == 200
        """
    )


def test_dependency_overrides() -> None:
    run_python(
        """
        from fastapi import Depends, FastAPI
        from fastapi.testclient import TestClient

        app = FastAPI()

        async def current_user():
            return "real"

        @app.get("/me")
        async def me(user: str = Depends(current_user)):
            return {"user": user}

        client = TestClient(app)
        assert client.get("/me").json() == {"user": "real"}
        app.dependency_overrides[current_user] = lambda: "override"
        assert client.get("/me").json() == {"user": "override"}
        app.dependency_overrides = {}
        assert client.get("/me").json() == {"user": "real"}
        """
    )


def test_lifespan() -> None:
    out = run_python(
        """
        from contextlib import asynccontextmanager
        from fastapi import FastAPI, Request
        from fastapi.testclient import TestClient

        @asynccontextmanager
        async def lifespan(app):
            print("startup")
            yield {"greeting": "hi"}
            print("shutdown")

        app = FastAPI(lifespan=lifespan)

        @app.get("/")
        async def index(request: Request):
            return {"greeting": request.state.greeting}

        with TestClient(app) as client:
            assert client.get("/").json() == {"greeting": "hi"}
            print("served")
        """
    )
    assert out.split() == ["startup", "served", "shutdown", "done"]


def test_websockets() -> None:
    run_python(
        """
        from fastapi import FastAPI, WebSocket, WebSocketDisconnect
        from fastapi.testclient import TestClient

        app = FastAPI()
        closed = []

        @app.websocket("/ws/{room}")
        async def ws(websocket: WebSocket, room: str):
            await websocket.accept()
            try:
                while True:
                    data = await websocket.receive_json()
                    await websocket.send_json({"room": room, "echo": data})
            except WebSocketDisconnect:
                closed.append(room)

        client = TestClient(app)
        with client.websocket_connect("/ws/lobby") as websocket:
            websocket.send_json({"n": 1})
            assert websocket.receive_json() == {"room": "lobby", "echo": {"n": 1}}
        assert closed == ["lobby"]
        """
    )


def test_background_tasks() -> None:
    run_python(
        """
        from fastapi import BackgroundTasks, FastAPI
        from fastapi.testclient import TestClient

        app = FastAPI()
        log = []

        @app.post("/send/{email}")
        async def send(email: str, background_tasks: BackgroundTasks):
            background_tasks.add_task(log.append, email)
            return {"queued": email}

        client = TestClient(app)
        assert client.post("/send/a@b.c").json() == {"queued": "a@b.c"}
        assert log == ["a@b.c"]
        """
    )


def test_middleware() -> None:
    run_python(
        """
        from fastapi import FastAPI, Request
        from fastapi.middleware.cors import CORSMiddleware
        from fastapi.testclient import TestClient

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["https://example.org"], allow_methods=["*"])

        @app.middleware("http")
        async def add_header(request: Request, call_next):
            response = await call_next(request)
            response.headers["X-Process"] = "yes"
            return response

        @app.get("/")
        async def index():
            return {"ok": True}

        client = TestClient(app)
        r = client.get("/", headers={"Origin": "https://example.org"})
        assert r.json() == {"ok": True}
        assert r.headers["x-process"] == "yes"
        assert r.headers["access-control-allow-origin"] == "https://example.org"
        r = client.options(
            "/", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
        )
        assert r.status_code == 200 and "POST" in r.headers["access-control-allow-methods"], r.headers
        """
    )


def test_exception_handlers() -> None:
    run_python(
        """
        from fastapi import FastAPI, HTTPException, Request
        from fastapi.responses import JSONResponse
        from fastapi.testclient import TestClient
        from starlette.exceptions import HTTPException as StarletteHTTPException

        class Teapot(Exception):
            pass

        app = FastAPI()

        @app.exception_handler(Teapot)
        async def teapot(request: Request, exc: Teapot):
            return JSONResponse({"detail": "short and stout"}, status_code=418)

        @app.get("/items/{item_id}")
        async def item(item_id: int):
            if item_id == 0:
                raise HTTPException(status_code=404, detail="Item not found", headers={"X-Error": "here"})
            if item_id == 1:
                raise Teapot()
            if item_id == 2:
                raise RuntimeError("boom")
            return {"item_id": item_id}

        client = TestClient(app, raise_server_exceptions=False)
        r = client.get("/items/0")
        assert (r.status_code, r.json(), r.headers["x-error"]) == (404, {"detail": "Item not found"}, "here")
        assert client.get("/items/1").status_code == 418
        assert client.get("/items/2").status_code == 500
        assert client.get("/items/3").json() == {"item_id": 3}

        handled = []
        @app.exception_handler(StarletteHTTPException)
        async def http_handler(request, exc):
            handled.append(exc.status_code)
            return JSONResponse({"custom": exc.detail}, status_code=exc.status_code)

        app.middleware_stack = None  # handlers are read when the stack is built
        client = TestClient(app)
        assert client.get("/items/0").json() == {"custom": "Item not found"}
        assert client.get("/nowhere").json() == {"custom": "Not Found"}
        assert handled == [404, 404]
        """
    )


def test_example_app() -> None:
    run_python(
        """
        from fastapi.testclient import TestClient
        from examples.fastapi_app import AUDIT, app

        with TestClient(app) as client:
            assert client.get("/").json() == {"message": "Hello World"}
            assert client.get("/items/1").json() == {"id": 1, "name": "item-1", "price": 9.5}
            assert client.get("/items/9").status_code == 404
            r = client.post("/items", json={"name": "pen", "price": 2})
            assert r.status_code == 201 and r.json()["id"] == 2
            assert AUDIT == ["created 2"]
            assert [item["id"] for item in client.get("/items?limit=1&offset=1").json()] == [2]
            with client.websocket_connect("/ws") as websocket:
                websocket.send_text("hi")
                assert websocket.receive_text() == "echo: hi"
        """
    )


def test_status_report_names_the_alias() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fastframe"], capture_output=True, text=True, timeout=60, cwd=str(ROOT)
    )
    assert result.returncode == 0, result.stderr
    assert "starlette alias" in result.stdout
    assert "not active in this process" in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(30)
def test_serve_command_serves_a_fastapi_app(tmp_path: Path) -> None:
    (tmp_path / "engine_app.py").write_text(
        textwrap.dedent(
            """
            import sys
            from fastapi import FastAPI
            from fastframe import speedups

            app = FastAPI()

            @app.get("/engine")
            async def engine():
                responses = sys.modules["starlette.responses"]
                return {"starlette": responses.__name__, "implementation": speedups.IMPLEMENTATION}
            """
        )
    )
    port = _free_port()
    env = child_env()
    env.pop("FASTFRAME_AS_STARLETTE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "fastframe", "serve", "engine_app:app", "--port", str(port), "--no-access-log"],
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx2.get(f"http://127.0.0.1:{port}/engine", timeout=2)
                break
            except httpx2.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"the server did not answer:\n{output}")
                time.sleep(0.1)
        assert response.json() == {"starlette": "fastframe.responses", "implementation": speedups.IMPLEMENTATION}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()
