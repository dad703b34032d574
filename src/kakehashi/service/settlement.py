"""Accounting across sites: a project's ledger rows per month, and the settlement with one peer.

Both sites bill a forwarded job. The home site bills its user like any job, at the price of the
peer's offer here (``price_yen_per_second``) and the user's own discount, for the machine-seconds
the peer measured (the peer's ``run_seconds``, so the two sides count the same seconds). The peer
bills the project it gave this site (the peer token's project) at its own prices and terms.

:func:`settle` reconciles one calendar month (UTC) with a peer: this site's forwarded attempts
(``forwards``) and their home ledger rows against the peer's ledger rows for the jobs this site
submitted there (``GET /v1/ledger?period=YYYY-MM`` with the peer token). Every forwarded job is a
line; a line is a *mismatch* when

- ``not billed at the peer``: billed at home, no ledger row at the peer;
- ``not billed at home``: the peer billed an attempt this site did not bill its user (an attempt
  abandoned after the peer was lost: the cost of the failover, for the operators to settle);
- ``unknown here``: the peer billed a job this site has no record of forwarding;
- ``seconds differ``: the two ledgers disagree on the machine-seconds (beyond 1 ms);
- ``price differs from the agreement``: the peer's charge is not the offer's
  ``agreed_yen_per_second`` × seconds (beyond 0.01 yen), when the offer states one.

A job forwarded near a month's end and finished in the next month shows as a mismatch of both
months; settle the two months together.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from kakehashi.exceptions import KakehashiError, ModelError
from kakehashi.service.peers import PeerRecord
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import Forward, Job, LedgerEntry

#: A UTC month ``YYYY-MM`` (years 1000-9999), as the API documents it.
PERIOD_PATTERN = r"^([1-9][0-9]{3})-(0[1-9]|1[0-2])$"
_PERIOD = re.compile(PERIOD_PATTERN)
#: Tolerances of a match: machine-seconds (s) and yen.
SECONDS_TOLERANCE = 1e-3
YEN_TOLERANCE = 0.01


class PeerLedgerError(KakehashiError):
    """The peer's ledger could not be read (unreachable, refused, not a ledger)."""


def month_bounds(period: str) -> tuple[float, float]:
    """``[start, end)`` in UNIX seconds of the UTC calendar month ``YYYY-MM``."""
    m = _PERIOD.match(period or "")
    if m is None or not 1 <= int(m[2]) <= 12:
        raise ModelError(f"period must be a month YYYY-MM, got {period!r}", field="period")
    year, month = int(m[1]), int(m[2])
    start = datetime(year, month, 1, tzinfo=UTC)
    days = calendar.monthrange(year, month)[1]
    end = start.timestamp() + days * 86400.0
    return start.timestamp(), end


def ledger_rows(
    db: Database, project_id: str, period: str, *, token_id: str | None = None
) -> list[dict[str, Any]]:
    """The project's ledger rows in ``period`` (only the jobs ``token_id`` submitted, if given)."""
    start, end = month_bounds(period)
    q = (
        select(LedgerEntry, Job.idempotency_key)
        .join(Job, Job.id == LedgerEntry.job_id)
        .where(
            LedgerEntry.project_id == project_id,
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
        .order_by(LedgerEntry.id)
    )
    if token_id is not None:
        q = q.where(Job.token_id == token_id)
    with db.read() as s:
        rows = s.execute(q).all()
    return [
        {
            "job_id": e.job_id,
            "attempt": e.attempt,
            "idempotency_key": key,
            "backend": e.backend,
            "machine": e.machine,
            "machine_seconds": e.machine_seconds,
            "unit_price_yen": e.unit_price_yen,
            "list_yen": e.list_yen,
            "discount_rate": e.discount_rate,
            "cost_yen": e.cost_yen,
            "created_at": e.created_at,
        }
        for e, key in rows
    ]


def peer_ledger(peer: PeerRecord, token: str, period: str, *, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The peer's ledger rows of this site's jobs there (``GET /v1/ledger``)."""
    try:
        r = httpx.get(
            peer.url + "/v1/ledger",
            params={"period": period},
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise PeerLedgerError(f"peer {peer.name} unreachable: {exc}") from exc
    if r.status_code != 200:
        raise PeerLedgerError(f"peer {peer.name}: GET /v1/ledger answered {r.status_code}: {r.text[:200]}")
    try:
        rows = r.json()["rows"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PeerLedgerError(f"peer {peer.name}: GET /v1/ledger did not answer a ledger") from exc
    if not isinstance(rows, list):
        raise PeerLedgerError(f"peer {peer.name}: GET /v1/ledger did not answer a ledger")
    return [r for r in rows if isinstance(r, dict)]


@dataclass
class Settlement:
    """One peer, one month: every forwarded job's two sides, the mismatches, the totals (yen)."""

    peer: str
    period: str
    lines: list[dict[str, Any]] = field(default_factory=list)
    home_charged_yen: float = 0.0
    peer_charged_yen: float = 0.0
    agreed_yen: float | None = None

    @property
    def mismatches(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["issue"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "peer": self.peer,
            "period": self.period,
            "jobs": len(self.lines),
            "home_charged_yen": self.home_charged_yen,
            "peer_charged_yen": self.peer_charged_yen,
            "agreed_yen": self.agreed_yen,
            "reconciled": not self.mismatches,
            "mismatches": self.mismatches,
            "lines": self.lines,
        }


def settle(db: Database, peer: PeerRecord, token: str, period: str) -> Settlement:
    """Reconcile ``period`` (``YYYY-MM``) with ``peer`` (see the module docstring)."""
    start, end = month_bounds(period)
    remote = {str(r.get("job_id")): r for r in peer_ledger(peer, token, period)}
    with db.read() as s:
        forwards = list(
            s.scalars(
                select(Forward)
                .where(Forward.peer == peer.name, Forward.created_at >= start, Forward.created_at < end)
                .order_by(Forward.created_at)
            )
        )
        billed = {
            (e.job_id, e.attempt): e
            for e in s.scalars(select(LedgerEntry).where(LedgerEntry.job_id.in_([f.job_id for f in forwards])))
        }
        every_forward = set(s.scalars(select(Forward.remote_job_id).where(Forward.peer == peer.name)))
    out = Settlement(peer.name, period)
    agreed_total = 0.0
    agreed_known = True
    for f in forwards:
        home = billed.get((f.job_id, f.attempt))
        theirs = remote.pop(f.remote_job_id, None)
        offer = peer.offer_of(f.machine)
        rate = offer.agreed_yen_per_second if offer is not None else None
        line: dict[str, Any] = {
            "job_id": f.job_id,
            "attempt": f.attempt,
            "remote_job_id": f.remote_job_id,
            "home_seconds": None if home is None else home.machine_seconds,
            "home_charged_yen": None if home is None else home.cost_yen,
            "peer_seconds": None if theirs is None else float(theirs.get("machine_seconds") or 0.0),
            "peer_charged_yen": None if theirs is None else float(theirs.get("cost_yen") or 0.0),
            "agreed_yen": None,
            "issue": None,
        }
        if home is not None:
            out.home_charged_yen += home.cost_yen
        if theirs is not None:
            out.peer_charged_yen += line["peer_charged_yen"]
            if rate is None:
                agreed_known = False
            else:
                line["agreed_yen"] = rate * line["peer_seconds"]
                agreed_total += line["agreed_yen"]
        if home is None and theirs is None:
            continue  # never billed on either side (e.g. lost before it ran, cancelled unbilled)
        if theirs is None:
            line["issue"] = "not billed at the peer"
        elif home is None:
            line["issue"] = "not billed at home"
        elif abs(home.machine_seconds - line["peer_seconds"]) > SECONDS_TOLERANCE:
            line["issue"] = "seconds differ"
        elif line["agreed_yen"] is not None and abs(line["agreed_yen"] - line["peer_charged_yen"]) > YEN_TOLERANCE:
            line["issue"] = "price differs from the agreement"
        out.lines.append(line)
    for job_id, theirs in remote.items():
        if job_id in every_forward:
            continue  # forwarded in another month: that month's settlement has it
        charged = float(theirs.get("cost_yen") or 0.0)
        out.peer_charged_yen += charged
        out.lines.append(
            {
                "job_id": None,
                "attempt": theirs.get("attempt"),
                "remote_job_id": job_id,
                "home_seconds": None,
                "home_charged_yen": None,
                "peer_seconds": float(theirs.get("machine_seconds") or 0.0),
                "peer_charged_yen": charged,
                "agreed_yen": None,
                "issue": "unknown here",
            }
        )
    out.agreed_yen = agreed_total if agreed_known else None
    return out
