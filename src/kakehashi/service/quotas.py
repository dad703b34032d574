"""Quotas, terms (tiers, discounts, shares), prices and their audit trail, in the service database.

Admission (:func:`admit`) runs inside the transaction that inserts a job
(:func:`kakehashi.service.jobs.submit`): it locks the project's quota row (``SELECT ... FOR
UPDATE`` on PostgreSQL; on SQLite the ``BEGIN IMMEDIATE`` write lock already serialises
writers), sums what the ledger charged this period and what accepted, unfinished jobs hold, and
accepts the job only if ``used + pending + requested <= limit``
(:func:`kakehashi.pool.quota.check_quota`, exact decimals). The job then carries its hold (its
estimated cost: ``time_limit × legs`` machine-seconds, priced at the dearest machine its legs may
use, after the project's discount) until it ends; from then on the ledger holds what it really cost.

Every change of a quota, tier, discount, shares, price or machine state writes audit rows
(:class:`~kakehashi.service.store.models.AuditEntry`) in the same transaction as the change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kakehashi.exceptions import ModelError, QuotaError
from kakehashi.pool.config import Period, PoolConfig, ProjectTerms, Quota, QuotaUnit, Tier
from kakehashi.pool.quota import (
    AuditRecord,
    QuotaDecision,
    audit_price_change,
    audit_project_change,
    charge,
    check_quota,
    period_start,
    quota_amount,
)
from kakehashi.service.jobs import JobSpec, JobStatus
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import (
    AuditEntry,
    Job,
    LedgerEntry,
    MachineState,
    PriceOverride,
    Project,
    ProjectQuota,
)
from kakehashi.service.tenancy import find_project

_OPEN = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
#: The largest quota limit (yen or machine-seconds): exact decimal arithmetic stays in range.
MAX_LIMIT = 1e12


class QuotaExceededError(QuotaError):
    """A submission would exceed the project's quota: answered 402 (yen) or 429 (machine-seconds)."""

    def __init__(self, decision: QuotaDecision, project: str) -> None:
        super().__init__(decision.reason)
        self.decision = decision
        self.project = project

    @property
    def status(self) -> int:
        return self.decision.http_status

    def body(self) -> dict[str, Any]:
        return self.decision.problem(self.project)


# ----------------------------------------------------------------------- terms
def terms_of(project: Project, pool: PoolConfig) -> ProjectTerms:
    """The project's terms: the admin's settings in the database over the pool file's, over defaults."""
    base = pool.project(project.name)
    changes: dict[str, Any] = {}
    if project.tier is not None:
        changes["tier"] = Tier(project.tier)
        if project.discount is None:
            changes["discount"] = None
    if project.discount is not None:
        changes["discount"] = project.discount
    if project.shares is not None:
        changes["shares"] = project.shares
    return base.model_copy(update=changes) if changes else base


def discount_rate(terms: ProjectTerms, pool: PoolConfig) -> float:
    return terms.discount if terms.discount is not None else pool.tiers.get(terms.tier, 0.0)


def quota_of(row: ProjectQuota | None) -> Quota | None:
    if row is None:
        return None
    return Quota(limit=row.limit, unit=QuotaUnit(row.unit), period=Period(row.period))


def _locked_quota(s: Session, project_id: str, lock: bool) -> ProjectQuota | None:
    q = select(ProjectQuota).where(ProjectQuota.project_id == project_id)
    if lock and s.get_bind().dialect.name != "sqlite":
        q = q.with_for_update()
    return s.scalars(q).first()


def used_in_period(s: Session, project_id: str, quota: Quota, now: float) -> float:
    """What the ledger charged the project this period, in the quota's unit."""
    column = LedgerEntry.cost_yen if quota.unit is QuotaUnit.YEN else LedgerEntry.machine_seconds
    q = select(func.coalesce(func.sum(column), 0.0)).where(LedgerEntry.project_id == project_id)
    start = period_start(quota.period, datetime.fromtimestamp(now, tz=UTC))
    if start is not None:
        q = q.where(LedgerEntry.created_at >= start.timestamp())
    return float(s.execute(q).scalar_one())


def pending_holds(s: Session, project_id: str, unit: QuotaUnit) -> float:
    """What the project's queued and running jobs hold, in ``unit``."""
    column = Job.hold_yen if unit is QuotaUnit.YEN else Job.hold_machine_seconds
    q = select(func.coalesce(func.sum(column), 0.0)).where(
        Job.project_id == project_id, Job.status.in_(_OPEN)
    )
    return float(s.execute(q).scalar_one())


def quota_status(s: Session, project_id: str, now: float | None = None) -> dict[str, Any] | None:
    """The project's quota with used, pending and remaining (None: no quota)."""
    quota = quota_of(_locked_quota(s, project_id, lock=False))
    if quota is None:
        return None
    now = time.time() if now is None else now
    d = check_quota(
        quota,
        used=used_in_period(s, project_id, quota, now),
        pending=pending_holds(s, project_id, quota.unit),
        requested=0.0,
    )
    return {
        "unit": quota.unit.value,
        "period": quota.period.value,
        "limit": d.limit,
        "used": d.used,
        "pending": d.pending,
        "remaining": d.remaining,
    }


# ---------------------------------------------------------------------- prices
def price_overrides(s: Session) -> dict[str, float]:
    return {r.subject: r.price_yen_per_second for r in s.scalars(select(PriceOverride))}


def machine_price(
    pool: PoolConfig, overrides: dict[str, float], machine: str, fallback: float | None
) -> float:
    """Unit price (yen/s) of ``machine``: an override by machine name, then by its hardware kind,
    then the pool file's price (the default pool: ``fallback``, the operator's price per kind)."""
    m = next((x for x in pool.machines if x.name == machine), None)
    if machine in overrides:
        return overrides[machine]
    if m is not None and m.kind.value in overrides:
        return overrides[m.kind.value]
    if m is not None and (m.peer is not None or not is_default_pool(pool)):  # a peer: its offer's price
        return m.price_yen_per_second
    if fallback is not None:
        return fallback
    return m.price_yen_per_second if m is not None else 0.0


def is_default_pool(pool: PoolConfig) -> bool:
    from kakehashi.service.pool_state import DEFAULT_MACHINE

    own = [m for m in pool.machines if m.peer is None]  # peer sites' machines are priced by their offers
    return len(own) == 1 and own[0].name == DEFAULT_MACHINE


# -------------------------------------------------------------------- admission
def job_hold(
    spec: JobSpec, pool: PoolConfig, overrides: dict[str, float], discount: float
) -> tuple[float, float, float]:
    """``(machine_seconds, list_yen, charged_yen)`` a job holds: ``time_limit × legs`` at the
    dearest machine each leg may use (its backends and allowed alternatives)."""
    from kakehashi.service.scheduling import legs_of

    legs = legs_of(spec.backend, spec.alternatives, pool)
    seconds = spec.time_limit * len(legs)
    prices = []
    for leg in legs:
        ms = [m for b in leg.backends for m in pool.machines_for(b) if leg.kind in (None, m.kind)]
        prices.append(max((machine_price(pool, overrides, m.name, None) for m in ms), default=0.0))
    c = charge(seconds, sum(prices) / max(1, len(prices)), discount)
    return seconds, c.list_yen, c.charged_yen


def admit(
    pool: PoolConfig, *, now: Callable[[], float] = time.time
) -> Callable[[Session, str, JobSpec], dict[str, Any]]:
    """The ``admit`` hook of :func:`kakehashi.service.jobs.submit`: check and record the job's hold."""

    def check(s: Session, project_id: str, spec: JobSpec) -> dict[str, Any]:
        row = _locked_quota(s, project_id, lock=True)  # serialises this project's submissions
        project = s.get(Project, project_id)
        assert project is not None
        terms = terms_of(project, pool)
        seconds, _list_yen, charged = job_hold(spec, pool, price_overrides(s), discount_rate(terms, pool))
        quota = quota_of(row)
        if quota is not None:
            t = now()
            requested = charged if quota.unit is QuotaUnit.YEN else seconds
            decision = check_quota(
                quota,
                used=used_in_period(s, project_id, quota, t),
                pending=pending_holds(s, project_id, quota.unit),
                requested=requested,
            )
            if not decision.accepted:
                raise QuotaExceededError(decision, project.name)
        return {"hold_yen": charged, "hold_machine_seconds": seconds}

    return check


# ------------------------------------------------------------------- audit trail
def _audit(s: Session, records: list[AuditRecord]) -> None:
    for r in records:
        s.add(
            AuditEntry(
                at=r.at.timestamp(),
                actor=r.actor[:100],
                subject=r.subject[:200],
                field=r.field[:100],
                old_json=json.dumps(r.old),
                new_json=json.dumps(r.new),
                reason=r.reason,
            )
        )


def _quota_terms(project: Project, row: ProjectQuota | None) -> ProjectTerms:
    return ProjectTerms(
        name=project.name,
        tier=Tier(project.tier) if project.tier else Tier.COMMERCIAL,
        shares=project.shares if project.shares is not None else 1.0,
        discount=project.discount,
        quota=quota_of(row),
    )


def set_quota(
    db: Database,
    project: str,
    limit: float | None,
    *,
    unit: str = "yen",
    period: str = "month",
    actor: str = "admin",
    reason: str = "",
) -> list[AuditRecord]:
    """Set (``limit`` None: remove) a project's quota; returns the audit records written."""
    if limit is not None and not 0 <= limit <= MAX_LIMIT:
        raise ModelError(f"the quota limit must be in [0, {MAX_LIMIT:g}]", field="limit")
    try:
        new_unit, new_period = QuotaUnit(unit), Period(period)
    except ValueError as exc:
        raise ModelError(f"{exc}; unit is yen or machine-seconds, period day/week/month/all") from exc
    p = find_project(db, project)
    now = time.time()
    with db.write() as s:
        proj = s.get(Project, p.id)
        assert proj is not None
        row = _locked_quota(s, p.id, lock=True)
        before = _quota_terms(proj, row)
        if limit is None:
            if row is not None:
                s.delete(row)
                row = None
        elif row is None:
            row = ProjectQuota(
                project_id=p.id, limit=limit, unit=new_unit.value, period=new_period.value, updated_at=now
            )
            s.add(row)
        else:
            row.limit, row.unit, row.period, row.updated_at = limit, new_unit.value, new_period.value, now
        after = _quota_terms(proj, row)
        records = audit_project_change(
            before, after, actor=actor, at=datetime.fromtimestamp(now, tz=UTC), reason=reason
        )
        _audit(s, records)
    return records


_UNSET: Any = object()


def set_terms(
    db: Database,
    project: str,
    *,
    tier: str | None = _UNSET,
    discount: float | None = _UNSET,
    shares: float | None = _UNSET,
    actor: str = "admin",
    reason: str = "",
) -> list[AuditRecord]:
    """Change a project's tier, discount override or fair-share weight (None: back to the default)."""
    if tier is not _UNSET and tier is not None:
        try:
            tier = Tier(tier).value
        except ValueError as exc:
            raise ModelError(
                f"unknown tier {tier!r}: use one of {[t.value for t in Tier]}", field="tier"
            ) from exc
    if discount is not _UNSET and discount is not None and not 0.0 <= discount < 1.0:
        raise ModelError("discount must be in [0, 1)", field="discount")
    if shares is not _UNSET and shares is not None and not shares > 0:
        raise ModelError("shares must be > 0", field="shares")
    p = find_project(db, project)
    now = time.time()
    with db.write() as s:
        proj = s.get(Project, p.id)
        assert proj is not None
        row = _locked_quota(s, p.id, lock=True)
        before = _quota_terms(proj, row)
        if tier is not _UNSET:
            proj.tier = tier
        if discount is not _UNSET:
            proj.discount = discount
        if shares is not _UNSET:
            proj.shares = shares
        after = _quota_terms(proj, row)
        records = audit_project_change(
            before, after, actor=actor, at=datetime.fromtimestamp(now, tz=UTC), reason=reason
        )
        _audit(s, records)
    return records


def set_price(
    db: Database,
    subject: str,
    price: float | None,
    *,
    old: float | None,
    actor: str = "admin",
    reason: str = "",
) -> list[AuditRecord]:
    """Override the unit price (yen/s) of a machine name or hardware kind (None: remove the override).

    ``old`` is the price in force before (from the pool file or the operator's config), for the audit.
    """
    if price is not None and not price >= 0:
        raise ModelError("price must be >= 0 yen per second", field="price_yen_per_second")
    now = time.time()
    with db.write() as s:
        row = s.get(PriceOverride, subject)
        before = row.price_yen_per_second if row is not None else old
        if price is None:
            if row is not None:
                s.delete(row)
            after = old
        else:
            if row is None:
                s.add(PriceOverride(subject=subject, price_yen_per_second=price, updated_at=now))
            else:
                row.price_yen_per_second, row.updated_at = price, now
            after = price
        records = audit_price_change(
            subject, before, after, actor=actor, at=datetime.fromtimestamp(now, tz=UTC), reason=reason
        )
        _audit(s, records)
    return records


def set_machine_state(
    db: Database, pool: PoolConfig, name: str, up: bool, *, actor: str = "admin", reason: str = ""
) -> list[AuditRecord]:
    """Mark a pool machine up or down (live; overrides the pool file's ``up``)."""
    from kakehashi.service.pool_state import find_machine

    machine = find_machine(pool, name)
    now = time.time()
    with db.write() as s:
        row = s.get(MachineState, name)
        before = row.up if row is not None else machine.up
        if row is None:
            s.add(MachineState(name=name, up=up, reason=reason, actor=actor[:100], updated_at=now))
        else:
            row.up, row.reason, row.actor, row.updated_at = up, reason, actor[:100], now
        records = (
            []
            if before == up
            else [
                AuditRecord(
                    datetime.fromtimestamp(now, tz=UTC), actor, f"machine:{name}", "up", before, up, reason
                )
            ]
        )
        _audit(s, records)
    return records


def audit_log(db: Database, *, subject: str | None = None, limit: int = 100) -> list[AuditEntry]:
    """The newest audit rows first (optionally for one subject: ``project:NAME``, ``price:KIND``...)."""
    q = select(AuditEntry)
    if subject:
        q = q.where(AuditEntry.subject == subject)
    with db.read() as s:
        return list(s.scalars(q.order_by(AuditEntry.id.desc()).limit(limit)))


def quota_amount_of(quota: Quota, seconds: float, price: float, discount: float) -> float:
    """What a run of ``seconds`` at ``price`` counts against ``quota`` (yen charged or seconds)."""
    return quota_amount(quota, charge(seconds, price, discount))
