"""The platform's own routing history: every finished ``auto`` job appends its legs' outcomes.

The history is a JSON-lines file (:mod:`kakehashi.learn.history` records) at
``KAKEHASHI_ROUTER_HISTORY``, else ``router_history`` in the operator config, else
``$KAKEHASHI_HOME/router-history.jsonl`` (next to the embedded database). Workers append to it
when an ``auto`` job succeeds (an exclusive ``flock`` keeps concurrent appends whole lines), and
the solver child (:mod:`kakehashi.service.runner`) points the learned router at it, so ``auto``
learns from the platform's own races; the explanation lands in ``Result.info["route"]``. With
PostgreSQL and workers on several hosts, point ``KAKEHASHI_ROUTER_HISTORY`` at a shared file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("kakehashi.history")

FILE_NAME = "router-history.jsonl"


def history_path() -> Path:
    """Where this process reads and appends the routing history (see the module docstring)."""
    env = os.environ.get("KAKEHASHI_ROUTER_HISTORY", "").strip()
    if env:
        return Path(env)
    if os.environ.get("KAKEHASHI_CONFIG"):
        from kakehashi.service.config import load_config

        configured = load_config().router_history
        if configured:
            return Path(configured)
    home = Path(os.environ.get("KAKEHASHI_HOME", str(Path.home() / ".kakehashi")))
    return home / FILE_NAME


def append_records(path: Path, lines: list[str]) -> None:
    """Append JSON lines under an exclusive lock (several workers may finish at once)."""
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write("".join(line + "\n" for line in lines))
            fh.flush()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def record_auto_run(claim: Any, result_json: str, path: Path | None = None) -> int:
    """Append the history records of a finished ``auto`` job; returns how many (0 on any error:
    the history is advisory and must never fail a job)."""
    try:
        from kakehashi.learn.history import records_from_result
        from kakehashi.model.problem import Problem
        from kakehashi.result import Result

        problem = Problem.from_dict(json.loads(claim.problem_json))
        result = Result.from_dict(json.loads(result_json))
        records = records_from_result(
            problem,
            result,
            time_limit=claim.time_limit,
            group="sha256:" + hashlib.sha256(claim.problem_json.encode()).hexdigest()[:16],
        )
        for r in records:
            r.extra["job_id"] = claim.job_id
            r.extra["source"] = "service"
        append_records(path or history_path(), [r.to_json() for r in records])
        return len(records)
    except Exception as exc:  # advisory: log and go on
        with contextlib.suppress(Exception):
            log.warning("could not record routing history: %s", exc, extra={"job_id": claim.job_id})
        return 0


def use_service_history() -> str | None:
    """Point the learned router of this process at the platform's history (when it exists and the
    operator did not name another with ``KAKEHASHI_ROUTER_HISTORY``); returns the path used."""
    if os.environ.get("KAKEHASHI_ROUTER_HISTORY", "").strip():
        return os.environ["KAKEHASHI_ROUTER_HISTORY"]
    path = history_path()
    if path.exists():
        os.environ["KAKEHASHI_ROUTER_HISTORY"] = str(path)
        return str(path)
    return None
