"""Does the ledger agree with Slurm? One row per billed attempt that ran as a batch job.

For each ledger row whose attempt ran on the ``slurm`` executor (its ``placed`` progress event
names the Slurm job id), Slurm's record of that batch job is read again through the same
controller the workers use and its machine-seconds recomputed (:func:`.executor.machine_seconds`,
× the job's legs as the ledger counts them). Rows that differ, and rows whose batch job Slurm no
longer knows (past the controller's ``MinJobAge``: compare with ``sacct`` there), are listed.
``kakehashi admin usage --reconcile-slurm`` prints them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlalchemy import select

from kakehashi.service.executors.slurm.control import Controller, ControllerError
from kakehashi.service.executors.slurm.executor import machine_seconds, make_controller
from kakehashi.service.executors.slurm.settings import SlurmSettings
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import Job, JobEvent, LedgerEntry

#: Machine-seconds closer than this count as equal (float sums; Slurm's are whole seconds).
TOLERANCE_SECONDS = 1e-6


@dataclass(frozen=True)
class Difference:
    """A ledger row that does not match Slurm's record (``slurm_seconds`` None: no record)."""

    job_id: str
    attempt: int
    slurm_job_id: int
    ledger_seconds: float
    slurm_seconds: float | None
    note: str


@dataclass(frozen=True)
class Reconciliation:
    """``checked`` ledger rows of Slurm attempts; the ones that differ."""

    checked: int
    differences: list[Difference]


def _slurm_ids(db: Database, job_ids: list[str]) -> dict[tuple[str, int], int]:
    """(job id, attempt) → Slurm job id, from the ``placed`` events of the slurm executor."""
    found: dict[tuple[str, int], int] = {}
    with db.read() as s:
        rows = s.execute(
            select(JobEvent.job_id, JobEvent.data_json).where(
                JobEvent.job_id.in_(job_ids), JobEvent.kind == "progress"
            )
        ).all()
    for job_id, data_json in rows:
        data = json.loads(data_json)
        if data.get("event") == "placed" and data.get("executor") == "slurm" and data.get("slurm_job_id"):
            found[(job_id, int(data.get("attempt", 0)))] = int(data["slurm_job_id"])
    return found


def reconcile(
    db: Database, settings: SlurmSettings, controller: Controller | None = None, *, since: float = 0.0
) -> Reconciliation:
    """Compare the ledger rows created at or after ``since`` (UNIX seconds) with Slurm's records.

    Raises :class:`~.control.ControllerError` when the controller cannot be reached."""
    if controller is None:
        own = make_controller(settings)
        try:
            return reconcile(db, settings, own, since=since)
        finally:
            close = getattr(own, "close", None)
            if callable(close):
                close()
    with db.read() as s:
        rows = list(s.scalars(select(LedgerEntry).where(LedgerEntry.created_at >= since)))
        legs = {
            j.id: max(1, len(json.loads(j.placement_json or "[]")))
            for j in s.scalars(select(Job).where(Job.id.in_([r.job_id for r in rows])))
        }
    ids = _slurm_ids(db, sorted({r.job_id for r in rows}))
    checked = 0
    differences: list[Difference] = []
    now = time.time()
    for row in rows:
        slurm_job_id = ids.get((row.job_id, row.attempt))
        if slurm_job_id is None:
            continue
        checked += 1
        record = controller.job(slurm_job_id)
        if record is None:
            differences.append(
                Difference(
                    row.job_id, row.attempt, slurm_job_id, row.machine_seconds, None, "no record in Slurm"
                )
            )
            continue
        kind = row.hardware
        seconds = machine_seconds(record, kind, settings.leg(kind), now) * legs.get(row.job_id, 1)
        if not record.ended:
            note = f"still {record.state}"
        elif abs(seconds - row.machine_seconds) > TOLERANCE_SECONDS:
            note = f"{record.state}, {record.tres_alloc}"
        else:
            continue
        differences.append(
            Difference(row.job_id, row.attempt, slurm_job_id, row.machine_seconds, seconds, note)
        )
    return Reconciliation(checked, differences)


__all__ = ["ControllerError", "Difference", "Reconciliation", "reconcile"]
