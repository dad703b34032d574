"""Metering: machine-seconds per run, priced per backend hardware kind, summed per project.

Each finished attempt writes one ledger row (see :func:`kakehashi.service.lease.finish`):
``machine_seconds`` is the wall time the solver child process spent on the job (seconds), the
unit price is the operator's yen per second for the backend's hardware kind, and
``list_yen = machine_seconds × unit_price_yen``, less the project's discount (its tier's, or
the admin's override) gives the charged ``cost_yen`` (:func:`kakehashi.pool.quota.charge`). An attempt whose worker died is not billed
(nobody can measure it); the retry is.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select

from kakehashi.service.store.db import Database
from kakehashi.service.store.models import LedgerEntry

Period = Literal["day", "month", "all"]


def hardware_of(backend: str) -> str:
    """The hardware kind (``cpu``, ``gpu``, ``qpu-anneal``...) a backend runs on; ``cpu`` if unknown."""
    try:
        from kakehashi.backends.registry import get_backend

        return str(get_backend(backend).capabilities().hardware.value)
    except Exception:  # an unknown or unloadable backend is still metered, as cpu
        return "cpu"


@dataclass
class UsageRow:
    """Use and cost of one backend in one period."""

    period: str
    backend: str
    hardware: str
    runs: int = 0
    machine_seconds: float = 0.0
    cost_yen: float = 0.0
    list_cost_yen: float = 0.0
    discount_yen: float = 0.0


@dataclass
class UsageReport:
    """A project's use between ``start`` and ``end`` (UNIX seconds), by period and backend."""

    project_id: str
    start: float | None
    end: float | None
    period: str
    rows: list[UsageRow] = field(default_factory=list)

    @property
    def total_cost_yen(self) -> float:
        return sum(r.cost_yen for r in self.rows)

    @property
    def total_machine_seconds(self) -> float:
        return sum(r.machine_seconds for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "start": self.start,
            "end": self.end,
            "period": self.period,
            "currency": "JPY",
            "total_cost_yen": self.total_cost_yen,
            "total_machine_seconds": self.total_machine_seconds,
            "total_runs": sum(r.runs for r in self.rows),
            "total_list_cost_yen": sum(r.list_cost_yen for r in self.rows),
            "total_discount_yen": sum(r.discount_yen for r in self.rows),
            "rows": [r.__dict__ for r in self.rows],
        }


def _period_key(ts: float, period: Period) -> str:
    d = datetime.fromtimestamp(ts, tz=UTC)
    if period == "day":
        return d.strftime("%Y-%m-%d")
    if period == "month":
        return d.strftime("%Y-%m")
    return "all"


def usage(
    db: Database,
    project_id: str,
    *,
    start: float | None = None,
    end: float | None = None,
    period: Period = "day",
) -> UsageReport:
    """Sum the project's ledger between ``start`` (inclusive) and ``end`` (exclusive)."""
    q = select(LedgerEntry).where(LedgerEntry.project_id == project_id)
    if start is not None:
        q = q.where(LedgerEntry.created_at >= start)
    if end is not None:
        q = q.where(LedgerEntry.created_at < end)
    groups: dict[tuple[str, str, str], UsageRow] = defaultdict(lambda: UsageRow("", "", ""))
    with db.read() as s:
        for e in s.scalars(q):
            key = (_period_key(e.created_at, period), e.backend, e.hardware)
            row = groups[key]
            row.period, row.backend, row.hardware = key
            row.runs += 1
            row.machine_seconds += e.machine_seconds
            row.cost_yen += e.cost_yen
            row.list_cost_yen += e.list_yen
            row.discount_yen += e.discount_yen
    rows = sorted(groups.values(), key=lambda r: (r.period, r.backend))
    return UsageReport(project_id=project_id, start=start, end=end, period=period, rows=rows)
