"""What the dashboard's pages show, gathered from the store with the service's own functions.

Each function takes the service :class:`~kakehashi.service.api.deps.State` and the caller's
project id and returns plain dicts for the templates; every job query goes through
:mod:`kakehashi.service.jobs`, so another project's job is "not found" here exactly as in the API.
Seconds are wall seconds, money is yen (JPY).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from kakehashi.service import jobs, metering, pool_state, quotas, scheduling
from kakehashi.service.api.deps import State
from kakehashi.service.store.models import Job, LedgerEntry, Project
from kakehashi.service.web import charts


def iso(ts: float | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` UTC of UNIX seconds ("" for None)."""
    return "" if ts is None else datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def job_row(job: Job) -> dict[str, Any]:
    """One line of the jobs table (also the JSON the list page polls)."""
    return {
        "id": job.id,
        "name": job.problem_name,
        "status": job.status,
        "backend": job.backend,
        "created": iso(job.created_at),
        "objective": None if job.objective is None or job.objective != job.objective else job.objective,
        "result_status": job.result_status,
        "run_seconds": job.run_seconds,
        "variables": job.num_variables,
        "constraints": job.num_constraints,
    }


def problem_summary(problem_json: str) -> dict[str, Any]:
    """Size, variable types, constraint kinds (sense counts) and the objective's sense."""
    try:
        d = json.loads(problem_json)
    except ValueError:
        return {}
    variables = d.get("variables") or []
    constraints = d.get("constraints") or []
    kinds: Counter[str] = Counter()
    for c in constraints:
        quad = "quadratic" if c.get("quadratic") else "linear"
        kinds[f"{quad} {c.get('sense', '?')}"] += 1
    metadata = d.get("metadata") or {}
    return {
        "name": d.get("name", ""),
        "sense": d.get("sense", "min"),
        "variables": len(variables),
        "variable_types": dict(Counter(str(v.get("type", "?")) for v in variables)),
        "constraints": len(constraints),
        "constraint_kinds": dict(kinds),
        "known_optimum": d.get("known_optimum"),
        "format": metadata.get("format", ""),
        "app": (metadata.get("app") or {}).get("name") if isinstance(metadata.get("app"), dict) else None,
    }


def job_detail(state: State, project_id: str, job_id: str) -> dict[str, Any]:
    """Everything the job page shows; :class:`~kakehashi.service.jobs.JobNotFoundError` for a job
    of another project."""
    from kakehashi.result import Result

    job, result_json = jobs.get_result(state.db, project_id, job_id)
    result = Result.from_json(result_json) if result_json else None
    with state.db.read() as s:
        ledger = list(
            s.query(LedgerEntry).filter(LedgerEntry.job_id == job.id, LedgerEntry.project_id == project_id)
        )
    out: dict[str, Any] = {
        "job": job_row(job),
        "error": job.error,
        "time_limit": job.time_limit,
        "started": iso(job.started_at),
        "finished": iso(job.finished_at),
        "attempt": job.attempt,
        "problem": problem_summary(job.problem_json),
        "machine_seconds": sum(e.machine_seconds for e in ledger),
        "cost_yen": sum(e.cost_yen for e in ledger),
        "list_yen": sum(e.list_yen for e in ledger),
        "machines": sorted({e.machine or e.hardware for e in ledger}),
        "result": None,
        "convergence": None,
        "timeline": None,
        "domain": None,
    }
    if result is None:
        return out
    legs = result.legs or []
    series = [charts.Series(leg.backend, [(float(t), float(e)) for t, e in leg.trajectory]) for leg in legs]
    if not any(s.points for s in series) and result.trajectory:
        points = [(float(t), float(e)) for t, e in result.trajectory]
        series = [charts.Series(result.provenance.backend or job.backend, points)]
    out["convergence"] = charts.line_chart(
        series,
        title=f"Convergence of {job.problem_name}: best target energy against time",
        x_label="seconds since solve() started",
        y_label="best energy (target, lower is better)",
    )
    out["no_incumbents"] = [
        {"backend": leg.backend, "objective": leg.objective, "seconds": leg.solve_seconds}
        for leg in legs
        if not leg.trajectory
    ]
    out["timeline"] = charts.timeline(
        [charts.Span(leg.backend, leg.startup_seconds, leg.solve_seconds, leg.status.value) for leg in legs],
        title="The race: one bar per leg",
    )
    sample = list(result.sample.items())
    out["result"] = {
        "status": result.status.value,
        "objective": result.objective,
        "feasible": result.feasible,
        "violations": {k: v for k, v in result.violations.items() if v > 1e-9},
        "gap": result.gap,
        "bound": result.bound,
        "backend": result.provenance.backend,
        "timings": {
            k: getattr(result.timings, k)
            for k in ("compile", "queue", "solve", "total")
            if hasattr(result.timings, k)
        },
        "sample": sample[:200],
        "sample_more": max(0, len(sample) - 200),
        "legs": [
            {
                "backend": leg.backend,
                "status": leg.status.value,
                "objective": leg.objective,
                "feasible": leg.feasible,
                "solve_seconds": leg.solve_seconds,
                "error": leg.error,
            }
            for leg in legs
        ],
        "route": (result.info or {}).get("route"),
        "error": result.error,
    }
    out["domain"] = _domain(job, result)
    return out


def _domain(job: Job, result: Any) -> dict[str, Any] | None:
    """The app's interpretation, validation and picture (route map, weights, unit-commitment
    Gantt) for a job submitted as domain input, else None."""
    from kakehashi.service import domain

    try:
        metadata = json.loads(job.problem_json).get("metadata") or {}
        record = domain.app_of(metadata) if isinstance(metadata, dict) else None
        if record is None:
            return None
        out = dict(domain.answer(record, result))
    except Exception as exc:  # an answer the app cannot read is shown as such, not a 500
        return {"valid": False, "violations": [f"could not interpret the answer: {type(exc).__name__}"]}
    answer = out.get("answer") or {}
    app = out.get("app")
    if app == "routing" and answer.get("routes") is not None:
        coords = (record.get("instance") or {}).get("coords") or []
        out["picture"] = charts.route_map(
            coords, [r.get("nodes", []) for r in answer["routes"]], title=f"Routes of {job.problem_name}"
        )
    elif app == "portfolio" and isinstance(answer.get("weights"), dict):
        out["picture"] = charts.bar_chart(
            sorted(answer["weights"].items(), key=lambda kv: -kv[1]), title="Portfolio weights", unit=""
        )
    elif app == "unit-commitment" and isinstance(answer.get("on"), dict):
        out["picture"] = charts.gantt(answer["on"], title=f"Unit commitment of {job.problem_name}")
    return out


def usage(state: State, project_id: str, period: metering.Period) -> dict[str, Any]:
    """Spend and machine-seconds by period and backend (charts), totals, tier, discount, quota."""
    report = metering.usage(state.db, project_id, period=period)
    with state.db.read() as s:
        proj = s.get(Project, project_id)
        assert proj is not None
        base = state.pool.base(s, time.time())
        terms = quotas.terms_of(proj, base)
        quota = quotas.quota_status(s, project_id)
        rate = quotas.discount_rate(terms, base)
    by_period: dict[str, float] = defaultdict(float)
    by_period_ms: dict[str, float] = defaultdict(float)
    by_backend: dict[str, float] = defaultdict(float)
    by_backend_ms: dict[str, float] = defaultdict(float)
    for r in report.rows:
        by_period[r.period] += r.cost_yen
        by_period_ms[r.period] += r.machine_seconds
        by_backend[r.backend] += r.cost_yen
        by_backend_ms[r.backend] += r.machine_seconds
    return {
        "period": period,
        "rows": [r.__dict__ for r in report.rows],
        "total_cost_yen": report.total_cost_yen,
        "total_machine_seconds": report.total_machine_seconds,
        "total_runs": sum(r.runs for r in report.rows),
        "tier": terms.tier.value,
        "discount_rate": rate,
        "quota": quota,
        "charts": [
            (title, charts.bar_chart(sorted(data.items()), title=title, unit=unit))
            for title, data, unit in (
                (f"Spend per {period} (yen, charged)", by_period, "yen"),
                (f"Machine-seconds per {period}", by_period_ms, "s"),
                ("Spend per backend (yen, charged)", by_backend, "yen"),
                ("Machine-seconds per backend", by_backend_ms, "s"),
            )
        ],
    }


def pool(state: State, project_id: str | None) -> dict[str, Any]:
    """The pool view of ``GET /v1/pool`` (machines, slots, queue) plus maintenance windows."""
    with state.db.read() as s:
        snap = pool_state.snapshot(s, state.pool)
    view = scheduling.pool_view(snap, scheduling.run_pass(snap, full=True), project_id)
    windows = {
        m.name: [
            f"weekly {w.weekly}" if w.weekly else f"{w.start:%Y-%m-%d %H:%M} to {w.end:%Y-%m-%d %H:%M} UTC"
            for w in m.maintenance
        ]
        for m in snap.config.machines
    }
    for m in view["machines"]:
        m["maintenance_windows"] = windows.get(m["name"], [])
    return view
