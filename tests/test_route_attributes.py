"""The route attributes matching reads (endpoint, methods, path_regex, param_convertors) are
read as the reference reads them, whatever a route class or instance does to them: the compiled
resolver reads them straight from the framework's slots only while they are still those slots."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient as RefTestClient

Build = Callable[[Any], tuple[list[Any], Callable[[], None]]]


def _package(name: str) -> Any:
    return importlib.import_module(f"{name}.routing"), importlib.import_module(f"{name}.applications")


async def home(request: Any) -> Any:
    return _text(request, "home")


async def other(request: Any) -> Any:  # pragma: no cover - only its name is used
    raise AssertionError("routes call the endpoint they were built with")


def _text(request: Any, label: str) -> Any:
    responses = importlib.import_module(f"{type(request).__module__.split('.')[0]}.responses")
    endpoint = request.scope["endpoint"]
    shown = f"{label} endpoint={endpoint.__name__} params={sorted(request.path_params.items())}"
    return responses.PlainTextResponse(shown)


async def item(request: Any) -> Any:
    return _text(request, "item")


def _client(package: str, app: Any) -> Any:
    if package == "starlette":
        return RefTestClient(app)
    return importlib.import_module("fastframe.testclient").TestClient(app)


def _answers(client: Any, requests: list[tuple[str, str]]) -> list[tuple[int, str]]:
    return [(response.status_code, response.text) for response in (client.request(*r) for r in requests)]


def _serve(package: str, build: Build, requests: list[tuple[str, str]]) -> list[tuple[int, str]]:
    routing, applications = _package(package)
    routes, change = build(routing)
    with _client(package, applications.Starlette(routes=routes)) as client:
        seen = _answers(client, requests)
        change()
        return seen + _answers(client, requests)


def _nothing() -> None:
    pass


def _endpoint_property(routing: Any) -> tuple[list[Any], Callable[[], None]]:
    class Shown(routing.Route):
        @property
        def endpoint(self) -> Any:
            return other

        @endpoint.setter
        def endpoint(self, value: Any) -> None:
            self.__dict__["given"] = value

    return [Shown("/", home), Shown("/items/{n:int}", item)], _nothing


def _methods_class_attribute(routing: Any) -> tuple[list[Any], Callable[[], None]]:
    class Posted(routing.Route):
        methods = {"POST"}

    return [Posted("/", home), Posted("/items/{n:int}", item)], _nothing


def _convertors_property(routing: Any) -> tuple[list[Any], Callable[[], None]]:
    class AsText(routing.Route):
        @property
        def param_convertors(self) -> Any:
            return {"n": routing.CONVERTOR_TYPES["str"]}

        @param_convertors.setter
        def param_convertors(self, value: Any) -> None:
            pass

    return [AsText("/", home), AsText("/items/{n:int}", item)], _nothing


def _remapped_lookup(routing: Any) -> tuple[list[Any], Callable[[], None]]:
    class Remapped(routing.Route):
        def __getattribute__(self, name: str) -> Any:
            if name == "endpoint":
                return other
            if name == "methods":
                return {"GET", "HEAD", "PUT"}
            return super().__getattribute__(name)

    return [Remapped("/", home, methods=["GET"]), Remapped("/items/{n:int}", item)], _nothing


def _instances_changed(routing: Any) -> tuple[list[Any], Callable[[], None]]:
    routes = [routing.Route("/", home), routing.Route("/items/{n:int}", item)]

    def change() -> None:
        routes[0].endpoint = other
        routes[0].methods = {"DELETE"}
        routes[1].param_convertors = {"n": routing.CONVERTOR_TYPES["str"]}
        routes[1].path = "/elsewhere"

    return routes, change


def _subclass_of_subclass(routing: Any) -> tuple[list[Any], Callable[[], None]]:
    class Plain(routing.Route):
        pass

    class Deeper(Plain):
        extra = 1

    def change() -> None:
        Plain.methods = property(lambda self: {"PATCH"})

    return [Deeper("/", home), Plain("/items/{n:int}", item)], change


BUILDS = {
    "endpoint property": _endpoint_property,
    "methods class attribute": _methods_class_attribute,
    "convertors property": _convertors_property,
    "__getattribute__ remaps": _remapped_lookup,
    "instances changed": _instances_changed,
    "a base changed": _subclass_of_subclass,
}
REQUESTS = [("GET", "/"), ("POST", "/"), ("DELETE", "/"), ("PATCH", "/"), ("GET", "/items/7"), ("GET", "/elsewhere")]


@pytest.mark.parametrize("case", list(BUILDS))
def test_route_attributes_read_as_the_reference_reads_them(case: str) -> None:
    build = BUILDS[case]
    assert _serve("fastframe", build, REQUESTS) == _serve("starlette", build, REQUESTS)


@pytest.fixture
def patched_route_classes() -> Iterator[list[tuple[Any, str, Any]]]:
    saved: list[tuple[Any, str, Any]] = []
    yield saved
    for cls, name, value in reversed(saved):
        _restore(cls, name, value)


_MISSING = object()


def _restore(cls: Any, name: str, value: Any) -> None:
    if value is _MISSING:
        delattr(cls, name)
    else:
        setattr(cls, name, value)


@pytest.mark.parametrize("attribute", ["endpoint", "methods", "path", "path_regex", "param_convertors"])
def test_the_route_class_itself_changed_and_restored(
    attribute: str, patched_route_classes: list[tuple[Any, str, Any]]
) -> None:
    replacements = {
        "endpoint": lambda self: other,
        "methods": lambda self: {"PUT"},
        "path": lambda self: "/nowhere",
        "path_regex": lambda self: __import__("re").compile("^/nothing$"),
        "param_convertors": lambda self: {"n": importlib.import_module("starlette.convertors").StringConvertor()},
    }

    def run(package: str) -> list[tuple[int, str]]:
        routing, applications = _package(package)
        app = applications.Starlette(routes=[routing.Route("/", home), routing.Route("/items/{n:int}", item)])
        client = _client(package, app)
        requests = [("GET", "/"), ("GET", "/items/7")]
        seen = _answers(client, requests)
        # Ours keeps the attribute in a slot (a descriptor in the class); the reference has none there.
        original = routing.Route.__dict__.get(attribute, _MISSING)
        patched_route_classes.append((routing.Route, attribute, original))
        setattr(routing.Route, attribute, property(replacements[attribute], lambda self, value: None))
        seen += _answers(client, requests)
        _restore(routing.Route, attribute, original)
        patched_route_classes.pop()
        seen += _answers(client, requests)
        return seen

    ours = run("fastframe")
    assert ours == run("starlette")
    assert ours[:2] == ours[4:]


def _router_answers(package: str, make: Callable[[Any], Any], change: Callable[[Any, Any], None]) -> list[Any]:
    routing, _ = _package(package)
    router = make(routing)
    requests = [("GET", "/"), ("GET", "/items/7"), ("GET", "/other")]
    with _client(package, router) as client:
        seen = _answers(client, requests)
        change(routing, router)
        return seen + _answers(client, requests)


def _plain_router(routing: Any) -> Any:
    return routing.Router([routing.Route("/", home), routing.Route("/items/{n:int}", item)])


def _routes_property_router(routing: Any) -> Any:
    class Switching(routing.Router):
        @property
        def routes(self) -> Any:
            return self.__dict__["lists"][self.__dict__["current"]]

        @routes.setter
        def routes(self, value: Any) -> None:
            self.__dict__["lists"] = [value, [routing.Route("/other", item)]]
            self.__dict__["current"] = 0

    return Switching([routing.Route("/", home), routing.Route("/items/{n:int}", item)])


def _switch(routing: Any, router: Any) -> None:
    router.__dict__["current"] = 1


def _routes_replaced(routing: Any, router: Any) -> None:
    router.routes = [routing.Route("/other", home)]


def _routes_appended(routing: Any, router: Any) -> None:
    router.routes.insert(1, routing.Route("/items/{n}", home))


ROUTER_CASES = {
    "routes property": (_routes_property_router, _switch),
    "routes replaced": (_plain_router, _routes_replaced),
    "route inserted": (_plain_router, _routes_appended),
}


@pytest.mark.parametrize("case", list(ROUTER_CASES))
def test_router_routes_read_as_the_reference_reads_them(case: str) -> None:
    make, change = ROUTER_CASES[case]
    ours = _router_answers("fastframe", make, change)
    assert ours == _router_answers("starlette", make, change)
    assert ours[:3] != ours[3:]
