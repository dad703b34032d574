"""Application instances in a suite: portfolios, unit commitment and molecules, and their runs.

A generic instance is one :class:`~kakehashi.model.problem.Problem` that :func:`kakehashi.solve`
takes as it is. An application instance is a domain input whose answer is made by the
application's own pipeline (which calls the same ``solve()`` inside) and judged by the
application's own validation, so the runner dispatches it here:

* ``orlib-portfolio`` (OR-Library ``port<k>.txt``; ``extra``: ``k``, ``lam``, ``min_weight``,
  ``max_weight``): :func:`kakehashi.apps.portfolio.app.solve_portfolio`; the objective is
  λ·wᵀΣw − (1 − λ)·μᵀw of the final weights (dimensionless, weekly returns), feasible when
  :func:`~kakehashi.apps.portfolio.app.validate` finds no violation.
* ``unit-commitment`` (the JSON of :mod:`kakehashi.apps.energy.instance`):
  :func:`kakehashi.apps.energy.app.solve_unit_commitment`; the objective is the schedule's cost
  recomputed from the unit data (the instance's currency, yen in the bundled example), feasible
  when :func:`~kakehashi.apps.energy.app.validate` finds no violation.
* ``molecule`` (a named molecule, ``path = "@molecule/<name>"``; ``extra``: ``basis``,
  ``mapping``, ``bond_length`` in Å to stretch a diatomic): VQE on Aer's exact statevector
  estimator; backends ``vqe-uccsd`` and ``vqe-hea``. The objective is the lowest energy
  evaluated by the budget (Hartree; each evaluation is a variational upper bound), its
  incumbent series is energy against seconds, and the record carries the error against FCI in
  mHa. The budget stops the optimiser at the first estimator call after it (VQE otherwise stops
  at convergence). The FCI reference is the suite's ``best_known`` (computed by PySCF), not
  recomputed in the timed run.

Paths: a path starting ``@examples/`` names a file under the source checkout's ``examples/``
folder (the bundled examples); ``@molecule/<name>`` names a molecule, whose identity hash is the
SHA-256 of its canonical JSON (:func:`molecule_json`: nuclei in Å, charge, spin, active space,
basis) so that a changed geometry is refused like a changed file.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.datasets.registry import sha256_of
from kakehashi.exceptions import BackendError, KakehashiError, ModelError

#: Instance formats run through an application pipeline rather than ``solve()`` directly.
APP_FORMATS = ("orlib-portfolio", "unit-commitment", "molecule")
#: Backends of the molecule format: VQE with the named ansatz.
VQE_BACKENDS = {"vqe-uccsd": "uccsd", "vqe-hea": "hea"}
_EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@dataclass
class AppCase:
    """A loaded application instance: its ``format``, the domain input and the suite's settings."""

    id: str
    format: str
    data: Any
    extra: dict[str, Any]
    sha256: str
    sense: str = "min"
    best_known: float | None = None


def molecule_json(molecule: Any, basis: str) -> str:
    """Canonical JSON of a molecule and basis (its identity in a suite)."""
    return json.dumps({"atoms": [[s, round(x, 6), round(y, 6), round(z, 6)] for s, x, y, z in molecule.atoms],
                       "charge": molecule.charge, "spin": molecule.spin,
                       "active_orbitals": None if molecule.active_orbitals is None else list(molecule.active_orbitals),
                       "basis": basis}, sort_keys=True, separators=(",", ":"))


def _molecule(extra: dict[str, Any], name: str) -> Any:
    from kakehashi.apps.chemistry.curve import stretched
    from kakehashi.apps.chemistry.molecules import named

    mol = named(name)
    if "bond_length" in extra:
        mol = stretched(mol, float(extra["bond_length"]))
    return mol


def resolve(path: str, root: Path) -> Path:
    """The file of an instance path: ``@examples/…`` under the checkout, else under ``root``."""
    if path.startswith("@examples/"):
        p = _EXAMPLES / path[len("@examples/"):]
        if not p.is_file():
            raise ModelError("bundled example not found (it ships in the source checkout's examples/ folder)",
                             source=str(p))
        return p
    p = root / path
    if not p.is_file():
        raise ModelError(f"instance not found (looked in {root}); set KAKEHASHI_DATA_DIR "
                         f"or run 'kakehashi datasets download {path.split('/')[0]}'", source=str(p))
    return p


def identity(fmt: str, path: str, extra: dict[str, Any], root: Path) -> tuple[str, Any]:
    """The SHA-256 of an application instance and the object it was computed from."""
    if fmt == "molecule":
        if not path.startswith("@molecule/"):
            raise ModelError("a molecule instance's path is '@molecule/<name>'", source=path, field="path")
        mol = _molecule(extra, path[len("@molecule/"):])
        text = molecule_json(mol, str(extra.get("basis", "sto-3g")))
        return hashlib.sha256(text.encode()).hexdigest(), mol
    file = resolve(path, root)
    return sha256_of(file), file


def load_case(inst: Any, *, root: Path, verify: bool = True, sense: str = "min") -> AppCase:
    """Read an application instance after checking its identity hash against the suite's."""
    digest, obj = identity(inst.format, inst.path, inst.extra, root)
    if verify and digest != inst.sha256:
        raise ModelError(f"instance {inst.id}: sha256 {digest[:12]}… differs from the suite's "
                         f"{inst.sha256[:12]}… (a different input under the same name)", source=inst.path)
    if inst.format == "orlib-portfolio":
        from kakehashi.apps.portfolio.instance import read_orlib

        data: Any = read_orlib(obj)
    elif inst.format == "unit-commitment":
        from kakehashi.apps.energy.instance import read_unit_commitment

        data = read_unit_commitment(obj)
    elif inst.format == "molecule":
        data = obj
    else:
        raise ModelError(f"not an application format: {inst.format!r}", field="format")
    return AppCase(id=inst.id, format=inst.format, data=data, extra=dict(inst.extra), sha256=digest, sense=sense,
                   best_known=inst.best_known)


def run_case(case: AppCase, backend: str, budget: float, seed: int, params: dict[str, Any]) -> dict[str, Any]:
    """One run of an application instance: the fields of a run record (errors are recorded)."""
    t0 = time.perf_counter()
    try:
        if case.format == "orlib-portfolio":
            out = _portfolio(case, backend, budget, seed, params)
        elif case.format == "unit-commitment":
            out = _unit_commitment(case, backend, budget, seed, params)
        else:
            out = _molecule_run(case, backend, budget, seed, params, t0)
    except KakehashiError as exc:
        wall = time.perf_counter() - t0
        return {"status": "ERROR", "error": f"{type(exc).__name__}: {exc}", "objective": None, "feasible": False,
                "wall_s": wall, "timings": {"total": wall}, "trajectory": [], "trajectory_source": "none",
                "sample": {"encoding": "none", "data": ""}}
    wall = time.perf_counter() - t0
    out.setdefault("timings", {})["total"] = wall
    out["wall_s"] = wall
    obj = out.get("objective")
    out.setdefault("trajectory", [[wall, obj]] if out.get("feasible") and obj is not None else [])
    out.setdefault("trajectory_source", "final-only")
    out.setdefault("sample", {"encoding": "none", "data": ""})
    out.setdefault("error", None)
    return out


def _portfolio(case: AppCase, backend: str, budget: float, seed: int, params: dict[str, Any]) -> dict[str, Any]:
    from kakehashi.apps.portfolio.app import solve_portfolio
    from kakehashi.apps.portfolio.instance import PortfolioSettings

    ex = case.extra
    settings = PortfolioSettings(k=int(ex.get("k", 10)), min_weight=float(ex.get("min_weight", 0.01)),
                                 max_weight=float(ex.get("max_weight", 1.0)))
    allowed = {"units", "polish", "formulation"}
    unknown = set(params) - allowed
    if unknown:
        raise ModelError(f"unknown portfolio params {sorted(unknown)}; accepted: {sorted(allowed)}", field="params")
    sol = solve_portfolio(case.data, settings, float(ex.get("lam", 0.5)), backend=backend, time_limit=budget,
                          seed=seed, **params)
    feasible = not sol.violations and sol.status not in ("ERROR", "NO_SOLUTION") and bool(sol.weights)
    return {"status": "FEASIBLE" if feasible else ("ERROR" if sol.status == "ERROR" else "INFEASIBLE"),
            "solver_status": sol.status, "objective": float(sol.objective) if feasible else None,
            "feasible": feasible, "backend_used": sol.backend,
            "timings": {"solve": sol.solve_seconds},
            "domain_check": {"ok": feasible, "violations": list(sol.violations)[:5]},
            "app": {"expected_return": sol.expected_return, "variance": sol.variance,
                    "assets": sorted(sol.weights), "info": _jsonable(sol.info)},
            "sample": {"encoding": "weights", "data": {str(k): float(v) for k, v in sol.weights.items()}}}


def _unit_commitment(case: AppCase, backend: str, budget: float, seed: int, params: dict[str, Any]) -> dict[str, Any]:
    from kakehashi.apps.energy.app import solve_unit_commitment

    if params:
        raise ModelError(f"unit commitment takes no params (got {sorted(params)})", field="params")
    sch = solve_unit_commitment(case.data, backend, time_limit=budget, seed=seed)
    feasible = not sch.violations and bool(sch.on)
    return {"status": "FEASIBLE" if feasible else "INFEASIBLE", "solver_status": sch.status,
            "objective": float(sch.cost) if feasible else None, "feasible": feasible, "backend_used": sch.backend,
            "timings": {"solve": sch.solve_seconds},
            "domain_check": {"ok": feasible, "violations": list(sch.violations)[:5]},
            "app": {"cost_breakdown": sch.cost_breakdown, "info": _jsonable(sch.info)},
            "sample": {"encoding": "on-off", "data": {u: "".join(str(int(x)) for x in row) for u, row in sch.on.items()}}}


class _BudgetSpent(Exception):
    """Raised inside the estimator when the run's budget is spent (caught by the run)."""


class _Finished:
    def __init__(self, value: Any) -> None:
        self._value = value

    def result(self) -> Any:
        return self._value


class _TimedEstimator:
    """An ``EstimatorV2`` wrapper recording (seconds, energy at θ) per call and enforcing a deadline."""

    def __init__(self, inner: Any, t0: float, deadline: float) -> None:
        self.inner, self.t0, self.deadline = inner, t0, deadline
        self.points: list[tuple[float, float]] = []

    def run(self, pubs: Any, **kwargs: Any) -> _Finished:
        if time.perf_counter() > self.deadline:
            raise _BudgetSpent()
        res = self.inner.run(pubs, **kwargs).result()
        energy = float(np.asarray(res[0].data.evs).reshape(-1)[0])
        self.points.append((time.perf_counter() - self.t0, energy))
        return _Finished(res)


def _molecule_run(case: AppCase, backend: str, budget: float, seed: int, params: dict[str, Any],
                  t0: float) -> dict[str, Any]:
    from kakehashi.apps.chemistry import ansatz as ansatz_mod
    from kakehashi.apps.chemistry.integrals import active_space, run_scf
    from kakehashi.apps.chemistry.mapping import QubitMapping
    from kakehashi.apps.chemistry.vqe import default_estimator, minimise_energy

    if backend not in VQE_BACKENDS:
        raise ModelError(f"molecule instances run on {', '.join(VQE_BACKENDS)}, not {backend!r}", field="backends")
    unknown = set(params) - {"reps", "maxiter"}
    if unknown:
        raise ModelError(f"unknown VQE params {sorted(unknown)}; accepted: ['maxiter', 'reps']", field="params")
    ansatz = VQE_BACKENDS[backend]
    mol = case.data
    state = run_scf(mol, str(case.extra.get("basis", "sto-3g")))
    ints = active_space(state, mol, mol.active_orbitals)
    qm = QubitMapping(str(case.extra.get("mapping", "parity")), ints.num_orbitals,  # type: ignore[arg-type]
                      ints.num_alpha, ints.num_beta)
    hamiltonian = qm.hamiltonian(ints)
    circuit = ansatz_mod.build(qm, ansatz, int(params.get("reps", 2)))
    est = _TimedEstimator(default_estimator(), t0, t0 + budget)
    x0 = np.zeros(circuit.num_parameters)
    if ansatz == "hea":
        x0 = np.random.default_rng(seed).normal(0.0, 0.05, circuit.num_parameters)
    setup = time.perf_counter() - t0
    stopped = "converged"
    try:
        minimise_energy(circuit, hamiltonian, est, x0=x0, maxiter=int(params.get("maxiter", 300)))
    except BackendError as exc:
        if not isinstance(exc.__cause__, _BudgetSpent):
            raise
        stopped = "budget"
    series: list[list[float]] = []
    for t, e in est.points:
        if not series or e < series[-1][1]:
            series.append([t, e])
    energy = series[-1][1] if series else None
    fci = case.best_known
    return {"status": "FEASIBLE" if energy is not None else "NO_SOLUTION", "objective": energy,
            "feasible": energy is not None, "backend_used": backend,
            "timings": {"compile": setup, "solve": time.perf_counter() - t0 - setup},
            "trajectory": series, "trajectory_source": "estimator calls (energy at θ, Hartree)",
            "app": {"stopped": stopped, "evaluations": len(est.points), "num_qubits": qm.num_qubits,
                    "num_parameters": int(circuit.num_parameters),
                    "error_mha": None if energy is None or fci is None else 1000.0 * (energy - float(fci))}}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
