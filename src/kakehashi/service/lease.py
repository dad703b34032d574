"""Claiming jobs with leases and heartbeats; only the current attempt may finish a job.

A claim is one atomic statement::

    UPDATE jobs SET status='RUNNING', attempt=attempt+1, lease_owner=:w, lease_expires_at=:t ...
    WHERE status='QUEUED' AND id = (SELECT id FROM jobs WHERE status='QUEUED'
                                    ORDER BY priority DESC, seq LIMIT 1 [FOR UPDATE SKIP LOCKED])
    RETURNING ...

On PostgreSQL the sub-select takes a row lock with ``SKIP LOCKED`` so concurrent workers claim
different jobs without waiting; on SQLite the whole statement runs under the database write lock
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

from sqlalchemy import select, update

from kakehashi.service.jobs import JobStatus, add_event
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import Job, JobResult, LedgerEntry


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
) -> Claim | None:
    """Claim the best QUEUED job (highest priority, then oldest) or return None.

    ``backends`` restricts the claim to jobs asking for one of those backends (a worker pool
    serving some machines only); None takes any job.
    """
    now = time.time() if now is None else now
    pick = select(Job.id).where(Job.status == JobStatus.QUEUED.value)
    if backends is not None:
        pick = pick.where(Job.backend.in_(list(backends)))
    pick = pick.order_by(Job.priority.desc(), Job.seq).limit(1)
    if not db.is_sqlite:
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(Job)
        .where(Job.id == pick.scalar_subquery(), Job.status == JobStatus.QUEUED.value)
        .values(
            status=JobStatus.RUNNING.value,
            attempt=Job.attempt + 1,
            lease_owner=worker_id,
            lease_expires_at=now + lease_seconds,
            started_at=now,
            updated_at=now,
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
    )
    with db.write() as s:
        row = s.execute(stmt).first()
        if row is None:
            return None
        add_event(
            s,
            row.id,
            "running",
            {"status": JobStatus.RUNNING.value, "attempt": row.attempt, "worker": worker_id},
        )
    return Claim(
        job_id=row.id,
        project_id=row.project_id,
        attempt=row.attempt,
        worker_id=worker_id,
        backend=row.backend,
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
            s.add(
                LedgerEntry(
                    project_id=c.project_id,
                    job_id=c.job_id,
                    attempt=c.attempt,
                    backend=outcome.backend or c.backend,
                    hardware=outcome.hardware,
                    machine_seconds=outcome.machine_seconds,
                    unit_price_yen=outcome.unit_price_yen,
                    cost_yen=outcome.machine_seconds * outcome.unit_price_yen,
                    created_at=now,
                )
            )
        for event in outcome.progress:
            add_event(s, c.job_id, "progress", {"attempt": c.attempt, **event})
        data: dict[str, Any] = {"status": outcome.status.value, "attempt": c.attempt}
        if outcome.error:
            data["error"] = outcome.error
        if outcome.result_status:
            data["result_status"] = outcome.result_status
            data["objective"] = outcome.objective
        add_event(s, c.job_id, outcome.status.value.lower(), data)
    return True


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
