"""Benchmark results per project: store, list, get, and the leaderboard query.

A result is validated (:func:`kakehashi.bench.record.validate_result`) and stored verbatim with
one :class:`~kakehashi.service.store.models.BenchmarkEntry` per (backend, machine kind),
recomputed from its runs (:func:`kakehashi.bench.record.entries`). Every query is scoped by the
caller's project: another project's result is "not found", like another project's job.

The leaderboard of a suite is, per (backend, machine kind), the project's best entry: highest
success rate (runs within ε of the best-known value), then lowest median gap, then highest
feasible rate, then the most recent.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from kakehashi.bench.record import entries, validate_result
from kakehashi.exceptions import JobError
from kakehashi.service.store.db import Database
from kakehashi.service.store.ids import new_id
from kakehashi.service.store.models import BenchmarkEntry, BenchmarkResult


class BenchmarkNotFoundError(JobError):
    """No benchmark result with this id in the caller's project (another project's included)."""


def store(db: Database, project_id: str, doc: Any) -> tuple[BenchmarkResult, list[BenchmarkEntry]]:
    """Validate and store a result document for ``project_id``; ModelError names a bad field."""
    validate_result(doc)
    rows = entries(doc)
    manifest = doc["manifest"]
    kinds = sorted({r["machine_kind"] for r in rows})
    now = time.time()
    invocation = doc.get("invocation") if isinstance(doc.get("invocation"), dict) else {}
    service = invocation.get("service") if isinstance(invocation, dict) else None
    result = BenchmarkResult(
        id=new_id("bench"), project_id=project_id, suite=doc["suite"]["name"],
        problem_class=str(doc["suite"].get("problem_class") or "")[:100], sense=doc["suite"]["sense"],
        kakehashi_version=str(manifest.get("kakehashi_version") or "")[:64],
        git_commit=str(manifest.get("git_commit") or "")[:64],
        machine_kinds=",".join(kinds)[:200], via_service=isinstance(service, dict),
        runs=len(doc["runs"]), result_json=json.dumps(doc, separators=(",", ":")), created_at=now,
    )
    stored = [BenchmarkEntry(result_id=result.id, project_id=project_id, suite=result.suite,
                             created_at=now, **{**r, "backend": r["backend"][:100],
                                                "machine_kind": r["machine_kind"][:40]})
              for r in rows]
    with db.write() as s:
        s.add(result)
        s.flush()
        s.add_all(stored)
    return result, stored


def get(db: Database, project_id: str, result_id: str) -> tuple[BenchmarkResult, list[BenchmarkEntry]]:
    """The result ``result_id`` of ``project_id`` and its entries; BenchmarkNotFoundError otherwise."""
    with db.read() as s:
        row = s.scalars(select(BenchmarkResult).where(BenchmarkResult.id == result_id,
                                                      BenchmarkResult.project_id == project_id)).first()
        if row is None:
            raise BenchmarkNotFoundError(f"no benchmark result {result_id!r} in this project")
        ents = list(s.scalars(select(BenchmarkEntry).where(BenchmarkEntry.result_id == row.id)
                              .order_by(BenchmarkEntry.id)))
    return row, ents


def list_results(db: Database, project_id: str, *, suite: str | None = None, machine_kind: str | None = None,
                 before_seq: int | None = None, limit: int = 50) -> list[BenchmarkResult]:
    """The project's results, newest first; ``machine_kind`` keeps results with runs of that kind."""
    q = select(BenchmarkResult).where(BenchmarkResult.project_id == project_id)
    if suite:
        q = q.where(BenchmarkResult.suite == suite)
    if machine_kind:
        sub = select(BenchmarkEntry.result_id).where(BenchmarkEntry.project_id == project_id,
                                                     BenchmarkEntry.machine_kind == machine_kind)
        q = q.where(BenchmarkResult.id.in_(sub))
    if before_seq is not None:
        q = q.where(BenchmarkResult.seq < before_seq)
    q = q.order_by(BenchmarkResult.seq.desc()).limit(limit)
    with db.read() as s:
        return list(s.scalars(q))


def _rank(e: BenchmarkEntry) -> tuple[float, float, float, float]:
    return (-(e.success_rate if e.success_rate is not None else -1.0),
            e.median_gap if e.median_gap is not None else float("inf"),
            -e.feasible_rate, -e.created_at)


def leaderboard(db: Database, project_id: str, suite: str, *, machine_kind: str | None = None) -> list[BenchmarkEntry]:
    """Per (backend, machine kind), the best entry of ``suite`` in the project, best first."""
    q = select(BenchmarkEntry).where(BenchmarkEntry.project_id == project_id, BenchmarkEntry.suite == suite)
    if machine_kind:
        q = q.where(BenchmarkEntry.machine_kind == machine_kind)
    with db.read() as s:
        rows = list(s.scalars(q))
    best: dict[tuple[str, str], BenchmarkEntry] = {}
    for e in rows:
        key = (e.backend, e.machine_kind)
        if key not in best or _rank(e) < _rank(best[key]):
            best[key] = e
    return sorted(best.values(), key=_rank)
