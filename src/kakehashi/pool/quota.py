"""Quota and budget arithmetic, tier discounts, and the audit record of price and quota changes.

The service does the atomic part (lock the project's ledger sum, insert the job and its hold in
one transaction); this module decides. Amounts are compared in exact decimal micro-units, so a
quota with room for exactly ten requests accepts exactly ten whatever the float noise.

Charges: ``list = machine_seconds × unit price``; ``charged = list × (1 − discount rate)``.
A yen quota counts charged yen; a machine-seconds quota counts machine-seconds.
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from kakehashi.pool.config import Period, PoolConfig, ProjectTerms, Quota, QuotaUnit

_MICRO = Decimal("0.000001")


def _exact(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(_MICRO, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Charge:
    """A priced run: list price, the discount and what the project pays (yen)."""

    machine_seconds: float
    unit_price_yen: float
    list_yen: float
    discount_rate: float
    discount_yen: float
    charged_yen: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def charge(machine_seconds: float, unit_price_yen: float, discount_rate: float = 0.0) -> Charge:
    """Price ``machine_seconds`` at ``unit_price_yen`` per second with ``discount_rate`` in [0, 1)."""
    if machine_seconds < 0 or unit_price_yen < 0 or not 0.0 <= discount_rate < 1.0:
        raise ValueError("machine_seconds and unit price must be >= 0 and the discount rate in [0, 1)")
    list_yen = _exact(machine_seconds) * _exact(unit_price_yen)
    discount = (list_yen * _exact(discount_rate)).quantize(_MICRO, rounding=ROUND_HALF_EVEN)
    list_q = list_yen.quantize(_MICRO, rounding=ROUND_HALF_EVEN)
    return Charge(
        machine_seconds=float(machine_seconds),
        unit_price_yen=float(unit_price_yen),
        list_yen=float(list_q),
        discount_rate=float(discount_rate),
        discount_yen=float(discount),
        charged_yen=float(list_q - discount),
    )


def discount_rate(config: PoolConfig, project: str) -> float:
    """The project's discount rate: its own override, else its tier's (unknown projects: 0)."""
    return config.discount_for(project)


def quota_amount(quota: Quota, c: Charge) -> float:
    """What a charge counts against ``quota``: charged yen, or machine-seconds."""
    return c.charged_yen if quota.unit is QuotaUnit.YEN else c.machine_seconds


def period_start(period: Period, now: datetime) -> datetime | None:
    """Start of the accounting period containing ``now`` (UTC; weeks start Monday; ALL: None)."""
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return datetime.fromordinal(day.toordinal() - day.weekday()).replace(tzinfo=UTC)
    if period is Period.MONTH:
        return day.replace(day=1)
    return None


def period_end(period: Period, now: datetime) -> datetime | None:
    """End (exclusive) of the accounting period containing ``now``; ALL: None."""
    start = period_start(period, now)
    if start is None:
        return None
    if period is Period.DAY:
        return datetime.fromordinal(start.toordinal() + 1).replace(tzinfo=UTC)
    if period is Period.WEEK:
        return datetime.fromordinal(start.toordinal() + 7).replace(tzinfo=UTC)
    days = calendar.monthrange(start.year, start.month)[1]
    return datetime.fromordinal(start.toordinal() + days).replace(tzinfo=UTC)


@dataclass(frozen=True)
class QuotaDecision:
    """Accept or reject one request against a quota, with the numbers a 402/429 response shows.

    Attributes:
        accepted: the request fits.
        unit: yen or machine-seconds (None: no quota).
        limit: the cap per period.
        used: already charged this period (ledger sum).
        pending: held by accepted jobs not yet charged.
        requested: this request's amount.
        remaining: room before this request (limit − used − pending, >= 0).
        reason: a one-line explanation.
    """

    accepted: bool
    unit: QuotaUnit | None
    limit: float | None
    used: float
    pending: float
    requested: float
    remaining: float | None
    reason: str
    period: Period | None = None

    @property
    def http_status(self) -> int:
        """200 when accepted; 402 for an exhausted yen budget, 429 for machine-seconds."""
        if self.accepted:
            return 200
        return 402 if self.unit is QuotaUnit.YEN else 429

    def problem(self, project: str) -> dict[str, Any]:
        """An ``application/problem+json`` body for a rejection (RFC 9457 fields plus the numbers)."""
        return {
            "type": "https://kakehashi.dev/problems/quota-exceeded",
            "title": "Quota exceeded",
            "status": self.http_status,
            "detail": self.reason,
            "project": project,
            "unit": None if self.unit is None else self.unit.value,
            "period": None if self.period is None else self.period.value,
            "limit": self.limit,
            "used": self.used,
            "pending": self.pending,
            "requested": self.requested,
            "remaining": self.remaining,
        }


def check_quota(quota: Quota | None, *, used: float, requested: float, pending: float = 0.0) -> QuotaDecision:
    """Decide whether ``requested`` fits: ``used + pending + requested <= limit`` (exact decimals).

    Args:
        quota: the project's quota (None: no cap, always accepted).
        used: the ledger sum for the current period, in the quota's unit.
        requested: the new job's amount (its cost estimate or machine-seconds) in the quota's unit.
        pending: amounts held by accepted, not yet charged jobs.
    """
    if quota is None:
        return QuotaDecision(True, None, None, used, pending, requested, None, "no quota")
    limit, u, p, r = _exact(quota.limit), _exact(used), _exact(pending), _exact(requested)
    remaining = max(Decimal(0), limit - u - p)
    ok = r <= remaining
    unit = quota.unit.value
    reason = (
        f"fits: {float(r):g} {unit} of {float(remaining):g} remaining"
        if ok
        else f"{quota.period.value} quota of {float(limit):g} {unit} exceeded: "
        f"{float(remaining):g} remaining, {float(r):g} requested"
    )
    return QuotaDecision(ok, quota.unit, float(limit), float(u), float(p), float(r), float(remaining), reason, quota.period)


@dataclass(frozen=True)
class AuditRecord:
    """One change to a price, quota or project term: who, when, what, from what to what, why."""

    at: datetime
    actor: str
    subject: str
    field: str
    old: Any
    new: Any
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.astimezone(UTC).isoformat()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AuditRecord:
        return cls(**{**d, "at": datetime.fromisoformat(d["at"])})


def _flat(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


def diff_terms(old: ProjectTerms | None, new: ProjectTerms | None) -> list[tuple[str, Any, Any]]:
    """``(field, old, new)`` for every project term that differs (quota fields as ``quota.limit``...)."""
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    if old is not None:
        _flat("", old.model_dump(mode="json"), a)
    if new is not None:
        _flat("", new.model_dump(mode="json"), b)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def audit_project_change(
    old: ProjectTerms | None, new: ProjectTerms | None, *, actor: str, at: datetime, reason: str = ""
) -> list[AuditRecord]:
    """Audit records for a change of one project's terms (tier, shares, discount, quota)."""
    name = (new or old).name if (new or old) is not None else ""  # type: ignore[union-attr]
    return [AuditRecord(at, actor, f"project:{name}", f, o, n, reason) for f, o, n in diff_terms(old, new)]


def audit_price_change(
    machine: str, old: float | None, new: float | None, *, actor: str, at: datetime, reason: str = ""
) -> list[AuditRecord]:
    """An audit record for a unit-price change (yen per second) of a machine or hardware kind."""
    if old == new:
        return []
    return [AuditRecord(at, actor, f"price:{machine}", "price_yen_per_second", old, new, reason)]
