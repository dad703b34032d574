"""`solve()`: the one façade from a Problem to an evaluated Result.

For each backend: compile the problem for the first target kind the backend accepts,
check parameters and size, run it, invert the samples to the problem's own variables and
evaluate them on the ORIGINAL model. Several backends (or ``auto``) race in separate
processes under the time limit; the best feasible answer wins and every leg's outcome is
kept. Problems and results cross the process boundary as JSON, never pickled.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from kakehashi import __version__
from kakehashi.backends.base import Backend, BackendOutput, Termination, check_params, check_target
from kakehashi.backends.registry import get_backend
from kakehashi.compile import compile_for
from kakehashi.compile.targets import Compiled
from kakehashi.exceptions import BackendUnavailable, CompileError, KakehashiError
from kakehashi.model.problem import FEASIBILITY_TOL, Problem
from kakehashi.result import LegOutcome, Provenance, Result, SampleRecord, Status, Timings

#: Default time limit of a solve, in seconds.
DEFAULT_TIME_LIMIT = 10.0
#: Distinct samples kept in a Result (best first).
MAX_SAMPLES = 100
#: Extra seconds a racing leg gets past the time limit before it is killed.
GRACE_SECONDS = 5.0

Event = dict[str, Any]


def _compile(problem: Problem, backend: Backend, options: Mapping[str, Any]) -> Compiled[Any]:
    caps = backend.capabilities()
    errors = []
    for kind in caps.targets:
        try:
            return compile_for(problem, kind, **options)
        except CompileError as exc:
            errors.append(f"{kind.value}: {exc}")
    raise CompileError(f"{backend.name}: the problem fits none of its targets ({'; '.join(errors)})")


def _status(problem: Problem, out: BackendOutput, feasible: bool, proves: bool) -> Status:
    if out.samples.ndim != 2 or out.samples.shape[0] == 0:
        if out.termination is Termination.INFEASIBLE:
            return Status.INFEASIBLE
        return Status.TIMEOUT if out.termination is Termination.TIME_LIMIT else Status.NO_SOLUTION
    if not feasible:
        if out.termination is Termination.TIME_LIMIT:
            return Status.TIMEOUT
        return Status.INFEASIBLE
    # A proved optimum of the target is optimal for the problem when it is feasible there:
    # penalties vanish on feasible points, so no feasible point can have a lower objective.
    if proves and out.termination is Termination.OPTIMAL:
        return Status.OPTIMAL
    return Status.FEASIBLE


def evaluate_output(
    problem: Problem, compiled: Compiled[Any], out: BackendOutput
) -> tuple[list[SampleRecord], np.ndarray | None]:
    """Invert a backend's samples and evaluate them on the original problem, best first."""
    if out.samples.ndim != 2 or out.samples.shape[0] == 0:  # (1, 0): the empty model's one sample
        return [], None
    original = compiled.inverter(out.samples)
    labels = list(compiled.inverter.original)
    unique, inverse = np.unique(original, axis=0, return_inverse=True)
    counts_in = out.num_occurrences if out.num_occurrences is not None else np.ones(len(original), dtype=int)
    counts = np.zeros(len(unique), dtype=int)
    np.add.at(counts, np.asarray(inverse).reshape(-1), counts_in)
    objectives, violations = problem.evaluate_many(unique, labels)
    feasible = violations <= FEASIBILITY_TOL
    key_obj = objectives if problem.sense == "min" else -objectives
    order = np.lexsort((key_obj, violations, ~feasible))[:MAX_SAMPLES]
    records = [
        SampleRecord(
            sample={v: _number(x) for v, x in zip(labels, unique[i], strict=True)},
            objective=float(objectives[i]),
            feasible=bool(feasible[i]),
            max_violation=float(violations[i]),
            num_occurrences=int(counts[i]),
        )
        for i in order
    ]
    return records, unique[order[0]]


def _number(x: float) -> float:
    """Integral values as ints (JSON stays compact: 1 not 1.0), others as floats."""
    return int(x) if float(x).is_integer() else float(x)  # type: ignore[return-value]


def run_backend(
    problem: Problem,
    name: str,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
    compile_options: Mapping[str, Any] | None = None,
) -> Result:
    """Solve ``problem`` on one backend in this process. Errors raise (see exceptions.py)."""
    t0 = time.perf_counter()
    backend = get_backend(name)
    availability = backend.available()
    if not availability:
        raise BackendUnavailable(f"{name}: not available: {availability.reason}")
    caps = backend.capabilities()
    checked = check_params(name, caps, params or {})
    compiled = _compile(problem, backend, compile_options or {})
    check_target(name, caps, compiled)
    t1 = time.perf_counter()
    out = backend.solve(compiled, time_limit=time_limit, seed=seed, params=checked)
    t2 = time.perf_counter()
    records, _ = evaluate_output(problem, compiled, out)
    best = records[0] if records else None
    evaluation = problem.evaluate(best.sample) if best else None
    feasible = bool(evaluation and evaluation.feasible)
    status = _status(problem, out, feasible, caps.proves_optimality)
    bound = None
    if out.bound is not None and compiled.kind.value in ("milp", "miqp"):
        bound = out.bound if problem.sense == "min" else -out.bound
    objective = evaluation.objective if evaluation else None
    versions = {"kakehashi": __version__, **{str(k): str(v) for k, v in out.info.get("versions", {}).items()}}
    result = Result(
        status=status,
        problem=problem.name,
        sense=problem.sense,
        sample=dict(best.sample) if best else {},
        objective=objective,
        feasible=feasible,
        violations={k: v for k, v in evaluation.violations.items() if v} if evaluation else {},
        samples=records,
        timings=Timings(compile=t1 - t0, solve=out.solve_seconds, total=time.perf_counter() - t0),
        provenance=Provenance(
            backend=name,
            hardware=caps.hardware.value,
            target=compiled.kind.value,
            versions=versions,
            params={k: v for k, v in checked.items() if _jsonable(v)},
            seed=seed,
            host=f"{platform.node()} {platform.machine()}",
        ),
        known_optimum=problem.known_optimum,
        gap=problem.gap(objective) if objective is not None and feasible else None,
        bound=bound,
        report=compiled.report.to_dict(),
        info={k: v for k, v in out.info.items() if k != "versions" and _jsonable(v)},
    )
    result.legs = [_leg(result)]
    result.timings.solve = t2 - t1 if out.solve_seconds <= 0 else out.solve_seconds
    return result


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _leg(result: Result) -> LegOutcome:
    return LegOutcome(
        backend=result.provenance.backend,
        status=result.status,
        objective=result.objective,
        feasible=result.feasible,
        solve_seconds=result.timings.solve,
        error=result.error,
    )


def _error_result(
    problem: Problem, name: str, error: str, seconds: float, status: Status = Status.ERROR
) -> Result:
    result = Result(
        status=status,
        problem=problem.name,
        sense=problem.sense,
        provenance=Provenance(backend=name),
        known_optimum=problem.known_optimum,
        timings=Timings(total=seconds),
        error=error,
    )
    result.legs = [_leg(result)]
    return result


def _rank(problem: Problem, result: Result) -> tuple[int, float, float]:
    """Sort key: feasible first, then better objective, then faster."""
    if result.objective is None:
        return (2, 0.0, result.timings.total)
    obj = result.objective if problem.sense == "min" else -result.objective
    return (0 if result.feasible else 1, obj, result.timings.total)


def _leg_main(
    conn: Connection,
    problem_json: str,
    name: str,
    time_limit: float | None,
    seed: int | None,
    extra_json: str,
) -> None:
    """Child process: solve one leg and send the Result back as JSON."""
    extra = json.loads(extra_json)
    try:
        problem = Problem.from_json(problem_json)
        result = run_backend(
            problem,
            name,
            time_limit=time_limit,
            seed=seed,
            params=extra["params"],
            compile_options=extra["compile_options"],
        )
        conn.send(json.dumps({"ok": True, "result": result.to_dict()}))
    except KakehashiError as exc:
        conn.send(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
    except Exception as exc:  # a backend bug must not take the race down
        conn.send(json.dumps({"ok": False, "error": f"internal error: {type(exc).__name__}: {exc}"}))
    finally:
        conn.close()


def _context() -> Any:
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["kakehashi.solver"])
    return ctx


def race(
    problem: Problem,
    names: Sequence[str],
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    compile_options: Mapping[str, Any] | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> Result:
    """Run several backends in parallel processes; the best feasible answer wins.

    A leg that proves optimality stops the others. A leg still running ``GRACE_SECONDS``
    after the time limit is killed and reported as TIMEOUT.
    """
    t0 = time.perf_counter()
    problem_json = problem.to_json()
    ctx = _context()
    running: dict[Connection, tuple[str, Any]] = {}
    for name in names:
        parent, child = ctx.Pipe(duplex=False)
        extra = json.dumps(
            {"params": dict((params or {}).get(name, {})), "compile_options": dict(compile_options or {})}
        )
        proc = ctx.Process(
            target=_leg_main, args=(child, problem_json, name, time_limit, seed, extra), daemon=True
        )
        proc.start()
        child.close()
        running[parent] = (name, proc)
        if on_event:
            on_event({"event": "started", "backend": name})
    deadline = None if time_limit is None else t0 + time_limit + max(GRACE_SECONDS, 0.5 * time_limit)
    results: list[Result] = []
    try:
        while running:
            timeout = None if deadline is None else max(0.0, deadline - time.perf_counter())
            ready = wait(list(running), timeout=timeout)
            if not ready:
                break
            for conn in ready:
                assert isinstance(conn, Connection)
                name, proc = running.pop(conn)
                try:
                    payload = json.loads(conn.recv())
                except (EOFError, OSError):
                    payload = {"ok": False, "error": "the backend process died"}
                conn.close()
                proc.join(timeout=5)
                if payload["ok"]:
                    leg = Result.from_dict(payload["result"])
                else:
                    leg = _error_result(problem, name, payload["error"], time.perf_counter() - t0)
                results.append(leg)
                if on_event:
                    on_event(
                        {
                            "event": "finished",
                            "backend": name,
                            "status": leg.status.value,
                            "objective": leg.objective,
                        }
                    )
            if any(r.status is Status.OPTIMAL for r in results):
                break
    finally:
        stopped_by_proof = any(r.status is Status.OPTIMAL for r in results)
        for conn, (name, proc) in running.items():
            proc.kill()
            proc.join(timeout=5)
            conn.close()
            why = (
                "stopped: another backend proved optimality"
                if stopped_by_proof
                else "killed after the time limit"
            )
            status = Status.NO_SOLUTION if stopped_by_proof else Status.TIMEOUT
            results.append(_error_result(problem, name, why, time.perf_counter() - t0, status))
    total = time.perf_counter() - t0
    legs = [leg for r in results for leg in r.legs]
    if not results:
        raise BackendUnavailable("no backend to race")
    best = min(results, key=lambda r: _rank(problem, r))
    if best.objective is None and all(r.status is Status.ERROR for r in results):
        best.error = "; ".join(f"{r.backend}: {r.error}" for r in results)
    best.legs = legs
    best.timings.total = total
    return best


def _achieved(problem: Problem, result: Result) -> dict[str, Any]:
    """Per leg: objective and quality relative to the best feasible objective of the race (or known optimum)."""
    best = problem.known_optimum
    for leg in result.legs:
        if leg.feasible and leg.objective is not None:
            better = best is None or (leg.objective < best if problem.sense == "min" else leg.objective > best)
            best = leg.objective if better else best
    out: dict[str, Any] = {}
    for leg in result.legs:
        quality = 0.0
        if leg.feasible and leg.objective is not None and best is not None:
            diff = leg.objective - best if problem.sense == "min" else best - leg.objective
            quality = min(1.0, max(0.0, 1.0 - diff / max(abs(best), 1e-9)))
        out[leg.backend] = {"objective": leg.objective, "status": leg.status.value, "quality": quality}
    return out


def solve(
    problem: Problem,
    backend: str | Sequence[str] = "auto",
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
    compile_options: Mapping[str, Any] | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> Result:
    """Solve ``problem`` and return one evaluated :class:`~kakehashi.result.Result`.

    Args:
        problem: the problem (its objective is evaluated on the original model).
        backend: a registered backend name, a list of names to race, or ``"auto"`` (the
            documented rule in :mod:`kakehashi.router`).
        time_limit: seconds per backend (None: the backend's own schedule).
        seed: random seed passed to every backend (None: nondeterministic).
        params: for one backend, its parameters; for a race, ``{backend: {param: value}}``.
        compile_options: ``encoding``, ``penalty_scale``, ``penalties`` for binary targets.
        on_event: called with progress events (``started``/``finished`` per backend).
    Raises:
        ModelError, CompileError, BackendError: for a single backend, as they happen. In a
        race, failing legs are recorded in ``Result.legs`` and only an all-failed race
        returns status ERROR.
    """
    t0 = time.perf_counter()
    if isinstance(backend, str) and backend == "auto":
        from kakehashi.router import choose

        choice = choose(problem, time_limit=time_limit)
        names: list[str] = list(choice.backends)
        route: dict[str, Any] | None = {
            "backends": names,
            "reason": choice.reason,
            "source": choice.source,
            "expected": dict(choice.expected),
        }
    else:
        names = [backend] if isinstance(backend, str) else list(backend)
        route = None
    if not names:
        raise BackendUnavailable("no backend given")
    if len(names) == 1:
        if on_event:
            on_event({"event": "started", "backend": names[0]})
        leg_params = params.get(names[0], {}) if route and params else params
        result = run_backend(
            problem,
            names[0],
            time_limit=time_limit,
            seed=seed,
            params=leg_params,
            compile_options=compile_options,
        )
        if on_event:
            on_event(
                {
                    "event": "finished",
                    "backend": names[0],
                    "status": result.status.value,
                    "objective": result.objective,
                }
            )
    else:
        result = race(
            problem,
            names,
            time_limit=time_limit,
            seed=seed,
            params=params,
            compile_options=compile_options,
            on_event=on_event,
        )
    if route:
        route["achieved"] = _achieved(problem, result)
        result.info["route"] = route
    result.timings.total = time.perf_counter() - t0
    return result
