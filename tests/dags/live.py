"""A live Airflow for tests: `scripts/up` (LocalExecutor) or `scripts/up-celery` in a session of its own.

Everything an operator would run: the launchers start api-server, dag-processor, triggerer, scheduler (and
Celery workers), the tests drive it with the `airflow` CLI and read the metadata database for states.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[2]
READY = "Press Ctrl-C to stop everything."
FINISHED = ("success", "failed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def metadata_database(server_url: str, label: str) -> str:
    """A new, empty PostgreSQL database for Airflow's metadata, named airflow_<label>_<hex>."""
    name = f"airflow_{label}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.engine.make_url(server_url).set(drivername="postgresql+psycopg2", database=name) \
        .render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


class LiveAirflow:
    """One launcher process (and everything it started) with its own AIRFLOW_HOME, ports and databases."""

    def __init__(self, home: Path, *, celery: bool, metadata_url: str, database_url: str, sources: Path,
                 env: dict[str, str] | None = None) -> None:
        self.home, self.celery = home, celery
        self.metadata = sa.create_engine(metadata_url)
        self.queue = f"np-test-{uuid.uuid4().hex[:8]}"  # other test sessions may share the broker
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "DATABASE_URL": database_url,
            "NEWS_PIPELINE_SOURCES": str(sources),
            "NEWS_PIPELINE_ARCHIVE_URL": str(home / "archive"),
            "AIRFLOW_PORT": str(free_port()),
            "NEWS_PIPELINE_WORKER_LOG_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGERER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
            # a task a killed worker had reserved but not started is sent again after this
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "45",
            "NEWS_PIPELINE_RETRY_DELAY_SECONDS": "2",
            "NEWS_PIPELINE_EXTRACT_WORKERS": "1",
            "STOP_GRACE": "10",
            **(env or {}),
        }
        for key in ("AIRFLOW__CORE__UNIT_TEST_MODE", "NEWS_PIPELINE_DATA_DIR"):
            self.env.pop(key, None)
        self.log = home / "launcher.log"
        self.process: subprocess.Popen | None = None
        self._token: str | None = None

    def start(self, timeout: float = 300) -> LiveAirflow:
        self.home.mkdir(parents=True, exist_ok=True)
        script = REPO / "scripts" / ("up-celery" if self.celery else "up")
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen([str(script)], cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while READY not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{script.name} did not start:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(1)
        # The launcher is ready before the DAG processor has parsed the DAGs; a backfill needs them serialized.
        self.wait_for("the DAGs to be parsed", lambda: len(self.query(
            "SELECT dag_id FROM serialized_dag WHERE dag_id IN ('news_ingest_daily', 'news_daily_counts')")) == 2,
            timeout=180)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the launcher's clean stop: every process it started
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.metadata.dispose()

    def airflow(self, *args: str, timeout: float = 180) -> str:
        """The Airflow CLI as `make airflow ARGS=...` runs it (scripts/airflow, the launcher's env.sh)."""
        done = subprocess.run([str(REPO / "scripts" / "airflow"), *args], cwd=REPO, env=self.env, text=True,
                              capture_output=True, timeout=timeout)
        assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def api(self, method: str, path: str, body: dict | None = None) -> Any:
        """The REST API the UI uses, logged in as the UI's user (simple auth manager: a JWT from /auth/token)."""
        import requests

        base = f"http://127.0.0.1:{self.env['AIRFLOW_PORT']}"
        if self._token is None:
            [passwords] = (self.home / "airflow").glob("simple_auth_manager_passwords.json*")
            user, password = next(iter(json.loads(passwords.read_text()).items()))
            login = requests.post(f"{base}/auth/token", json={"username": user, "password": password}, timeout=60)
            assert login.ok, f"login: {login.status_code} {login.text[:500]}"
            self._token = login.json()["access_token"]
        answer = requests.request(method, base + path, json=body, timeout=120,
                                  headers={"Authorization": f"Bearer {self._token}"})
        assert answer.ok, f"{method} {path}: {answer.status_code} {answer.text[:1000]}"
        return answer.json()

    def query(self, sql: str, **params: Any) -> list[tuple]:
        with self.metadata.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params).all()]

    def runs(self, dag_id: str) -> list[tuple]:
        """(run_id, run_type, state, data_interval_start) of the DAG's runs."""
        return self.query("SELECT run_id, run_type, state, data_interval_start FROM dag_run WHERE dag_id = :d "
                          "ORDER BY data_interval_start, run_id", d=dag_id)

    def task_tries(self, dag_id: str) -> list[tuple]:
        """Every try of every task instance, earlier tries included:
        (task_id, map_index, run_id, try_number, hostname, state, queue)."""
        cols = "task_id, map_index, run_id, try_number, hostname, state, queue"
        return self.query(f"SELECT {cols} FROM task_instance WHERE dag_id = :d UNION ALL "
                          f"SELECT {cols} FROM task_instance_history WHERE dag_id = :d "
                          "ORDER BY run_id, task_id, map_index, try_number", d=dag_id)

    def wait_for(self, what: str, condition: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if self.process and self.process.poll() is not None:
                raise AssertionError(f"the launcher exited while waiting for {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.tail()}")
            time.sleep(1)

    def wait_runs_finished(self, dag_id: str, count: int, timeout: float) -> list[tuple]:
        def finished() -> list[tuple] | None:
            runs = self.runs(dag_id)
            done = [r for r in runs if r[2] in FINISHED]
            return runs if len(runs) >= count and len(done) == len(runs) else None

        return self.wait_for(f"{count} finished runs of {dag_id}", finished, timeout)

    def tail(self) -> str:
        logs = sorted((self.home / "airflow" / "logs").glob("*.log"))
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in [self.log, *logs])

    def worker_session(self, name: str) -> int:
        """The session id (the pid of its leader) of this instance's Celery worker `name`."""
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
                environ = (proc / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if (f"{name}@%h".encode() in cmdline and b"worker" in cmdline
                    and f"AIRFLOW_HOME={self.env['AIRFLOW_HOME']}".encode() in environ):
                return os.getsid(int(proc.name))
        raise AssertionError(f"no process of worker {name}")


def kill_session(sid: int) -> list[int]:
    """SIGKILL every process of the session (a worker, its pool processes and the tasks they run)."""
    killed = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if os.getsid(int(proc.name)) == sid:
                    os.kill(int(proc.name), signal.SIGKILL)
                    killed.append(int(proc.name))
            except (ProcessLookupError, PermissionError):
                continue
    return killed
