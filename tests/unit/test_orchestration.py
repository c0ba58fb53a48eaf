"""Window resolution for scheduled, manual and parametrised runs; run checks."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipeline.errors import ConfigError, SystemicFailure
from pipeline.models import Window
from pipeline.orchestration import plan_run, resolve_window
from pipeline.run.checks import find_problems, raise_on_problems
from pipeline.settings import Settings

UTC = timezone.utc
D1, D2 = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)


def test_scheduled_run_uses_its_data_interval() -> None:
    assert resolve_window({}, D1, D2, D2) == Window(D1, D2)


def test_manual_run_without_logical_date_takes_the_day_before_its_trigger() -> None:
    run_after = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
    window = resolve_window({}, None, None, run_after)
    assert window == Window(datetime(2026, 11, 20, 15, 30, tzinfo=UTC), run_after)


def test_zero_width_interval_is_not_used() -> None:
    run_after = datetime(2026, 11, 21, 6, tzinfo=UTC)
    assert resolve_window({}, run_after, run_after, run_after).end == run_after


def test_params_window_wins_and_is_validated() -> None:
    assert resolve_window({"start_date": "2026-11-01", "end_date": "2026-11-03"}, D1, D2, D2) == Window(
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    with pytest.raises(ConfigError, match="go together"):
        resolve_window({"start_date": "2026-11-01"}, D1, D2, D2)
    with pytest.raises(ConfigError, match="must be after"):
        resolve_window({"start_date": "2026-11-03", "end_date": "2026-11-01"}, D1, D2, D2)
    with pytest.raises(ConfigError, match="not a date"):
        resolve_window({"start_date": "yesterday", "end_date": "2026-11-01"}, D1, D2, D2)


def test_plan_run_maps_one_job_per_selected_source(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- name: a\n  urls: [https://a.example/1]\n- name: b\n  urls: [https://b.example/1]\n")
    jobs = plan_run({"sources_file": str(path), "sources": ["b"]}, D1, D2, D2, "backfill")
    assert jobs == [{"source": "b", "sources_path": str(path), "start": D1.isoformat(), "end": D2.isoformat(),
                     "backfill": True, "refetch": False}]
    assert len(plan_run({"sources_file": str(path)}, D1, D2, D2, "scheduled")) == 2
    with pytest.raises(ConfigError, match="unknown source"):
        plan_run({"sources_file": str(path), "sources": ["zzz"]}, D1, D2, D2, "manual")


def _summary(**stats: int) -> dict:
    base = {"fetched": 0, "failed": 0, "stored": 0, "unchanged": 0, "failures": {}}
    return {"sources": {"a": {**base, **stats}}}


def test_checks_flag_a_silent_source_and_a_high_failure_rate() -> None:
    assert find_problems([_summary(fetched=10, stored=10)], {"a": 10}, 0.5) == []
    assert "yielded no articles" in find_problems([_summary()], {"a": 0}, 0.5)[0]
    assert "failure rate" in find_problems([_summary(fetched=2, failed=8, stored=2)], {"a": 2}, 0.5)[0]
    with pytest.raises(SystemicFailure, match="yielded no articles"):
        raise_on_problems(find_problems([_summary()], {}, 0.5))


def test_a_rerun_that_found_nothing_new_is_healthy() -> None:
    assert find_problems([_summary()], {"a": 7}, 0.5) == []


def test_settings_from_environment_are_typed_and_validated() -> None:
    settings = Settings.from_env({"NEWS_PIPELINE_PER_HOST_DELAY": "0.25", "NEWS_PIPELINE_ALLOW_PRIVATE_NETWORKS": "1",
                                  "DATABASE_URL": "postgresql://u@h/db", "NEWS_PIPELINE_SOURCES": "/x.yaml"})
    assert settings.per_host_delay == 0.25 and settings.allow_private_networks is True
    assert settings.database_url == "postgresql://u@h/db" and str(settings.sources_path) == "/x.yaml"
    with pytest.raises(ConfigError, match="NEWS_PIPELINE_FETCH_WORKERS"):
        Settings.from_env({"NEWS_PIPELINE_FETCH_WORKERS": "many"})
