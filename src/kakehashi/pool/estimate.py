"""Estimates before submission: queue wait, run time and cost for each eligible backend.

For every backend some machine of the pool runs:

- eligible: the problem compiles to a target the backend accepts within its size limit
  (:func:`kakehashi.inspection.fits`; a backend whose SDK or credentials are missing on THIS host
  is still checked against its declared capabilities, since the pool's workers may have them);
- run time (seconds): the time limit, or less when the learned model (history) expects the
  backend to finish sooner (e.g. an exact solver proving optimality);
- queue wait (seconds): the scheduler is simulated forward (:func:`kakehashi.pool.simulate.simulate`,
  the same policy) from the given pool snapshot and queue, with running and queued jobs taking
  their full time limits (so the estimate is an upper bound under that snapshot), until a
  one-leg job on this backend starts; None when it cannot start (machines down);
- cost (yen): machine price × run time × (1 − the project's discount).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kakehashi.compile import compile_for
from kakehashi.exceptions import KakehashiError
from kakehashi.model.problem import Problem
from kakehashi.pool.config import PoolConfig
from kakehashi.pool.quota import charge
from kakehashi.pool.scheduler import JobRequest, LegRequest, Policy, RunningLeg
from kakehashi.pool.simulate import simulate

#: Time limit assumed when none is given (seconds), as in :data:`kakehashi.solver.DEFAULT_TIME_LIMIT`.
DEFAULT_TIME_LIMIT = 10.0
_PROBE = "__estimate__"


@dataclass(frozen=True)
class BackendEstimate:
    """One backend's estimate. Times in seconds, money in yen."""

    backend: str
    eligible: bool
    reason: str = ""
    machine: str | None = None
    kind: str | None = None
    queue_wait_s: float | None = None
    run_time_s: float | None = None
    list_cost_yen: float | None = None
    discount_rate: float = 0.0
    cost_yen: float | None = None
    expected_quality: float | None = None

    @property
    def total_s(self) -> float | None:
        if self.queue_wait_s is None or self.run_time_s is None:
            return None
        return self.queue_wait_s + self.run_time_s

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_s": self.total_s}


def eligibility(problem: Problem, backends: Sequence[str]) -> dict[str, tuple[bool, str]]:
    """``{backend: (fits, reason)}`` for each name (see the module docstring)."""
    from kakehashi.backends.base import check_target
    from kakehashi.backends.registry import backend_names, get_backend
    from kakehashi.inspection import fits

    info = fits(problem)["backends"]
    registered = set(backend_names())
    out: dict[str, tuple[bool, str]] = {}
    for name in backends:
        row = info.get(name)
        if name not in registered or row is None:
            out[name] = (False, "not a registered backend here")
            continue
        if row["ok"]:
            out[name] = (True, f"target {row['target']}")
            continue
        if not str(row.get("reason", "")).startswith("not available"):
            out[name] = (False, str(row["reason"]))
            continue
        try:
            caps = get_backend(name).capabilities()
        except KakehashiError as exc:
            out[name] = (False, str(exc))
            continue
        reasons = []
        for kind in caps.targets:
            try:
                check_target(name, caps, compile_for(problem, kind))
            except KakehashiError as exc:
                reasons.append(str(exc))
                continue
            missing = str(row["reason"]).removeprefix("not available: ").removeprefix("not available: ")
            out[name] = (True, f"target {kind.value}; not available on this host ({missing}), the pool's workers may be")
            break
        else:
            out[name] = (False, "; ".join(reasons) or "accepts no target")
    return out


def estimate(
    problem: Problem,
    config: PoolConfig,
    *,
    project: str = "default",
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    now: float | None = None,
    queue: Sequence[JobRequest] = (),
    running: Sequence[RunningLeg] = (),
    down: Sequence[str] = (),
    usage: dict[str, float] | None = None,
    history: Any = None,
    policy: Policy | None = None,
) -> list[BackendEstimate]:
    """Estimates for every backend the pool runs, eligible ones first, fastest total first.

    Args:
        problem: the problem to be submitted.
        config: the pool.
        project: the submitting project (discount, fair share).
        time_limit: the job's time limit (seconds; None: :data:`DEFAULT_TIME_LIMIT`).
        now: the snapshot's time (UNIX seconds, the clock of ``queue``/``running``; None: now).
        queue: jobs waiting in the service.
        running: legs running now with their estimated ends.
        down: machines down now (beyond the config's ``up``).
        usage: decayed usage per project.
        history: a learned-router history (path, records or model) for expected run time and quality.
        policy: scheduling policy (default from the config).
    """
    limit = DEFAULT_TIME_LIMIT if time_limit is None else float(time_limit)
    now = time.time() if now is None else now
    names = config.backends()
    fit = eligibility(problem, names)
    predictions: dict[str, Any] = {}
    if history is not None:
        from kakehashi.inspection import features
        from kakehashi.learn.route import load_model

        predictions = load_model(history).predict(features(problem), time_limit)
    rate = config.discount_for(project)
    rows: list[BackendEstimate] = []
    down_set = set(down)
    for name in names:
        ok, why = fit[name]
        if not ok:
            rows.append(BackendEstimate(name, False, why, discount_rate=rate))
            continue
        pred = predictions.get(name)
        run = min(limit, pred.seconds) if pred is not None else limit
        probe = JobRequest(_PROBE, project, (LegRequest((name,)),), submit_time=now, run_time=limit)
        machines = [m for m in config.machines_for(name) if m.up and m.name not in down_set]
        events = []
        if down_set:
            from kakehashi.pool.simulate import MachineEvent

            events = [MachineEvent(now, m, False) for m in down_set]
        out = simulate(
            config,
            [probe],
            policy=policy,
            start=now,
            queued=list(queue),
            running=running,
            usage=usage,
            machine_events=events,
            stop_when_started=_PROBE,
            actual_run_time={_PROBE: run},
        )
        rec = out.records[_PROBE]
        if rec.rejected is not None or rec.start is None:
            why = rec.rejected or (
                "no machine running it is up" if not machines else "cannot start within the scheduling horizon"
            )
            rows.append(BackendEstimate(name, True, f"{why}", run_time_s=run, discount_rate=rate))
            continue
        placed = config.machine(rec.placements[0].machine)
        c = charge(run, placed.price_yen_per_second, rate)
        rows.append(
            BackendEstimate(
                backend=name,
                eligible=True,
                reason=why,
                machine=placed.name,
                kind=placed.kind.value,
                queue_wait_s=rec.start - now,
                run_time_s=run,
                list_cost_yen=c.list_yen,
                discount_rate=rate,
                cost_yen=c.charged_yen,
                expected_quality=None if pred is None else pred.quality,
            )
        )
    rows.sort(key=lambda r: (not r.eligible, r.total_s is None, r.total_s if r.total_s is not None else math.inf, r.backend))
    return rows
