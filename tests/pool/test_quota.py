"""Quota arithmetic, discounts and audit records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kakehashi.pool.config import Period, ProjectTerms, Quota, QuotaUnit, Tier
from kakehashi.pool.quota import (
    AuditRecord,
    audit_price_change,
    audit_project_change,
    charge,
    check_quota,
    period_end,
    period_start,
    quota_amount,
)


def test_charge_applies_discount() -> None:
    c = charge(120.0, 50.0, 0.3)
    assert c.list_yen == 6000.0 and c.discount_yen == 1800.0 and c.charged_yen == 4200.0
    assert charge(0.1, 0.1).charged_yen == pytest.approx(0.01)
    with pytest.raises(ValueError):
        charge(1.0, 1.0, 1.0)


def test_exactly_ten_fit() -> None:
    quota = Quota(limit=1.0, unit=QuotaUnit.YEN, period=Period.DAY)
    used, accepted = 0.0, 0
    for _ in range(200):
        d = check_quota(quota, used=used, requested=0.1)
        if d.accepted:
            accepted += 1
            used += 0.1  # float noise accumulates; the decision must not care
    assert accepted == 10


def test_rejection_shows_limit_and_remaining() -> None:
    quota = Quota(limit=100.0, unit=QuotaUnit.YEN, period=Period.MONTH)
    d = check_quota(quota, used=70.0, pending=20.0, requested=15.0)
    assert not d.accepted and d.remaining == 10.0 and d.limit == 100.0 and d.http_status == 402
    body = d.problem("lab")
    assert body["status"] == 402 and body["remaining"] == 10.0 and "exceeded" in body["detail"]
    ms = Quota(limit=3600.0, unit=QuotaUnit.MACHINE_SECONDS, period=Period.DAY)
    d = check_quota(ms, used=3600.0, requested=1.0)
    assert not d.accepted and d.remaining == 0.0 and d.http_status == 429
    assert check_quota(ms, used=3000.0, requested=600.0).accepted
    assert check_quota(None, used=1e12, requested=1e12).accepted
    c = charge(10.0, 2.0, 0.5)
    assert quota_amount(quota, c) == 10.0 and quota_amount(ms, c) == 10.0
    assert quota_amount(quota, charge(10.0, 3.0, 0.5)) == 15.0


def test_periods() -> None:
    now = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)  # a Saturday
    assert period_start(Period.DAY, now) == datetime(2026, 11, 21, tzinfo=UTC)
    assert period_start(Period.WEEK, now) == datetime(2026, 11, 16, tzinfo=UTC)
    assert period_start(Period.MONTH, now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert period_end(Period.MONTH, now) == datetime(2026, 12, 1, tzinfo=UTC)
    assert period_end(Period.WEEK, now) == datetime(2026, 11, 23, tzinfo=UTC)
    assert period_start(Period.ALL, now) is None


def test_audit_records() -> None:
    at = datetime(2026, 11, 21, tzinfo=UTC)
    old = ProjectTerms(name="lab", tier=Tier.COMMERCIAL, quota=Quota(limit=100.0))
    new = ProjectTerms(name="lab", tier=Tier.RESEARCH, quota=Quota(limit=250.0))
    recs = audit_project_change(old, new, actor="admin", at=at, reason="grant")
    changed = {(r.field, r.old, r.new) for r in recs}
    assert changed == {("tier", "commercial", "research"), ("quota.limit", 100.0, 250.0)}
    assert all(r.subject == "project:lab" for r in recs)
    assert AuditRecord.from_dict(recs[0].to_dict()) == recs[0]
    assert audit_price_change("qpu-gate", 100.0, 100.0, actor="a", at=at) == []
    (rec,) = audit_price_change("qpu-gate", 100.0, 80.0, actor="a", at=at)
    assert rec.old == 100.0 and rec.new == 80.0
