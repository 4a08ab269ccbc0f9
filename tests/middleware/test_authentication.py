from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Callable
from typing import Any

import pytest
import starlette.authentication as ref_auth
from starlette.testclient import TestClient as RefTestClient

import fastframe.authentication as ff_auth
from fastframe.middleware.authentication import AuthenticationMiddleware


def build_app(pkg: str, with_on_error: bool = False) -> Any:
    auth = importlib.import_module(f"{pkg}.authentication")
    applications = importlib.import_module(f"{pkg}.applications")
    endpoints = importlib.import_module(f"{pkg}.endpoints")
    middleware = importlib.import_module(f"{pkg}.middleware")
    middleware_auth = importlib.import_module(f"{pkg}.middleware.authentication")
    responses = importlib.import_module(f"{pkg}.responses")
    routing = importlib.import_module(f"{pkg}.routing")

    class HeaderBackend(auth.AuthenticationBackend):  # type: ignore[name-defined,misc]
        async def authenticate(self, conn: Any) -> Any:
            value = conn.headers.get("authorization")
            if value is None:
                return None
            if value == "bad":
                raise auth.AuthenticationError("Invalid credentials")
            if value == "boom":
                raise ValueError("boom")
            user, _, scopes = value.partition(":")
            return auth.AuthCredentials(scopes.split(",") if scopes else []), auth.SimpleUser(user)

    def info(request: Any) -> Any:
        return responses.JSONResponse(
            {
                "authenticated": request.user.is_authenticated,
                "name": request.user.display_name,
                "identity": request.user.identity,
                "scopes": request.auth.scopes,
                "user_type": type(request.user).__name__,
            }
        )

    @auth.requires("authenticated")
    def sync_endpoint(request: Any) -> Any:
        return info(request)

    @auth.requires(["authenticated", "admin"], status_code=401)
    async def async_endpoint(request: Any) -> Any:
        return info(request)

    @auth.requires("authenticated", redirect="home")
    async def async_redirect(request: Any) -> Any:
        return info(request)

    @auth.requires("authenticated", redirect="home")
    def sync_redirect(request: Any) -> Any:
        return info(request)

    async def home(request: Any) -> Any:
        return responses.PlainTextResponse("home")

    @auth.requires("authenticated")
    async def websocket_endpoint(websocket: Any) -> None:
        await websocket.accept()
        await websocket.send_json({"name": websocket.user.display_name, "scopes": websocket.auth.scopes})
        await websocket.close()

    class Dashboard(endpoints.HTTPEndpoint):  # type: ignore[name-defined,misc]
        @auth.requires("authenticated")
        async def get(self, request: Any) -> Any:
            return info(request)

        @auth.requires("admin")
        def post(self, request: Any) -> Any:
            return info(request)

    def on_error(conn: Any, exc: Exception) -> Any:
        return responses.JSONResponse({"error": str(exc), "conn": type(conn).__name__}, status_code=401)

    options = {"on_error": on_error} if with_on_error else {}
    return applications.Starlette(
        routes=[
            routing.Route("/info", info),
            routing.Route("/sync", sync_endpoint),
            routing.Route("/async", async_endpoint),
            routing.Route("/redirect", async_redirect),
            routing.Route("/redirect-sync", sync_redirect),
            routing.Route("/home", home, name="home"),
            routing.Route("/dashboard", Dashboard),
            routing.WebSocketRoute("/ws", websocket_endpoint),
        ],
        middleware=[
            middleware.Middleware(middleware_auth.AuthenticationMiddleware, backend=HeaderBackend(), **options)
        ],
    )


PATHS = ["/info", "/sync", "/async", "/redirect?q=1&z=%20", "/redirect-sync", "/dashboard"]
CREDENTIALS = [None, "bob:authenticated", "bob:authenticated,admin", "bad", "boom"]


@pytest.fixture(params=[False, True], ids=["default-on-error", "custom-on-error"])
def clients(request: pytest.FixtureRequest, test_client_factory: Callable[..., Any], anyio_backend: str) -> Any:
    ours = test_client_factory(build_app("fastframe", request.param), raise_server_exceptions=False)
    ref = RefTestClient(build_app("starlette", request.param), backend=anyio_backend, raise_server_exceptions=False)
    return ours, ref


def exchange(client: Any, method: str, path: str, credentials: str | None) -> tuple[Any, ...]:
    headers = {"authorization": credentials} if credentials is not None else {}
    response = client.request(method, path, headers=headers, follow_redirects=False)
    return response.status_code, response.headers.multi_items(), response.content


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("credentials", CREDENTIALS)
def test_http_matches_reference(clients: Any, path: str, credentials: str | None) -> None:
    ours, ref = clients
    assert exchange(ours, "GET", path, credentials) == exchange(ref, "GET", path, credentials)


@pytest.mark.parametrize("credentials", ["bob:authenticated", "bob:admin"])
def test_endpoint_method_matches_reference(clients: Any, credentials: str) -> None:
    ours, ref = clients
    assert exchange(ours, "POST", "/dashboard", credentials) == exchange(ref, "POST", "/dashboard", credentials)


def test_behaviour(test_client_factory: Callable[..., Any]) -> None:
    client = test_client_factory(build_app("fastframe"), raise_server_exceptions=False)
    assert client.get("/info").json()["user_type"] == "UnauthenticatedUser"
    assert client.get("/info", headers={"authorization": "bob:x"}).json() == {
        "authenticated": True,
        "name": "bob",
        "identity": "bob",
        "scopes": ["x"],
        "user_type": "SimpleUser",
    }
    bad = client.get("/info", headers={"authorization": "bad"})
    assert (bad.status_code, bad.text) == (400, "Invalid credentials")
    assert client.get("/sync").status_code == 403
    assert client.get("/async", headers={"authorization": "bob:authenticated"}).status_code == 401
    redirect = client.get("/redirect?q=1", follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "http://testserver/home?next=http%3A%2F%2Ftestserver%2Fredirect%3Fq%3D1"


def test_backend_exceptions_propagate(test_client_factory: Callable[..., Any]) -> None:
    client = test_client_factory(build_app("fastframe"))
    with pytest.raises(ValueError, match="boom"):
        client.get("/info", headers={"authorization": "boom"})


@pytest.mark.parametrize("credentials", [None, "bob:authenticated", "bad"])
@pytest.mark.parametrize("with_on_error", [False, True])
def test_websocket_matches_reference(
    test_client_factory: Callable[..., Any], anyio_backend: str, credentials: str | None, with_on_error: bool
) -> None:
    def outcome(client: Any) -> Any:
        headers = {"authorization": credentials} if credentials is not None else {}
        try:
            with client.websocket_connect("/ws", headers=headers) as session:
                return ("message", session.receive_json())
        except Exception as exc:
            return ("closed", type(exc).__name__, getattr(exc, "code", None), getattr(exc, "reason", None))

    ours = outcome(test_client_factory(build_app("fastframe", with_on_error)))
    ref = outcome(RefTestClient(build_app("starlette", with_on_error), backend=anyio_backend))
    assert ours == ref
    if credentials == "bob:authenticated":
        assert ours == ("message", {"name": "bob", "scopes": ["authenticated"]})
    else:
        assert ours == ("closed", "WebSocketDisconnect", 1000, "")


def test_websocket_auth_error_calls_on_error_then_closes() -> None:
    calls: list[str] = []

    class Failing(ff_auth.AuthenticationBackend):
        async def authenticate(self, conn: Any) -> Any:
            raise ff_auth.AuthenticationError("nope")

    def on_error(conn: Any, exc: Exception) -> Any:
        calls.append(str(exc))
        return AuthenticationMiddleware.default_on_error(conn, exc)

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not reached")  # pragma: no cover

    scope = {"type": "websocket", "headers": [], "path": "/", "query_string": b"", "scheme": "ws", "server": ("x", 80)}
    asyncio.run(AuthenticationMiddleware(app, Failing(), on_error=on_error)(scope, None, send))  # type: ignore[arg-type]
    assert calls == ["nope"]
    assert sent == [{"type": "websocket.close", "code": 1000}]


def test_lifespan_passes_through() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    asyncio.run(AuthenticationMiddleware(app, ff_auth.AuthenticationBackend())({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == [{"type": "lifespan"}]


def test_default_on_error() -> None:
    response = AuthenticationMiddleware.default_on_error(None, Exception("boom"))  # type: ignore[arg-type]
    assert (response.status_code, response.body) == (400, b"boom")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    middleware = AuthenticationMiddleware(None, ff_auth.AuthenticationBackend())  # type: ignore[arg-type]
    assert middleware.on_error is AuthenticationMiddleware.default_on_error


def test_requires_needs_connection_argument() -> None:
    def no_request(x: Any) -> None:
        pass  # pragma: no cover

    with pytest.raises(Exception) as ours:
        ff_auth.requires("a")(no_request)
    with pytest.raises(Exception) as ref:
        ref_auth.requires("a")(no_request)
    assert type(ours.value) is type(ref.value) is Exception
    assert str(ours.value) == str(ref.value)
    assert str(ours.value).startswith('No "request" or "websocket" argument on function "<function')


def test_requires_preserves_function_shape() -> None:
    def sync_view(request: Any) -> None:
        pass  # pragma: no cover

    async def async_view(other: Any, request: Any) -> None:
        pass  # pragma: no cover

    async def ws_view(websocket: Any) -> None:
        pass  # pragma: no cover

    for view in (sync_view, async_view, ws_view):
        ours, ref = ff_auth.requires(["a"])(view), ref_auth.requires(["a"])(view)
        assert inspect.iscoroutinefunction(ours) == inspect.iscoroutinefunction(ref)
        assert inspect.signature(ours) == inspect.signature(ref)
        assert ours.__name__ == ref.__name__ == view.__name__
        assert ours.__wrapped__ is view  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls_name", ["BaseUser", "SimpleUser", "UnauthenticatedUser"])
@pytest.mark.parametrize("attribute", ["is_authenticated", "display_name", "identity"])
def test_users_match_reference(cls_name: str, attribute: str) -> None:
    def observe(module: Any) -> Any:
        cls = getattr(module, cls_name)
        user = cls("alice") if cls_name == "SimpleUser" else cls()
        try:
            return getattr(user, attribute)
        except NotImplementedError:
            return NotImplementedError

    assert observe(ff_auth) == observe(ref_auth)


def test_credentials_and_scopes() -> None:
    assert ff_auth.AuthCredentials().scopes == []
    assert ff_auth.AuthCredentials(("a", "b")).scopes == ["a", "b"]
    assert issubclass(ff_auth.AuthenticationError, Exception)
    assert ff_auth.SimpleUser("x").username == "x"
    assert isinstance(ff_auth.UnauthenticatedUser(), ff_auth.BaseUser)

    class Conn:
        auth = ff_auth.AuthCredentials(["a", "b"])

    conn: Any = Conn()
    assert ff_auth.has_required_scope(conn, ["a"])
    assert ff_auth.has_required_scope(conn, [])
    assert not ff_auth.has_required_scope(conn, ["a", "c"])
    assert ff_auth.has_required_scope(conn, "ab") == ref_auth.has_required_scope(conn, "ab")


def test_backend_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        asyncio.run(ff_auth.AuthenticationBackend().authenticate(None))  # type: ignore[arg-type]


def test_authentication_module_api_matches_reference() -> None:
    def shape(obj: Any) -> list[tuple[str, object, object]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(obj).parameters.values()]

    for name in ("has_required_scope", "requires", "AuthCredentials", "SimpleUser"):
        assert shape(getattr(ff_auth, name)) == shape(getattr(ref_auth, name)), name
    for cls in ("AuthenticationBackend", "BaseUser", "SimpleUser", "UnauthenticatedUser", "AuthenticationError"):
        ours, ref = getattr(ff_auth, cls), getattr(ref_auth, cls)
        assert [base.__name__ for base in ours.__mro__] == [base.__name__ for base in ref.__mro__]
        public = {attr for attr in vars(ref) if not attr.startswith("_")}
        assert public <= set(vars(ours)), cls
