"""The scheduler in the service: jobs as :class:`~kakehashi.pool.scheduler.JobRequest`, the
submission check (422 for what can never run), the claim pass, and the pool view of ``GET /v1/pool``.

A job's legs: one per backend it names (a racing portfolio takes one slot per leg); each leg may
also use the ``alternatives`` the user allowed at submission, in their order, when no machine
running the named backend is usable (down or in maintenance). An ``auto`` job is one leg on a
``cpu`` machine (its router races inside that slot).

The claim (:func:`kakehashi.service.lease.claim`) runs one scheduling pass
(:func:`kakehashi.pool.scheduler.schedule`: multifactor priority with fair share and aging, EASY
backfilling, deadlines and cost caps) inside its write transaction and takes the first job the pass
starts that the worker can run; PostgreSQL claims serialise on a transaction-level advisory lock,
SQLite's on the database write lock, so two workers never give the same slot away.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from kakehashi.backends.base import HardwareKind
from kakehashi.exceptions import ModelError
from kakehashi.pool.config import PoolConfig
from kakehashi.pool.scheduler import (
    Decisions,
    JobRequest,
    LegRequest,
    Policy,
    PoolState,
    priorities,
    schedule,
)
from kakehashi.service.pool_state import Snapshot

AUTO = "auto"


def legs_of(backend: str, alternatives: Sequence[str], config: PoolConfig) -> tuple[LegRequest, ...]:
    """The legs of a job asking for ``backend`` (``auto``, a name, or ``a,b`` to race)."""
    names = [b for b in backend.split(",") if b]
    if names == [AUTO]:
        cpu = [m for m in config.machines if m.kind is HardwareKind.CPU]
        pool_backends = tuple(dict.fromkeys(b for m in (cpu or config.machines) for b in m.backends))
        return (LegRequest(pool_backends, HardwareKind.CPU if cpu else None),)
    return tuple(LegRequest((b, *(a for a in alternatives if a != b))) for b in names)


def job_request(row: Any, project: str, config: PoolConfig, *, local_only: bool = False) -> JobRequest:
    """A queued job row (id, backend, alternatives_json, time_limit, priority, created_at,
    deadline, cost_cap_yen) as the scheduler sees it; ``local_only``: its project's data stays on
    this site (never placed on a peer's machine)."""
    return JobRequest(
        id=row.id,
        project=project,
        legs=legs_of(row.backend, json.loads(row.alternatives_json or "[]"), config),
        submit_time=row.created_at,
        run_time=row.time_limit,
        priority=row.priority,
        deadline=row.deadline,
        cost_cap_yen=row.cost_cap_yen,
        local_only=local_only,
    )


def check_submission(
    config: PoolConfig,
    project: str,
    backend: str,
    alternatives: Sequence[str],
    time_limit: float,
    *,
    deadline: float | None = None,
    cost_cap_yen: float | None = None,
    down: frozenset[str] = frozenset(),
    now: float | None = None,
    local_only: bool = False,
) -> None:
    """Raise :class:`ModelError` (422) when the job can never run as asked: no machine of the
    pool runs its backends, its legs need more slots than the pool has, its deadline is too close
    for its time limit, or its cost cap is below the cheapest placement."""
    now = time.time() if now is None else now
    job = JobRequest(
        "__submission__",
        project,
        legs_of(backend, alternatives, config),
        submit_time=now,
        run_time=time_limit,
        deadline=deadline,
        cost_cap_yen=cost_cap_yen,
        local_only=local_only,
    )
    decisions = schedule([job], PoolState(config, now, (), down), {})
    if decisions.rejections:
        reason = decisions.rejections[0].reason
        field = "deadline" if "deadline" in reason else "cost_cap_yen" if "cost cap" in reason else "backend"
        raise ModelError(f"this job can never run on the pool: {reason}", field=field)


def window(queue: Sequence[JobRequest], snap: Snapshot, policy: Policy) -> list[JobRequest]:
    """The jobs a pass needs to look at: per *shape* (legs, time limit, deadline, cost cap) only
    the best-ranked ``total slots + 1``. Jobs of one shape have the same placements, so a pass
    can never start a lower-ranked one while a higher-ranked one of its shape waits: the pass over
    the window starts exactly what the pass over the whole queue starts (the EASY head included),
    at a cost that grows with the number of shapes, not with the queue."""
    slots = sum(m.slots for m in snap.config.machines)
    if len(queue) <= max(64, 2 * slots):
        return list(queue)
    prio = priorities(queue, snap.config, snap.usage, policy, snap.now)
    groups: dict[tuple[Any, ...], list[JobRequest]] = {}
    for job in queue:
        groups.setdefault((job.legs, job.run_time, job.deadline, job.cost_cap_yen), []).append(job)
    out: list[JobRequest] = []
    for jobs in groups.values():
        jobs.sort(key=lambda j: (-prio[j.id], j.submit_time, j.id))
        out.extend(jobs[: slots + 1])
    return out


def run_pass(snap: Snapshot, *, full: bool = False) -> Decisions:
    """One scheduling pass over the snapshot's queue (``full``: every job gets a decision, for
    the pool view; otherwise only the window that decides what starts)."""
    state = PoolState(snap.config, snap.now, snap.running, snap.down)
    policy = Policy.from_config(snap.config)
    queue = snap.queue if full else window(snap.queue, snap, policy)
    return schedule(queue, state, snap.usage, policy)


def pool_view(
    snap: Snapshot,
    decisions: Decisions,
    project_id: str | None = None,
    remote: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``GET /v1/pool``: machines (state, busy slots, queued jobs that could run there), queue
    totals, and the caller's own queued jobs with why they wait (other projects' jobs are counts only).

    A peer site's machine is marked ``remote`` with its ``peer`` and, in ``remote_state``, the
    live state of the matching machines at the peer (``remote``: machine name → that view)."""
    busy: dict[str, int] = {}
    for leg in snap.running:
        busy[leg.machine] = busy.get(leg.machine, 0) + 1
    queued_on: dict[str, int] = {m.name: 0 for m in snap.config.machines}
    for job in snap.queue:
        names = {b for leg in job.legs for b in leg.backends}
        for m in snap.config.machines:
            if names & set(m.backends):
                queued_on[m.name] += 1
    machines = []
    for m in snap.config.machines:
        up = m.up and m.name not in snap.down
        maintenance = m.in_maintenance(snap.now)
        state = "down" if not up else "maintenance" if maintenance else "up"
        machines.append(
            {
                "name": m.name,
                "kind": m.kind.value,
                "state": state,
                "up": up,
                "down_reason": None if up else snap.down_reasons.get(m.name, ""),
                "in_maintenance": maintenance,
                "slots": m.slots,
                "busy": busy.get(m.name, 0),
                "free": max(0, m.slots - busy.get(m.name, 0)) if state == "up" else 0,
                "queued": queued_on[m.name],
                "backends": list(m.backends),
                "price_yen_per_second": m.price_yen_per_second,
                "qubits": m.qubits,
                "gpu_memory_gib": m.gpu_memory_gib,
                "remote": m.peer is not None,
                "peer": m.peer,
                "remote_state": (remote or {}).get(m.name) if m.peer is not None else None,
            }
        )
    mine = []
    if project_id is not None:
        reasons: dict[str, tuple[str, float | None]] = {
            w.job_id: (w.reason, w.reserved_start) for w in decisions.waits
        }
        for s in decisions.starts:
            reasons[s.job_id] = (
                "next to start: a slot is free on " + ", ".join(p.machine for p in s.placements),
                None,
            )
        for r in decisions.rejections:
            reasons[r.job_id] = ("cannot run: " + r.reason, None)
        for job in snap.queue:
            if snap.job_projects.get(job.id) == project_id:
                why, reserved = reasons.get(job.id, ("waiting", None))
                mine.append(
                    {
                        "id": job.id,
                        "backend": snap.backends_of.get(job.id, ""),
                        "reason": why,
                        "reserved_start_in_s": None if reserved is None else max(0.0, reserved - snap.now),
                    }
                )
    return {
        "machines": machines,
        "queued": len(snap.queue),
        "running_legs": len(snap.running),
        "down": sorted(snap.down | {m.name for m in snap.config.machines if not m.up}),
        "default_pool": [m.name for m in snap.config.machines if m.peer is None] == ["local"],
        "your_queued_jobs": mine,
    }
