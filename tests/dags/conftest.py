"""A real Airflow for DAG tests: its own AIRFLOW_HOME with a migrated SQLite metadata database."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="np-airflow-"))

# Airflow reads its configuration when first imported: set it before anything imports airflow.
os.environ.update({
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME}/airflow.db",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
})


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Run `airflow db migrate` once per session (about 3 s on SQLite)."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return AIRFLOW_HOME


@pytest.fixture
def database_url(make_database) -> str:
    """A fresh database per DAG test, so no cache entry or discovered URL leaks between tests."""
    return make_database()
