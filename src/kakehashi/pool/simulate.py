"""Discrete-event simulation of the pool running the SAME :func:`~kakehashi.pool.scheduler.schedule` policy.

Used for queue-wait estimates (:mod:`kakehashi.pool.estimate`) and by ``benchmarks/scheduler.py``.
Events: job arrivals, leg completions, machines going down or up, and wake-ups at the head job's
reserved start and at maintenance ends. After every event time the scheduler runs one pass.
Usage (list-price yen) is added to the project's decayed usage when a job finishes, as the
service's ledger does. Deterministic: no randomness inside.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kakehashi.pool.config import PoolConfig
from kakehashi.pool.fairshare import decay
from kakehashi.pool.scheduler import JobRequest, Placement, Policy, PoolState, RunningLeg, schedule


@dataclass
class JobRecord:
    """What happened to one job in the simulation (times in seconds)."""

    job: JobRequest
    start: float | None = None
    end: float | None = None
    placements: tuple[Placement, ...] = ()
    list_cost_yen: float = 0.0
    cost_yen: float = 0.0
    rejected: str | None = None
    backfilled: bool = False

    @property
    def wait(self) -> float | None:
        return None if self.start is None else self.start - self.job.submit_time


@dataclass(frozen=True)
class MachineEvent:
    """At ``time`` machine ``machine`` goes down (``up=False``) or comes back (``up=True``)."""

    time: float
    machine: str
    up: bool


@dataclass
class SimOutcome:
    """Per-job records, busy slot-seconds per machine, and usage samples over time."""

    records: dict[str, JobRecord]
    busy_seconds: dict[str, float]
    usage_samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    end_time: float = 0.0


#: Admission hook: return a rejection reason or None to accept (e.g. a quota check).
Admit = Callable[[JobRequest, float], str | None]
#: Called when a job finishes: (record, time).
OnFinish = Callable[[JobRecord, float], None]


def simulate(
    config: PoolConfig,
    jobs: Sequence[JobRequest],
    *,
    policy: Policy | None = None,
    start: float = 0.0,
    until: float | None = None,
    actual_run_time: Mapping[str, float] | None = None,
    queued: Sequence[JobRequest] = (),
    running: Sequence[RunningLeg] = (),
    usage: Mapping[str, float] | None = None,
    machine_events: Sequence[MachineEvent] = (),
    admit: Admit | None = None,
    on_finish: OnFinish | None = None,
    stop_when_started: str | None = None,
    sample_every: float | None = None,
) -> SimOutcome:
    """Run the pool forward from ``start``.

    Args:
        config: the pool.
        jobs: future arrivals (each at its ``submit_time``).
        policy: scheduling policy (default from the config).
        until: stop at this time (None: when nothing is left).
        actual_run_time: true run time per job id (default: its estimate ``run_time``).
        queued: jobs already waiting at ``start``.
        running: legs already running at ``start`` (they end at their ``end``).
        usage: decayed usage per project at ``start``.
        machine_events: machines going down/up.
        admit: admission hook run at arrival (quota checks); a reason rejects the job.
        on_finish: called when a job finishes (after usage is charged).
        stop_when_started: stop as soon as this job id starts (queue-wait estimates).
        sample_every: record decayed usage every this many seconds (None: never).
    """
    policy = policy or Policy.from_config(config)
    half_life = config.half_life_seconds
    actual = actual_run_time or {}
    records: dict[str, JobRecord] = {}
    busy = {m.name: 0.0 for m in config.machines}
    use: dict[str, float] = dict(usage or {})
    use_t = start
    down = {m.name for m in config.machines if not m.up}
    queue: dict[str, JobRequest] = {}
    legs: list[RunningLeg] = list(running)
    finishing: list[tuple[float, str]] = []  # (end, job id) of simulated jobs
    arrivals = sorted(jobs, key=lambda j: (j.submit_time, j.id))
    ai = 0
    mevents = sorted(machine_events, key=lambda e: e.time)
    mi = 0
    samples: list[tuple[float, dict[str, float]]] = []
    next_sample = start if sample_every else None
    for j in queued:
        queue[j.id] = j
        records[j.id] = JobRecord(j)
    now = start
    wake: float | None = None

    def decay_to(t: float) -> None:
        nonlocal use_t
        if t > use_t:
            for p in use:
                use[p] = decay(use[p], t - use_t, half_life)
            use_t = t

    while True:
        # 1. Apply everything that happens at `now`.
        while finishing and finishing[0][0] <= now:
            t_end, jid = heapq.heappop(finishing)
            rec = records[jid]
            legs = [leg for leg in legs if leg.job_id != jid]
            decay_to(t_end)
            use[rec.job.project] = use.get(rec.job.project, 0.0) + rec.list_cost_yen
            if on_finish:
                on_finish(rec, t_end)
        legs = [leg for leg in legs if leg.job_id in records or leg.end > now]
        while mi < len(mevents) and mevents[mi].time <= now:
            ev = mevents[mi]
            (down.discard if ev.up else down.add)(ev.machine)
            mi += 1
        while ai < len(arrivals) and arrivals[ai].submit_time <= now:
            j = arrivals[ai]
            ai += 1
            rec = JobRecord(j)
            records[j.id] = rec
            reason = admit(j, now) if admit else None
            if reason is not None:
                rec.rejected = reason
            else:
                queue[j.id] = j
        while next_sample is not None and next_sample <= now:
            decay_to(next_sample)
            samples.append((next_sample, dict(use)))
            next_sample += sample_every  # type: ignore[operator]
        # 2. One scheduling pass.
        decay_to(now)
        state = PoolState(config, now, tuple(legs), frozenset(down))
        decisions = schedule(list(queue.values()), state, use, policy)
        for r in decisions.rejections:
            records[r.job_id].rejected = r.reason
            queue.pop(r.job_id, None)
        for s in decisions.starts:
            job = queue.pop(s.job_id)
            rec = records[s.job_id]
            run = min(actual.get(job.id, job.run_time), job.run_time)
            rec.start, rec.end, rec.placements = now, now + run, s.placements
            rec.backfilled = s.backfilled
            scale = run / job.run_time if job.run_time > 0 else 0.0
            rec.list_cost_yen, rec.cost_yen = s.list_cost_yen * scale, s.cost_yen * scale
            for p in s.placements:
                legs.append(RunningLeg(p.machine, job.id, now + job.run_time))
                busy[p.machine] += run
            heapq.heappush(finishing, (now + run, job.id))
        if stop_when_started in records and records[stop_when_started].start is not None:
            break
        head = decisions.head
        wake = head.reserved_start if head is not None and head.reserved_start is not None and head.reserved_start > now else None
        # 3. Next event time.
        candidates = []
        if finishing:
            candidates.append(finishing[0][0])
        ext_ends = [leg.end for leg in legs if leg.job_id not in records and leg.end > now]
        if ext_ends:
            candidates.append(min(ext_ends))
        if ai < len(arrivals):
            candidates.append(arrivals[ai].submit_time)
        if mi < len(mevents):
            candidates.append(mevents[mi].time)
        if wake is not None:
            candidates.append(wake)
        if queue and (wake is not None or finishing or ai < len(arrivals) or mi < len(mevents)):
            horizon = now + policy.horizon
            ends = [e for m in config.machines for e in m.maintenance_ends(now + 1e-6, horizon)]
            if ends:
                candidates.append(min(ends))
        if not candidates:
            break
        nxt = max(min(candidates), now + 1e-9)
        if until is not None and nxt > until:
            now = until
            break
        now = nxt
        if not queue and not finishing and ai >= len(arrivals) and not ext_ends:
            break
    if next_sample is not None and (not samples or samples[-1][0] < now):
        decay_to(now)
        samples.append((now, dict(use)))
    return SimOutcome(records, busy, samples, now)
