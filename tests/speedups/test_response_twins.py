"""The response twins against each other: send tracking, the plain 404/405 answer, and Request making."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastframe import speedups
from fastframe._pure import response as pure_response
from fastframe.requests import Request

try:
    compiled_response: Any = importlib.import_module("fastframe._speedups.response")
except ImportError:  # a pure build: the compiled twin is absent and the pure one stands in
    compiled_response = pure_response

RESPONSE_TWINS = [pure_response, compiled_response]

message_type = st.sampled_from(["http.response.start", "http.response.body", "websocket.send", "other"])


@settings(max_examples=100, deadline=None)
@given(st.lists(message_type, max_size=6), st.booleans())
def test_tracker_passes_messages_on_and_notes_the_start(types: list[str], initially: bool) -> None:
    results = []
    for twin in RESPONSE_TWINS:
        sent: list[Any] = []

        async def send(message: Any, sent: list[Any] = sent) -> str:
            sent.append(message)
            return "sent"

        tracker = twin.Tracker(send, initially) if initially else twin.Tracker(send)
        states = [tracker.started]
        for kind in types:
            assert asyncio.run(tracker.track({"type": kind})) == "sent"
            states.append(tracker.started)
        results.append((states, sent))
        assert states[-1] == (initially or "http.response.start" in types)
    assert results[0] == results[1]


def test_tracker_rejects_a_message_without_a_type_before_sending() -> None:
    for twin in RESPONSE_TWINS:
        sent: list[Any] = []
        tracker = twin.Tracker(sent.append)
        with pytest.raises(KeyError):
            tracker.track({})
        assert sent == []


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([404, 405, 204, 304, 100]),
    st.text(max_size=20),
    st.none() | st.text(max_size=20),
    st.sampled_from(["text/plain", "application/json", "TEXT/HTML"]),
    st.sampled_from(["utf-8", "latin-1", "ascii"]),
)
def test_plain_answer_is_what_a_plain_text_response_sends(
    status: int, detail: str, allow: str | None, media_type: str, charset: str
) -> None:
    from fastframe.responses import PlainTextResponse

    class Plain(PlainTextResponse):
        pass

    Plain.media_type = media_type
    Plain.charset = charset
    try:
        headers = None if allow is None else {"Allow": allow}
        response = Plain(detail, status_code=status, headers=headers)
        expected: Any = (
            {"type": "http.response.start", "status": status, "headers": response.raw_headers},
            response.body,
        )
    except Exception as exc:
        expected = type(exc)
    for twin in RESPONSE_TWINS:
        try:
            answer: Any = twin.plain_answer(status, detail, allow, media_type, charset)
        except Exception as exc:
            answer = type(exc)
        assert answer == expected


def test_new_request_is_a_request_as_init_makes_it() -> None:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}

    async def receive() -> Any:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        return None

    expected = Request(scope, receive, send)
    # The twin in use (compiled or pure, as the suite runs) is the one fastframe.requests configured.
    for made in (speedups.http.new_request(scope, receive, send), speedups.http.new_request(scope, receive, send)):
        assert type(made) is Request
        for name in ("scope", "receive", "_send", "_url", "_headers", "_query_params", "_cookies", "_form"):
            assert getattr(made, name) is getattr(expected, name)
        assert (made._stream_consumed, made._is_disconnected) == (False, False)
        assert not hasattr(made, "_body") and not hasattr(made, "_json")
        made.extra = 1  # arbitrary attributes still work
        assert made.extra == 1 and made.method == "GET"


def test_new_request_honours_a_replaced_init(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    original = Request.__init__

    def init(self: Any, scope: Any, receive: Any = None, send: Any = None) -> None:
        calls.append(scope["path"])
        original(self, scope, receive, send)

    monkeypatch.setattr(Request, "__init__", init)
    made = speedups.http.new_request({"type": "http", "path": "/x"}, None, None)
    assert calls == ["/x"] and made.scope["path"] == "/x"


def test_new_request_follows_init_patches_and_their_undoing() -> None:
    calls: list[Any] = []
    original = Request.__dict__["__init__"]

    def init(self: Any, scope: Any, receive: Any = None, send: Any = None) -> None:
        calls.append(scope["path"])
        original(self, scope, receive, send)

    speedups.http.new_request({"type": "http", "path": "/before"}, None, None)
    Request.__init__ = init  # type: ignore[method-assign]
    try:
        speedups.http.new_request({"type": "http", "path": "/patched"}, None, None)
    finally:
        Request.__init__ = original  # type: ignore[method-assign]
    made = speedups.http.new_request({"type": "http", "path": "/after"}, None, None)
    assert calls == ["/patched"] and made.scope["path"] == "/after" and made._receive is None
