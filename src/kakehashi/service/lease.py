"""Claiming jobs with leases and heartbeats; only the current attempt may finish a job.

A claim runs one scheduling pass (:mod:`kakehashi.service.scheduling`: priority, fair share,
aging, slots of the pool) in its write transaction and moves the first job the pass starts::

    UPDATE jobs SET status='RUNNING', attempt=attempt+1, lease_owner=:w, placement_json=... ...
    WHERE status='QUEUED' AND id = (SELECT id FROM jobs WHERE id=:first AND status='QUEUED'
                                    [FOR UPDATE SKIP LOCKED])
    RETURNING ...

On PostgreSQL the pass also holds a transaction advisory lock, so concurrent workers never give
away the same slot; on SQLite the whole transaction runs under the database write lock
(``BEGIN IMMEDIATE``), which makes it atomic. The worker renews ``lease_expires_at`` with
heartbeats; :func:`reap_expired` returns jobs whose lease ran out to the queue (raising the
attempt at the next claim) or fails them after ``max_attempts``. :func:`finish` writes the result,
the ledger row and the terminal state in one transaction, guarded by ``attempt`` and owner.

Clocks: lease times are the workers' wall clocks (UNIX seconds); hosts sharing a database must
keep their clocks in sync (NTP) to well under ``lease_seconds``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import select, text, update

from kakehashi.service.jobs import JobStatus, add_event
from kakehashi.service.pool_state import PoolSource, snapshot
from kakehashi.service.scheduling import run_pass
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import Job, JobResult, LedgerEntry, Project

#: PostgreSQL advisory lock key of the claim pass ("kakc").
_PG_CLAIM_LOCK = 0x6B616B63


@dataclass(frozen=True)
class Claim:
    """A job held by one worker for one attempt."""

    job_id: str
    project_id: str
    attempt: int
    worker_id: str
    backend: str
    time_limit: float
    seed: int | None
    params: dict[str, Any]
    problem_json: str
    created_at: float
    started_at: float


class Beat(Enum):
    """What a heartbeat found."""

    OK = "ok"  #: lease renewed
    CANCEL = "cancel"  #: lease renewed, and the user asked to cancel the job
    LOST = "lost"  #: the lease is gone (expired and re-queued, or the job finished elsewhere)


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended, as the worker writes it.

    ``machine_seconds`` (seconds) is billed at ``unit_price_yen`` (yen/s) when ``bill`` is true.
    """

    status: JobStatus
    result_json: str | None = None
    error: str | None = None
    result_status: str | None = None
    objective: float | None = None
    backend: str = ""
    hardware: str = "cpu"
    machine_seconds: float = 0.0
    unit_price_yen: float = 0.0
    bill: bool = True
    progress: list[dict[str, Any]] = field(default_factory=list)


def claim(
    db: Database,
    worker_id: str,
    lease_seconds: float,
    *,
    backends: Collection[str] | None = None,
    now: float | None = None,
    pool: PoolSource | None = None,
) -> Claim | None:
    """Claim the job the scheduling policy starts next, or return None.

    One scheduling pass (:mod:`kakehashi.service.scheduling`) ranks the queue (priority, fair
    share, aging; EASY backfilling) over the pool's free slots; the claim takes the first job it
    starts whose backends this worker serves (``backends``: a worker pool serving some backends
    only; None takes any job), records the placement of its legs, and fails jobs the pass rejects
    (a deadline that can no longer be met). ``pool`` is where the pool comes from (default: this
    process's ``KAKEHASHI_POOL``/``KAKEHASHI_CONFIG``, else the default pool).
    """
    now = time.time() if now is None else now
    with db.read() as s:  # idle workers poll: do not take the write lock for an empty queue
        if s.scalars(select(Job.id).where(Job.status == JobStatus.QUEUED.value).limit(1)).first() is None:
            return None
    source = pool or PoolSource.from_env()
    with db.write() as s:
        if not db.is_sqlite:  # serialise passes: two workers must not give away the same slot
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_CLAIM_LOCK})
        snap = snapshot(s, source, now)
        decisions = run_pass(snap)
        for r in decisions.rejections:
            failed = s.execute(
                update(Job)
                .where(Job.id == r.job_id, Job.status == JobStatus.QUEUED.value)
                .values(status=JobStatus.FAILED.value, finished_at=now, updated_at=now, error=r.reason)
            )
            if failed.rowcount == 1:  # type: ignore[attr-defined]
                add_event(s, r.job_id, "failed", {"status": JobStatus.FAILED.value, "error": r.reason})
        row = None
        start = None
        for start in decisions.starts:
            wanted = snap.backends_of.get(start.job_id, "")
            if backends is not None and not set(wanted.split(",")) <= set(backends):
                continue
            pick = select(Job.id).where(Job.id == start.job_id, Job.status == JobStatus.QUEUED.value)
            if not db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            placement = [{"leg": p.leg, "backend": p.backend, "machine": p.machine} for p in start.placements]
            row = s.execute(
                update(Job)
                .where(Job.id == pick.scalar_subquery(), Job.status == JobStatus.QUEUED.value)
                .values(
                    status=JobStatus.RUNNING.value,
                    attempt=Job.attempt + 1,
                    lease_owner=worker_id,
                    lease_expires_at=now + lease_seconds,
                    started_at=now,
                    updated_at=now,
                    placement_json=json.dumps(placement),
                    wait_reason=None,
                )
                .returning(
                    Job.id,
                    Job.project_id,
                    Job.attempt,
                    Job.backend,
                    Job.time_limit,
                    Job.seed,
                    Job.params_json,
                    Job.problem_json,
                    Job.created_at,
                )
            ).first()
            if row is not None:
                break
        if row is None or start is None:
            return None
        backend = row.backend
        if backend != "auto":  # an allowed alternative may stand in for a backend whose machines are down
            backend = ",".join(p.backend for p in sorted(start.placements, key=lambda p: p.leg))
        add_event(
            s,
            row.id,
            "running",
            {
                "status": JobStatus.RUNNING.value,
                "attempt": row.attempt,
                "worker": worker_id,
                "placement": placement,
                "backend": backend,
            },
        )
    return Claim(
        job_id=row.id,
        project_id=row.project_id,
        attempt=row.attempt,
        worker_id=worker_id,
        backend=backend,
        time_limit=row.time_limit,
        seed=row.seed,
        params=json.loads(row.params_json),
        problem_json=row.problem_json,
        created_at=row.created_at,
        started_at=now,
    )


def _current(c: Claim) -> Any:
    return (
        (Job.id == c.job_id)
        & (Job.attempt == c.attempt)
        & (Job.lease_owner == c.worker_id)
        & (Job.status == JobStatus.RUNNING.value)
    )


def heartbeat(db: Database, c: Claim, lease_seconds: float, *, now: float | None = None) -> Beat:
    """Renew the lease of ``c``; say whether to go on, cancel, or give up (lease lost)."""
    now = time.time() if now is None else now
    with db.write() as s:
        row = s.execute(
            update(Job)
            .where(_current(c))
            .values(lease_expires_at=now + lease_seconds, updated_at=now)
            .returning(Job.cancel_requested)
        ).first()
    if row is None:
        return Beat.LOST
    return Beat.CANCEL if row.cancel_requested else Beat.OK


def progress(db: Database, c: Claim, events: list[dict[str, Any]]) -> None:
    """Record progress events of the current attempt in one transaction (dropped when the lease is lost)."""
    if not events:
        return
    with db.write() as s:
        if s.scalars(select(Job.id).where(_current(c))).first() is not None:
            for data in events:
                add_event(s, c.job_id, "progress", {"attempt": c.attempt, **data})


def finish(db: Database, c: Claim, outcome: Outcome, *, now: float | None = None) -> bool:
    """Write the outcome of attempt ``c`` if it is still the current one; True when written.

    The state change, the result row and the ledger row commit together or not at all.
    """
    now = time.time() if now is None else now
    with db.write() as s:
        done = s.execute(
            update(Job)
            .where(_current(c))
            .values(
                status=outcome.status.value,
                finished_at=now,
                updated_at=now,
                lease_owner=None,
                lease_expires_at=None,
                error=outcome.error,
                result_status=outcome.result_status,
                objective=outcome.objective,
                run_seconds=outcome.machine_seconds if outcome.bill else None,
            )
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return False
        if outcome.result_json is not None:
            s.add(
                JobResult(job_id=c.job_id, attempt=c.attempt, result_json=outcome.result_json, created_at=now)
            )
        if outcome.bill:
            s.add(_ledger_row(s, c, outcome, now))
        for event in outcome.progress:
            add_event(s, c.job_id, "progress", {"attempt": c.attempt, **event})
        data: dict[str, Any] = {"status": outcome.status.value, "attempt": c.attempt}
        if outcome.error:
            data["error"] = outcome.error
        if outcome.result_status:
            data["result_status"] = outcome.result_status
            data["objective"] = outcome.objective
        add_event(s, c.job_id, outcome.status.value.lower(), data)
    if c.backend == "auto" and outcome.status is JobStatus.SUCCEEDED and outcome.result_json:
        from kakehashi.service.history import record_auto_run

        record_auto_run(c, outcome.result_json)
    return True


def _ledger_row(s: Any, c: Claim, outcome: Outcome, now: float) -> LedgerEntry:
    """The ledger row of a finished attempt: list price, the project's discount, the charged amount.

    The unit price is that of the machines the job's legs were placed on (an admin override by
    machine or kind first, then the pool file; the default pool uses the operator's price per
    hardware kind that the worker passes in ``outcome``), summed over the legs: a racing portfolio
    pays for every slot it held. ``machine_seconds`` counts every leg's slot.
    """
    from kakehashi.service.quotas import discount_rate, machine_price, price_overrides, terms_of

    source = PoolSource.from_env()
    placement_json = s.scalars(select(Job.placement_json).where(Job.id == c.job_id)).first()
    placements = json.loads(placement_json or "[]")
    project = s.get(Project, c.project_id)
    price = outcome.unit_price_yen
    legs = 1
    discount = 0.0
    machine: str | None = None
    try:
        pool = source.base(s, now)
        if placements:
            overrides = price_overrides(s)
            legs = len(placements)
            price = (
                sum(machine_price(pool, overrides, p["machine"], outcome.unit_price_yen) for p in placements)
                / legs
            )
            machine = ",".join(dict.fromkeys(p["machine"] for p in placements))[:100]
        if project is not None:
            discount = discount_rate(terms_of(project, pool), pool)
    except Exception:  # a broken pool file must not lose the result: bill at the worker's price
        legs, discount = max(1, len(placements)), 0.0
    seconds = max(0.0, outcome.machine_seconds) * legs
    price = max(0.0, price)
    list_yen = seconds * price  # unrounded floats (kakehashi.pool.quota.charge rounds to micro-yen)
    discount_yen = list_yen * discount
    return LedgerEntry(
        project_id=c.project_id,
        job_id=c.job_id,
        attempt=c.attempt,
        backend=outcome.backend or c.backend,
        hardware=outcome.hardware,
        machine_seconds=seconds,
        unit_price_yen=price,
        cost_yen=list_yen - discount_yen,
        list_yen=list_yen,
        discount_rate=discount,
        discount_yen=discount_yen,
        machine=machine,
        created_at=now,
    )


def release(db: Database, c: Claim, reason: str, *, now: float | None = None) -> bool:
    """Give a claimed job back to the queue (graceful worker shutdown)."""
    now = time.time() if now is None else now
    with db.write() as s:
        done = s.execute(
            update(Job)
            .where(_current(c))
            .values(status=JobStatus.QUEUED.value, lease_owner=None, lease_expires_at=None, updated_at=now)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return False
        add_event(s, c.job_id, "requeued", {"status": JobStatus.QUEUED.value, "reason": reason})
    return True


def reap_expired(db: Database, *, now: float | None = None) -> dict[str, int]:
    """Deal with RUNNING jobs whose lease expired (their worker died or hung).

    A job the user asked to cancel becomes CANCELLED; one that used up ``max_attempts``
    becomes FAILED with the reason; the rest go back to QUEUED. Returns counts per new state.
    """
    now = time.time() if now is None else now
    expired = (Job.status == JobStatus.RUNNING.value) & (Job.lease_expires_at < now)
    counts: dict[str, int] = {}
    common = {"lease_owner": None, "lease_expires_at": None, "updated_at": now}
    plans: list[tuple[Any, JobStatus, dict[str, Any]]] = [
        (
            expired & Job.cancel_requested.is_(True),
            JobStatus.CANCELLED,
            {"finished_at": now, "error": "cancelled; its worker stopped responding"},
        ),
        (
            expired & Job.cancel_requested.is_(False) & (Job.attempt >= Job.max_attempts),
            JobStatus.FAILED,
            {"finished_at": now, "error": "worker lost (lease expired) on every attempt"},
        ),
        (expired & Job.cancel_requested.is_(False) & (Job.attempt < Job.max_attempts), JobStatus.QUEUED, {}),
    ]
    with db.write() as s:
        for cond, status, values in plans:
            rows = s.execute(
                update(Job)
                .where(cond)
                .values(status=status.value, **common, **values)
                .returning(Job.id, Job.attempt)
            ).all()
            for row in rows:
                kind = "requeued" if status is JobStatus.QUEUED else status.value.lower()
                add_event(
                    s,
                    row.id,
                    kind,
                    {"status": status.value, "attempt": row.attempt, "reason": "lease expired"},
                )
            counts[status.value] = len(rows)
    return counts
