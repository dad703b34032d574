"""The service's resource pool: the operator's pool file (or the default pool) plus its live state.

The pool file is named by ``pool_file`` in the operator config or ``KAKEHASHI_POOL`` (TOML/YAML,
see :mod:`kakehashi.pool.config`). Without one, the **default pool** is the local machine: one
``cpu`` machine named ``local`` that runs every registered backend, priced at the operator's
``cpu`` price, with as many slots as there are live workers (at least the jobs already running
plus a racing portfolio's legs, so the default pool never holds a job back: the worker processes
are the limit).

Live state comes from the database, read in one transaction (:func:`snapshot`): machines the
admin marked down or up (``machine_states``), running jobs and the machines their legs were
placed on (slots in use until ``started_at + time_limit``), the queue, each project's terms
(tier, discount, shares: the admin's, over the pool file's) and the decayed usage that drives
fair share (list-price yen from the ledger, half-life from the pool file).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kakehashi.backends.base import HardwareKind
from kakehashi.exceptions import JobError
from kakehashi.pool.config import Machine, PoolConfig, ProjectTerms, load_pool
from kakehashi.pool.fairshare import decayed_usage
from kakehashi.pool.scheduler import JobRequest, RunningLeg
from kakehashi.service.jobs import JobStatus
from kakehashi.service.store.models import Job, LedgerEntry, MachineState, Project, WorkerRecord

DEFAULT_MACHINE = "local"


class MachineNotFoundError(JobError):
    """No machine of this name in the pool (admin routes: 404)."""


def find_machine(config: PoolConfig, name: str) -> Machine:
    for m in config.machines:
        if m.name == name:
            return m
    raise MachineNotFoundError(
        f"no machine {name!r} in the pool; machines: {', '.join(m.name for m in config.machines)}"
    )


#: A worker not seen for this long (seconds) no longer counts as a slot of the default pool.
WORKER_ALIVE_SECONDS = 30.0
#: Ledger rows older than this many half-lives are ignored for fair share (weight < 0.4%).
_HALF_LIVES = 8.0

_REQUESTS: dict[str, tuple[tuple[Any, ...], JobRequest]] = {}
_BACKENDS: list[tuple[str, ...]] = []
_FILE_CACHE: dict[tuple[str, float, int], PoolConfig] = {}
_DEFAULT_CACHE: dict[tuple[int, float], PoolConfig] = {}
_EFFECTIVE_CACHE: dict[tuple[int, tuple[str, ...], tuple[str, ...]], tuple[PoolConfig, PoolConfig]] = {}


def pool_file_from_env() -> str | None:
    """The pool file of this process: ``KAKEHASHI_POOL``, else ``pool_file`` in ``KAKEHASHI_CONFIG``."""
    path = os.environ.get("KAKEHASHI_POOL", "").strip()
    if path:
        return path
    if os.environ.get("KAKEHASHI_CONFIG"):
        from kakehashi.service.config import load_config

        return load_config().pool_file
    return None


def export_to_env(config: Any) -> None:
    """Put the config's pool file and routing history into this process's environment, so that
    the worker processes it starts (and their solver children) use the same ones."""
    if getattr(config, "pool_file", None):
        os.environ["KAKEHASHI_POOL"] = str(config.pool_file)
    if getattr(config, "router_history", None):
        os.environ["KAKEHASHI_ROUTER_HISTORY"] = str(config.router_history)


def load_file(path: str | Path) -> PoolConfig:
    """The pool file, parsed once per modification (cached by path, mtime and size)."""
    p = Path(path)
    st = p.stat() if p.exists() else None
    key = (str(p.resolve()), st.st_mtime if st else 0.0, st.st_size if st else 0)
    if key not in _FILE_CACHE:
        if len(_FILE_CACHE) > 16:
            _FILE_CACHE.clear()
        _FILE_CACHE[key] = load_pool(p)
    return _FILE_CACHE[key]


def default_pool(slots: int, cpu_price: float = 0.01) -> PoolConfig:
    """The local machine: one cpu machine with ``slots`` slots running every registered backend."""
    key = (max(1, slots), cpu_price)
    if key not in _DEFAULT_CACHE:
        if not _BACKENDS:  # reading the entry points is slow: once per process
            from kakehashi.backends.registry import backend_names

            _BACKENDS.append(tuple(backend_names()) or ("exact",))
        if len(_DEFAULT_CACHE) > 64:
            _DEFAULT_CACHE.clear()
        machine = Machine(
            name=DEFAULT_MACHINE,
            kind=HardwareKind.CPU,
            slots=max(1, slots),
            backends=_BACKENDS[0],
            price_yen_per_second=cpu_price,
        )
        _DEFAULT_CACHE[key] = PoolConfig(machines=(machine,))
    return _DEFAULT_CACHE[key]


@dataclass(frozen=True)
class PoolSource:
    """Where the pool comes from: a file, or the default pool (sized from the live workers)."""

    path: str | None = None
    cpu_price: float = 0.01

    @classmethod
    def from_config(cls, config: Any) -> PoolSource:
        return cls(getattr(config, "pool_file", None) or None, float(config.price("cpu")))

    @classmethod
    def from_env(cls) -> PoolSource:
        price = os.environ.get("KAKEHASHI_PRICE_CPU")
        return cls(pool_file_from_env(), float(price) if price else 0.01)

    def base(self, s: Session, now: float, busy: int = 0) -> PoolConfig:
        """The operator's pool (file or default) with one machine per peer offer appended."""
        from kakehashi.service import peers

        own = self.own(s, now, busy)
        return peers.with_peers(own, peers.records(s, own))

    def own(self, s: Session, now: float, busy: int = 0) -> PoolConfig:
        """The operator's pool without the peers' machines."""
        if self.path:
            return load_file(self.path)
        workers = s.execute(
            select(func.count())
            .select_from(WorkerRecord)
            .where(WorkerRecord.stopped_at.is_(None), WorkerRecord.last_seen > now - WORKER_ALIVE_SECONDS)
        ).scalar_one()
        from kakehashi.router import MAX_LEGS

        return default_pool(max(int(workers), busy + MAX_LEGS, 1), self.cpu_price)


@dataclass
class Snapshot:
    """The pool at ``now`` as the scheduler sees it, plus what the API shows about it."""

    config: PoolConfig
    now: float
    queue: list[JobRequest]
    running: tuple[RunningLeg, ...]
    down: frozenset[str]
    usage: dict[str, float]
    down_reasons: dict[str, str] = field(default_factory=dict)
    project_names: dict[str, str] = field(default_factory=dict)
    job_projects: dict[str, str] = field(default_factory=dict)
    backends_of: dict[str, str] = field(default_factory=dict)


def _effective(base: PoolConfig, terms: tuple[ProjectTerms, ...], forced_up: tuple[str, ...]) -> PoolConfig:
    """``base`` with the admin's project terms and machines forced up (cached: terms change rarely)."""
    key = (id(base), tuple(t.model_dump_json() for t in terms), forced_up)
    hit = _EFFECTIVE_CACHE.get(key)
    if hit is not None and hit[0] is base:
        return hit[1]
    if len(_EFFECTIVE_CACHE) > 256:
        _EFFECTIVE_CACHE.clear()
    update: dict[str, Any] = {}
    if terms:
        named = {t.name: t for t in terms}
        projects = [named.pop(p.name, p) for p in base.projects] + list(named.values())
        update["projects"] = tuple(projects)
    if forced_up:
        update["machines"] = tuple(
            m.model_copy(update={"up": True}) if m.name in forced_up else m for m in base.machines
        )
    cfg = base.model_copy(update=update) if update else base
    _EFFECTIVE_CACHE[key] = (base, cfg)
    return cfg


def snapshot(s: Session, source: PoolSource, now: float | None = None) -> Snapshot:
    """Read the pool's live state in session ``s`` (one transaction: a consistent view)."""
    from kakehashi.service.quotas import terms_of
    from kakehashi.service.scheduling import job_request

    now = time.time() if now is None else now
    running_rows = s.execute(
        select(Job.id, Job.placement_json, Job.started_at, Job.time_limit).where(
            Job.status == JobStatus.RUNNING.value
        )
    ).all()
    base = source.base(s, now, busy=len(running_rows))
    projects = list(s.scalars(select(Project)))
    names = {p.id: p.name for p in projects}
    overridden = tuple(
        terms_of(p, base)
        for p in projects
        if p.tier is not None or p.discount is not None or p.shares is not None
    )
    states = list(s.scalars(select(MachineState)))
    forced_up = tuple(sorted(st.name for st in states if st.up))
    config = _effective(base, overridden, forced_up)
    known = {m.name for m in config.machines}
    peer_down = _peer_down(s, config)
    down = frozenset({st.name for st in states if not st.up and st.name in known} | set(peer_down))
    reasons = {**peer_down, **{st.name: st.reason for st in states if not st.up}}
    resident = {p.id for p in projects if p.data_stays}
    for m in config.machines:
        if not m.up:
            reasons.setdefault(m.name, "out of service in the pool file")
    running: list[RunningLeg] = []
    for row in running_rows:
        for p in json.loads(row.placement_json or "[]"):
            end = (row.started_at or now) + row.time_limit
            running.append(RunningLeg(p["machine"], row.id, end))
    queued = s.execute(
        select(
            Job.id,
            Job.project_id,
            Job.backend,
            Job.alternatives_json,
            Job.time_limit,
            Job.priority,
            Job.created_at,
            Job.deadline,
            Job.cost_cap_yen,
        )
        .where(Job.status == JobStatus.QUEUED.value)
        .where(Job.not_before.is_(None) | (Job.not_before <= now))  # back-off after a lost attempt
    ).all()
    queue = []
    if len(_REQUESTS) > 100_000:
        _REQUESTS.clear()
    topology = tuple((m.kind, m.backends) for m in config.machines)  # what a job's legs depend on
    for r in queued:  # a queued job's request never changes: build it once per pool topology
        key = (topology, r.project_id in resident)
        hit = _REQUESTS.get(r.id)
        if hit is None or hit[0] != key:
            hit = (key, job_request(r, names.get(r.project_id, r.project_id), config, local_only=key[1]))
            _REQUESTS[r.id] = hit
        queue.append(hit[1])
    half_life = config.half_life_seconds
    ledger = s.execute(
        select(LedgerEntry.project_id, LedgerEntry.created_at, LedgerEntry.list_yen).where(
            LedgerEntry.created_at > now - _HALF_LIVES * half_life
        )
    ).all()
    per_project: dict[str, list[tuple[float, float]]] = {}
    for pid, t, amount in ledger:
        per_project.setdefault(names.get(pid, pid), []).append((min(t, now), amount))
    usage = {p: decayed_usage(entries, now, half_life) for p, entries in per_project.items()}
    for job in queue:  # every queued project takes part in share normalisation, windowed or not
        usage.setdefault(job.project, 0.0)
    return Snapshot(
        config=config,
        now=now,
        queue=queue,
        running=tuple(running),
        down=down,
        usage=usage,
        down_reasons=reasons,
        project_names=names,
        job_projects={r.id: r.project_id for r in queued},
        backends_of={r.id: r.backend for r in queued},
    )


def live_config(
    s: Session, source: PoolSource, project: Project | None, now: float
) -> tuple[PoolConfig, frozenset[str]]:
    """The pool with ``project``'s terms and the admin's machine states, and the machines down
    (a lighter read than :func:`snapshot`, for submissions)."""
    from kakehashi.service.quotas import terms_of

    base = source.base(s, now)
    states = list(s.scalars(select(MachineState)))
    terms = (
        (terms_of(project, base),)
        if project is not None
        and (project.tier is not None or project.discount is not None or project.shares is not None)
        else ()
    )
    config = _effective(base, terms, tuple(sorted(st.name for st in states if st.up)))
    known = {m.name for m in config.machines}
    down = {st.name for st in states if not st.up and st.name in known} | set(_peer_down(s, config))
    return config, frozenset(down)


def _peer_down(s: Session, config: PoolConfig) -> dict[str, str]:
    """Peer machines down for the scheduler (peer unreachable, nothing up there), with the reason."""
    if not any(m.peer for m in config.machines):
        return {}
    from kakehashi.service import peers

    return peers.down_machines(s, config, peers.records(s, config))
