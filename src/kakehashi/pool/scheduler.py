"""The scheduling policy, pure: queue + pool state + decayed usage → which jobs start where, now.

One call of :func:`schedule` is one scheduling pass (the service runs one whenever a job is
submitted or finishes; :mod:`kakehashi.pool.simulate` runs the same function in simulated time).

The pass:

1. Rank the queue by multifactor priority (:mod:`kakehashi.pool.fairshare`): age, fair share of the
   job's project, user priority, job size; ties by submit time, then id.
2. Reject what can never run as asked, with a reason: a leg whose backends no machine runs; a
   deadline that cannot be met even when started now (or, for the head job, at its reservation);
   a cost cap below the cheapest possible placement.
3. Walk the ranked queue. A job starts now if ALL its legs get a free slot at once (a racing
   portfolio takes one slot per leg). Each leg lists backends in order of preference; the later
   ones are alternatives the user allowed, used only when no machine that runs an earlier one is
   usable (down or in maintenance) — a busy machine is waited for, not routed around. A machine in
   maintenance at any time during the job's run is not usable for it.
4. EASY backfilling: the first job that cannot start now but can be placed at some later time
   (slots free as running legs reach their estimated end = their time limit) gets a reservation
   at the earliest such time ``t_res``. Every lower-ranked job may start now only if it does not
   delay that reservation: it ends (by its estimate) before ``t_res``, or it uses only slots the
   head job does not need at ``t_res``.
5. A job whose legs have no usable machine at all (the machines are down) waits with that reason
   and blocks nobody.

Starvation-freedom follows from the unbounded age factor (see
:func:`kakehashi.pool.fairshare.starvation_bound`) and from EASY backfilling never delaying the
head job; ``tests/pool/test_scheduler.py`` checks it against an adversarial stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kakehashi.backends.base import HardwareKind
from kakehashi.pool.config import Machine, PoolConfig
from kakehashi.pool.fairshare import PriorityWeights, fair_share_factors, job_priority

#: How far ahead (seconds) a reservation is searched for.
DEFAULT_HORIZON = 14 * 86400.0
#: Placement search stops after this many partial assignments (portfolios are small).
_MAX_NODES = 20_000


@dataclass(frozen=True)
class LegRequest:
    """One leg of a job: the backends it may run, preferred first, then allowed alternatives.

    ``kind`` (optional) restricts the leg to machines of that hardware kind (e.g. ``sb`` on a GPU).
    """

    backends: tuple[str, ...]
    kind: HardwareKind | None = None

    def __post_init__(self) -> None:
        if not self.backends:
            raise ValueError("a leg needs at least one backend")


@dataclass(frozen=True)
class JobRequest:
    """A queued job as the scheduler sees it.

    Attributes:
        id: job id.
        project: project name (fair share, discounts).
        legs: one per racing leg; ALL must be placed at once.
        submit_time: when it was submitted (seconds, same clock as ``PoolState.now``).
        run_time: estimated run time (seconds): the time limit, an upper bound the workers enforce.
        priority: user priority in [-1000, 1000].
        deadline: the time it must finish by (seconds), or None.
        cost_cap_yen: the most it may cost, after the project's discount (yen), or None.
        local_only: its data stays on this site (the project's residency flag): never placed on
            a peer site's machine.
    """

    id: str
    project: str
    legs: tuple[LegRequest, ...]
    submit_time: float
    run_time: float
    priority: int = 0
    deadline: float | None = None
    cost_cap_yen: float | None = None
    local_only: bool = False

    def may_use(self, machine: Machine) -> bool:
        """Whether this job may run on ``machine``: a peer site's machine takes only single-leg
        jobs (a race runs at home) whose data may leave this site."""
        return machine.peer is None or (not self.local_only and len(self.legs) == 1)

    @classmethod
    def of(
        cls,
        id: str,
        project: str,
        backends: Sequence[str],
        *,
        submit_time: float,
        run_time: float,
        alternatives: Mapping[str, Sequence[str]] | None = None,
        **kwargs: float | int | None,
    ) -> JobRequest:
        """A job racing ``backends`` (one leg each); ``alternatives[b]`` lists b's allowed substitutes."""
        alts = alternatives or {}
        legs = tuple(LegRequest((b, *alts.get(b, ()))) for b in backends)
        return cls(id, project, legs, submit_time, run_time, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RunningLeg:
    """A slot in use: which machine, by which job, until when (estimated end, seconds)."""

    machine: str
    job_id: str
    end: float


@dataclass(frozen=True)
class PoolState:
    """The pool at time ``now``: configuration, slots in use and machines down beyond the config."""

    config: PoolConfig
    now: float
    running: tuple[RunningLeg, ...] = ()
    down: frozenset[str] = frozenset()

    def is_up(self, machine: Machine) -> bool:
        return machine.up and machine.name not in self.down

    def busy_ends(self) -> dict[str, list[float]]:
        """Estimated ends of the running legs per machine (legs past their estimate end 'now')."""
        out: dict[str, list[float]] = {m.name: [] for m in self.config.machines}
        for leg in self.running:
            out.setdefault(leg.machine, []).append(max(leg.end, self.now))
        return out


@dataclass(frozen=True)
class Placement:
    """Leg ``leg`` runs ``backend`` on ``machine``."""

    leg: int
    backend: str
    machine: str


@dataclass(frozen=True)
class Start:
    """A job to start now, where, and what it is expected to cost (yen)."""

    job_id: str
    placements: tuple[Placement, ...]
    start: float
    end: float
    list_cost_yen: float
    cost_yen: float
    priority: float
    backfilled: bool = False


@dataclass(frozen=True)
class Wait:
    """A job that stays queued, why, and its reserved start time if it is the head job."""

    job_id: str
    reason: str
    priority: float
    reserved_start: float | None = None


@dataclass(frozen=True)
class Rejection:
    """A job that can never run as asked (deadline, cost cap, no machine): fail it with ``reason``."""

    job_id: str
    reason: str


@dataclass
class Decisions:
    """The outcome of one scheduling pass."""

    starts: list[Start] = field(default_factory=list)
    waits: list[Wait] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def started(self) -> dict[str, Start]:
        return {s.job_id: s for s in self.starts}

    @property
    def head(self) -> Wait | None:
        """The waiting job holding the EASY reservation, if any."""
        return next((w for w in self.waits if w.reserved_start is not None), None)


@dataclass(frozen=True)
class Policy:
    """Scheduling policy knobs.

    Attributes:
        weights: multifactor priority weights.
        backfill: EASY backfilling on (off: strict priority order, the head blocks everyone).
        fcfs: rank by submit time only (first come, first served), ignoring priority factors.
        horizon: how far ahead a reservation is searched (seconds).
    """

    weights: PriorityWeights = field(default_factory=PriorityWeights)
    backfill: bool = True
    fcfs: bool = False
    horizon: float = DEFAULT_HORIZON

    @classmethod
    def from_config(cls, config: PoolConfig) -> Policy:
        fs = config.fairshare
        return cls(
            PriorityWeights(
                age=fs.weight_age,
                fairshare=fs.weight_fairshare,
                priority=fs.weight_priority,
                size=fs.weight_size,
                max_age=fs.max_age_hours * 3600.0,
            )
        )

    @classmethod
    def first_come_first_served(cls) -> Policy:
        """Strict FCFS: submit order, no backfilling (the baseline of benchmarks/scheduler.py)."""
        return cls(backfill=False, fcfs=True)


def priorities(
    queue: Sequence[JobRequest], config: PoolConfig, usage: Mapping[str, float], policy: Policy, now: float
) -> dict[str, float]:
    """Multifactor priority of every queued job (FCFS: minus the submit time)."""
    if policy.fcfs:
        return {j.id: -j.submit_time for j in queue}
    shares = {p.name: p.shares for p in config.projects}
    for j in queue:
        shares.setdefault(j.project, 1.0)
    for p in usage:
        shares.setdefault(p, 1.0)
    fs = fair_share_factors(usage, shares)
    total = sum(m.slots for m in config.machines)
    return {
        j.id: job_priority(
            age=now - j.submit_time,
            fairshare=fs[j.project],
            priority=j.priority,
            legs=len(j.legs),
            total_slots=total,
            weights=policy.weights,
        )
        for j in queue
    }


def _cost(job: JobRequest, machines: Sequence[Machine], discount: float) -> tuple[float, float]:
    list_cost = sum(m.price_yen_per_second for m in machines) * job.run_time
    return list_cost, list_cost * (1.0 - discount)


Index = Mapping[str, Sequence[Machine]]


def _index(config: PoolConfig) -> dict[str, list[Machine]]:
    """Machines per backend name."""
    out: dict[str, list[Machine]] = {}
    for m in config.machines:
        for b in m.backends:
            out.setdefault(b, []).append(m)
    return out


_SHAPE_CACHE: dict[tuple[int, JobRequest, float], tuple[PoolConfig, str | None]] = {}


def _static_rejection(
    job: JobRequest, config: PoolConfig, index: Index, now: float, discount: float
) -> str | None:
    if job.deadline is not None and now + job.run_time > job.deadline:
        return (
            f"deadline cannot be met: it needs {job.run_time:g} s and the deadline is "
            f"{max(0.0, job.deadline - now):g} s away"
        )
    key = (id(config), job, discount)
    hit = _SHAPE_CACHE.get(key)
    if hit is not None and hit[0] is config:
        return hit[1]
    if len(_SHAPE_CACHE) > 100_000:
        _SHAPE_CACHE.clear()
    reason = _shape_rejection(job, config, index, discount)
    _SHAPE_CACHE[key] = (config, reason)
    return reason


def _shape_rejection(job: JobRequest, config: PoolConfig, index: Index, discount: float) -> str | None:
    """Reasons a job can never run on this pool, whatever the time (cached per job and config)."""
    for i, leg in enumerate(job.legs):
        if not any(
            leg.kind in (None, m.kind) and job.may_use(m) for b in leg.backends for m in index.get(b, ())
        ):
            on = "" if leg.kind is None else f" on a {leg.kind.value} machine"
            return f"leg {i}: no machine in the pool runs {' or '.join(leg.backends)}{on}"
    cands = _candidates(job, index, lambda m: True)
    if cands is None or _place(job, cands, {m.name: m.slots for m in config.machines}, 0.0, False) is None:
        return f"its {len(job.legs)} legs need more slots than the pool has"
    if job.cost_cap_yen is not None:
        cheapest = sum(
            min(
                m.price_yen_per_second
                for b in leg.backends
                for m in index.get(b, ())
                if leg.kind in (None, m.kind) and job.may_use(m)
            )
            for leg in job.legs
        )
        charged = cheapest * job.run_time * (1.0 - discount)
        if charged > job.cost_cap_yen + 1e-9:
            return (
                f"cost cap exceeded: the cheapest placement costs {charged:.2f} yen "
                f"(after discount) and the cap is {job.cost_cap_yen:.2f} yen"
            )
    return None


def _candidates(
    job: JobRequest, index: Index, usable: Callable[[Machine], bool]
) -> list[list[tuple[str, Machine]]] | None:
    """Per leg, (backend, machine) pairs in order of preference.

    The pairs of the leg's first backend with a usable machine, cheapest machine first. A job with a
    cost cap also gets the later alternatives' usable machines after them, used only when the
    preferred ones would break the cap.
    """
    out = []
    for leg in job.legs:
        pairs: list[tuple[str, Machine]] = []
        for backend in leg.backends:
            machines = [
                m for m in index.get(backend, ()) if usable(m) and leg.kind in (None, m.kind) and job.may_use(m)
            ]
            pairs += [(backend, m) for m in sorted(machines, key=lambda m: m.price_yen_per_second)]
            if pairs and job.cost_cap_yen is None:
                break
        if not pairs:
            return None
        out.append(pairs)
    return out


def _place(
    job: JobRequest,
    candidates: list[list[tuple[str, Machine]]],
    limit: Mapping[str, int],
    discount: float,
    capped: bool = True,
) -> tuple[Placement, ...] | None:
    """Assign every leg a slot within ``limit`` (free slots per machine) and within the cost cap.

    Depth-first in candidate order, so the first assignment found is the most preferred one.
    """
    order = sorted(range(len(candidates)), key=lambda i: len(candidates[i]))
    used: dict[str, int] = {}
    chosen: dict[int, tuple[str, Machine]] = {}
    best: tuple[float, dict[int, tuple[str, Machine]]] | None = None
    nodes = 0
    cap = math.inf if job.cost_cap_yen is None or not capped else job.cost_cap_yen + 1e-9
    rate = job.run_time * (1.0 - discount)

    def search(k: int, cost: float) -> None:
        nonlocal best, nodes
        nodes += 1
        if nodes > _MAX_NODES or cost > cap or best is not None:
            return
        if k == len(order):
            best = (cost, dict(chosen))
            return
        i = order[k]
        for backend, m in candidates[i]:
            if used.get(m.name, 0) >= limit.get(m.name, 0):
                continue
            used[m.name] = used.get(m.name, 0) + 1
            chosen[i] = (backend, m)
            search(k + 1, cost + m.price_yen_per_second * rate)
            used[m.name] -= 1
            del chosen[i]

    search(0, 0.0)
    if best is None:
        return None
    return tuple(Placement(i, best[1][i][0], best[1][i][1].name) for i in range(len(candidates)))


def _free_at(config: PoolConfig, ends: Mapping[str, list[float]], t: float) -> dict[str, int]:
    return {m.name: m.slots - sum(1 for e in ends.get(m.name, ()) if e > t) for m in config.machines}


Windows = Mapping[str, Sequence[tuple[float, float]]]


def _windows(config: PoolConfig, now: float, horizon: float) -> dict[str, list[tuple[float, float]]]:
    """Maintenance occurrences per machine overlapping ``[now, now + horizon]``."""
    return {m.name: [iv for w in m.maintenance for iv in w.intervals(now, now + horizon)] for m in config.machines}


def _free_of_maintenance(windows: Windows, machine: str, start: float, end: float) -> bool:
    return not any(a < end and b > start for a, b in windows.get(machine, ()))


def _reserve(
    job: JobRequest,
    state: PoolState,
    index: Index,
    ends: Mapping[str, list[float]],
    discount: float,
    horizon: float,
    windows: Windows,
) -> tuple[float, tuple[Placement, ...]] | None:
    """The earliest time (and placement) at which all legs of ``job`` fit, within ``horizon``."""
    now = state.now
    config = state.config
    times = {now}
    for es in ends.values():
        times.update(e for e in es if now < e <= now + horizon)
    for ivs in windows.values():
        times.update(b for _, b in ivs if now < b <= now + horizon)
    for t in sorted(times):
        def usable(m: Machine, t: float = t) -> bool:
            return state.is_up(m) and _free_of_maintenance(windows, m.name, t, t + job.run_time)

        cands = _candidates(job, index, usable)
        if cands is None:
            continue
        placement = _place(job, cands, _free_at(config, ends, t), discount)
        if placement is not None:
            return t, placement
    return None


def schedule(
    queue: Sequence[JobRequest],
    state: PoolState,
    usage: Mapping[str, float] | None = None,
    policy: Policy | None = None,
) -> Decisions:
    """One scheduling pass: which queued jobs start now and where, which wait (why), which are rejected.

    Args:
        queue: the queued jobs (any order).
        state: the pool now: config, running legs with their estimated ends, machines down.
        usage: decayed usage per project (:func:`kakehashi.pool.fairshare.decayed_usage`).
        policy: priority weights and backfilling (default: from the pool config).
    """
    config = state.config
    policy = policy or Policy.from_config(config)
    now = state.now
    prio = priorities(queue, config, usage or {}, policy, now)
    ranked = sorted(queue, key=lambda j: (-prio[j.id], j.submit_time, j.id))
    ends = {k: list(v) for k, v in state.busy_ends().items()}
    index = _index(config)
    windows = _windows(config, now, policy.horizon)
    free_now = _free_at(config, ends, now)
    decisions = Decisions()
    head: tuple[str, float, dict[str, int]] | None = None  # (job id, t_res, spare slots at t_res)
    blocked_by_head = False

    for job in ranked:
        discount = config.discount_for(job.project)
        reason = _static_rejection(job, config, index, now, discount)
        if reason is not None:
            decisions.rejections.append(Rejection(job.id, reason))
            continue

        def usable_now(m: Machine, job: JobRequest = job) -> bool:
            return state.is_up(m) and _free_of_maintenance(windows, m.name, now, now + job.run_time)

        if blocked_by_head:
            continue
        placement = None
        backfilled = False
        full = head is not None and not any(v > 0 for v in free_now.values())
        if head is not None and not full and not all(
            any(free_now.get(m.name, 0) > 0 for b in leg.backends for m in index.get(b, ())) for leg in job.legs
        ):
            decisions.waits.append(Wait(job.id, "waiting: no free slot on its machines", prio[job.id]))
            continue
        cands = None if full else _candidates(job, index, usable_now)
        if cands is not None:
            limit = free_now
            if head is not None:
                backfilled = True
                if now + job.run_time > head[1]:
                    limit = {k: min(v, head[2].get(k, v)) for k, v in free_now.items()}
            placement = _place(job, cands, limit, discount)
        if placement is not None:
            machines = [config.machine(p.machine) for p in placement]
            list_cost, cost = _cost(job, machines, discount)
            end = now + job.run_time
            decisions.starts.append(
                Start(job.id, placement, now, end, list_cost, cost, prio[job.id], backfilled)
            )
            for p in placement:
                ends.setdefault(p.machine, []).append(end)
                free_now[p.machine] -= 1
                if head is not None and end > head[1]:
                    head[2][p.machine] = head[2].get(p.machine, 0) - 1
            continue
        if head is not None:
            if full:
                why = "no free slot"
            elif cands is None:
                why = "no usable machine for its legs (down or in maintenance)"
            else:
                why = f"backfilling it would delay the reserved start of job {head[0]}"
            decisions.waits.append(Wait(job.id, f"waiting: {why}", prio[job.id]))
            continue
        reservation = _reserve(job, state, index, ends, discount, policy.horizon, windows)
        if reservation is None:
            down = sorted(
                {b for leg in job.legs for b in leg.backends for m in index.get(b, ()) if not state.is_up(m)}
            )
            why = f"no usable machine for its legs (down: {', '.join(down)})" if down else (
                "no placement within the cost cap and the horizon"
            )
            decisions.waits.append(Wait(job.id, f"waiting: {why}; no allowed alternative is up", prio[job.id]))
            continue
        t_res, res_placement = reservation
        if job.deadline is not None and t_res + job.run_time > job.deadline:
            decisions.rejections.append(
                Rejection(
                    job.id,
                    f"deadline cannot be met: its earliest start is in {t_res - now:g} s and it needs "
                    f"{job.run_time:g} s; the deadline is {job.deadline - now:g} s away",
                )
            )
            continue
        needs: dict[str, int] = {}
        for p in res_placement:
            needs[p.machine] = needs.get(p.machine, 0) + 1
        free_res = _free_at(config, ends, t_res)
        spare = {name: free_res[name] - needs.get(name, 0) for name in free_res}
        reserved_on = sorted(needs)
        decisions.waits.append(
            Wait(
                job.id,
                f"highest-priority waiting job: reserved to start in {t_res - now:g} s on {', '.join(reserved_on)}",
                prio[job.id],
                reserved_start=t_res,
            )
        )
        head = (job.id, t_res, spare)
        if not policy.backfill:
            blocked_by_head = True

    if blocked_by_head and head is not None:
        decided = {s.job_id for s in decisions.starts} | {w.job_id for w in decisions.waits}
        decided |= {r.job_id for r in decisions.rejections}
        for job in ranked:
            if job.id not in decided:
                decisions.waits.append(Wait(job.id, f"behind job {head[0]} (no backfilling)", prio[job.id]))
    return decisions
