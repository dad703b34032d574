"""The result spool: finished attempts kept on local disk until the database has them.

Before a worker writes an outcome with the attempt-guarded :func:`~kakehashi.service.lease.finish`
it puts the claim and the outcome in one JSON file here (written to a temporary name, fsynced,
renamed: a file is whole or absent). The file is removed once ``finish`` has answered (written,
or refused as a stale attempt). A worker that dies in between leaves the file behind; the next
worker started on the same host (same boot and pid namespace) writes it, still fenced by
attempt and owner, before it claims anything. So a finished result survives a database outage
and a crash of its worker; only the lease's own expiry (the job re-queued meanwhile) can make it
stale, and then the newer attempt's result is the one kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

from kakehashi.service.jobs import JobStatus
from kakehashi.service.lease import Claim, Outcome, pid_alive

log = logging.getLogger("kakehashi.worker")


@dataclasses.dataclass(frozen=True)
class Spooled:
    """One spooled outcome: where it lies, the claim and the outcome, and whose it is."""

    path: Path
    claim: Claim
    outcome: Outcome
    pid: int
    boot_id: str


class Spool:
    """The spool directory of the workers of one host.

    Args:
        directory: where the files lie (created when needed).
        boot_id: this host's :func:`~kakehashi.service.identity.boot_id` (whose files are whose).
    """

    def __init__(self, directory: Path, boot_id: str) -> None:
        self.directory = directory
        self.boot_id = boot_id

    def _path(self, c: Claim) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in c.worker_id)
        return self.directory / f"{c.job_id}.{c.attempt}.{safe}.json"

    def put(self, c: Claim, outcome: Outcome) -> Path:
        """Write ``outcome`` of ``c`` durably; the file's path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(c)
        body = {
            "pid": os.getpid(),
            "boot_id": self.boot_id,
            "claim": dataclasses.asdict(c),
            "outcome": {**dataclasses.asdict(outcome), "status": outcome.status.value},
        }
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(body, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        with contextlib.suppress(OSError):  # the rename itself durable
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return path

    def remove(self, path: Path) -> None:
        """Forget a spooled outcome the database has answered for."""
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def orphans(self) -> list[Spooled]:
        """Spooled outcomes of dead workers of this host (and unreadable files are moved aside)."""
        if not self.directory.is_dir():
            return []
        out: list[Spooled] = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
                claim = Claim(**body["claim"])
                data = dict(body["outcome"])
                data["status"] = JobStatus(data["status"])
                outcome = Outcome(**data)
                pid, boot = int(body["pid"]), str(body["boot_id"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("unreadable spool file %s moved aside: %s", path, exc)
                with contextlib.suppress(OSError):
                    path.rename(path.with_suffix(".bad"))
                continue
            if boot == self.boot_id and pid != os.getpid() and pid_alive(pid):
                continue  # a live worker's: it writes it itself
            out.append(Spooled(path, claim, outcome, pid, boot))
        return out
