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
attempt at the next claim). :func:`finish` writes the result, the ledger row and the terminal
state in one transaction, guarded by ``attempt`` and owner.

Attempts count what the job did. A lease that ran out, a worker found dead by its own host
(:func:`release_dead`) or a machine its executor lost is an *infrastructure loss*
(:func:`lose`): not the job's fault, so it is re-queued with back-off (``not_before``), bounded
by :attr:`LossPolicy.max_infra_losses` and a wall-clock deadline, and recorded in the job's
events. A solve that crashed its solver or ran out of memory is a *job fault*
(:func:`requeue_fault`), bounded by the job's ``max_attempts``. A poison job that kills every
worker running it is caught by :attr:`LossPolicy.poison_workers`: a loss is *suspect* when the
worker died alone (another worker on its host that was running before it died outlived it), and
the job fails once that many different workers died alone under it.

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
from kakehashi.service.store.models import Job, JobResult, LedgerEntry, Project, WorkerRecord

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
    #: attempts of this job whose solve crashed so far, and the most allowed (job faults)
    job_faults: int = 0
    max_attempts: int = 3
    #: the peer site the job was placed on, and the local machine standing for it (federation:
    #: the worker runs it with the peer executor); None for this site's own machines
    peer: str | None = None
    machine: str | None = None


@dataclass(frozen=True)
class LossPolicy:
    """How infrastructure losses are retried (see the module docstring).

    Attributes:
        max_infra_losses: lost attempts (worker, node or service lost) after which a job fails.
        deadline_seconds: a job lost after this long since its submission fails (seconds).
        poison_workers: different workers dying alone under a job that make it a poison job.
        backoff_seconds: the wait before a job lost twice is claimed again (seconds); it
            doubles with each further loss (the first loss is retried at once)...
        backoff_cap_seconds: ...up to this (seconds).
        sibling_margin_seconds: a sibling seen this much later than a dead worker outlived it
            (seconds; more than a heartbeat period, less than a lease period).
    """

    max_infra_losses: int = 20
    deadline_seconds: float = 24 * 3600.0
    poison_workers: int = 3
    backoff_seconds: float = 1.0
    backoff_cap_seconds: float = 60.0
    sibling_margin_seconds: float = 3.0

    def backoff(self, losses: int) -> float:
        """Seconds before a job lost ``losses`` times may be claimed again."""
        if losses <= 1:
            return 0.0
        return float(min(self.backoff_cap_seconds, self.backoff_seconds * 2 ** (losses - 2)))


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
    #: the job's own solve crashed its solver or ran out of memory (a job fault, see
    #: :func:`requeue_fault`), rather than ending with an answer or an error of its own
    fault: bool = False


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
                    not_before=None,
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
                    Job.job_faults,
                    Job.max_attempts,
                )
            ).first()
            if row is not None:
                break
        if row is None or start is None:
            return None
        machines = {m.name: m for m in snap.config.machines}
        remote = [machines[p.machine] for p in start.placements if p.machine in machines and machines[p.machine].peer]
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
        job_faults=row.job_faults,
        max_attempts=row.max_attempts,
        peer=remote[0].peer if remote else None,
        machine=remote[0].name if remote else None,
    )


def record_forward(db: Database, c: Claim, data: dict[str, Any], *, now: float | None = None) -> bool:
    """Record that attempt ``c`` was submitted to a peer (its job id there, the idempotency key);
    fenced like :func:`finish`. True when recorded."""
    from kakehashi.service.store.models import Forward

    now = time.time() if now is None else now
    with db.write() as s:
        if s.scalars(select(Job.id).where(_current(c))).first() is None:
            return False
        s.merge(
            Forward(
                job_id=c.job_id,
                attempt=c.attempt,
                peer=str(data.get("peer", c.peer or "")),
                machine=str(data.get("machine", c.machine or "")),
                remote_job_id=str(data["remote_job_id"]),
                idempotency_key=str(data.get("idempotency_key", "")),
                created_at=now,
            )
        )
    return True


def _current(c: Claim) -> Any:
    return (
        (Job.id == c.job_id)
        & (Job.attempt == c.attempt)
        & (Job.lease_owner == c.worker_id)
        & (Job.status == JobStatus.RUNNING.value)
    )


def heartbeat(db: Database, c: Claim, lease_seconds: float, *, now: float | None = None) -> Beat:
    """Renew the lease of ``c``; say whether to go on, cancel, or give up (lease lost).

    The worker's record is marked seen in the same transaction (dead-worker detection)."""
    now = time.time() if now is None else now
    with db.write() as s:
        row = s.execute(
            update(Job)
            .where(_current(c))
            .values(lease_expires_at=now + lease_seconds, updated_at=now)
            .returning(Job.cancel_requested)
        ).first()
        if row is not None and lease_seconds > 0:
            s.execute(update(WorkerRecord).where(WorkerRecord.id == c.worker_id).values(last_seen=now))
    if row is None:
        return Beat.LOST
    return Beat.CANCEL if row.cancel_requested else Beat.OK


def mark_waiting(db: Database, c: Claim, reason: str, *, now: float | None = None) -> bool:
    """The executor queued attempt ``c`` on its own machines (a Slurm batch job PENDING): the job
    shows as QUEUED with ``reason`` (``wait_reason``) while its lease stays held. True when set."""
    now = time.time() if now is None else now
    with db.write() as s:
        done = s.execute(update(Job).where(_current(c)).values(wait_reason=reason[:500], updated_at=now))
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def mark_started(db: Database, c: Claim, at: float, *, now: float | None = None) -> bool:
    """Attempt ``c`` began to run at ``at`` (UNIX seconds; Slurm's start time): ``started_at``
    moves there, so the wait before it is queue time, and the job is RUNNING again."""
    now = time.time() if now is None else now
    with db.write() as s:
        done = s.execute(
            update(Job).where(_current(c)).values(started_at=min(at, now), wait_reason=None, updated_at=now)
        )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def progress(db: Database, c: Claim, events: list[dict[str, Any]]) -> bool:
    """Record progress events of the current attempt in one transaction (dropped when the lease
    is lost). True when the database answered (recorded or dropped)."""
    if not events:
        return True
    with db.write() as s:
        if s.scalars(select(Job.id).where(_current(c))).first() is not None:
            for data in events:
                add_event(s, c.job_id, "progress", {"attempt": c.attempt, **data})
    return True


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


def requeue_fault(db: Database, c: Claim, error: str, *, now: float | None = None) -> bool:
    """A job fault (the solve crashed its solver, ran out of memory) with attempts left: give the
    job back to the queue with ``job_faults`` raised. Fenced like :func:`finish`; True when done.
    The worker fails the job through :func:`finish` instead once ``max_attempts`` is reached."""
    now = time.time() if now is None else now
    with db.write() as s:
        done = s.execute(
            update(Job)
            .where(_current(c))
            .values(
                status=JobStatus.QUEUED.value,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
                job_faults=Job.job_faults + 1,
            )
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return False
        data = {
            "status": JobStatus.QUEUED.value,
            "attempt": c.attempt,
            "reason": f"job fault {c.job_faults + 1} of {c.max_attempts}: {error}",
            "fault": "job",
        }
        add_event(s, c.job_id, "requeued", data)
    return True


def _died_alone(s: Any, worker_id: str | None, margin: float, *, by_pid: bool = False) -> bool:
    """True when ``worker_id`` died while a sibling on its host, already running before it died,
    outlived it: the death is the job's doing, not a kill of the whole service or host.

    "Outlived": seen more than ``margin`` seconds after the dead worker's last sign of life
    (lease expiry, judged remotely), or (``by_pid``, judged on the same host and boot) its
    process is still alive now."""
    if worker_id is None:
        return False
    dead = s.get(WorkerRecord, worker_id)
    if dead is None:
        return False
    sibling = select(WorkerRecord).where(
        WorkerRecord.host == dead.host,
        WorkerRecord.id != dead.id,
        WorkerRecord.started_at < dead.last_seen,
    )
    if by_pid:
        siblings = s.scalars(
            sibling.where(WorkerRecord.stopped_at.is_(None), WorkerRecord.boot_id == dead.boot_id)
        )
        return any(pid_alive(w.pid) for w in siblings)
    return (
        s.scalars(sibling.where(WorkerRecord.last_seen > dead.last_seen + margin).limit(1)).first()
        is not None
    )


def _lose_in(
    s: Any,
    job: Any,
    reason: str,
    now: float,
    policy: LossPolicy,
    *,
    suspect: bool,
    data: dict[str, Any] | None = None,
) -> JobStatus | None:
    """The infrastructure loss of RUNNING ``job`` (a row with id, attempt, lease_owner, created_at,
    cancel_requested, infra_losses, suspect_workers_json), inside ``s``; its new state, or None
    when it was no longer that attempt."""
    losses = int(job.infra_losses) + 1
    suspects: list[str] = json.loads(job.suspect_workers_json or "[]")
    if suspect and job.lease_owner and job.lease_owner not in suspects:
        suspects.append(job.lease_owner)
    values: dict[str, Any] = {
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": now,
        "infra_losses": losses,
        "suspect_workers_json": json.dumps(suspects),
    }
    if job.cancel_requested:
        status, error = JobStatus.CANCELLED, "cancelled; its worker stopped responding"
    elif len(suspects) >= policy.poison_workers:
        status = JobStatus.FAILED
        error = (
            f"poison job: {len(suspects)} different workers died while running it "
            f"(each alone on its host); not retried. Last loss: {reason}"
        )
    elif losses > policy.max_infra_losses:
        status = JobStatus.FAILED
        error = f"lost {losses} times with its worker, node or service (limit {policy.max_infra_losses})"
    elif now - float(job.created_at) > policy.deadline_seconds:
        status = JobStatus.FAILED
        error = f"lost with its worker after {policy.deadline_seconds:.0f} s of retries since submission"
    else:
        status, error = JobStatus.QUEUED, ""
    if status is JobStatus.QUEUED:
        wait = policy.backoff(losses)
        values["not_before"] = now + wait if wait > 0 else None
    else:
        values.update(finished_at=now, error=error)
    done = s.execute(
        update(Job)
        .where(Job.id == job.id, Job.attempt == job.attempt, Job.status == JobStatus.RUNNING.value)
        .values(status=status.value, **values)
    )
    if done.rowcount != 1:
        return None
    lost: dict[str, Any] = {
        "attempt": job.attempt,
        "reason": reason,
        "fault": "infrastructure",
        "infra_losses": losses,
        "worker": job.lease_owner,
        **(data or {}),
    }
    if suspect:
        lost["suspect_workers"] = len(suspects)
    add_event(s, job.id, "lost", lost)
    then: dict[str, Any] = {"status": status.value, "attempt": job.attempt, "reason": reason}
    if status is JobStatus.QUEUED:
        then["not_before"] = values["not_before"]
    else:
        then["error"] = error
    add_event(s, job.id, "requeued" if status is JobStatus.QUEUED else status.value.lower(), then)
    return status


_LOSS_COLUMNS = (
    Job.id,
    Job.attempt,
    Job.lease_owner,
    Job.created_at,
    Job.cancel_requested,
    Job.infra_losses,
    Job.suspect_workers_json,
)


def lose(
    db: Database,
    c: Claim,
    reason: str,
    *,
    policy: LossPolicy | None = None,
    data: dict[str, Any] | None = None,
    now: float | None = None,
) -> JobStatus | None:
    """The executor lost the machine running ``c`` (a Ray node died): an infrastructure loss
    of the current attempt, at once. The new state, or None when ``c`` was no longer current."""
    now = time.time() if now is None else now
    with db.write() as s:
        job = s.execute(select(*_LOSS_COLUMNS).where(_current(c))).first()
        if job is None:
            return None
        return _lose_in(s, job, reason, now, policy or LossPolicy(), suspect=False, data=data)


def reap_expired(
    db: Database, *, now: float | None = None, policy: LossPolicy | None = None
) -> dict[str, int]:
    """Deal with RUNNING jobs whose lease expired (their worker died or hung): an infrastructure
    loss each (see :func:`lose`): QUEUED again after the back-off, CANCELLED when cancel was
    asked, FAILED past the loss limits or as a poison job. Returns counts per new state."""
    now = time.time() if now is None else now
    policy = policy or LossPolicy()
    counts: dict[str, int] = {}
    expired = (Job.status == JobStatus.RUNNING.value) & (Job.lease_expires_at < now)
    with db.write() as s:
        pick = select(*_LOSS_COLUMNS).where(expired).order_by(Job.seq)
        if not db.is_sqlite:
            pick = pick.with_for_update(skip_locked=True)
        for job in s.execute(pick).all():
            suspect = _died_alone(s, job.lease_owner, policy.sibling_margin_seconds)
            status = _lose_in(s, job, "lease expired", now, policy, suspect=suspect)
            if status is not None:
                counts[status.value] = counts.get(status.value, 0) + 1
    return counts


def pid_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this host (it may belong to someone else)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead(
    db: Database,
    host: str,
    boot_id: str,
    *,
    own_pid: int,
    policy: LossPolicy | None = None,
    now: float | None = None,
) -> dict[str, int]:
    """Release at once the leases of this host's dead workers: those with the same ``host`` and
    ``boot_id`` (kernel boot and pid namespace, see :func:`kakehashi.service.identity.boot_id`)
    whose process is gone, e.g. the previous incarnation of a restarted service. Workers of an
    earlier boot are left to their leases' expiry (a host name may be shared by mistake). Each
    release is an infrastructure loss; the dead workers are marked stopped. Returns counts per
    new state of the jobs; without a ``boot_id`` nothing is released."""
    now = time.time() if now is None else now
    policy = policy or LossPolicy()
    counts: dict[str, int] = {}
    if not boot_id:
        return counts
    with db.write() as s:
        records = list(
            s.scalars(
                select(WorkerRecord).where(WorkerRecord.host == host, WorkerRecord.stopped_at.is_(None))
            )
        )
        dead = [r for r in records if r.boot_id == boot_id and r.pid != own_pid and not pid_alive(r.pid)]
        if not dead:
            return counts
        ids = [r.id for r in dead]
        running = (Job.status == JobStatus.RUNNING.value) & Job.lease_owner.in_(ids)
        pick = select(*_LOSS_COLUMNS).where(running).order_by(Job.seq)
        if not db.is_sqlite:
            pick = pick.with_for_update(skip_locked=True)
        for job in s.execute(pick).all():
            status = _lose_in(
                s,
                job,
                "its worker died (found by a worker of the same host)",
                now,
                policy,
                suspect=_died_alone(s, job.lease_owner, 0.0, by_pid=True),
            )
            if status is not None:
                counts[status.value] = counts.get(status.value, 0) + 1
        for r in dead:
            r.stopped_at = now
    return counts
