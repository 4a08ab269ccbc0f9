from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from fastframe.requests import Request
from fastframe.responses import Response
from fastframe.routing import BaseRoute, Host, Mount, Route

try:
    import yaml
except ModuleNotFoundError:  # pragma: no cover - pyyaml is in the full extra
    yaml = None  # type: ignore[assignment]

# The operations of an OpenAPI path item an HTTPEndpoint's methods describe, in the order listed.
_OPERATIONS = ("get", "post", "put", "patch", "delete", "options", "query")
_CONVERTOR = re.compile(r":\w+(?=})")  # the ":int" of "{id:int}"
_VERSION = re.compile(r"(\d+)\.(\d+)")


class EndpointInfo(NamedTuple):
    path: str
    http_method: str
    func: Callable[..., Any]


def _describes_query(version: Any) -> bool:
    """The "query" operation exists from OpenAPI 3.2 on; a version that does not parse predates it."""
    found = _VERSION.match(str(version))
    return found is not None and (int(found[1]), int(found[2])) >= (3, 2)


class OpenAPIResponse(Response):
    media_type = "application/vnd.oai.openapi"

    def render(self, content: Any) -> bytes:
        assert yaml is not None, "`pyyaml` must be installed to use OpenAPIResponse."
        assert isinstance(content, dict), "The schema passed to OpenAPIResponse should be a dictionary."
        return yaml.dump(content, default_flow_style=False).encode("utf-8")


class BaseSchemaGenerator:
    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        raise NotImplementedError()  # pragma: no cover

    def get_endpoints(self, routes: list[BaseRoute]) -> list[EndpointInfo]:
        return list(self._walk(routes, ""))

    def _walk(self, routes: list[BaseRoute], prefix: str) -> Iterator[EndpointInfo]:
        for route in routes:
            if isinstance(route, Mount):
                yield from self._walk(route.routes, prefix + self._remove_converter(route.path))
            elif isinstance(route, Host):
                # A host adds nothing to the path.
                yield from self._walk(route.routes, prefix)
            elif isinstance(route, Route) and route.include_in_schema:
                yield from self._operations(prefix + self._remove_converter(route.path), route.endpoint, route.methods)

    def _operations(self, path: str, endpoint: Any, methods: set[str] | None) -> Iterator[EndpointInfo]:
        if inspect.isfunction(endpoint) or inspect.ismethod(endpoint):
            # One function serves every method of the route; HEAD is GET's and gets no entry.
            for method in methods or ():
                if method != "HEAD":
                    yield EndpointInfo(path, method.lower(), endpoint)
            return
        # A class (an HTTPEndpoint) describes each operation with the method of that name.
        for operation in _OPERATIONS:
            handler = getattr(endpoint, operation, None)
            if handler is not None:
                yield EndpointInfo(path, operation, handler)

    def _remove_converter(self, path: str) -> str:
        return _CONVERTOR.sub("", path)

    def parse_docstring(self, func_or_method: Callable[..., Any]) -> dict[str, Any]:
        docstring = func_or_method.__doc__
        if not docstring:
            return {}
        assert yaml is not None, "`pyyaml` must be installed to use parse_docstring."
        # Prose for people may come first; the YAML is what follows the last "---".
        parsed = yaml.safe_load(docstring.split("---")[-1])
        return parsed if isinstance(parsed, dict) else {}

    def OpenAPIResponse(self, request: Request) -> Response:
        return OpenAPIResponse(self.get_schema(routes=request.app.routes))


class SchemaGenerator(BaseSchemaGenerator):
    def __init__(self, base_schema: dict[str, Any]) -> None:
        self.base_schema = base_schema

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        # A shallow copy: a "paths" mapping given in the base schema is filled in place.
        schema = dict(self.base_schema)
        schema.setdefault("paths", {})
        paths = schema["paths"]
        query = _describes_query(schema.get("openapi"))
        for path, operation, func in self.get_endpoints(routes):
            if operation == "query" and not query:
                continue
            described = self.parse_docstring(func)
            if not described:
                continue
            if path not in paths:
                paths[path] = {}
            paths[path][operation] = described
        return schema
