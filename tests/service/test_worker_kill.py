"""A worker SIGKILLed while its job runs: the job is re-queued as an infrastructure loss (no
attempt of the job's own burnt) and claimed again within 10 s, by a sibling worker of the same
host or by the worker restarted in its place, and then finishes with the right answer."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from kakehashi.service import jobs, tenancy
from kakehashi.service.config import ServiceConfig
from kakehashi.service.jobs import JobStatus
from kakehashi.service.store.models import Job, JobEvent, JobResult
from kakehashi.service.testing import LiveService
from tests.service.support import brute_force_min, tiny_problem

pytestmark = [pytest.mark.slow, pytest.mark.network]

FAKE = str(Path(__file__).with_name("fake_runner.py"))
#: the issue's bound: an interrupted job is claimed again within this many seconds (default config)
RECLAIM_SECONDS = 10.0


def _wait(cond, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("how", ["sibling", "restart"])
def test_killed_worker_job_is_requeued_without_burning_an_attempt(how: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kh.db'}"
    config = ServiceConfig(  # the default lease and heartbeat periods: the 10 s bound is theirs
        database_url=url, poll_seconds=0.05, runner_command=(sys.executable, FAKE, "slow", "3")
    )
    problem = tiny_problem(3, n=6)
    with LiveService(
        url, workers=2 if how == "sibling" else 1, config=config, log_path=str(tmp_path / "svc.log")
    ) as svc:
        project = tenancy.create_project(svc.db, "kill").id
        spec = jobs.JobSpec(problem.to_json(), problem.name, 6, 0, backend="exact", time_limit=5.0)
        job_id = jobs.submit(svc.db, project, spec)[0].id

        def owner() -> str | None:
            return jobs.get(svc.db, project, job_id).lease_owner

        holder = _wait(owner, 60, "the job to be claimed")
        victim = next(i for i, p in enumerate(svc.workers) if p is not None and f"-{p.pid}-" in holder)
        time.sleep(0.5)  # it is running now (the fake solver takes 3 s)
        svc.kill_worker(victim)
        killed_at = time.time()
        if how == "restart":
            svc.start_worker(victim)

        def reclaimed() -> bool:
            j = jobs.get(svc.db, project, job_id)
            return j.attempt == 2 and j.status in (JobStatus.RUNNING, JobStatus.SUCCEEDED)

        _wait(reclaimed, 30, "the job to be claimed again")
        _wait(
            lambda: jobs.get(svc.db, project, job_id).status == JobStatus.SUCCEEDED, 60, "the job to finish"
        )
        with svc.db.read() as s:
            events = list(s.scalars(select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)))
            job = s.scalars(select(Job).where(Job.id == job_id)).one()
            result = s.scalars(select(JobResult).where(JobResult.job_id == job_id)).one()
    running = [e for e in events if e.kind == "running"]
    assert len(running) == 2
    latency = running[1].created_at - killed_at
    print(f"re-claimed {latency:.2f} s after the kill ({how})")
    assert latency <= RECLAIM_SECONDS, latency
    lost = [json.loads(e.data_json) for e in events if e.kind == "lost"]
    assert len(lost) == 1 and lost[0]["fault"] == "infrastructure" and lost[0]["attempt"] == 1
    assert job.attempt == 2 and job.infra_losses == 1 and job.job_faults == 0
    assert result.attempt == 2
    assert json.loads(result.result_json)["objective"] == pytest.approx(brute_force_min(problem))
