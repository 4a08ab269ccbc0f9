"""Making a response: each way of calling the framework's response classes gives what the reference
gives (attributes, errors), also after those classes or their base are changed at runtime."""

from __future__ import annotations

import copy
import subprocess
import sys
from http import HTTPStatus
from typing import Any

import pytest
import starlette.responses as s_responses
from hypothesis import given, settings
from hypothesis import strategies as st

import fastframe.responses as f_responses

CLASSES = ["Response", "PlainTextResponse", "HTMLResponse", "JSONResponse"]
PARAMS = ["content", "status_code", "headers", "media_type", "background"]


# Ours keeps these in slots, the reference in the instance dict.
SLOTS = ("status_code", "background", "body", "raw_headers")


def state(response: Any) -> dict[str, Any]:
    """Every attribute the response has of its own, wherever it is kept."""
    found = {name: getattr(response, name) for name in SLOTS if hasattr(response, name)}
    found.update(vars(response))
    return {key: bytes(value) if isinstance(value, memoryview) else value for key, value in found.items()}


def made(module: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What calling the class gives: its type name and attributes, or the type of the exception it raised."""
    try:
        response = getattr(module, name)(*args, **kwargs)
    except Exception as exc:
        return ("raised", type(exc))
    return (type(response).__name__, state(response))


def same(name: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> Any:
    ours = made(f_responses, name, args, kwargs or {})
    assert ours == made(s_responses, name, args, kwargs or {})
    return ours


values = {
    "content": st.none()
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.builds(memoryview, st.binary(max_size=5))
    | st.integers()
    | st.lists(st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    "status_code": st.sampled_from(
        [200, 201, 204, 304, 100, 199, 404, 500, HTTPStatus.OK, HTTPStatus.NO_CONTENT, True, 2**70]
    ),
    "headers": st.none()
    | st.dictionaries(
        st.sampled_from(["content-length", "Content-Type", "x-a", "content-type"]),
        st.text(alphabet="ab 09/;=", max_size=8),
        max_size=3,
    ),
    "media_type": st.none()
    | st.sampled_from(["text/plain", "application/json", "text/html; charset=latin-1", "TEXT/x"]),
    "background": st.none(),
}


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """A class and arguments for it: some positional, some by keyword, some left out, and now and
    then a mistake (an unknown keyword, an argument given twice, one too many)."""
    name = draw(st.sampled_from(CLASSES))
    positional = draw(st.integers(0, 5))
    args = tuple(draw(values[param]) for param in PARAMS[:positional])
    kwargs = {param: draw(values[param]) for param in PARAMS[positional:] if draw(st.booleans())}
    mistake = draw(st.sampled_from(["none"] * 6 + ["unknown", "twice", "extra"]))
    if mistake == "unknown":
        kwargs["charset"] = "utf-8"
    elif mistake == "twice" and positional:
        kwargs[PARAMS[0]] = None
    elif mistake == "extra":
        args = (*args, *[None] * (6 - len(args)))
    return name, args, kwargs


@settings(max_examples=400, deadline=None)
@given(calls())
def test_any_call_makes_what_the_reference_makes(call: tuple[str, tuple[Any, ...], dict[str, Any]]) -> None:
    same(*call)


def test_the_made_response_is_an_ordinary_instance() -> None:
    response = f_responses.PlainTextResponse("hi", status_code=201)
    assert type(response) is f_responses.PlainTextResponse
    response.extra = 1
    clone = copy.copy(response)
    assert (clone.body, clone.raw_headers, clone.status_code, clone.extra) == (b"hi", response.raw_headers, 201, 1)
    assert same("JSONResponse", ({"a": [1, None]},)) == same("JSONResponse", (), {"content": {"a": [1, None]}})


def custom_init(self: Any, content: Any = None, *args: Any, **kwargs: Any) -> None:
    self.body = b"custom:" + repr(content).encode()
    self.raw_headers = []


# (class, attribute, value): applied to both packages' class of that name.
CHANGES: list[tuple[str, str, Any]] = [
    ("PlainTextResponse", "charset", "latin-1"),
    ("Response", "charset", "latin-1"),
    ("PlainTextResponse", "media_type", "text/x-custom"),
    ("HTMLResponse", "media_type", None),
    ("Response", "media_type", "application/octet-stream"),
    ("Response", "render", lambda self, content: b"rendered"),
    ("JSONResponse", "render", lambda self, content: b"[json]"),
    ("Response", "init_headers", lambda self, headers: setattr(self, "raw_headers", [(b"x", b"1")])),
    ("PlainTextResponse", "__init__", custom_init),
    ("JSONResponse", "__init__", custom_init),
    ("Response", "__init__", custom_init),
]

ARGUMENTS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    (("\u00e9",), {}),
    ((b"x",), {"status_code": 204}),
    (({"a": 1},), {}),
    ((None,), {"status_code": HTTPStatus.CREATED}),
    (("x", 201, {"x-a": "b"}), {}),
]


def all_made() -> list[Any]:
    return [same(name, args, kwargs) for name in CLASSES for args, kwargs in ARGUMENTS]


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: f"{change[0]}.{change[1]}")
def test_classes_changed_at_runtime_make_what_the_reference_makes(
    change: tuple[str, str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    name, attribute, value = change
    before = all_made()
    with monkeypatch.context() as patch:
        for module in (f_responses, s_responses):
            patch.setattr(getattr(module, name), attribute, value)
        changed = all_made()
        assert changed != before
    assert all_made() == before


def test_subclasses_make_what_the_reference_makes() -> None:
    def build(module: Any) -> list[Any]:
        class Text(module.PlainTextResponse):
            media_type = "text/x-sub"
            charset = "latin-1"

        class Json(module.JSONResponse):
            def render(self, content: Any) -> bytes:
                return b"sub:" + super().render(content)

        class NoBody(module.Response):
            def render(self, content: Any) -> Any:
                return None

        class Own(module.Response):
            def __init__(self, content: Any) -> None:
                super().__init__(content.upper(), status_code=202)

        return [
            (type(response).__name__, state(response))
            for response in (
                Text("\u00e9"),
                Json({"a": 1}),
                Json(content=[1], status_code=201),
                Own("abc"),
                NoBody("x"),
            )
        ]

    assert build(f_responses) == build(s_responses)


NEW_REPLACED = """
import sys
from http import HTTPStatus
responses = __import__(sys.argv[1] + ".responses", fromlist=["x"])

def new(cls, *args, **kwargs):
    instance = object.__new__(cls)
    instance.made_by = "new"
    return instance

def state(response):
    found = {name: getattr(response, name) for name in ("status_code", "background", "body", "raw_headers")}
    found.update(vars(response))
    return sorted(found.items(), key=repr)

made = []
for name in ("HTMLResponse", "JSONResponse"):
    cls = getattr(responses, name)
    made.append(state(cls("x")))
    cls.__new__ = new
    made.append(state(cls("x", status_code=HTTPStatus.CREATED)))
print(repr(made))
"""


def test_a_replaced_new_is_called_as_by_the_reference() -> None:
    # In a process of its own: CPython cannot restore a class's __new__ once it has been replaced.
    def run(package: str) -> str:
        done = subprocess.run([sys.executable, "-c", NEW_REPLACED, package], capture_output=True, text=True, check=True)
        return done.stdout

    ours = run("fastframe")
    assert "('made_by', 'new')" in ours
    assert ours == run("starlette")


def test_a_class_changed_after_its_first_response_is_read_again() -> None:
    # What a response class holds is learned on its first response (compiled): every later change
    # to the class, or to a response class above it, must be seen by the next response.
    def build(module: Any) -> list[Any]:
        class Text(module.PlainTextResponse):
            pass

        made = [state(Text("\u00e9"))]
        Text.charset = "latin-1"
        made.append(state(Text("\u00e9")))
        module.PlainTextResponse.media_type = "text/x-later"
        try:
            made.append(state(Text("x")))
        finally:
            module.PlainTextResponse.media_type = "text/plain"
        Text.body = b"class body"  # shadows the instance field on this class only
        made.append(state(Text("y")))
        del Text.body
        made.append(state(Text("z")))
        Text.render = lambda self, content: b"<" + content.encode() + b">"
        made.append(state(Text("w")))
        return made

    assert build(f_responses) == build(s_responses)
