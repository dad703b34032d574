"""Jobs: explicit states, creation with idempotency keys, queries scoped by project, cancel.

States::

    QUEUED ──claim──> RUNNING ──> SUCCEEDED | FAILED | CANCELLED
      ^                  │
      └── lease lost ────┘   (attempt < max_attempts; else FAILED with the reason)

Terminal states absorb: every transition is a single ``UPDATE ... WHERE status = <expected>`` so
no write can move a job out of SUCCEEDED, FAILED or CANCELLED. The ``attempt`` counter rises at
each claim; only the current attempt may write a result (see :mod:`kakehashi.service.lease`).
Every query here takes the caller's ``project_id``: another project's job is "not found".
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kakehashi.exceptions import JobError
from kakehashi.service.store.db import Database
from kakehashi.service.store.ids import new_id
from kakehashi.service.store.models import Job, JobEvent, JobResult


class JobStatus(StrEnum):
    """The states of a job."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class JobNotFoundError(JobError):
    """No job with this id in the caller's project (another project's job included)."""


class JobConflictError(JobError):
    """The job is in a state that does not allow the request (e.g. cancel a finished job)."""


class IdempotencyConflictError(JobError):
    """The idempotency key was already used with a different request body."""


@dataclass(frozen=True)
class JobSpec:
    """A validated submission. ``problem_json`` is the canonical ``Problem.to_dict()`` JSON."""

    problem_json: str
    problem_name: str
    num_variables: int
    num_constraints: int
    backend: str = "auto"
    time_limit: float = 10.0
    seed: int | None = None
    priority: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    #: backends allowed in place of the asked ones when their machines are down (in order)
    alternatives: tuple[str, ...] = ()
    #: UNIX seconds the job must finish by (None: no deadline)
    deadline: float | None = None
    #: the most the job may cost after the project's discount (yen; None: no cap)
    cost_cap_yen: float | None = None

    def body_hash(self) -> str:
        """sha256 of everything that defines the job; equal hashes mean the same request."""
        fields: dict[str, Any] = {
            "backend": self.backend,
            "time_limit": self.time_limit,
            "seed": self.seed,
            "priority": self.priority,
            "params": self.params,
        }
        if self.alternatives:
            fields["alternatives"] = list(self.alternatives)
        if self.deadline is not None:
            fields["deadline"] = self.deadline
        if self.cost_cap_yen is not None:
            fields["cost_cap_yen"] = self.cost_cap_yen
        options = json.dumps(
            fields,
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = hashlib.sha256(options.encode())
        digest.update(b"\n")
        digest.update(self.problem_json.encode())  # canonical: written with sort_keys by the API
        return digest.hexdigest()


def add_event(session: Session, job_id: str, kind: str, data: dict[str, Any] | None = None) -> None:
    """Append an event to a job's stream (inside the caller's transaction)."""
    session.add(JobEvent(job_id=job_id, kind=kind, data_json=json.dumps(data or {}), created_at=time.time()))


def _find_by_key(session: Session, project_id: str, key: str) -> Job | None:
    return session.scalars(
        select(Job).where(Job.project_id == project_id, Job.idempotency_key == key)
    ).first()


def submit(
    db: Database,
    project_id: str,
    spec: JobSpec,
    *,
    idempotency_key: str | None = None,
    max_attempts: int = 3,
    admit: Callable[[Session, str, JobSpec], dict[str, Any] | None] | None = None,
    token_id: str | None = None,
) -> tuple[Job, bool]:
    """Persist a new QUEUED job (committed before returning) and return ``(job, created)``.

    With an idempotency key already used by this project with the same body, the existing job
    is returned with ``created=False``; with a different body :class:`IdempotencyConflictError`.
    The unique constraint on ``(project_id, idempotency_key)`` decides races between
    concurrent submissions. ``admit(session, project_id, spec)`` runs inside the inserting
    transaction (under SQLite's write lock; on PostgreSQL it should lock the rows it reads) and
    may raise, e.g. :class:`~kakehashi.exceptions.QuotaError`: the seam for atomic quota checks;
    the column values it returns (e.g. the job's quota hold) are set on the new job. ``token_id``
    is the submitting token (a peer token later reads only the jobs it submitted).
    """
    body_hash = spec.body_hash()

    def existing(job: Job) -> tuple[Job, bool]:
        if job.body_hash != body_hash:
            raise IdempotencyConflictError(
                f"Idempotency-Key {idempotency_key!r} was already used with a different request"
            )
        return job, False

    if idempotency_key is not None:
        with db.read() as s:
            found = _find_by_key(s, project_id, idempotency_key)
        if found is not None:
            return existing(found)
    now = time.time()
    job = Job(
        id=new_id("job"),
        project_id=project_id,
        status=JobStatus.QUEUED.value,
        backend=spec.backend,
        time_limit=spec.time_limit,
        seed=spec.seed,
        priority=spec.priority,
        params_json=json.dumps(spec.params),
        problem_json=spec.problem_json,
        problem_name=spec.problem_name[:200],
        num_variables=spec.num_variables,
        num_constraints=spec.num_constraints,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
        attempt=0,
        max_attempts=max_attempts,
        cancel_requested=False,
        created_at=now,
        updated_at=now,
        alternatives_json=json.dumps(list(spec.alternatives)),
        deadline=spec.deadline,
        cost_cap_yen=spec.cost_cap_yen,
        hold_yen=0.0,
        hold_machine_seconds=0.0,
        token_id=token_id,
    )
    try:
        with db.write() as s:
            if admit is not None:
                for column, value in (admit(s, project_id, spec) or {}).items():
                    setattr(job, column, value)
            s.add(job)
            s.flush()
            add_event(s, job.id, "queued", {"status": JobStatus.QUEUED.value})
    except IntegrityError:
        if idempotency_key is None:
            raise
        with db.read() as s:
            found = _find_by_key(s, project_id, idempotency_key)
        if found is None:  # pragma: no cover - the conflicting row cannot vanish
            raise
        return existing(found)
    return job, True


def get(db: Database, project_id: str, job_id: str) -> Job:
    """The job ``job_id`` of ``project_id``; :class:`JobNotFoundError` otherwise."""
    with db.read() as s:
        job = s.scalars(select(Job).where(Job.id == job_id, Job.project_id == project_id)).first()
    if job is None:
        raise JobNotFoundError(f"no job {job_id!r} in this project")
    return job


def get_result(db: Database, project_id: str, job_id: str) -> tuple[Job, str | None]:
    """The job and its stored result JSON (None until one exists)."""
    with db.read() as s:
        job = s.scalars(select(Job).where(Job.id == job_id, Job.project_id == project_id)).first()
        if job is None:
            raise JobNotFoundError(f"no job {job_id!r} in this project")
        row = s.get(JobResult, job_id)
        return job, None if row is None else row.result_json


def list_jobs(
    db: Database,
    project_id: str,
    *,
    status: Sequence[str] = (),
    backend: str | None = None,
    created_after: float | None = None,
    created_before: float | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[Job]:
    """The project's jobs, newest first, filtered; ``before_seq`` is the keyset cursor."""
    q = select(Job).where(Job.project_id == project_id)
    if status:
        q = q.where(Job.status.in_(list(status)))
    if backend:
        q = q.where(Job.backend == backend)
    if created_after is not None:
        q = q.where(Job.created_at >= created_after)
    if created_before is not None:
        q = q.where(Job.created_at < created_before)
    if before_seq is not None:
        q = q.where(Job.seq < before_seq)
    q = q.order_by(Job.seq.desc()).limit(limit)
    with db.read() as s:
        return list(s.scalars(q))


def cancel(db: Database, project_id: str, job_id: str) -> Job:
    """Cancel a job: a QUEUED job becomes CANCELLED at once; a RUNNING job is flagged and its
    worker kills the solve within a heartbeat. Cancelling a CANCELLED job is a no-op; a
    SUCCEEDED or FAILED job raises :class:`JobConflictError`.
    """
    now = time.time()
    with db.write() as s:
        job = s.scalars(select(Job).where(Job.id == job_id, Job.project_id == project_id)).first()
        if job is None:
            raise JobNotFoundError(f"no job {job_id!r} in this project")
        done = s.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
            .values(
                status=JobStatus.CANCELLED.value,
                finished_at=now,
                updated_at=now,
                error="cancelled before it ran",
            )
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            add_event(s, job_id, "cancelled", {"status": JobStatus.CANCELLED.value})
        else:
            flagged = s.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.RUNNING.value)
                .values(cancel_requested=True, updated_at=now)
            )
            if flagged.rowcount == 1:  # type: ignore[attr-defined]
                add_event(s, job_id, "cancel_requested", {"status": JobStatus.RUNNING.value})
    job = get(db, project_id, job_id)
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        raise JobConflictError(f"job {job_id} already finished ({job.status}); nothing to cancel")
    return job


def events_after(db: Database, project_id: str, job_id: str, after_id: int = 0) -> tuple[Job, list[JobEvent]]:
    """The job and its events with ``id > after_id``, oldest first."""
    with db.read() as s:
        job = s.scalars(select(Job).where(Job.id == job_id, Job.project_id == project_id)).first()
        if job is None:
            raise JobNotFoundError(f"no job {job_id!r} in this project")
        rows = list(
            s.scalars(
                select(JobEvent)
                .where(JobEvent.job_id == job_id, JobEvent.id > after_id)
                .order_by(JobEvent.id)
            )
        )
    return job, rows
