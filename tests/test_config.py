from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import starlette.config as ref
from hypothesis import given, settings
from hypothesis import strategies as st

import fastframe.config as ff


def outcome(fn: Any) -> tuple[str, Any]:
    try:
        return ("ok", fn())
    except Exception as exc:  # the exception type and message are part of the contract
        return (type(exc).__name__, str(exc))


CASTS: list[Any] = [None, int, float, bool, str]
VALUES = ["1", "0", "true", "False", "TRUE", "yes", "", " 1", "abc", "1.5", "-3"]


@pytest.mark.parametrize("cast", CASTS)
@pytest.mark.parametrize("value", VALUES)
def test_casting_matches_the_reference(cast: Any, value: str) -> None:
    env = {"KEY": value}
    assert outcome(lambda: ff.Config(environ=env)("KEY", cast=cast)) == outcome(
        lambda: ref.Config(environ=env)("KEY", cast=cast)
    )


@pytest.mark.parametrize(
    ("cast", "default"),
    [(None, "d"), (int, "5"), (bool, "1"), (bool, True), (int, None), (None, None), (int, "x")],
)
def test_defaults_are_cast_like_the_reference(cast: Any, default: Any) -> None:
    assert outcome(lambda: ff.Config(environ={})("MISSING", cast=cast, default=default)) == outcome(
        lambda: ref.Config(environ={})("MISSING", cast=cast, default=default)
    )


def test_missing_key_without_default_names_the_prefixed_key() -> None:
    with pytest.raises(KeyError, match="Config 'APP_MISSING' is missing, and has no default."):
        ff.Config(environ={}, env_prefix="APP_")("MISSING")


def test_prefix_selects_prefixed_variables() -> None:
    config = ff.Config(environ={"APP_DEBUG": "true", "DEBUG": "false"}, env_prefix="APP_")
    assert config("DEBUG", cast=bool) is True


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=sqlite:///file.db\nPORT=8000\n")
    config = ff.Config(env_file, environ={"DATABASE_URL": "postgres://env"})
    assert config("DATABASE_URL") == "postgres://env"
    assert config("PORT", cast=int) == 8000


def test_a_missing_env_file_warns_and_the_config_still_works(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="not found"):
        config = ff.Config(tmp_path / "absent.env", environ={"A": "1"})
    assert config("A") == "1"


env_lines = st.lists(st.text(alphabet=st.sampled_from(list("AB_ =#'\"x1 \texport")), max_size=12), max_size=8)


@settings(max_examples=200, deadline=None)
@given(lines=env_lines)
def test_env_file_parsing_matches_the_reference(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    path = tmp_path_factory.mktemp("env") / ".env"
    path.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ff.Config(path, environ={}).file_values == ref.Config(path, environ={}).file_values


def test_environ_refuses_changes_after_a_read() -> None:
    environ = ff.Environ({"A": "1"})
    environ["B"] = "2"
    del environ["B"]
    assert environ["A"] == "1"
    with pytest.raises(ff.EnvironError, match=r"Attempting to set environ\['A'\]"):
        environ["A"] = "2"
    with pytest.raises(ff.EnvironError, match=r"Attempting to delete environ\['A'\]"):
        del environ["A"]
    assert list(environ) == ["A"] and len(environ) == 1


def test_cast_with_secret_and_comma_separated_strings() -> None:
    from fastframe.datastructures import CommaSeparatedStrings, Secret

    config = ff.Config(environ={"KEY": "s3cret", "HOSTS": "a.com, b.com"})
    secret = config("KEY", cast=Secret)
    assert str(secret) == "s3cret" and "s3cret" not in repr(secret)
    assert list(config("HOSTS", cast=CommaSeparatedStrings)) == ["a.com", "b.com"]
