"""Benchmark runs through a kakehashi service: every run an ordinary job (submit, then wait).

:class:`ServiceSolve` has the signature of :func:`kakehashi.solve`, so the runner uses it in its
place (``kakehashi bench run SUITE --url URL --token T``). Each run is then queued, placed,
metered and charged like any user's job; the run record gets ``service`` (job id, queue seconds
from the job's times, attempt) and ``machine_kind`` (the hardware kind the result names). The
result file's ``invocation.service`` names the service URL and the machine kinds seen.
"""

from __future__ import annotations

from typing import Any

from kakehashi.model.problem import Problem
from kakehashi.result import Result


class ServiceSolve:
    """``solve(problem, backend, *, time_limit, seed, params)`` through a service client."""

    def __init__(self, client: Any, *, wait_margin: float = 300.0) -> None:
        self.client = client
        self.wait_margin = wait_margin  # seconds beyond the budget to wait for a queued job
        self.last_run: dict[str, Any] = {}
        self.kinds: set[str] = set()

    def __call__(self, problem: Problem, backend: str, *, time_limit: float, seed: int | None = None,
                 params: dict[str, Any] | None = None) -> Result:
        job = self.client.submit(problem, backend=backend, time_limit=time_limit, seed=seed, params=params)
        result: Result = self.client.result(job.id, timeout=time_limit + self.wait_margin)
        final = self.client.status(job.id)
        raw = final.raw
        queue = None
        if final.created_at is not None and raw.get("started_at"):
            from datetime import datetime

            started = datetime.fromisoformat(str(raw["started_at"]).replace("Z", "+00:00"))
            queue = max(0.0, (started - final.created_at).total_seconds())
        kind = str(result.provenance.hardware or "cpu")
        self.kinds.add(kind)
        self.last_run = {"machine_kind": kind,
                         "service": {"job_id": job.id, "queue_s": queue, "attempt": final.attempt,
                                     "run_seconds": raw.get("run_seconds"),
                                     "placement": raw.get("placement")}}
        return result
