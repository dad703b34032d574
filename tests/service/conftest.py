"""Fixtures for the service tests: SQLite and PostgreSQL databases, an app, projects and tokens.

PostgreSQL: the machine's server at 127.0.0.1:5432 (user postgres or root, trust auth, database
``test``; override with KAKEHASHI_TEST_PG_URL). It is started when not running; each test that
asks for it gets a fresh database, dropped afterwards. Tests are skipped when no server can run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.own_postgres import OwnPostgres, binaries
from tests.service.support import Harness, make_harness

PG_URLS = [
    os.environ.get("KAKEHASHI_TEST_PG_URL", ""),
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
]
HERE = Path(__file__).resolve().parent


def _try_connect(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3
        ) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False


def _start_pg() -> None:
    for version in sorted(glob.glob("/etc/postgresql/*")):
        with contextlib.suppress(Exception):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", Path(version).name, "main", "start"],
                check=False,
                capture_output=True,
                timeout=60,
            )


@pytest.fixture(scope="session")
def pg_server() -> str:
    """A URL of the PostgreSQL maintenance database ``test`` (skips when unavailable)."""
    pytest.importorskip("psycopg")
    for attempt in range(2):
        for url in PG_URLS:
            if url and _try_connect(url):
                return url
        if attempt == 0:
            _start_pg()
    pytest.skip("no PostgreSQL server at 127.0.0.1:5432")


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    import psycopg

    name = f"kh_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_server.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://")
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kakehashi.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kakehashi.db'}"


@pytest.fixture
def harness(sqlite_url: str) -> Iterator[Harness]:
    h = make_harness(sqlite_url)
    yield h
    h.client.close()
    h.db.dispose()


@pytest.fixture
def any_harness(db_url: str) -> Iterator[Harness]:
    """The harness on SQLite and on PostgreSQL."""
    h = make_harness(db_url)
    yield h
    h.client.close()
    h.db.dispose()


@pytest.fixture
def own_pg() -> Iterator[OwnPostgres]:
    """A PostgreSQL cluster of the test's own (initdb on a free port; never the shared server),
    stopped afterwards; skips where psycopg or the PostgreSQL binaries are missing."""
    pytest.importorskip("psycopg")
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    pg = OwnPostgres(bin_dir)
    try:
        pg.start()
        yield pg
    finally:
        pg.close()
