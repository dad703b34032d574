"""Job states, claims, leases, heartbeats and the attempt guard, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from kakehashi.service import jobs, lease, tenancy
from kakehashi.service.jobs import JobSpec, JobStatus
from kakehashi.service.lease import Beat, Outcome
from kakehashi.service.store.db import Database
from kakehashi.service.store.migrate import upgrade
from kakehashi.service.store.models import JobResult, LedgerEntry
from tests.service.support import tiny_problem


def _spec(i: int = 0, priority: int = 0) -> JobSpec:
    p = tiny_problem(i)
    return JobSpec(
        problem_json=p.to_json(),
        problem_name=p.name,
        num_variables=p.num_variables,
        num_constraints=0,
        backend="exact",
        time_limit=1.0,
        priority=priority,
    )


@pytest.fixture
def store(db_url: str) -> Iterator[tuple[Database, str]]:
    db = Database(db_url)
    upgrade(db)
    yield db, tenancy.create_project(db, "p").id
    db.dispose()


def test_claim_order_attempts_and_finish(store: tuple[Database, str]) -> None:
    db, pid = store
    low, _ = jobs.submit(db, pid, _spec(0, priority=0))
    high, _ = jobs.submit(db, pid, _spec(1, priority=5))
    c = lease.claim(db, "w1", 30.0)
    assert c is not None and c.job_id == high.id and c.attempt == 1
    assert jobs.get(db, pid, high.id).status == JobStatus.RUNNING
    assert lease.heartbeat(db, c, 30.0) is Beat.OK
    ok = Outcome(
        JobStatus.SUCCEEDED, result_json="{}", machine_seconds=2.0, unit_price_yen=0.5, hardware="cpu"
    )
    assert lease.finish(db, c, ok)
    # terminal absorbs: a second finish of the same attempt writes nothing
    assert not lease.finish(db, c, Outcome(JobStatus.FAILED, error="late"))
    job = jobs.get(db, pid, high.id)
    assert job.status == JobStatus.SUCCEEDED and job.error is None
    with db.read() as s:
        entry = s.scalars(select(LedgerEntry)).one()
    assert entry.cost_yen == pytest.approx(1.0) and entry.attempt == 1
    c2 = lease.claim(db, "w1", 30.0)
    assert c2 is not None and c2.job_id == low.id
    assert lease.claim(db, "w1", 30.0) is None


def test_expired_lease_requeues_and_stale_attempt_cannot_write(store: tuple[Database, str]) -> None:
    db, pid = store
    job, _ = jobs.submit(db, pid, _spec(), max_attempts=2)
    first = lease.claim(db, "dead-worker", 1.0)
    assert first is not None
    counts = lease.reap_expired(db, now=time.time() + 5)
    assert counts["QUEUED"] == 1
    assert jobs.get(db, pid, job.id).status == JobStatus.QUEUED
    second = lease.claim(db, "w2", 30.0)
    assert second is not None and second.attempt == 2
    # the first attempt comes back from the dead: it must not write anything
    assert lease.heartbeat(db, first, 30.0) is Beat.LOST
    assert not lease.finish(db, first, Outcome(JobStatus.SUCCEEDED, result_json='{"stale": 1}'))
    assert lease.finish(db, second, Outcome(JobStatus.SUCCEEDED, result_json='{"fresh": 1}'))
    _, result = jobs.get_result(db, pid, job.id)
    assert result == '{"fresh": 1}'


def test_lost_leases_do_not_burn_attempts_and_a_separate_limit_stops_them(
    store: tuple[Database, str],
) -> None:
    db, pid = store
    job, _ = jobs.submit(db, pid, _spec(), max_attempts=2)
    policy = lease.LossPolicy(max_infra_losses=3, backoff_seconds=0.0)
    for _ in range(3):  # more losses than max_attempts: still re-queued, the job did nothing wrong
        assert lease.claim(db, "w", 1.0) is not None
        assert lease.reap_expired(db, now=time.time() + 5, policy=policy) == {"QUEUED": 1}
    j = jobs.get(db, pid, job.id)
    assert j.status == JobStatus.QUEUED and j.attempt == 3 and j.infra_losses == 3 and j.job_faults == 0
    assert lease.claim(db, "w", 1.0) is not None
    assert lease.reap_expired(db, now=time.time() + 5, policy=policy) == {"FAILED": 1}
    j = jobs.get(db, pid, job.id)
    assert j.status == JobStatus.FAILED and j.error is not None and "lost 4 times" in j.error
    _, events = jobs.events_after(db, pid, job.id)
    lost = [json.loads(e.data_json) for e in events if e.kind == "lost"]
    assert len(lost) == 4 and all(
        e["fault"] == "infrastructure" and e["reason"] == "lease expired" for e in lost
    )


def test_second_loss_backs_off_before_the_job_is_claimed_again(store: tuple[Database, str]) -> None:
    db, pid = store
    jobs.submit(db, pid, _spec())
    policy = lease.LossPolicy(backoff_seconds=30.0)
    now = time.time()
    for _ in range(2):
        assert lease.claim(db, "w", 1.0, now=now) is not None
        lease.reap_expired(db, now=now + 5, policy=policy)
    assert lease.claim(db, "w", 1.0, now=now + 6) is None  # waits its back-off (30 s)
    assert lease.claim(db, "w", 1.0, now=now + 40) is not None


def test_job_fault_counts_toward_max_attempts(store: tuple[Database, str]) -> None:
    db, pid = store
    jobs.submit(db, pid, _spec(), max_attempts=2)
    c = lease.claim(db, "w", 30.0)
    assert c is not None and c.job_faults == 0 and c.max_attempts == 2
    assert lease.requeue_fault(db, c, "solver exited with code -9")
    c2 = lease.claim(db, "w", 30.0)
    assert c2 is not None and c2.job_faults == 1 and c2.attempt == 2
    assert not lease.requeue_fault(db, c, "stale")  # fenced by attempt


def _worker(db: Database, wid: str, *, started: float, seen: float) -> None:
    from kakehashi.service.store.models import WorkerRecord

    with db.write() as s:
        s.add(WorkerRecord(id=wid, host="h1", pid=1, started_at=started, last_seen=seen, boot_id="b"))


def test_poison_job_that_kills_every_worker_alone_is_failed(store: tuple[Database, str]) -> None:
    db, pid = store
    job, _ = jobs.submit(db, pid, _spec())
    now = time.time()
    _worker(db, "survivor", started=now - 100, seen=now + 100)  # a sibling that outlives each death
    for k in range(3):
        wid = f"victim{k}"
        _worker(db, wid, started=now - 50, seen=now)
        assert lease.claim(db, wid, 1.0, now=now) is not None
        counts = lease.reap_expired(db, now=now + 5, policy=lease.LossPolicy(backoff_seconds=0.0))
    assert counts == {"FAILED": 1}
    j = jobs.get(db, pid, job.id)
    assert (
        j.status == JobStatus.FAILED and j.error is not None and "poison job: 3 different workers" in j.error
    )


def test_a_whole_service_killed_is_not_a_poison_suspect(store: tuple[Database, str]) -> None:
    db, pid = store
    job, _ = jobs.submit(db, pid, _spec())
    now = time.time()
    for k in range(4):  # each kill takes every worker of the host; the next incarnation starts later
        wid = f"incarnation{k}"
        _worker(db, wid, started=now + 10 * k, seen=now + 10 * k + 1)
        _worker(db, f"{wid}-sibling", started=now + 10 * k, seen=now + 10 * k + 1)
        assert lease.claim(db, wid, 1.0, now=now + 10 * k + 1) is not None
        lease.reap_expired(db, now=now + 10 * k + 5, policy=lease.LossPolicy(backoff_seconds=0.0))
    j = jobs.get(db, pid, job.id)
    assert j.status == JobStatus.QUEUED and j.infra_losses == 4 and j.suspect_workers_json == "[]"


def test_cancel_queued_running_and_finished(store: tuple[Database, str]) -> None:
    db, pid = store
    queued, _ = jobs.submit(db, pid, _spec(0))
    assert jobs.cancel(db, pid, queued.id).status == JobStatus.CANCELLED
    running, _ = jobs.submit(db, pid, _spec(1))
    c = lease.claim(db, "w", 30.0)
    assert c is not None and c.job_id == running.id
    j = jobs.cancel(db, pid, running.id)
    assert j.status == JobStatus.RUNNING and j.cancel_requested
    assert lease.heartbeat(db, c, 30.0) is Beat.CANCEL
    assert lease.finish(db, c, Outcome(JobStatus.CANCELLED, error="cancelled while running"))
    assert jobs.cancel(db, pid, running.id).status == JobStatus.CANCELLED  # idempotent
    done, _ = jobs.submit(db, pid, _spec(2))
    c = lease.claim(db, "w", 30.0)
    assert c is not None
    lease.finish(db, c, Outcome(JobStatus.SUCCEEDED, result_json="{}"))
    with pytest.raises(jobs.JobConflictError):
        jobs.cancel(db, pid, done.id)
    # a queued-then-cancelled job can never be claimed
    assert lease.claim(db, "w", 30.0) is None


def test_idempotency_key_same_and_different_body(store: tuple[Database, str]) -> None:
    db, pid = store
    a, created = jobs.submit(db, pid, _spec(0), idempotency_key="k")
    b, created2 = jobs.submit(db, pid, _spec(0), idempotency_key="k")
    assert created and not created2 and a.id == b.id
    with pytest.raises(jobs.IdempotencyConflictError):
        jobs.submit(db, pid, _spec(1), idempotency_key="k")
    other = tenancy.create_project(db, "q").id
    c, created3 = jobs.submit(db, other, _spec(0), idempotency_key="k")  # keys are per project
    assert created3 and c.id != a.id


def test_concurrent_claims_take_each_job_once(store: tuple[Database, str]) -> None:
    db, pid = store
    ids = {jobs.submit(db, pid, _spec(i))[0].id for i in range(40)}
    claimed: list[str] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while True:
            c = lease.claim(db, name, 30.0)
            if c is None:
                return
            lease.finish(db, c, Outcome(JobStatus.SUCCEEDED, result_json="{}", machine_seconds=0.1))
            with lock:
                claimed.append(c.job_id)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)  # every job exactly once
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(JobResult)) == 40
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == 40


def test_admission_hook_runs_in_the_insert_transaction(store: tuple[Database, str]) -> None:
    """A quota-like hook sees earlier jobs and can refuse atomically (nothing is inserted)."""
    from kakehashi.exceptions import QuotaError
    from kakehashi.service.store.models import Job

    db, pid = store

    def at_most_two(session: object, project_id: str, spec: JobSpec) -> None:
        count = session.scalar(select(func.count()).select_from(Job).where(Job.project_id == project_id))  # type: ignore[attr-defined]
        if count >= 2:
            raise QuotaError("at most 2 jobs")

    for i in range(2):
        jobs.submit(db, pid, _spec(i), admit=at_most_two)
    with pytest.raises(QuotaError):
        jobs.submit(db, pid, _spec(3), admit=at_most_two)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 2
