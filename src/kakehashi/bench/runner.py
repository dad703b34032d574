"""The benchmark runner: instance × backend × budget × seed through :func:`kakehashi.solve`.

Every run is one line of ``runs.jsonl`` in the output directory, appended (and flushed) as soon
as the run ends, so an interrupted benchmark resumes where it stopped: a rerun with the same
output directory skips the cells already there. At the end ``result.json`` is written: the
suite, the invocation, the manifest and every run. Each run records its incumbent time series
(best-so-far objective against seconds, in the problem's own sense) from ``Result.trajectory``
when the solver provides one; otherwise the single point ``(timings.total, objective)``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kakehashi.bench.appcases import APP_FORMATS, AppCase, load_case, run_case
from kakehashi.bench.manifest import LoadSampler, build_manifest
from kakehashi.bench.suite import Suite, load_problem
from kakehashi.exceptions import KakehashiError, ModelError
from kakehashi.model.problem import Problem
from kakehashi.result import Result, Status

RUNS_FILE = "runs.jsonl"
RESULT_FILE = "result.json"
#: Result files written by this module carry this format tag.
FORMAT = "kakehashi.bench/1"


@dataclass(frozen=True)
class Cell:
    """One run to make."""

    instance: str
    backend: str
    budget: float
    seed: int

    @property
    def key(self) -> str:
        return f"{self.instance}|{self.backend}|{self.budget:g}|{self.seed}"


def plan(suite: Suite, *, backends: Sequence[str] | None = None, budgets: Sequence[float] | None = None,
         seeds: Sequence[int] | None = None, instances: Sequence[str] | None = None) -> list[Cell]:
    """The cells of a benchmark, instance-major (overrides default to the suite's protocol)."""
    ids = list(instances) if instances else [i.id for i in suite.instances]
    for ident in ids:
        suite.instance(ident)
    bs = list(backends or suite.protocol.backends)
    ts = [float(t) for t in (budgets or suite.protocol.budgets)]
    if any(t <= 0 for t in ts):
        raise ModelError("budgets must be positive seconds", field="--budget")
    ss = list(suite.protocol.seeds if seeds is None else seeds)
    return [Cell(i, b, t, s) for i in ids for b in bs for t in ts for s in ss]


def _best_so_far(points: list[tuple[float, float]], sense: str) -> list[list[float]]:
    """Sort by time and keep only strict improvements (a monotone incumbent series)."""
    out: list[list[float]] = []
    for t, v in sorted(points):
        if not out or (v > out[-1][1] if sense == "max" else v < out[-1][1]):
            out.append([float(t), float(v)])
    return out


def trajectory(result: Result, problem: Problem) -> tuple[list[list[float]], str]:
    """The run's incumbent series ``[[seconds, objective], ...]`` and where it came from.

    ``Result.trajectory`` (when the solver records one) holds ``[seconds, target energy]``
    pairs: the compiled minimisation problem's energy, i.e. the objective for an unconstrained
    minimisation and minus the objective for an unconstrained maximisation. Those are converted
    to objective values. For a constrained problem the energy includes penalties and is no
    objective value, so only the final answer is used (``final-only``); the raw series is kept
    in the run record as ``target_trajectory``. A series better than the final answer (which
    cannot be) is distrusted the same way. The final answer (feasible only) closes the series at
    ``timings.total``, so the last point is the reported objective.
    """
    sense = problem.sense
    raw = getattr(result, "trajectory", None)
    if isinstance(raw, dict):  # one series per leg
        raw = [p for leg in raw.values() for p in (leg or [])]
    final: list[tuple[float, float]] = []
    if result.feasible and result.objective is not None:
        final = [(float(result.timings.total), float(result.objective))]
    if not isinstance(raw, list) or not raw:
        return _best_so_far(final, sense), "final-only"
    if problem.num_constraints:
        return _best_so_far(final, sense), "final-only (constrained: target energies include penalties)"
    sign = -1.0 if sense == "max" else 1.0
    points = [(float(p[0]), sign * float(p[1])) for p in raw
              if isinstance(p, list | tuple) and len(p) >= 2 and p[1] is not None]
    if final:
        obj = final[0][1]
        tol = 1e-6 * max(1.0, abs(obj))
        if any((v > obj + tol) if sense == "max" else (v < obj - tol) for _, v in points):
            return _best_so_far(final, sense), "final-only (trajectory better than the answer: distrusted)"
    return _best_so_far(points + final, sense), "result.trajectory"


def encode_sample(problem: Problem, sample: dict[Any, float]) -> dict[str, Any]:
    """A compact sample: a 0/1 string in ``problem.variables`` order for binary or spin models."""
    if not sample:
        return {"encoding": "none", "data": ""}
    values = [sample.get(v, 0.0) for v in problem.variables]
    if all(x in (0, 1) for x in values):
        return {"encoding": "binary-bits", "data": "".join("1" if x else "0" for x in values)}
    if all(x in (-1, 1) for x in values):
        return {"encoding": "spin-bits", "data": "".join("1" if x > 0 else "0" for x in values)}
    return {"encoding": "values", "data": [float(x) for x in values]}


def run_one(problem: Problem, cell: Cell, suite: Suite,
            solve: Callable[..., Result] | None = None) -> dict[str, Any]:
    """Make one run and return its JSON record (errors are recorded, not raised)."""
    import kakehashi

    solver = solve or kakehashi.solve
    params, specific = suite.tuning.params_for(cell.instance, cell.backend)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    record: dict[str, Any] = {
        "key": cell.key, "instance": cell.instance, "sha256": problem.metadata.get("sha256", ""),
        "backend": cell.backend, "budget": cell.budget, "seed": cell.seed, "params": params,
        "instance_specific": specific, "started": started, "load1_start": load,
    }
    try:
        result = solver(problem, cell.backend, time_limit=cell.budget, seed=cell.seed, params=params or None)
    except KakehashiError as exc:
        wall = time.perf_counter() - t0
        record.update({"status": "ERROR", "error": f"{type(exc).__name__}: {exc}", "objective": None,
                       "feasible": False, "wall_s": wall, "timings": {"total": wall},
                       "trajectory": [], "trajectory_source": "none", "sample": {"encoding": "none", "data": ""}})
        return record
    wall = time.perf_counter() - t0
    from kakehashi.bench.domain import check

    domain = check(problem, result)
    record["solver_status"] = result.status.value
    if domain is not None:
        record["domain_check"] = {"ok": domain.ok, "violations": domain.violations[:5]}
        if not domain.ok and result.feasible:
            result.feasible = False
            result.status = Status.INFEASIBLE
            result.gap = None
    extra = getattr(solver, "last_run", None)
    if isinstance(extra, dict):  # a service run (kakehashi.bench.remote): job id, queue, machine kind
        record.update(extra)
    traj, source = trajectory(result, problem)
    raw_traj = getattr(result, "trajectory", None)
    route = result.info.get("route")
    record.update({
        "status": result.status.value,
        "error": result.error,
        "objective": result.objective,
        "feasible": bool(result.feasible),
        "gap": result.gap,
        "bound": result.bound,
        "wall_s": wall,
        "timings": {"compile": result.timings.compile, "queue": result.timings.queue,
                    "solve": result.timings.solve, "total": result.timings.total},
        "backend_used": result.provenance.backend,
        "hardware": result.provenance.hardware,
        "versions": result.provenance.versions,
        "legs": [{"backend": leg.backend, "status": leg.status.value, "objective": leg.objective}
                 for leg in result.legs],
        "route": route["backends"] if isinstance(route, dict) else None,
        "trajectory": traj,
        "trajectory_source": source,
        "target_trajectory": raw_traj if isinstance(raw_traj, list) and source != "result.trajectory" else None,
        "sample": encode_sample(problem, result.sample if result.feasible else {}),
    })
    return record


def load_instance(suite: Suite, ident: str, *, root: Path | None = None) -> Problem | AppCase:
    """A suite instance, hash-checked: a Problem, or an :class:`AppCase` for application formats."""
    inst = suite.instance(ident)
    if inst.format in APP_FORMATS:
        from kakehashi.datasets.location import data_dir

        return load_case(inst, root=root if root is not None else data_dir(), sense=suite.sense)
    return load_problem(inst, root=root)


def run_app(case: AppCase, cell: Cell, suite: Suite) -> dict[str, Any]:
    """One run of an application instance (:mod:`kakehashi.bench.appcases`) as a run record."""
    params, specific = suite.tuning.params_for(cell.instance, cell.backend)
    record: dict[str, Any] = {
        "key": cell.key, "instance": cell.instance, "sha256": case.sha256, "backend": cell.backend,
        "budget": cell.budget, "seed": cell.seed, "params": params, "instance_specific": specific,
        "started": datetime.now(UTC).isoformat(timespec="seconds"), "load1_start": os.getloadavg()[0],
    }
    record.update(run_case(case, cell.backend, cell.budget, cell.seed, params))
    if record.get("feasible") and record.get("objective") is not None and case.best_known is not None:
        best = case.best_known
        record["gap"] = abs(record["objective"] - best) / max(abs(best), 1e-12)
    else:
        record["gap"] = None
    record.setdefault("bound", None)
    record.setdefault("versions", {})
    record.setdefault("hardware", None)
    record.setdefault("legs", [])
    record.setdefault("route", None)
    return record


def read_runs(out: Path) -> list[dict[str, Any]]:
    """The runs recorded so far in ``out/runs.jsonl`` (a torn last line is ignored)."""
    path = out / RUNS_FILE
    if not path.is_file():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            runs.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return runs


def _append(out: Path, record: dict[str, Any]) -> None:
    path = out / RUNS_FILE
    torn = False
    if path.is_file() and path.stat().st_size:
        with path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            torn = fh.read(1) != b"\n"  # an interrupted write left half a line: close it
    with path.open("a", encoding="utf-8") as fh:
        if torn:
            fh.write("\n")
        fh.write(json.dumps(record, separators=(",", ":")) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def run_suite(
    suite: Suite,
    out: Path,
    *,
    backends: Sequence[str] | None = None,
    budgets: Sequence[float] | None = None,
    seeds: Sequence[int] | None = None,
    instances: Sequence[str] | None = None,
    command: list[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    solve: Callable[..., Result] | None = None,
    data_root: Path | None = None,
    service: str | None = None,
) -> dict[str, Any]:
    """Run (or resume) a benchmark into ``out``; return the result document (also written).

    ``service``: the URL of the service ``solve`` submits to (a :class:`~kakehashi.bench.remote.ServiceSolve`);
    recorded in ``invocation.service`` with the machine kinds the runs used.

    ``progress(done, total, description)`` is called before and after every run.
    """
    cells = plan(suite, backends=backends, budgets=budgets, seeds=seeds, instances=instances)
    out.mkdir(parents=True, exist_ok=True)
    done = {r["key"] for r in read_runs(out)}
    todo = [c for c in cells if c.key not in done]
    started = datetime.now(UTC).isoformat(timespec="seconds")
    problems: dict[str, Problem | AppCase] = {}
    hashes: dict[str, str] = {}
    for ident in dict.fromkeys(c.instance for c in cells):
        inst = suite.instance(ident)
        hashes[ident] = inst.sha256
    count = len(cells) - len(todo)
    with LoadSampler() as sampler:
        for cell in todo:
            if progress:
                progress(count, len(cells), f"{cell.instance} {cell.backend} {cell.budget:g}s seed {cell.seed}")
            if cell.instance not in problems:
                problems.clear()  # one instance in memory at a time (cells are instance-major)
                problems[cell.instance] = load_instance(suite, cell.instance, root=data_root)
            case = problems[cell.instance]
            if isinstance(case, AppCase):
                if service:
                    raise ModelError(f"instance {case.id} ({case.format}) runs through its application "
                                     "pipeline, which 'bench run --url' does not submit yet; run it locally",
                                     field="--url")
                record = run_app(case, cell, suite)
            else:
                record = run_one(case, cell, suite, solve=solve)
            _append(out, record)
            count += 1
        if progress:
            progress(count, len(cells), "done")
    keys = {c.key for c in cells}
    runs = [r for r in read_runs(out) if r["key"] in keys]
    versions: dict[str, str] = {}
    for r in runs:
        versions.update(r.get("versions") or {})
    previous = _previous_load(out)
    load = sampler.summary()
    if previous:
        load["earlier_sessions"] = previous
    seed_list = list(dict.fromkeys(c.seed for c in cells))
    invocation: dict[str, Any] = {
        "suite": suite.name if suite.path.startswith("kakehashi:") else suite.path,
        "backends": list(dict.fromkeys(c.backend for c in cells)),
        "budgets": list(dict.fromkeys(c.budget for c in cells)),
        "seeds": seed_list,
        "instances": list(hashes),
    }
    if service:
        invocation["service"] = {"url": service,
                                 "machine_kinds": sorted({str(r.get("machine_kind") or "cpu") for r in runs})}
    doc = {
        "format": FORMAT,
        "suite": suite.to_dict(),
        "invocation": invocation,
        "manifest": build_manifest(command=command or sys.argv, load=load, instances=hashes,
                                   seeds=seed_list, run_versions=versions,
                                   started=started, finished=datetime.now(UTC).isoformat(timespec="seconds")),
        "instance_specific_runs": sum(1 for r in runs if r.get("instance_specific")),
        "runs": runs,
    }
    from kakehashi.bench.metrics import summarize

    doc["metrics"] = summarize(doc)
    (out / RESULT_FILE).write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return doc


def _previous_load(out: Path) -> list[dict[str, Any]] | None:
    """Load summaries of earlier sessions of a resumed benchmark (kept, not overwritten)."""
    path = out / RESULT_FILE
    if not path.is_file():
        return None
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    load = old.get("manifest", {}).get("load_average", {})
    earlier = list(load.get("earlier_sessions", []))
    earlier.append({k: v for k, v in load.items() if k != "earlier_sessions"})
    return earlier


def load_result(path: Path) -> dict[str, Any]:
    """Read a result file (or the ``result.json`` inside a directory); ModelError when not one."""
    if path.is_dir():
        path = path / RESULT_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError("result file not found", source=str(path)) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"not a JSON result file: {exc}", source=str(path)) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelError(f"not a kakehashi bench result (expected format {FORMAT!r})", source=str(path))
    return doc
