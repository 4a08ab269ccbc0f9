"""GraphQL over HTTP: reading the request's parameters and choosing the response media type."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
EVENT_STREAM = "text/event-stream"


class RequestError(Exception):
    """A malformed GraphQL-over-HTTP request: answered with 4xx before any GraphQL work."""

    def __init__(self, message: str, status_code: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.headers = headers


class Params:
    __slots__ = ("query", "variables", "operation_name", "extensions")

    def __init__(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        extensions: dict[str, Any] | None,
    ) -> None:
        self.query = query
        self.variables = variables
        self.operation_name = operation_name
        self.extensions = extensions


def params_from_mapping(data: Any) -> Params:
    if not isinstance(data, dict):
        raise RequestError("The request body must be a JSON object.")
    query = data.get("query")
    if query is None:
        raise RequestError("The request has no 'query' parameter.")
    if not isinstance(query, str):
        raise RequestError("The 'query' parameter must be a string.")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError("The 'variables' parameter must be a JSON object.")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError("The 'operationName' parameter must be a string.")
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestError("The 'extensions' parameter must be a JSON object.")
    return Params(query, variables, operation_name, extensions)


def params_from_query_string(query_params: Any, loads: Any, query: str | None = None) -> Params:
    """GET parameters, or application/graphql's companions: variables and extensions arrive JSON-encoded."""
    data: dict[str, Any] = {"query": query if query is not None else query_params.get("query")}
    for name in ("variables", "extensions"):
        raw = query_params.get(name)
        if raw:
            try:
                data[name] = loads(raw.encode("utf-8"))
            except ValueError:
                raise RequestError(f"The '{name}' parameter is not valid JSON.")
    if query_params.get("operationName"):
        data["operationName"] = query_params.get("operationName")
    return params_from_mapping(data)


def negotiate(accept: str | None) -> str | None:
    """The response media type the client prefers among the two GraphQL ones; None when it accepts neither."""
    if not accept:
        return JSON
    best: str | None = None
    best_q = 0.0
    for part in accept.split(","):
        media, *options = part.split(";")
        media = media.strip().lower()
        q = 1.0
        for option in options:
            key, _, value = option.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media == GRAPHQL_RESPONSE:
            candidate, rank = GRAPHQL_RESPONSE, 2
        elif media == JSON:
            candidate, rank = JSON, 1
        elif media in ("*/*", "application/*"):
            # A wildcard alone means a client that predates the GraphQL media type.
            candidate, rank = JSON, 0
        else:
            continue
        if q <= 0:
            continue
        if q > best_q or (q == best_q and best is not None and rank > _RANK[best]):
            best, best_q = candidate, q
    return best


_RANK = {GRAPHQL_RESPONSE: 2, JSON: 1}


def wants_event_stream(accept: str | None) -> bool:
    return bool(accept) and EVENT_STREAM in (accept or "").lower()


def wants_html(accept: str | None) -> bool:
    return bool(accept) and "text/html" in (accept or "").lower()
