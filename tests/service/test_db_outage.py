"""The database SIGKILLed twice while the service runs: 0 responses 500, every error a 503 with
Retry-After, every SDK submit succeeds (retried with its Idempotency-Key), no result dropped.

The database is a PostgreSQL cluster of the test's own (``initdb`` in a temporary directory, a
free port; never the machine's shared server), killed with SIGKILL and restarted.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from kakehashi.client import Client
from kakehashi.client._retry import RetryPolicy
from kakehashi.service.config import ServiceConfig
from kakehashi.service.jobs import TERMINAL, JobStatus
from kakehashi.service.store.models import Job, JobResult, LedgerEntry
from kakehashi.service.testing import LiveService
from tests.service.own_postgres import OwnPostgres
from tests.service.support import brute_force_min, scaled, tiny_problem

pytestmark = [pytest.mark.slow, pytest.mark.network, pytest.mark.postgres]

NUM_JOBS = scaled("jobs", 60)
VARIANTS = 8
OUTAGE_SECONDS = 3.0


def test_database_killed_twice_under_load(own_pg: OwnPostgres, tmp_path: Path) -> None:
    log_path = tmp_path / "service.log"
    config = ServiceConfig(
        database_url=own_pg.url,
        poll_seconds=0.05,
        spool_dir=str(tmp_path / "spool"),
        db_backoff_cap_seconds=1.0,
    )
    problems = [tiny_problem(v, n=5) for v in range(VARIANTS)]
    optimum = [brute_force_min(p) for p in problems]
    with LiveService(own_pg.url, workers=2, config=config, log_path=str(log_path)) as svc:
        token = svc.token("outage")
        submitted: dict[int, str] = {}
        retry_lines: list[str] = []
        raw: Counter[int] = Counter()  # status codes seen by a client that never retries
        missing_retry_after: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def submitter(indices: range) -> None:
            policy = RetryPolicy(deadline_seconds=60.0, notify=retry_lines.append)
            with Client(svc.url, token, retry=policy, timeout=20.0) as client:
                for i in indices:
                    job = client.submit(problems[i % VARIANTS], backend="exact", time_limit=1.0, seed=i)
                    with lock:
                        submitted[i] = job.id
                    time.sleep(0.4)

        def prober() -> None:  # no retries: what every request sees during the outages
            rng = random.Random(7)
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=svc.url, timeout=20.0) as http:
                while not stop.is_set():
                    with lock:
                        ids = list(submitted.values())
                    try:
                        if ids and rng.random() < 0.7:
                            r = http.get(f"/v1/jobs/{rng.choice(ids)}", headers=headers)
                        else:
                            r = http.get("/v1/jobs", headers=headers, params={"limit": 5})
                    except httpx.TransportError:
                        continue
                    with lock:
                        raw[r.status_code] += 1
                        if r.status_code == 503 and not r.headers.get("Retry-After"):
                            missing_retry_after.append(r.text)
                    time.sleep(0.02)

        submitter(range(0, 1))  # a first job, solved before the outages: the workers are up

        def succeeded() -> int:
            with svc.db.read() as s:
                count = s.scalar(select(func.count()).select_from(Job).where(Job.status == "SUCCEEDED"))
                return int(count or 0)

        deadline = time.monotonic() + 90
        while not succeeded() and time.monotonic() < deadline:
            time.sleep(0.1)
        threads = [threading.Thread(target=submitter, args=(range(k, NUM_JOBS, 3),)) for k in (1, 2, 3)]
        probe = threading.Thread(target=prober)
        for t in [*threads, probe]:
            t.start()
        returned_at = 0.0
        for pause in (2.0, 4.0):  # two crashes while submits, claims and result writes go on
            time.sleep(pause)
            own_pg.kill()
            time.sleep(OUTAGE_SECONDS)
            own_pg.start()
            returned_at = time.monotonic()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
        assert len(submitted) == NUM_JOBS  # every SDK submit succeeded

        def pending() -> int:
            with svc.db.read() as s:
                return int(
                    s.scalar(
                        select(func.count())
                        .select_from(Job)
                        .where(Job.status.not_in([x.value for x in TERMINAL]))
                    )
                    or 0
                )

        deadline = time.monotonic() + 60
        while pending() and time.monotonic() < deadline:
            time.sleep(0.1)
        drained_after = time.monotonic() - returned_at
        stop.set()
        probe.join(timeout=30)
        with svc.db.read() as s:
            all_jobs = list(s.scalars(select(Job)))
            results = {r.job_id: r for r in s.scalars(select(JobResult))}
            ledger = Counter(e.job_id for e in s.scalars(select(LedgerEntry)))
    print(f"drained {drained_after:.1f} s after the database returned; probe statuses {dict(raw)}")
    print(f"FAULTS db-outage db=postgresql jobs={len(all_jobs)} crashes=2 outage_s={OUTAGE_SECONDS} "
          f"responses_500={raw[500]} responses_503={raw[503]} missing_retry_after={len(missing_retry_after)} "
          f"sdk_submits_ok={len(submitted)} drained_s={drained_after:.1f}")
    print(f"SDK retry lines: {len(retry_lines)}")
    # exactly one job per SDK submit (the SDK's Idempotency-Key), each solved once and right
    assert len(all_jobs) == NUM_JOBS and {j.id for j in all_jobs} == set(submitted.values())
    by_id = {j.id: j for j in all_jobs}
    for i, job_id in submitted.items():
        job = by_id[job_id]
        assert job.status == JobStatus.SUCCEEDED, (job.status, job.error)
        assert job.objective == pytest.approx(optimum[i % VARIANTS])
        assert results[job_id].attempt == job.attempt and ledger[job_id] == 1
        assert job.infra_losses == 0 and job.job_faults == 0, (job.attempt, job.infra_losses)
    # what clients saw: never a 500, every error a 503 with Retry-After
    assert raw[500] == 0 and not missing_retry_after
    assert set(raw) <= {200, 503}, raw
    assert raw[503] > 0 and retry_lines, "the outage was not seen at all"
    # the logs: no traceback for an outage; the workers say one line per outage start/end
    text = log_path.read_text(errors="replace")
    assert "Traceback" not in text
    starts = len(re.findall(r"database unreachable", text))
    assert 1 <= starts <= 2 * 2 * 3, starts  # 2 outages x 2 workers (x3 slack for a worker restart)
