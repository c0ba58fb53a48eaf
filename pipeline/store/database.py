"""The database connection: engine, one transaction per unit of work under a deadline, driver errors
translated, URL masking; creating a database on a server."""

from __future__ import annotations

import io
import json
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Self, TypeVar

import psycopg2
import psycopg2.extras
import sqlalchemy as sa

from pipeline.dburl import check_database_url, mask_database_url
from pipeline.errors import DatabaseUnavailable, StoreDataError, StoreError
from pipeline.settings import Settings

PAGE_SIZE = 1000  # rows per execute_values statement

_DISCONNECT = (sa.exc.OperationalError, sa.exc.InterfaceError, psycopg2.OperationalError, psycopg2.InterfaceError)
# (character, escape) in COPY text format; backslash first. Chained str.replace, because str.translate
# with a dict table is about 20x slower on long non-ASCII bodies.
_COPY_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))

Cursor = Any  # a psycopg2 cursor (psycopg2 ships no type hints)
T = TypeVar("T")
DEFAULT_CONNECT_TIMEOUT = int(Settings.model_fields["database_connect_timeout"].default)
DEFAULT_TIMEOUT = float(Settings.model_fields["database_timeout"].default)
_current = threading.local()  # the deadline of the unit of work this thread is in, if any


class UnitDeadline:
    """The client's deadline of one unit of work. A frozen server (SIGSTOP, a stalled network path)
    answers nothing, raises nothing, and keeps TCP up, so neither libpq nor statement_timeout ever
    ends the wait; when the deadline passes, the sockets of the connections the unit checked out are
    shut, and libpq's blocked read returns with "server closed the connection"."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._connections: list[tuple[Any, int]] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self.fire)
        self._timer.daemon = True

    def __enter__(self) -> UnitDeadline:
        self._previous = getattr(_current, "deadline", None)
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.deadline = self._previous
        with self._lock:
            self._connections.clear()

    def attach(self, dbapi_connection: Any) -> None:
        entry = (dbapi_connection, dbapi_connection.fileno())
        with self._lock:
            if not self.fired:
                self._connections.append(entry)
                return
        _shut(*entry)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            connections, self._connections = self._connections, []
        for connection, fd in connections:
            _shut(connection, fd)


def _shut(dbapi_connection: Any, fd: int) -> None:
    """Shut the socket under a psycopg2 connection (through a duplicate of its descriptor: libpq keeps
    its own, and learns of the shutdown at its next read)."""
    if dbapi_connection.closed:  # its descriptor may belong to something else by now
        return
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _watch_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: the connection joins the unit's deadline, then is pinged (what pool_pre_ping does,
    but under the deadline: a ping to a frozen server would wait forever)."""
    deadline: UnitDeadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.attach(dbapi_connection)
    try:
        with dbapi_connection.cursor() as cur:
            cur.execute("SELECT 1")
        dbapi_connection.rollback()
    except psycopg2.Error:
        if deadline is not None and deadline.fired:
            raise
        raise sa.exc.DisconnectionError() from None  # stale (server restarted): the pool makes a new one


def mask_url(url: str) -> str:
    """The URL with any password replaced by `***` (safe for logs and error messages), whatever its shape."""
    return mask_database_url(url)


def normalise_url(url: str) -> str:
    """Use the psycopg2 driver for `postgresql://` and `postgres://` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def first_line(exc: BaseException) -> str:
    """First line of the earliest driver error in the chain (not the failed rollback), masked."""
    while isinstance(exc.__context__, (sa.exc.SQLAlchemyError, psycopg2.Error)):
        exc = exc.__context__
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return mask_url(text[0] if text else type(orig).__name__)


def is_data_error(exc: BaseException) -> bool:
    """True when PostgreSQL (or psycopg2 adapting a parameter) refused a value, not the connection: data
    exceptions (SQLSTATE class 22: NUL in jsonb, bad encoding...), program limits (class 54: an index row or
    a tsvector too large), NUL or a lone surrogate in a string parameter."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, psycopg2.Error):
        return (orig.pgcode or "")[:2] in ("22", "54")
    return isinstance(orig, UnicodeError) or (isinstance(orig, ValueError) and "NUL" in str(orig))


@contextmanager
def _data_errors(action: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        if is_data_error(exc):
            raise StoreDataError(f"{action} failed: {first_line(exc)}") from exc
        raise


def json_value(value: Any) -> psycopg2.extras.Json:
    """A JSONB parameter (keys sorted, anything else as its string)."""
    return psycopg2.extras.Json(value, dumps=lambda v: json.dumps(v, default=str, sort_keys=True))


def copy_text(value: Any) -> str:
    """One value in COPY text format (NULL, escaped text, array literal, ISO timestamp, number)."""
    if value is None:
        return "\\N"
    if isinstance(value, list):
        quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
        value = "{" + ",".join(quoted) + "}"
    elif isinstance(value, datetime):
        value = value.isoformat()
    text = str(value)
    for char, escape in _COPY_ESCAPES:
        if char in text:
            text = text.replace(char, escape)
    return text


def copy_lines(cur: Cursor, target: str, lines: Iterable[str]) -> None:
    """COPY text-format lines (values already escaped) into `target` ("table (columns)")."""
    buffer = io.StringIO("\n".join(lines) + "\n")
    cur.copy_expert(f"COPY {target} FROM STDIN", buffer)


def int_array(values: Iterable[int]) -> str:
    """An integer array literal: one short string parameter instead of thousands of adapted list items."""
    return "{" + ",".join(map(str, values)) + "}"


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url` (same user, password and options)."""
    return sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def create_database(server_url: str, name: str) -> str:
    """Create database `name` on the server of `server_url` unless it exists (safe against a concurrent
    create); return its URL. The one database creator of the pipeline (embedded server, `make up`)."""
    engine = sa.create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                return database_url(server_url, name)
            try:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            except sa.exc.ProgrammingError as exc:  # created concurrently by another process
                if "already exists" not in str(exc):
                    raise
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"cannot create database {name}: {first_line(exc)}") from None
    finally:
        engine.dispose()
    return database_url(server_url, name)


class Database:
    """An open PostgreSQL engine; every unit of work is one transaction on a raw psycopg2 cursor, under
    the deadline `timeout` (also the server's statement_timeout)."""

    def __init__(self, engine: sa.Engine, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._engine = engine
        self.masked_url = mask_url(url)
        self.timeout = timeout

    @classmethod
    def open(cls, url: str, *, connect_timeout: int = DEFAULT_CONNECT_TIMEOUT, timeout: float = DEFAULT_TIMEOUT,
             **engine_kw: Any) -> Self:
        """Create the engine and check that the database answers, or raise `DatabaseUnavailable`.

        `connect_timeout` bounds establishing a connection (libpq), `timeout` every unit of work (the
        server's statement_timeout, and the client's own deadline for a server that stops answering)."""
        url = normalise_url(check_database_url(url, "the database URL"))
        options = f"-c timezone=UTC -c statement_timeout={max(1, round(timeout * 1000))}"
        connect_args = {"connect_timeout": connect_timeout, "application_name": "news-pipeline",
                        "options": options, **engine_kw.pop("connect_args", {})}
        try:
            engine = sa.create_engine(url, connect_args=connect_args, **engine_kw)
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise StoreError(f"invalid database URL {mask_url(url)}: {first_line(exc)}") from None
        sa.event.listen(engine, "checkout", _watch_checkout)
        try:
            with UnitDeadline(timeout) as deadline, engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except (sa.exc.SQLAlchemyError, psycopg2.Error) as exc:
            engine.dispose()
            why = f"no answer within {timeout:g} s" if deadline.fired else first_line(exc)
            raise DatabaseUnavailable(f"cannot connect to {mask_url(url)}: {why}") from None
        return cls(engine, url, timeout)

    @classmethod
    def from_settings(cls, url: str, settings: Settings, **engine_kw: Any) -> Self:
        """`open` with the settings' connection timeout and unit-of-work deadline."""
        return cls.open(url, connect_timeout=settings.database_connect_timeout, timeout=settings.database_timeout,
                        **engine_kw)

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _errors(self, action: str, deadline: UnitDeadline | None = None) -> Iterator[None]:
        """Translate driver errors: lost connection or no answer in time -> DatabaseUnavailable, others ->
        StoreError."""
        try:
            with _data_errors(action):  # first: a program limit is an OperationalError to psycopg2
                yield
        except (sa.exc.SQLAlchemyError, psycopg2.Error) as exc:
            if deadline is not None and deadline.fired:
                raise DatabaseUnavailable(f"{action}: no answer from the database within {deadline.seconds:g} s "
                                          f"({self.masked_url})") from exc
            raise self._translated(action, exc) from exc

    def _translated(self, action: str, exc: BaseException) -> StoreError:
        if isinstance(exc, _DISCONNECT):
            return DatabaseUnavailable(f"{action}: database unavailable ({self.masked_url}): {first_line(exc)}")
        if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
            return DatabaseUnavailable(f"{action}: connection lost ({self.masked_url})")
        return StoreError(f"{action} failed: {first_line(exc)}")

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Cursor]:
        """One transaction with a raw psycopg2 cursor (for execute_values and COPY); all or nothing; under
        the unit-of-work deadline."""
        deadline = UnitDeadline(self.timeout)
        with self._errors(action, deadline), deadline, self._engine.begin() as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                yield cursor
            finally:
                if not cursor.connection.closed:
                    cursor.close()

    def _each_row_on_data_error(self, action: str, rows: Sequence[T],
                                write: Callable[[Cursor, Sequence[T]], None]) -> list[tuple[T, StoreDataError]]:
        """Write `rows` in one transaction; if PostgreSQL refuses a value, write them again one transaction
        per row, so one bad row costs only itself. Returns the refused rows with their error."""
        try:
            with self._transaction(action) as cur:
                write(cur, rows)
            return []
        except StoreDataError as exc:
            if len(rows) == 1:
                return [(rows[0], exc)]
        refused = []
        for row in rows:
            try:
                with self._transaction(action) as cur:
                    write(cur, [row])
            except StoreDataError as exc:
                refused.append((row, exc))
        return refused

