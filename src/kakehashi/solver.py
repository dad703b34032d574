"""`solve()`: the one façade from a Problem to an evaluated Result.

For each backend: compile the problem for the first target kind the backend accepts,
check parameters and size, run it, invert the samples to the problem's own variables and
evaluate them on the ORIGINAL model. Several backends (or ``auto``) race in separate
processes under the time limit; the best feasible answer wins and every leg's outcome is
kept. Problems and results cross the process boundary as JSON, never pickled.

The time limit is a contract on the whole call (:mod:`kakehashi.budget`): a backend gets what
is left of it after compiling and start-up, minus what inverting and evaluating will take, and
``solve()`` returns within ``T + max(0.5 s, 5 % of T)``. While a backend runs, the incumbents it
reports (:mod:`kakehashi.backends.progress`) make up ``Result.trajectory``; a race leg streams
them to the parent (:mod:`kakehashi.legs`), so a leg killed at the limit still answers with its
last incumbent, evaluated here.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from kakehashi import __version__
from kakehashi.backends.base import (
    Backend,
    BackendOutput,
    Capabilities,
    Termination,
    check_params,
    check_target,
)
from kakehashi.backends.progress import incumbent_sink
from kakehashi.backends.registry import get_backend
from kakehashi.budget import Budget
from kakehashi.compile import compile_for
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled
from kakehashi.exceptions import BackendUnavailable, CompileError
from kakehashi.model.problem import FEASIBILITY_TOL, Problem
from kakehashi.result import LegOutcome, Provenance, Result, SampleRecord, Status, Timings

#: Default time limit of a solve, in seconds.
DEFAULT_TIME_LIMIT = 10.0
#: Distinct samples kept in a Result (best first) ...
MAX_SAMPLES = 100
#: ... and at most this many sample values in all (a 20,000-variable problem keeps 2 samples):
#: evaluating, building dicts and crossing a process boundary as JSON cost ~5 µs per value.
MAX_SAMPLE_VALUES = 50_000
#: Seconds the parent keeps, at the end of a race, for killing and reaping stragglers.
KILL_SECONDS = 0.25
#: Most points kept in a trajectory (older points are thinned, the latest always kept).
MAX_TRAJECTORY = 1000

Event = dict[str, Any]


def _compile(problem: Problem, backend: Backend, options: Mapping[str, Any]) -> Compiled[Any]:
    caps = backend.capabilities()
    if problem.complete_for and not {k.value for k in caps.targets} & set(problem.complete_for):
        note = problem.metadata.get("note") or "the model leaves some rules to its domain target"
        raise CompileError(
            f"{backend.name}: {problem.name} is complete only for the {', '.join(problem.complete_for)} "
            f"target ({note}); use a backend of that target, or 'auto'"
        )
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


def samples_kept(num_variables: int) -> int:
    """How many distinct samples a Result keeps for a problem of ``num_variables`` variables."""
    return max(1, min(MAX_SAMPLES, MAX_SAMPLE_VALUES // max(1, num_variables)))


def finish_reserve(problem: Problem, *, across_processes: bool = False) -> float:
    """Seconds kept back from a backend's time limit for inverting and evaluating its samples
    and, for a race leg (``across_processes``), sending them to the parent as JSON.

    Per variable and per kept sample value: 0.35 µs here, 0.8 µs across processes, plus 0.03 /
    0.05 s. Measured 2026-12-03 on the 2-core reference machine at 501,501 variables (TSPLIB
    pr1002's edge model): inversion and vectorised evaluation 0.2 s, JSON out and back 0.15 s;
    the constants are about twice that, for load.
    """
    n = problem.num_variables
    values = n * (1 + samples_kept(n))
    return 0.05 + 0.8e-6 * values if across_processes else 0.03 + 0.35e-6 * values


def evaluate_samples(
    problem: Problem, inverter: Inverter, samples: np.ndarray, occurrences: np.ndarray | None = None
) -> tuple[list[SampleRecord], np.ndarray | None]:
    """Invert target samples and evaluate them on the original problem, best first."""
    if samples.ndim != 2 or samples.shape[0] == 0:  # (1, 0) is the empty model's one sample
        return [], None
    original = inverter(samples)
    labels = list(inverter.original)
    unique, inverse = _unique_rows(original)
    counts_in = occurrences if occurrences is not None else np.ones(len(original), dtype=int)
    counts = np.zeros(len(unique), dtype=int)
    np.add.at(counts, np.asarray(inverse).reshape(-1), counts_in)
    objectives, violations = problem.evaluate_many(unique, labels)
    feasible = violations <= FEASIBILITY_TOL
    key_obj = objectives if problem.sense == "min" else -objectives
    order = np.lexsort((key_obj, violations, ~feasible))[: samples_kept(len(labels))]
    records = [
        SampleRecord(
            sample=dict(zip(labels, _numbers(unique[i]), strict=True)),
            objective=float(objectives[i]),
            feasible=bool(feasible[i]),
            max_violation=float(violations[i]),
            num_occurrences=int(counts[i]),
        )
        for i in order
    ]
    return records, unique[order[0]]


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows and each row's index among them. Rows are compared as raw bytes (one void
    scalar per row): ``np.unique(axis=0)`` builds one structured field per column, 0.3 s for four
    rows of 20,000."""
    a = np.ascontiguousarray(a, dtype=np.float64) + 0.0  # + 0.0: -0.0 becomes 0.0
    if a.shape[1] == 0:  # the empty model: every row is the same (empty) sample
        return a[:1], np.zeros(len(a), dtype=np.intp)
    keys = a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return a[first], np.asarray(inverse).reshape(-1)


def evaluate_output(
    problem: Problem, compiled: Compiled[Any], out: BackendOutput
) -> tuple[list[SampleRecord], np.ndarray | None]:
    """Invert a backend's samples and evaluate them on the original problem, best first."""
    return evaluate_samples(problem, compiled.inverter, out.samples, out.num_occurrences)


def _numbers(row: np.ndarray) -> list[float]:
    """Integral values as ints (JSON stays compact: 1 not 1.0), others as floats."""
    if np.all(row == np.round(row)) and np.all(np.abs(row) < 2**53):
        return row.astype(np.int64).tolist()  # type: ignore[no-any-return]
    return [int(x) if float(x).is_integer() else float(x) for x in row.tolist()]


@dataclass
class LegSetup:
    """What the façade knows of a backend run once the problem is compiled for it.

    JSON-able (``to_dict``/``from_dict``): a race leg sends it to the parent before it starts
    solving, so that the parent can invert and evaluate the leg's streamed incumbents itself.
    Times in seconds.
    """

    backend: str
    hardware: str
    target: str
    proves_optimality: bool
    params: dict[str, Any]
    report: dict[str, Any]
    inverter: Inverter
    compile_seconds: float = 0.0
    startup_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "hardware": self.hardware,
            "target": self.target,
            "proves_optimality": self.proves_optimality,
            "params": self.params,
            "report": self.report,
            "inverter": self.inverter.to_dict(),
            "compile_seconds": self.compile_seconds,
            "startup_seconds": self.startup_seconds,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LegSetup:
        return cls(**{**d, "inverter": Inverter.from_dict(d["inverter"])})


@dataclass
class Prepared:
    """A backend loaded, its parameters checked and the problem compiled for it."""

    backend: Backend
    caps: Capabilities
    params: dict[str, Any]
    compiled: Compiled[Any]
    setup: LegSetup


def prepare(
    problem: Problem,
    name: str,
    params: Mapping[str, Any] | None,
    compile_options: Mapping[str, Any] | None,
    startup_seconds: float = 0.0,
) -> Prepared:
    """Load backend ``name``, check ``params`` and compile ``problem`` for it. Errors raise."""
    t0 = time.perf_counter()
    backend = get_backend(name)
    availability = backend.available()
    if not availability:
        raise BackendUnavailable(f"{name}: not available: {availability.reason}")
    caps = backend.capabilities()
    checked = check_params(name, caps, params or {})
    compiled = _compile(problem, backend, compile_options or {})
    check_target(name, caps, compiled)
    setup = LegSetup(
        backend=name,
        hardware=caps.hardware.value,
        target=compiled.kind.value,
        proves_optimality=caps.proves_optimality,
        params={k: v for k, v in checked.items() if _jsonable(v)},
        report=compiled.report.to_dict(),
        inverter=compiled.inverter,
        compile_seconds=time.perf_counter() - t0,
        startup_seconds=startup_seconds,
    )
    return Prepared(backend, caps, checked, compiled, setup)


@dataclass
class Recorder:
    """The incumbent sink of one backend run: the best-so-far trajectory, and an optional
    ``forward(sample, energy, seconds)`` (a race leg's pipe to its parent)."""

    budget: Budget
    forward: Callable[[np.ndarray, float, float], None] | None = None
    points: list[list[float]] = field(default_factory=list)

    def __call__(self, sample: np.ndarray, energy: float) -> None:
        seconds = self.budget.elapsed()
        self.points.append([round(seconds, 6), float(energy)])
        self.points = _thin(self.points)
        if self.forward is not None:
            self.forward(sample, float(energy), seconds)


def execute(
    problem: Problem, prep: Prepared, budget: Budget, seed: int | None, recorder: Recorder | None = None
) -> tuple[BackendOutput, float, list[list[float]]]:
    """Run the prepared backend under what is left of ``budget``.

    Returns the output, the wall seconds it ran and the trajectory it reported. With a recorder
    that forwards incumbents (a race leg) the answer will cross a process boundary.
    """
    across = recorder is not None and recorder.forward is not None
    recorder = recorder or Recorder(budget)
    limit = budget.backend_limit(finish_reserve(problem, across_processes=across))
    t1 = time.perf_counter()
    with incumbent_sink(recorder):
        out = prep.backend.solve(prep.compiled, time_limit=limit, seed=seed, params=prep.params)
    out.info.setdefault("backend_time_limit", limit)
    return out, time.perf_counter() - t1, recorder.points


def build_result(
    problem: Problem,
    setup: LegSetup,
    out: BackendOutput,
    *,
    seed: int | None,
    budget: Budget,
    solve_wall: float,
    trajectory: list[list[float]],
) -> Result:
    """Invert, evaluate and wrap one backend's output as a Result (with its one leg)."""
    records, _ = evaluate_samples(problem, setup.inverter, out.samples, out.num_occurrences)
    best = records[0] if records else None
    feasible = bool(best and best.feasible)
    # The vectorised evaluation already gave the best record's objective and feasibility; the
    # per-constraint breakdown (dict path, 2.6 s at 501,501 variables) is needed only to name
    # what an infeasible answer violates.
    evaluation = problem.evaluate(best.sample) if best and not feasible else None
    status = _status(problem, out, feasible, setup.proves_optimality)
    bound = None
    if out.bound is not None and setup.target in ("milp", "miqp"):
        bound = out.bound if problem.sense == "min" else -out.bound
    objective = best.objective if best else None
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
        timings=Timings(
            compile=setup.compile_seconds,
            solve=solve_wall if out.solve_seconds <= 0 else out.solve_seconds,
            startup=setup.startup_seconds,
        ),
        provenance=Provenance(
            backend=setup.backend,
            hardware=setup.hardware,
            target=setup.target,
            versions=versions,
            params=dict(setup.params),
            seed=seed,
            host=f"{platform.node()} {platform.machine()}",
        ),
        known_optimum=problem.known_optimum,
        gap=problem.gap(objective) if objective is not None and feasible else None,
        bound=bound,
        report=dict(setup.report),
        info={k: v for k, v in out.info.items() if k != "versions" and _jsonable(v)},
        trajectory=[list(p) for p in trajectory],
    )
    result.timings.total = budget.elapsed()
    result.legs = [_leg(result)]
    return result


def run_backend(
    problem: Problem,
    name: str,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
    compile_options: Mapping[str, Any] | None = None,
    budget: Budget | None = None,
) -> Result:
    """Solve ``problem`` on one backend in this process. Errors raise (see exceptions.py).

    ``budget`` (default: ``time_limit`` from now) is the whole call's budget: the backend gets
    what is left of it after compiling, minus :func:`finish_reserve`. The first use of a backend
    in a process loads it first (:func:`kakehashi.startup.first_use`), outside the budget.
    """
    from kakehashi.startup import first_use

    budget = budget or Budget.starting_now(time_limit)
    # The backend's first use in this process (imports, numba kernels from cache) is start-up:
    # paid once, reported in Timings.startup, and the budget starts after it.
    load = first_use(name)
    if load > 0:
        budget = budget.shifted(load)
    prep = prepare(problem, name, params, compile_options, startup_seconds=load)
    out, wall, trajectory = execute(problem, prep, budget, seed)
    result = build_result(problem, prep.setup, out, seed=seed, budget=budget, solve_wall=wall,
                          trajectory=trajectory)
    result.timings.total += load  # the whole wall time, start-up included
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
        trajectory=[list(p) for p in result.trajectory],
        startup_seconds=result.timings.startup,
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


@dataclass
class _Running:
    """Parent-side state of one race leg."""

    name: str
    proc: Any
    setup: LegSetup | None = None
    incumbent: tuple[float, float, list[float]] | None = None  # (seconds, energy, target row)
    trajectory: list[list[float]] = field(default_factory=list)


def _sleep(seconds: float | None) -> list[Any]:
    time.sleep(0.05 if seconds is None else seconds)
    return []


def _thin(points: list[list[float]]) -> list[list[float]]:
    """At most :data:`MAX_TRAJECTORY` points: every other older point is dropped, the last kept."""
    return points if len(points) <= MAX_TRAJECTORY else points[:-1:2] + points[-1:]


def _cut_result(problem: Problem, leg: _Running, seed: int | None, budget: Budget, why: str) -> Result:
    """The answer of a leg stopped before it answered: its last streamed incumbent, evaluated
    here (FEASIBLE/INFEASIBLE by evaluation), or TIMEOUT/NO_SOLUTION when it streamed none."""
    if leg.setup is None or leg.incumbent is None:
        status = Status.NO_SOLUTION if "optimality" in why else Status.TIMEOUT
        result = _error_result(problem, leg.name, why, budget.elapsed(), status)
        if leg.setup is not None:
            result.timings.startup = leg.setup.startup_seconds
            result.timings.compile = leg.setup.compile_seconds
            result.legs = [_leg(result)]
        return result
    seconds, energy, row = leg.incumbent
    out = BackendOutput(
        samples=np.asarray([row], dtype=np.float64),
        termination=Termination.TIME_LIMIT,
        solve_seconds=max(0.0, budget.elapsed() - leg.setup.startup_seconds - leg.setup.compile_seconds),
        energies=np.asarray([energy]),
        info={"cut_at_limit": True, "stopped": why, "incumbent_seconds": seconds},
    )
    result = build_result(
        problem, leg.setup, out, seed=seed, budget=budget, solve_wall=out.solve_seconds, trajectory=leg.trajectory
    )
    result.status = Status.FEASIBLE if result.feasible else Status.INFEASIBLE
    result.legs = [_leg(result)]
    return result


def race(
    problem: Problem,
    names: Sequence[str],
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    compile_options: Mapping[str, Any] | None = None,
    on_event: Callable[[Event], None] | None = None,
    budget: Budget | None = None,
) -> Result:
    """Run several backends in parallel processes; the best feasible answer wins.

    Each leg is forked from a warm leg server (:mod:`kakehashi.legs`) and gets what is left of
    the budget (default: ``time_limit`` from now). A leg that proves optimality stops the
    others. At ``budget.hard_stop`` minus what finishing takes, legs that have not answered
    are killed and answer with their last streamed incumbent (``info["cut_at_limit"]``).
    """
    from kakehashi import legs as leg_processes

    budget = budget or Budget.starting_now(time_limit)
    # The leg server's one-time warm-up (first race of this process) is start-up, reported in
    # Timings.startup, not part of any leg's time: the legs' budget starts once it is ready.
    server_wait = leg_processes.ensure_warm()
    if server_wait > 0:
        budget = budget.shifted(server_wait)

    def spec(name: str) -> str:
        return json.dumps(
            {
                "name": name,
                "budget": budget.to_dict(),
                "seed": seed,
                "params": dict((params or {}).get(name, {})),
                "compile_options": dict(compile_options or {}),
                "spawned": time.monotonic(),
                "parent": os.getpid(),
                **leg_processes.runtime_spec(name),
            }
        )

    def finished(result: Result) -> None:
        results.append(result)
        if on_event:
            on_event({"event": "finished", "backend": result.backend, "status": result.status.value,
                      "objective": result.objective})

    hard = budget.hard_stop
    # legs' backends stop at T - finish_reserve; the parent waits until it has just enough left to
    # kill the stragglers and evaluate one incumbent each
    stop = None if hard is None else hard - KILL_SECONDS - 0.05 - 5e-6 * problem.num_variables
    running: dict[Connection, _Running] = {}
    results: list[Result] = []
    starter = leg_processes.Starter(list(names), problem.to_json(), spec)
    try:
        while running or starter.busy:
            for name, conn, proc in starter.started():
                running[conn] = _Running(name, proc)
                if on_event:
                    on_event({"event": "started", "backend": name})
            timeout = None if stop is None else max(0.0, stop - time.monotonic())
            if starter.busy:
                timeout = 0.05 if timeout is None else min(timeout, 0.05)
            ready = wait(list(running), timeout=timeout) if running else _sleep(timeout)
            if not ready and stop is not None and time.monotonic() >= stop:
                break
            for handle in ready:
                assert isinstance(handle, Connection)
                conn = handle
                leg = running[conn]
                try:
                    message = json.loads(conn.recv())
                except (EOFError, OSError):
                    message = {"kind": "result", "ok": False, "error": "the backend process died"}
                kind = message.get("kind")
                if kind == "setup":
                    leg.setup = LegSetup.from_dict(message["setup"])
                    continue
                if kind == "incumbent":
                    leg.incumbent = (float(message["seconds"]), float(message["energy"]), message["sample"])
                    leg.trajectory = _thin(
                        leg.trajectory + [[float(t), float(e)] for t, e in message.get("points", [])]
                    )
                    if on_event:
                        on_event({"event": "incumbent", "backend": leg.name, "energy": message["energy"],
                                  "seconds": message["seconds"]})
                    continue
                running.pop(conn)
                conn.close()
                leg.proc.join(timeout=2)
                if message.get("ok"):
                    finished(Result.from_dict(message["result"]))
                elif leg.incumbent is not None:
                    finished(_cut_result(problem, leg, seed, budget, f"the leg failed: {message['error']}"))
                else:
                    finished(_error_result(problem, leg.name, message["error"], budget.elapsed()))
            if any(r.status is Status.OPTIMAL for r in results):
                break
    finally:
        unstarted, late = starter.cancel()
        for name, conn, proc in late:
            running[conn] = _Running(name, proc)
        proved = any(r.status is Status.OPTIMAL for r in results)
        why = "stopped: another backend proved optimality" if proved else "killed at the time limit"
        for leg in running.values():  # signal every straggler first, then reap them
            leg_processes.kill(leg.proc, wait=False)
        for conn, leg in running.items():
            leg.proc.join(timeout=2)
            conn.close()
            finished(_cut_result(problem, leg, seed, budget, why))
        for name in unstarted:
            status = Status.NO_SOLUTION if proved else Status.TIMEOUT
            finished(_error_result(problem, name, "not started: the leg server was still warming up",
                                   budget.elapsed(), status))
    if not results:
        raise BackendUnavailable("no backend to race")
    legs = [leg for r in results for leg in r.legs]
    best = min(results, key=lambda r: _rank(problem, r))
    if best.objective is None and all(r.status is Status.ERROR for r in results):
        best.error = "; ".join(f"{r.backend}: {r.error}" for r in results)
    for outcome in legs:
        outcome.startup_seconds += server_wait
    best.timings.startup += server_wait
    best.legs = legs
    best.timings.total = budget.elapsed() + server_wait
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
        time_limit: seconds for the whole call (None: the backends' own schedules). The call
            returns within ``time_limit + max(0.5, 0.05 * time_limit)`` seconds of its entry;
            each backend gets what is left after compiling and start-up.
        seed: random seed passed to every backend (None: nondeterministic).
        params: for one backend, its parameters; for a race, ``{backend: {param: value}}``.
        compile_options: ``encoding``, ``penalty_scale``, ``penalties`` for binary targets.
        on_event: called with progress events (``started``/``finished`` per backend, and in a
            race ``incumbent`` with ``energy`` and ``seconds`` as legs stream improvements).
    Raises:
        ModelError, CompileError, BackendError: for a single backend, as they happen. In a
        race, failing legs are recorded in ``Result.legs`` and only an all-failed race
        returns status ERROR.
    """
    budget = Budget.starting_now(time_limit)
    if isinstance(backend, str) and backend == "auto":
        from kakehashi.auto import choose

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
            budget=budget,
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
            budget=budget,
        )
    if route:
        route["achieved"] = _achieved(problem, result)
        result.info["route"] = route
    result.timings.total = budget.elapsed()
    return result
