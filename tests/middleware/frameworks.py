"""The same names from fastframe and from the reference, for differential middleware tests."""

from __future__ import annotations

import types
from typing import Any

import starlette.applications
import starlette.background
import starlette.middleware
import starlette.middleware.base
import starlette.responses
import starlette.routing
from starlette.testclient import TestClient as RefTestClient

import fastframe.applications
import fastframe.background
import fastframe.middleware
import fastframe.middleware.base
import fastframe.responses
import fastframe.routing
from fastframe.testclient import TestClient


def framework(root: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        Starlette=root.applications.Starlette,
        Route=root.routing.Route,
        Middleware=root.middleware.Middleware,
        BaseHTTPMiddleware=root.middleware.base.BaseHTTPMiddleware,
        PlainTextResponse=root.responses.PlainTextResponse,
        StreamingResponse=root.responses.StreamingResponse,
        BackgroundTask=root.background.BackgroundTask,
        client=TestClient if root is fastframe else RefTestClient,
    )


OURS, REF = framework(fastframe), framework(starlette)
