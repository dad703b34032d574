"""The whole service (API and every worker) SIGKILLed again and again while jobs run: every job
SUCCEEDED exactly once, none FAILED for the operator's restarts (infrastructure losses do not burn
the job's attempts, a whole-service kill is never a poison-job suspect)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from kakehashi.service import jobs, tenancy
from kakehashi.service.config import ServiceConfig
from kakehashi.service.jobs import TERMINAL, JobSpec, JobStatus
from kakehashi.service.store.models import Job, JobResult, LedgerEntry
from kakehashi.service.testing import LiveService
from tests.service.support import brute_force_min, scaled, tiny_problem

pytestmark = [pytest.mark.slow, pytest.mark.network]

FAKE = str(Path(__file__).with_name("fake_runner.py"))
NUM_JOBS = scaled("jobs", 16)
KILLS = scaled("kills", 4)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file, or a PostgreSQL cluster of the test's own (never the shared one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kh.db'}"
        return
    if "KAKEHASHI_FAULT_JOBS" not in os.environ:
        pytest.skip("PostgreSQL kill runs are full-size only: python benchmarks/faults.py "
                    "(the suite covers PostgreSQL in test_db_outage and test_two_instances)")
    yield request.getfixturevalue("own_pg").url


def test_service_killed_while_jobs_run_fails_nothing(tmp_path: Path, database_url: str) -> None:
    url = database_url
    config = ServiceConfig(
        database_url=url, poll_seconds=0.05, runner_command=(sys.executable, FAKE, "slow", "1.5")
    )
    problems = [tiny_problem(v, n=5) for v in range(4)]
    with LiveService(url, workers=2, config=config, log_path=str(tmp_path / "svc.log")) as svc:
        project = tenancy.create_project(svc.db, "kills").id
        ids = {}
        for i in range(NUM_JOBS):
            p = problems[i % 4]
            ids[
                jobs.submit(
                    svc.db, project, JobSpec(p.to_json(), p.name, 5, 0, backend="exact", time_limit=5.0)
                )[0].id
            ] = i

        def running() -> int:  # jobs run by the workers alive now (not leases of killed ones)
            pids = [f"-{p.pid}-" for p in svc.workers if p is not None]
            with svc.db.read() as s:
                owners = s.scalars(select(Job.lease_owner).where(Job.status == JobStatus.RUNNING.value))
                return sum(1 for o in owners if o and any(pid in o for pid in pids))

        kills = 0
        deadline = time.monotonic() + 150 + 20 * KILLS
        while kills < KILLS and time.monotonic() < deadline:
            if running() == 0:  # kill only while jobs run: what finds a FAILED job
                time.sleep(0.05)
                continue
            time.sleep(0.5)  # in the middle of the 1.5 s solves
            svc.kill_api()
            for w in range(2):
                svc.kill_worker(w)
            kills += 1
            svc.start_api(wait=True)
            for w in range(2):
                svc.start_worker(w)
        assert kills == KILLS

        def done() -> bool:
            with svc.db.read() as s:
                return all(j.status in TERMINAL for j in s.scalars(select(Job)))

        deadline = time.monotonic() + 150 + NUM_JOBS
        while not done() and time.monotonic() < deadline:
            time.sleep(0.2)
        with svc.db.read() as s:
            all_jobs = list(s.scalars(select(Job)))
            results = Counter(r.job_id for r in s.scalars(select(JobResult)))
            ledger = Counter(e.job_id for e in s.scalars(select(LedgerEntry)))
            objective = {
                r.job_id: json.loads(r.result_json)["objective"] for r in s.scalars(select(JobResult))
            }
    losses = sum(j.infra_losses for j in all_jobs)
    print(
        f"FAULTS service-kills db={url.split(':')[0]} jobs={len(all_jobs)} kills={kills} losses={losses} "
        f"max_losses_per_job={max(j.infra_losses for j in all_jobs)} "
        f"succeeded={sum(j.status == JobStatus.SUCCEEDED for j in all_jobs)} "
        f"results_once={sum(results[j.id] == 1 for j in all_jobs)}"
    )
    assert losses >= KILLS  # the kills hit running jobs
    for j in all_jobs:
        assert j.status == JobStatus.SUCCEEDED, (j.id, j.status, j.error)
        assert results[j.id] == 1 and ledger[j.id] == 1 and j.job_faults == 0
        assert objective[j.id] == pytest.approx(brute_force_min(problems[ids[j.id] % 4]))
