"""The data layer against the reference on hostile input: paths that try to become authorities,
Host headers that are not hosts, reads of a request body around disconnects, odd keys."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import anyio
import pytest
import starlette.datastructures as ref
import starlette.requests as ref_requests
from hypothesis import example, given, settings
from hypothesis import strategies as st

import fastframe.datastructures as ours
import fastframe.requests as ours_requests

SETTINGS = settings(max_examples=400, deadline=None)


def outcome(make: Any) -> Any:
    try:
        value = make()
    except TypeError:
        return ("raised", "TypeError")
    except Exception as exc:  # noqa: BLE001 - the exception is the result being compared
        return ("raised", type(exc).__name__, str(exc))
    if isinstance(value, ref.URL | ours.URL):
        return ("url", str(value), value.scheme, value.netloc, value.path, value.query, value.fragment)
    return value


# Pieces of paths that delimit URLs or name authorities, mixed with ordinary text.
_PATH_PIECES = [
    "/",
    "//",
    "@",
    "?",
    "#",
    "\\",
    ":",
    "%",
    "%2F",
    "http://evil.com",
    "user:pw@",
    "evil.com",
    "a",
    " ",
    "é",
]
hostile_paths = st.lists(st.sampled_from(_PATH_PIECES), max_size=6).map("".join) | st.text(max_size=8)
hostile_hosts = st.one_of(
    st.none(),
    st.sampled_from(
        [b"example.com", b"h:80", b"[::1]:8", b"evil.com/x", b"a@b", b"h:", b"h:99999", b"[v1.x]", b"\xe9", b"K.com"]
    ),
    st.binary(max_size=8),
)
servers = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["h", "::1", "1.2.3.4", ""]), st.sampled_from([80, 443, 8080, None])),
)


@st.composite
def hostile_scopes(draw: st.DrawFn) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": "http", "path": draw(hostile_paths), "headers": []}
    host = draw(hostile_hosts)
    if host is not None:
        scope["headers"].append((b"host", host))
    server = draw(servers)
    if server is not None:
        scope["server"] = server
    if draw(st.booleans()):
        scope["scheme"] = draw(st.sampled_from(["http", "https", "ws", "wss"]))
    if draw(st.booleans()):
        scope["query_string"] = draw(st.sampled_from([b"", b"a=1", b"a#b", b"?x", b"\xff"]))
    return scope


@SETTINGS
@given(hostile_scopes())
@example({"type": "http", "path": "//evil.com/x", "headers": []})
@example({"type": "http", "path": "@evil.com", "headers": [], "server": ("h", 80)})
@example({"type": "http", "path": "/a?b#c", "headers": [(b"host", b"h")]})
@example({"type": "http", "path": "http://evil.com/", "headers": [], "server": ("h", 80)})
def test_url_from_a_hostile_scope_matches_reference(scope: dict[str, Any]) -> None:
    expected = outcome(lambda: ref.URL(scope=dict(scope)))
    assert outcome(lambda: ours.URL(scope=dict(scope))) == expected
    # With a server to name, whatever the path holds, the authority is the Host header's or the server's.
    if expected[0] == "url" and scope.get("server") is not None and scope["server"][0]:
        assert "evil.com" not in expected[3] or b"evil.com" in dict(scope["headers"]).get(b"host", b"")


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from([1, "1", "a", 1.0, True]), st.sampled_from(["x", 2, None])), max_size=5))
def test_query_params_with_keys_equal_only_as_strings_match_reference(pairs: list[tuple[Any, Any]]) -> None:
    expected = ref.QueryParams(pairs)
    actual = ours.QueryParams(pairs)
    assert (actual.multi_items(), list(actual.items()), str(actual)) == (
        expected.multi_items(),
        list(expected.items()),
        str(expected),
    )


def _receiver(messages: list[dict[str, Any]]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        await anyio.sleep(0)
        return {"type": "http.disconnect"}

    return receive


def _scope() -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}


@pytest.mark.anyio
async def test_a_disconnect_check_does_not_lose_a_body_chunk() -> None:
    # Deliberate difference (docs/differences.md): the reference drops the chunk it polled.
    messages = [
        {"type": "http.request", "body": b"a", "more_body": True},
        {"type": "http.request", "body": b"b", "more_body": True},
        {"type": "http.request", "body": b"c"},
    ]
    request = ours_requests.Request(_scope(), _receiver(messages))
    assert await request.is_disconnected() is False
    assert await request.is_disconnected() is False
    assert await request.body() == b"abc"


@pytest.mark.anyio
async def test_a_disconnect_behind_polled_chunks_is_seen() -> None:
    messages = [{"type": "http.request", "body": b"a", "more_body": True}, {"type": "http.disconnect"}]
    for module in (ref_requests, ours_requests):
        request = module.Request(_scope(), _receiver(messages))
        assert [await request.is_disconnected(), await request.is_disconnected()] == [False, True]
    # fastframe still hands the chunk it polled to a reader, then reports the disconnect.
    request = ours_requests.Request(_scope(), _receiver(messages))
    await request.is_disconnected()
    chunks = []
    with pytest.raises(ours_requests.ClientDisconnect):
        async for chunk in request.stream():
            chunks.append(chunk)
    assert chunks == [b"a"]


@pytest.mark.anyio
async def test_a_receive_replaced_after_construction_is_used() -> None:
    for module in (ref_requests, ours_requests):
        request = module.Request(_scope(), _receiver([]))
        request._receive = _receiver([{"type": "http.request", "body": b"replaced"}])
        assert await request.body() == b"replaced"


def test_state_survives_copy_and_pickle() -> None:
    state = ours.State({"a": 1})
    state.b = 2
    for clone in (copy.copy(state), copy.deepcopy(state), pickle.loads(pickle.dumps(state))):
        assert (clone.a, clone["b"], len(clone)) == (1, 2, 2)
    with pytest.raises(AttributeError, match="'State' object has no attribute 'missing'"):
        state.missing  # noqa: B018


@pytest.mark.parametrize("value", ["", "a", "a,b", " a , 'b,c' ", 'a "b', "a#b,c", "a\\,b"])
def test_comma_separated_strings_match_reference(value: str) -> None:
    def read(module: Any) -> Any:
        try:
            parsed = module.CommaSeparatedStrings(value)
        except ValueError as exc:
            return ("raised", str(exc))
        return (list(parsed), repr(parsed).split("(", 1)[1], str(parsed))

    assert read(ours) == read(ref)


@pytest.mark.parametrize("argument", [object(), None, "request"])
def test_requires_names_a_connection_of_the_wrong_type_like_the_reference(argument: Any) -> None:
    import starlette.authentication as ref_auth

    import fastframe.authentication as ours_auth

    def refusal(module: Any, kind: str) -> str:
        if kind == "websocket":

            @module.requires("a")
            async def session(websocket: Any) -> None: ...

            call = session
        else:

            @module.requires("a")
            def endpoint(request: Any) -> None: ...

            call = endpoint
        with pytest.raises(AssertionError) as raised:
            result = call(argument)
            if hasattr(result, "__await__"):
                anyio.run(lambda: result)
        return str(raised.value)

    for kind in ("request", "websocket"):
        assert refusal(ours_auth, kind) == refusal(ref_auth, kind)
