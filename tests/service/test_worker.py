"""The worker loop with real solver children: results equal brute force, cancel kills, crashes fail."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from kakehashi.result import Result, Status
from kakehashi.service import jobs, tenancy
from kakehashi.service.config import ServiceConfig
from kakehashi.service.jobs import JobSpec, JobStatus
from kakehashi.service.store.db import Database
from kakehashi.service.store.migrate import upgrade
from kakehashi.service.store.models import LedgerEntry
from kakehashi.service.worker import Worker
from tests.service.support import brute_force_min, tiny_problem

FAKE = str(Path(__file__).with_name("fake_runner.py"))


@pytest.fixture
def env(sqlite_url: str) -> Iterator[tuple[Database, str]]:
    db = Database(sqlite_url)
    upgrade(db)
    yield db, tenancy.create_project(db, "p").id
    db.dispose()


def _submit(db: Database, pid: str, seed: int, backend: str = "exact", time_limit: float = 1.0) -> str:
    p = tiny_problem(seed, n=6)
    spec = JobSpec(
        problem_json=p.to_json(),
        problem_name=p.name,
        num_variables=6,
        num_constraints=0,
        backend=backend,
        time_limit=time_limit,
        seed=seed,
    )
    return jobs.submit(db, pid, spec)[0].id


def test_worker_runs_real_solve_and_meters(env: tuple[Database, str]) -> None:
    db, pid = env
    ids = [_submit(db, pid, s) for s in range(3)]
    bad = _submit(db, pid, 9, backend="exact")
    with db.write() as s:  # make one problem unreadable for the solver: the job must FAIL, not hang
        from kakehashi.service.store.models import Job

        s.get(Job, 4).problem_json = json.dumps({"format": "nope"})  # type: ignore[union-attr]
    config = ServiceConfig(database_url=str(db.url), lease_seconds=5.0)
    assert Worker(config, db).run(exit_when_idle=True) == 4
    for i, job_id in enumerate(ids):
        job, text = jobs.get_result(db, pid, job_id)
        assert job.status == JobStatus.SUCCEEDED and job.attempt == 1 and text is not None
        result = Result.from_json(text)
        assert result.status is Status.OPTIMAL
        assert result.objective == pytest.approx(brute_force_min(tiny_problem(i, n=6)))
    failed = jobs.get(db, pid, bad)
    assert failed.status == JobStatus.FAILED and failed.error is not None and "ModelError" in failed.error
    with db.read() as s:
        ledger = {e.job_id: e for e in s.scalars(select(LedgerEntry))}
    assert set(ledger) == {*ids, bad}
    for job_id in ids:
        e = ledger[job_id]
        assert e.hardware == "cpu" and e.cost_yen == pytest.approx(e.machine_seconds * config.price("cpu"))
        assert e.machine_seconds == pytest.approx(jobs.get(db, pid, job_id).run_seconds)
    events = [e.kind for e in jobs.events_after(db, pid, ids[0])[1]]
    assert events[:2] == ["queued", "running"] and events[-1] == "succeeded" and "progress" in events


def test_cancel_kills_running_solve_within_seconds(env: tuple[Database, str]) -> None:
    db, pid = env
    job_id = _submit(db, pid, 0, time_limit=600.0)
    config = ServiceConfig(
        database_url=str(db.url), lease_seconds=1.5, runner_command=(sys.executable, FAKE, "sleep")
    )
    worker = Worker(config, db)
    thread = threading.Thread(target=worker.run, kwargs={"max_jobs": 1})
    thread.start()
    deadline = time.monotonic() + 30
    while jobs.get(db, pid, job_id).status != JobStatus.RUNNING or worker._solver is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.2)  # the job has been sent to the child
    child = worker._solver
    assert child is not None and child.alive()
    t0 = time.monotonic()
    jobs.cancel(db, pid, job_id)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert time.monotonic() - t0 < 5.0
    assert child.proc.poll() is not None  # the solver process is gone
    job = jobs.get(db, pid, job_id)
    assert job.status == JobStatus.CANCELLED and job.error == "cancelled while running"


def test_solver_crash_is_a_job_fault_retried_up_to_max_attempts(env: tuple[Database, str]) -> None:
    db, pid = env
    job_id = _submit(db, pid, 0)
    config = ServiceConfig(database_url=str(db.url), runner_command=(sys.executable, FAKE, "crash"))
    assert Worker(config, db).run(exit_when_idle=True) == config.max_attempts  # a fresh child each time
    job = jobs.get(db, pid, job_id)
    assert job.status == JobStatus.FAILED and "exited with code 3" in (job.error or "")
    assert job.attempt == config.max_attempts and job.job_faults == config.max_attempts - 1
    assert job.infra_losses == 0


def test_graceful_stop_gives_the_job_back(env: tuple[Database, str]) -> None:
    db, pid = env
    job_id = _submit(db, pid, 0, time_limit=600.0)
    config = ServiceConfig(
        database_url=str(db.url), lease_seconds=1.0, runner_command=(sys.executable, FAKE, "sleep")
    )
    worker = Worker(config, db)
    thread = threading.Thread(target=worker.run)
    thread.start()
    while jobs.get(db, pid, job_id).status != JobStatus.RUNNING:
        time.sleep(0.05)
    worker.stop(grace=0.2)
    thread.join(timeout=30)
    job = jobs.get(db, pid, job_id)
    assert job.status == JobStatus.QUEUED and job.attempt == 1
