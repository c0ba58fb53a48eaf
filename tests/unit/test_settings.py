"""Settings: one frozen pydantic model, built from the environment with one-line errors naming the variable."""

from __future__ import annotations

import pydantic
import pytest

from pipeline.errors import ConfigError
from pipeline.settings import Settings


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NEWS_PIPELINE_BATCH_SIZE": "0"}, "NEWS_PIPELINE_BATCH_SIZE='0': Input should be greater than or equal to 1"),
        ({"NEWS_PIPELINE_RESPECT_ROBOTS": "maybe"}, "NEWS_PIPELINE_RESPECT_ROBOTS='maybe'"),
        ({"NEWS_PIPELINE_FAILURE_RATE_THRESHOLD": "1.5"}, "NEWS_PIPELINE_FAILURE_RATE_THRESHOLD='1.5'"),
        ({"NEWS_PIPELINE_EXTRACT_TIMEOUT": "-1"}, "NEWS_PIPELINE_EXTRACT_TIMEOUT='-1'"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_the_news_pipeline_variable_wins_over_database_url() -> None:
    env = {"DATABASE_URL": "postgresql://a@h/x", "NEWS_PIPELINE_DATABASE_URL": "postgresql://b@h/y"}
    assert Settings.from_env(env).database_url == "postgresql://b@h/y"
    assert Settings.from_env(env, database_url="postgresql://c@h/z").database_url == "postgresql://c@h/z"


def test_settings_are_frozen_and_copies_are_validated() -> None:
    settings = Settings.from_env({})
    with pytest.raises(pydantic.ValidationError):
        settings.fetch_workers = 3  # type: ignore[misc]
    assert settings.with_(fetch_workers=3).fetch_workers == 3 and settings.fetch_workers == 16
    with pytest.raises(ConfigError, match="fetch_workers=0"):
        settings.with_(fetch_workers=0)
    with pytest.raises(ConfigError, match="colour"):
        Settings.from_env({}, colour="red")
