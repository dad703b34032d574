"""No finished work is dropped: an outcome the database cannot take is spooled and written later,
fenced by attempt; a dead worker's spooled outcome is written by the next worker of its host."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from kakehashi.service import jobs, lease, tenancy
from kakehashi.service.config import ServiceConfig
from kakehashi.service.identity import boot_id, host_name
from kakehashi.service.jobs import JobSpec, JobStatus
from kakehashi.service.lease import Outcome
from kakehashi.service.spool import Spool
from kakehashi.service.store.db import Database
from kakehashi.service.store.migrate import upgrade
from kakehashi.service.store.models import WorkerRecord
from kakehashi.service.worker import Worker
from tests.service.support import brute_force_min, tiny_problem


@pytest.fixture
def env(sqlite_url: str) -> Iterator[tuple[Database, str]]:
    db = Database(sqlite_url)
    upgrade(db)
    yield db, tenancy.create_project(db, "p").id
    db.dispose()


def _submit(db: Database, pid: str) -> str:
    p = tiny_problem(2, n=6)
    spec = JobSpec(p.to_json(), p.name, 6, 0, backend="exact", time_limit=1.0)
    return jobs.submit(db, pid, spec)[0].id


def test_outcome_is_spooled_and_written_when_the_database_returns(
    env: tuple[Database, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db, pid = env
    job_id = _submit(db, pid)
    spool_dir = tmp_path / "spool"
    config = ServiceConfig(database_url=str(db.url), spool_dir=str(spool_dir), db_backoff_cap_seconds=0.05)
    real_finish = lease.finish
    calls: list[list[str]] = []

    def flaky_finish(*args: object, **kwargs: object) -> bool:
        calls.append(sorted(p.name for p in spool_dir.glob("*.json")))
        if len(calls) <= 3:  # the database is out for the first three tries
            raise OperationalError("UPDATE jobs", {}, Exception("connection refused"))
        return real_finish(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lease, "finish", flaky_finish)
    with caplog.at_level(logging.INFO, logger="kakehashi.worker"):
        assert Worker(config, db).run(exit_when_idle=True) == 1
    assert len(calls) == 4 and all(len(c) == 1 and c[0].startswith(job_id) for c in calls)  # spooled first
    assert list(spool_dir.glob("*.json")) == []  # and dropped once written
    job, result = jobs.get_result(db, pid, job_id)
    assert job.status == JobStatus.SUCCEEDED and job.attempt == 1 and job.lease_owner is None
    assert result is not None and json.loads(result)["objective"] == pytest.approx(
        brute_force_min(tiny_problem(2, n=6))
    )
    said = [r.getMessage() for r in caplog.records if "database" in r.getMessage()]
    assert len(said) == 2 and "unreachable" in said[0] and "reachable again" in said[1]  # one outage, 2 lines


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(proc.stdout)


def test_dead_workers_spooled_outcome_is_written_by_the_next_worker(
    env: tuple[Database, str], tmp_path: Path
) -> None:
    db, pid = env
    job_id = _submit(db, pid)
    dead = _dead_pid()
    with db.write() as s:
        s.add(
            WorkerRecord(
                id="dead-w", host=host_name(), pid=dead, started_at=1.0, last_seen=2.0, boot_id=boot_id()
            )
        )
    c = lease.claim(db, "dead-w", 60.0)
    assert c is not None
    spool = Spool(tmp_path / "spool", boot_id())
    path = spool.put(
        c, Outcome(JobStatus.SUCCEEDED, result_json='{"from": "the dead worker"}', machine_seconds=1.0)
    )
    body = json.loads(path.read_text())
    body["pid"] = dead  # as if the dead worker had written it
    path.write_text(json.dumps(body))
    config = ServiceConfig(database_url=str(db.url), spool_dir=str(tmp_path / "spool"))
    Worker(config, db).start()
    job, result = jobs.get_result(db, pid, job_id)
    assert job.status == JobStatus.SUCCEEDED and job.attempt == 1 and result == '{"from": "the dead worker"}'
    assert not path.exists()


def test_dead_workers_lease_is_released_at_start(env: tuple[Database, str], tmp_path: Path) -> None:
    if not boot_id():
        pytest.skip("no boot id on this platform")
    db, pid = env
    job_id = _submit(db, pid)
    with db.write() as s:
        s.add(
            WorkerRecord(
                id="dead-w",
                host=host_name(),
                pid=_dead_pid(),
                started_at=1.0,
                last_seen=2.0,
                boot_id=boot_id(),
            )
        )
        s.add(
            WorkerRecord(
                id="alive-w",
                host=host_name(),
                pid=os.getppid(),
                started_at=1.0,
                last_seen=2.0,
                boot_id=boot_id(),
            )
        )
    assert lease.claim(db, "dead-w", 60.0) is not None  # a long lease: only the host check can free it soon
    config = ServiceConfig(database_url=str(db.url), spool_dir=str(tmp_path / "spool"))
    Worker(config, db).start()
    job = jobs.get(db, pid, job_id)
    assert job.status == JobStatus.QUEUED and job.infra_losses == 1 and job.job_faults == 0
    with db.read() as s:
        assert s.get(WorkerRecord, "dead-w").stopped_at is not None  # type: ignore[union-attr]
        assert s.get(WorkerRecord, "alive-w").stopped_at is None  # type: ignore[union-attr]
