"""The Trigger form of news_ingest_daily: optional params are not marked required, and their values validate."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.airflow
OPTIONAL = ("sources", "start_date", "end_date", "refetch")


def _form_marks_required(schema: dict) -> bool:
    """The UI's rule (airflow/ui, flexible form): a field is required when its schema type excludes null."""
    kind = schema.get("type")
    return bool(kind) and (not isinstance(kind, list) or "null" not in kind)


@pytest.fixture(scope="module")
def serialized_params(airflow_db: Path) -> dict:
    """The params as the API server serves them to the form: from the serialized DAG."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    dag = DagBag(dag_folder=str(REPO / "dags")).get_dag("news_ingest_daily")
    restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    return {name: restored.params.get_param(name) for name in restored.params}


def test_optional_params_are_not_marked_required(serialized_params: dict) -> None:
    marked = [name for name in OPTIONAL if _form_marks_required(serialized_params[name].schema)]
    assert not marked


def test_the_form_widgets_keep_their_kind_and_values_validate(serialized_params: dict) -> None:
    import jsonschema

    sources, refetch = serialized_params["sources"].schema, serialized_params["refetch"].schema
    assert sources["items"] == {"type": "string"} and "array" in sources["type"]  # still a list of names
    assert "boolean" in refetch["type"]  # still a switch
    for value in ([], ["harbour-herald"], None):
        jsonschema.validate(value, sources)
    for value in (True, False, None):
        jsonschema.validate(value, refetch)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("not a list", sources)
