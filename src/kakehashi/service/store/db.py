"""Engine set-up and transactions for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is on disk before it returns) and a
30 s busy timeout. Writing transactions start with ``BEGIN IMMEDIATE`` so two writers never
deadlock upgrading read locks; reading transactions use a plain ``BEGIN``. PostgreSQL is reached
through psycopg 3 (``postgresql+psycopg://``; a bare ``postgresql://`` URL is mapped to it), with
a connect timeout of :data:`PG_CONNECT_TIMEOUT_SECONDS` and a pool wait of
:data:`POOL_TIMEOUT_SECONDS`, so that an unreachable server fails a request in seconds.

:data:`OUTAGE_ERRORS` are the errors that mean "the database cannot be reached now" (refused or
dropped connections, timeouts, a locked SQLite file past its busy timeout): the API answers them
with 503 and ``Retry-After``, the workers with back-off (:mod:`kakehashi.service.store.outage`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

#: Seconds PostgreSQL connection attempts wait before they fail (psycopg ``connect_timeout``).
PG_CONNECT_TIMEOUT_SECONDS = 5
#: Seconds a request waits for a free pooled connection before it fails.
POOL_TIMEOUT_SECONDS = 10.0

#: SQLAlchemy errors that mean the database is unreachable or overloaded now, not a bug.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` is a database outage (see :data:`OUTAGE_ERRORS`), also a
    ``DBAPIError`` whose connection SQLAlchemy invalidated (the server went away mid-query)."""
    if isinstance(exc, OUTAGE_ERRORS):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


#: Execution option that marks a connection as read-only (SQLite: deferred ``BEGIN``).
_READ_ONLY = "kakehashi_read_only"


def normalise_url(url: str) -> str:
    """Map ``postgresql://`` and ``postgres://`` to the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the pragmas and pool settings kakehashi relies on."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30.0, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            read_only = conn.get_execution_options().get(_READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS},
    )


_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(url: str) -> threading.RLock:
    """The process-wide lock of one SQLite file's writers (see :meth:`Database.write`)."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(url, threading.RLock())


class Database:
    """An engine plus the two kinds of transaction the service uses."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.dialect = self.engine.dialect.name
        self._write_lock = _write_lock(self.url) if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a writing transaction, committed on success, rolled back on error.

        On SQLite the writers of one process take turns on a lock before ``BEGIN IMMEDIATE``:
        one writer path per process, so that the API's request threads queue in memory (and
        run the moment the file lock is free) instead of polling SQLite's busy handler, whose
        growing sleeps gave 16 concurrent submitters a p99 of seconds."""
        if self._write_lock is None:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
            return
        with self._write_lock, Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session in a reading transaction (no write lock on SQLite)."""
        conn = self.engine.connect().execution_options(**{_READ_ONLY: True})
        try:
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session
        finally:
            conn.close()

    def dispose(self) -> None:
        self.engine.dispose()
