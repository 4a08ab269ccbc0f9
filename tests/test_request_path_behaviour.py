"""What a client sees through the request path, fastframe against Starlette 1.10 on the same apps:
the QUERY method, Host routes with IP literals, handled exceptions, the debug error page, lifespans
of every accepted shape, and URLs built through mounts, hosts and convertors."""

from __future__ import annotations

import contextlib
import gc
import importlib
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest


def package(name: str) -> SimpleNamespace:
    def module(path: str) -> Any:
        return importlib.import_module(f"{name}.{path}")

    return SimpleNamespace(
        name=name,
        applications=module("applications"),
        routing=module("routing"),
        responses=module("responses"),
        endpoints=module("endpoints"),
        testclient=module("testclient"),
        exceptions=module("exceptions"),
    )


PACKAGES = [package("starlette"), package("fastframe")]


def client(pkg: SimpleNamespace, app: Any, **kwargs: Any) -> Any:
    return pkg.testclient.TestClient(app, **kwargs)


def seen(response: Any) -> tuple[int, str | None, str | None, str]:
    return response.status_code, response.headers.get("allow"), response.headers.get("content-type"), response.text


def same_for_both(build: Callable[[SimpleNamespace], Any], requests: list[tuple[Any, ...]], **kwargs: Any) -> list[Any]:
    results = []
    for pkg in PACKAGES:
        with client(pkg, build(pkg), **kwargs) as test_client:
            results.append(
                [
                    seen(test_client.request(*request[:2], **(request[2] if len(request) > 2 else {})))
                    for request in requests
                ]
            )
    assert results[0] == results[1]
    return results[1]


# --- the QUERY method ---------------------------------------------------------------------------


def query_app(pkg: SimpleNamespace) -> Any:
    responses, routing = pkg.responses, pkg.routing

    async def search(request: Any) -> Any:
        return responses.PlainTextResponse(f"{request.method} {(await request.body()).decode()}")

    class Searchable(pkg.endpoints.HTTPEndpoint):
        async def get(self, request: Any) -> Any:
            return responses.PlainTextResponse("endpoint get")

        async def query(self, request: Any) -> Any:
            return responses.PlainTextResponse("endpoint query")

    return pkg.applications.Starlette(
        routes=[
            routing.Route("/only-query", search, methods=["QUERY"]),
            routing.Route("/both", search, methods=["GET", "query"]),
            routing.Route("/endpoint", Searchable),
        ]
    )


def test_query_routes_endpoints_and_allow_headers_match_the_reference() -> None:
    requests: list[tuple[Any, ...]] = [
        (method, path, {"content": b"q"})
        for path in ("/only-query", "/both", "/endpoint")
        for method in ("QUERY", "GET", "HEAD", "POST", "DELETE")
    ]
    answers = same_for_both(query_app, requests)
    assert answers[0][:2] == (200, None)  # QUERY /only-query
    assert answers[1][0] == 405 and answers[1][1] == "QUERY"


# --- Host routes and IP literals --------------------------------------------------------------


def host_app(pkg: SimpleNamespace) -> Any:
    responses, routing = pkg.responses, pkg.routing

    def answering(label: str) -> Any:
        async def endpoint(request: Any) -> Any:
            return responses.PlainTextResponse(f"{label} {sorted(request.path_params.items())}")

        return routing.Router([routing.Route("/", endpoint)])

    return pkg.applications.Starlette(
        routes=[
            routing.Host("127.0.0.1:8000", answering("v4 with port")),
            routing.Host("[::1]", answering("v6")),
            routing.Host("[::1]:8000", answering("v6 with port")),
            routing.Host("{sub}.example.org", answering("named")),
            routing.Host("{anything}", answering("any")),
        ]
    )


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.1:8000",
        "127.0.0.1:9",
        "[::1]",
        "[::1]:8000",
        "[::1]:",
        "::1",
        "[::1",
        "[zz]",
        "API.example.org",
        "api.example.org:443",
        "example.org:",
        "a b",
    ],
)
def test_host_routes_with_ip_literals_match_the_reference(host: str) -> None:
    same_for_both(host_app, [("GET", "/", {"headers": {"host": host}})])


# --- handled exceptions -------------------------------------------------------------------------


def test_handled_exceptions_drop_their_tracebacks_as_the_reference_does() -> None:
    outcomes = []
    for pkg in PACKAGES:
        handled: list[Any] = []

        def sync_endpoint(request: Any) -> Any:
            raise KeyError("sync")

        async def async_endpoint(request: Any) -> Any:
            raise ValueError("async")

        async def handler(request: Any, exc: Exception, handled: list[Any] = handled, pkg: Any = pkg) -> Any:
            handled.append((exc, exc.__traceback__ is not None))
            return pkg.responses.PlainTextResponse("handled", status_code=418)

        app = pkg.applications.Starlette(
            routes=[pkg.routing.Route("/sync", sync_endpoint), pkg.routing.Route("/async", async_endpoint)],
            exception_handlers={KeyError: handler, ValueError: handler, 404: handler},
        )
        found = []
        gc.disable()
        try:
            with client(pkg, app) as test_client:
                for path in ("/sync", "/async", "/missing"):
                    handled.clear()
                    status = test_client.get(path).status_code
                    exc, had_traceback = handled[0]
                    found.append((path, status, type(exc).__name__, had_traceback, exc.__traceback__ is None))
        finally:
            gc.enable()
        outcomes.append(found)
    assert outcomes[0] == outcomes[1]
    assert all(after_dropped for *_, after_dropped in outcomes[1])


def test_unhandled_exceptions_keep_their_traceback_for_the_server() -> None:
    for pkg in PACKAGES:

        async def endpoint(request: Any) -> Any:
            raise LookupError("kept")

        app = pkg.applications.Starlette(routes=[pkg.routing.Route("/", endpoint)])
        with pytest.raises(LookupError) as raised:
            client(pkg, app).get("/")
        assert raised.value.__traceback__ is not None


# --- the debug page -----------------------------------------------------------------------------


def debug_app(pkg: SimpleNamespace) -> Any:
    async def endpoint(request: Any) -> Any:
        raise ValueError("boom <&> \u00e9")

    return pkg.applications.Starlette(debug=True, routes=[pkg.routing.Route("/", endpoint)])


@pytest.mark.parametrize("accept", ["text/html", "text/html,application/xhtml+xml", "*/*", "application/json"])
def test_debug_error_page_and_its_plain_text_form(accept: str) -> None:
    pages = []
    for pkg in PACKAGES:
        response = client(pkg, debug_app(pkg), raise_server_exceptions=False).get("/", headers={"accept": accept})
        pages.append((response.status_code, response.headers["content-type"], response.text))
    (ref_status, ref_type, ref_text), (status, content_type, text) = pages
    assert (status, content_type) == (ref_status, ref_type) == (500, content_type)
    if "text/html" in accept:
        # Our own markup, with what the reference's page says: the status, the escaped error, the frames.
        assert "<h1>500 Server Error</h1>" in text
        assert "ValueError: boom &lt;&amp;&gt; \u00e9" in text
        assert "in <code>endpoint</code>" in text
    else:
        assert text.splitlines()[0] == ref_text.splitlines()[0] == "Traceback (most recent call last):"
        assert text.splitlines()[-1] == ref_text.splitlines()[-1] == "ValueError: boom <&> \u00e9"


# --- lifespans -----------------------------------------------------------------------------------


def lifespan_shapes(events: list[str]) -> dict[str, Any]:
    @contextlib.asynccontextmanager
    async def managed(app: Any) -> AsyncIterator[dict[str, Any]]:
        events.append("managed up")
        yield {"shape": "managed"}
        events.append("managed down")

    async def async_generator(app: Any) -> AsyncIterator[dict[str, Any]]:
        events.append("agen up")
        yield {"shape": "agen"}
        events.append("agen down")

    def generator(app: Any) -> Iterator[None]:
        events.append("gen up")
        yield
        events.append("gen down")

    class Manager:
        def __init__(self, app: Any) -> None:
            events.append(f"made with {type(app).__name__}")

        async def __aenter__(self) -> dict[str, Any]:
            events.append("class up")
            return {"shape": "class"}

        async def __aexit__(self, *exc_info: Any) -> None:
            events.append("class down")

    return {"managed": managed, "async_generator": async_generator, "generator": generator, "class": Manager}


@pytest.mark.parametrize("shape", ["managed", "async_generator", "generator", "class"])
def test_lifespan_of_every_accepted_shape(shape: str) -> None:
    results = []
    for pkg in PACKAGES:
        events: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")

            async def state(request: Any, pkg: Any = pkg) -> Any:
                return pkg.responses.PlainTextResponse(repr(sorted(request.state._state.items())))

            app = pkg.applications.Starlette(
                routes=[pkg.routing.Route("/", state)], lifespan=lifespan_shapes(events)[shape]
            )
        warned = [(w.category.__name__, str(w.message)) for w in caught]
        with client(pkg, app) as test_client:
            text = test_client.get("/").text
        results.append((warned, events, text))
    assert results[0] == results[1]


# --- URLs through mounts, hosts and convertors ------------------------------------------------


def url_app(pkg: SimpleNamespace) -> Any:
    responses, routing = pkg.responses, pkg.routing

    async def show(request: Any) -> Any:
        wanted = request.query_params
        params: dict[str, Any] = {key: value for key, value in wanted.items() if key != "name"}
        for key in ("n", "port"):
            if key in params:
                params[key] = int(params[key])
        if "f" in params:
            params["f"] = float(params["f"])
        if "u" in params:
            params["u"] = uuid.UUID(params["u"])
        try:
            return responses.PlainTextResponse(str(request.url_for(wanted["name"], **params)))
        except Exception as exc:
            return responses.PlainTextResponse(f"{type(exc).__name__}: {exc}", status_code=400)

    leaf = routing.Router(
        [
            routing.Route("/items/{n:int}", show, name="item"),
            routing.Route("/price/{f:float}", show, name="price"),
            routing.Route("/id/{u:uuid}", show, name="by-id"),
            routing.Route("/files/{rest:path}", show, name="file"),
        ]
    )
    return pkg.applications.Starlette(
        routes=[
            routing.Route("/", show, name="root"),
            routing.Mount("/api/{version}", app=leaf, name="api"),
            routing.Mount("/plain", routes=[routing.Route("/x", show, name="x")]),
            routing.Host("{tenant}.example.org", app=leaf, name="tenant"),
        ]
    )


URL_QUERIES = [
    {"name": "root"},
    {"name": "api:item", "version": "v1", "n": "3"},
    {"name": "api:item", "version": "v1", "n": "-3"},
    {"name": "api:item", "version": "v1"},
    {"name": "api:price", "version": "v2", "f": "1.5"},
    {"name": "api:price", "version": "v2", "f": "-1"},
    {"name": "api:by-id", "version": "v2", "u": str(uuid.UUID(int=7))},
    {"name": "api:file", "version": "v3", "rest": "a/b c"},
    {"name": "api", "version": "v3", "path": "/raw/path"},
    {"name": "x"},
    {"name": "tenant:item", "tenant": "acme", "n": "4"},
    {"name": "tenant", "tenant": "acme", "path": "/somewhere"},
    {"name": "nothing", "a": "1", "b": "2"},
    {"name": "api:item", "version": "v1", "n": "1", "extra": "x"},
]


@pytest.mark.parametrize("root_path", ["", "/mounted"])
def test_url_for_through_mounts_hosts_and_convertors_matches_the_reference(root_path: str) -> None:
    requests: list[tuple[Any, ...]] = [("GET", "/", {"params": query}) for query in URL_QUERIES]
    same_for_both(url_app, requests, root_path=root_path)


def test_url_path_for_errors_are_the_references() -> None:
    outcomes = []
    for pkg in PACKAGES:
        app = url_app(pkg)
        found = []
        for query in URL_QUERIES:
            params = {key: value for key, value in query.items() if key != "name"}
            try:
                found.append(("ok", str(app.url_path_for(query["name"], **params))))
            except Exception as exc:
                found.append((type(exc).__name__, str(exc)))
        outcomes.append(found)
    assert outcomes[0] == outcomes[1]
