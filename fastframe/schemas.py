"""OpenAPI schemas assembled from YAML in endpoint docstrings."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from fastframe.requests import Request
from fastframe.responses import Response
from fastframe.routing import BaseRoute, Host, Mount, Route

try:
    import yaml
except ModuleNotFoundError:  # pragma: no cover - pyyaml is in the full extra
    yaml = None  # type: ignore[assignment]

# The methods an HTTPEndpoint class may document, in the order they are listed.
_ENDPOINT_METHODS = ("get", "post", "put", "patch", "delete", "options")
_CONVERTOR_SUFFIX = re.compile(r":\w+}")


class OpenAPIResponse(Response):
    media_type = "application/vnd.oai.openapi"

    def render(self, content: Any) -> bytes:
        assert yaml is not None, "`pyyaml` must be installed to use OpenAPIResponse."
        assert isinstance(content, dict), "The schema passed to OpenAPIResponse should be a dictionary."
        return yaml.dump(content, default_flow_style=False).encode("utf-8")


class EndpointInfo(NamedTuple):
    path: str
    http_method: str
    func: Callable[..., Any]


class BaseSchemaGenerator:
    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        raise NotImplementedError()  # pragma: no cover

    def get_endpoints(self, routes: list[BaseRoute]) -> list[EndpointInfo]:
        """Every documented (path, method, function) reachable through the routes, mounts included."""
        endpoints: list[EndpointInfo] = []
        for route in routes:
            if isinstance(route, Mount | Host):
                children = route.routes or []
                prefix = self._remove_converter(route.path) if isinstance(route, Mount) else ""
                endpoints.extend(
                    EndpointInfo(prefix + info.path, info.http_method, info.func)
                    for info in self.get_endpoints(children)
                )
            elif isinstance(route, Route) and route.include_in_schema:
                path = self._remove_converter(route.path)
                if inspect.isfunction(route.endpoint) or inspect.ismethod(route.endpoint):
                    for method in route.methods or ["GET"]:
                        if method == "HEAD":
                            continue
                        endpoints.append(EndpointInfo(path, method.lower(), route.endpoint))
                else:
                    for method in _ENDPOINT_METHODS:
                        if hasattr(route.endpoint, method):
                            endpoints.append(EndpointInfo(path, method, getattr(route.endpoint, method)))
        return endpoints

    def _remove_converter(self, path: str) -> str:
        """`/users/{id:int}` is documented as `/users/{id}`."""
        return _CONVERTOR_SUFFIX.sub("}", path)

    def parse_docstring(self, func_or_method: Callable[..., Any]) -> dict[str, Any]:
        """The YAML mapping after the last `---` of a docstring (or all of it); {} when there is none."""
        docstring = func_or_method.__doc__
        if not docstring:
            return {}
        assert yaml is not None, "`pyyaml` must be installed to use parse_docstring."
        parsed = yaml.safe_load(docstring.split("---")[-1])
        return parsed if isinstance(parsed, dict) else {}

    def OpenAPIResponse(self, request: Request) -> Response:
        routes = request.app.routes
        return OpenAPIResponse(self.get_schema(routes=routes))


class SchemaGenerator(BaseSchemaGenerator):
    def __init__(self, base_schema: dict[str, Any]) -> None:
        self.base_schema = base_schema

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        schema = dict(self.base_schema)
        schema.setdefault("paths", {})
        for endpoint in self.get_endpoints(routes):
            parsed = self.parse_docstring(endpoint.func)
            if not parsed:
                continue
            schema["paths"].setdefault(endpoint.path, {})[endpoint.http_method] = parsed
        return schema
