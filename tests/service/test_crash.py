"""Crash test: 1,000 small jobs while the API and the workers are killed with SIGKILL >= 10 times.

Every job that got a 2xx must reach a terminal state; none is lost, none has two results, every
result is right (brute force), and the ledger matches the runs. SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from kakehashi.result import Result
from kakehashi.service.config import ServiceConfig
from kakehashi.service.jobs import TERMINAL, JobStatus
from kakehashi.service.store.models import Job, JobResult, LedgerEntry
from kakehashi.service.testing import LiveService
from tests.service.support import brute_force_min, tiny_problem

pytestmark = [pytest.mark.slow, pytest.mark.network]

NUM_JOBS = 1000
MIN_KILLS = 10
VARIANTS = 16


@pytest.mark.parametrize("backend_db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_kill9_api_and_workers_loses_nothing(
    backend_db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'kh.db'}" if backend_db == "sqlite" else request.getfixturevalue("pg_url")
    config = ServiceConfig(database_url=url, lease_seconds=2.0, poll_seconds=0.02, max_attempts=25)
    problems = [tiny_problem(v, n=5) for v in range(VARIANTS)]
    optimum = [brute_force_min(p) for p in problems]
    bodies = [{"problem": p.to_dict(), "backend": "exact", "time_limit": 1.0} for p in problems]
    rng = random.Random(1234)
    with LiveService(url, workers=2, config=config, log_path=str(tmp_path / "service.log")) as svc:
        token = svc.token("crash")
        accepted: dict[int, str] = {}
        lock = threading.Lock()

        def submitter(indices: range) -> None:
            with httpx.Client(timeout=10.0) as http:
                for i in indices:
                    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"job-{i}"}
                    while True:  # retry with the same key until a 2xx: exactly one job per key
                        try:
                            r = http.post(svc.url + "/v1/jobs", json=bodies[i % VARIANTS], headers=headers)
                        except httpx.TransportError:
                            time.sleep(0.05)
                            continue
                        if r.status_code in (200, 201):
                            with lock:
                                assert accepted.setdefault(i, r.json()["id"]) == r.json()["id"]
                            break
                        assert r.status_code >= 500 or r.status_code == 503, r.text
                        time.sleep(0.05)

        kills: list[str] = []

        def killer() -> None:
            while len(kills) < MIN_KILLS + 2:
                time.sleep(rng.uniform(0.5, 2.5))
                target = rng.choice(["api", "worker0", "worker1"])
                if target == "api":
                    svc.kill_api()
                    svc.start_api(wait=True)
                else:
                    svc.kill_worker(int(target[-1]))
                    svc.start_worker(int(target[-1]))
                kills.append(target)

        t0 = time.monotonic()
        chunks = [range(k, NUM_JOBS, 4) for k in range(4)]
        threads = [threading.Thread(target=submitter, args=(c,)) for c in chunks]
        kill_thread = threading.Thread(target=killer)
        kill_thread.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
        kill_thread.join(timeout=60)
        assert len(accepted) == NUM_JOBS and len(kills) >= MIN_KILLS
        svc.wait_ready()
        t_submitted = time.monotonic() - t0

        deadline = time.monotonic() + 180
        while True:
            with svc.db.read() as s:
                open_jobs = s.scalar(
                    select(func.count()).select_from(Job).where(Job.status.not_in(list(TERMINAL)))
                )
            if open_jobs == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert open_jobs == 0, f"{open_jobs} jobs never finished"
        print(
            f"{backend_db}: submitted in {t_submitted:.1f} s, all terminal after {time.monotonic() - t0:.1f} s, "
            f"kills: {kills}"
        )

        with svc.db.read() as s:
            rows = {j.id: j for j in s.scalars(select(Job))}
            results = list(s.scalars(select(JobResult)))
            ledger = list(s.scalars(select(LedgerEntry)))
    # none lost, none duplicated: one job per accepted key, and nothing else
    assert set(accepted.values()) == set(rows) and len(rows) == NUM_JOBS
    statuses = [j.status for j in rows.values()]
    assert all(s in TERMINAL for s in statuses)
    # one result per job, written by the job's final attempt, and right
    by_job = {r.job_id: r for r in results}
    assert len(by_job) == len(results)
    index = {job_id: i for i, job_id in accepted.items()}
    for job_id, job in rows.items():
        if job.status == JobStatus.SUCCEEDED:
            assert job_id in by_job and by_job[job_id].attempt == job.attempt
            objective = Result.from_json(by_job[job_id].result_json).objective
            assert objective == pytest.approx(optimum[index[job_id] % VARIANTS])
    succeeded = sum(s == JobStatus.SUCCEEDED for s in statuses)
    assert succeeded >= 0.98 * NUM_JOBS, {s: statuses.count(s) for s in set(statuses)}
    # the ledger matches the runs: one row per finished run, for its attempt, priced right
    keyed = {(e.job_id, e.attempt): e for e in ledger}
    assert len(keyed) == len(ledger)
    finished_runs = [j for j in rows.values() if j.run_seconds is not None]
    assert len(ledger) == len(finished_runs)
    for job in finished_runs:
        entry = keyed[(job.id, job.attempt)]
        assert entry.machine_seconds == pytest.approx(job.run_seconds)
        assert entry.cost_yen == pytest.approx(entry.machine_seconds * config.price(entry.hardware))
