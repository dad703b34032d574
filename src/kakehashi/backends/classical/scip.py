"""SCIP (via PySCIPOpt) for MILP and MIQP, including integer variables, non-convex quadratic
objectives and quadratic constraints; it proves optimality (spatial branch and bound).

SCIP wants a linear objective, so a quadratic one is moved into an epigraph constraint::

    min  offset + c·x + t   s.t.  xᵀQx - t <= 0,  t free

which has the same optimum and the same dual bound as the target ``offset + c·x + xᵀQx``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.backends import budget
from kakehashi.backends.base import (
    Availability,
    BackendOutput,
    Capabilities,
    HardwareKind,
    Param,
    Termination,
    check_params,
    check_target,
)
from kakehashi.backends.classical.solution import clean_rows, empty_program_feasible, solver_seed
from kakehashi.compile.targets import Compiled, MatrixProgram, TargetKind
from kakehashi.exceptions import BackendError, BackendRejected

PARAMS: dict[str, Param] = {
    "gap": Param(float, 0.0, "relative gap at which SCIP stops (limits/gap; 0: prove exact optimality)"),
    "node_limit": Param((int, type(None)), None, "largest number of branch-and-bound nodes (None: no limit)"),
    "num_solutions": Param(int, 10, "how many of the best solutions SCIP found to return (best first)"),
}

#: Share of the time left handed to SCIP's ``limits/time``: SCIP checks its clock only between
#: presolve rounds, LP solves and nodes, and overran 0.3 s limits by 0.5-2 s on 20,000-variable
#: quadratic programs; the rest of the budget absorbs part of that.
NATIVE_SHARE = 0.6
#: SCIP's uninterruptible set-up (model building, nonlinear handler, first presolve rounds),
#: seconds per nonzero of A and Q: 0.9 s for Gset G22's 19,990 products on the idle reference
#: machine, 1.5 s under load; twice the idle figure, since a run that starts overruns by what its
#: set-up exceeds the time left.
SETUP_PER_TERM = 8e-5

#: SCIP statuses that end a run with a proof of optimality or infeasibility.
_TERMINATION = {
    "optimal": Termination.OPTIMAL,
    "infeasible": Termination.INFEASIBLE,
    "timelimit": Termination.TIME_LIMIT,
    "userinterrupt": Termination.TIME_LIMIT,  # our deadline timer (see solve)
}


def _bound(value: float) -> float | None:
    """SCIP takes ``None`` for an infinite variable bound."""
    return None if not np.isfinite(value) else float(value)


class ScipBackend:
    """SCIP: MILP and (non-convex) MIQP with quadratic constraints; proves optimality."""

    name = "scip"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=(TargetKind.MILP, TargetKind.MIQP),
            hardware=HardwareKind.CPU,
            proves_optimality=True,
            honours_time_limit=True,
            honours_seed=True,
            params=PARAMS,
            accepts_continuous=True,
        )

    def available(self) -> Availability:
        return Availability.of_modules("pyscipopt", hint="pip install 'pyscipopt>=5.0'")

    def solve(
        self,
        compiled: Compiled[Any],
        *,
        time_limit: float | None,
        seed: int | None,
        params: Mapping[str, Any],
    ) -> BackendOutput:
        """Solve the MatrixProgram; samples are the best ``num_solutions`` SCIP found, best first.

        ``time_limit`` (seconds, model building included) becomes ``limits/time``; ``seed``
        becomes ``randomization/randomseedshift``; ``params['vendor']`` maps SCIP parameter
        names (``"presolving/maxrounds"``...) to values, set verbatim.
        """
        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        program = compiled.target
        if not isinstance(program, MatrixProgram):
            raise BackendRejected(
                f"{self.name}: expected a MatrixProgram target, got {type(program).__name__}"
            )
        if time_limit is not None and time_limit <= 0:
            raise BackendRejected(f"{self.name}: time_limit must be positive, got {time_limit}")
        if opts["num_solutions"] < 1:
            raise BackendRejected(f"{self.name}: num_solutions must be at least 1")
        start = time.perf_counter()
        if program.num_variables == 0:
            ok = empty_program_feasible(program)
            return BackendOutput(
                samples=np.zeros((1 if ok else 0, 0)),
                termination=Termination.OPTIMAL if ok else Termination.INFEASIBLE,
                solve_seconds=time.perf_counter() - start,
                energies=np.array([program.offset]) if ok else None,
                bound=program.offset if ok else None,
            )

        import pyscipopt

        plan = budget.start(time_limit, num_variables=program.num_variables,
                            rows=int(opts["num_solutions"]))
        terms = int(sp.csr_matrix(program.A).nnz) + (int(program.Q.nnz) if program.Q is not None else 0)
        terms += sum(int(sp.csr_matrix(r.Q).nnz) for r in program.quadratic_rows)
        need = SETUP_PER_TERM * terms
        if plan.deadline is not None and plan.left() < need:
            # SCIP's model set-up and first presolve rounds do not poll its interrupt flag: a run
            # started now would overrun the deadline, and find nothing useful before it.
            return BackendOutput(
                samples=np.zeros((0, program.num_variables)),
                termination=Termination.TIME_LIMIT,
                solve_seconds=time.perf_counter() - start,
                info={"reason": f"{plan.left():.2f} s left, below SCIP's uninterruptible set-up "
                                f"(~{need:.2f} s for {terms} terms)"},
            )
        model = pyscipopt.Model()
        model.hideOutput()
        xs = self._build(model, pyscipopt, program)
        self._set_params(model, opts, plan.native_limit(share=NATIVE_SHARE), seed, 0.0)
        # SCIP reads its clock rarely in presolve and at the root: a timer interrupts it at the
        # deadline too (SCIPinterruptSolve only sets a flag that SCIP polls).
        timer = None
        if plan.deadline is not None:
            timer = threading.Timer(max(0.0, plan.left()), model.interruptSolve)
            timer.daemon = True
            timer.start()
        try:
            model.optimize()
        except Exception as exc:  # SCIP reports failures as plain exceptions
            raise BackendError(f"{self.name}: SCIP failed: {exc}") from exc
        finally:
            if timer is not None:
                timer.cancel()
        return self._output(model, program, xs, opts, time.perf_counter() - start)

    def _build(self, model: Any, pyscipopt: Any, program: MatrixProgram) -> list[Any]:
        n = program.num_variables
        integral = np.asarray(program.integrality, dtype=bool)
        xs = []
        for j in range(n):
            lo, hi = float(program.lower[j]), float(program.upper[j])
            if lo > hi:
                raise BackendRejected(
                    f"{self.name}: variable {j} has lower bound {lo} above upper bound {hi}"
                )
            binary = bool(integral[j]) and lo >= 0.0 and hi <= 1.0
            vtype = "B" if binary else ("I" if integral[j] else "C")
            xs.append(
                model.addVar(name=f"x{j}", vtype=vtype, lb=_bound(lo), ub=_bound(hi), obj=float(program.c[j]))
            )
        if program.offset:
            model.addObjoffset(float(program.offset))
        A = sp.csr_matrix(program.A)
        for i in range(A.shape[0]):
            lo_i, hi_i = A.indptr[i], A.indptr[i + 1]
            expr = pyscipopt.quicksum(
                float(a) * xs[int(j)] for a, j in zip(A.data[lo_i:hi_i], A.indices[lo_i:hi_i], strict=True)
            )
            self._add_range(model, expr, float(program.row_lower[i]), float(program.row_upper[i]), f"r{i}")
        for k, row in enumerate(program.quadratic_rows):
            expr = self._quadratic(pyscipopt, xs, row.Q) + pyscipopt.quicksum(
                float(a) * xs[j] for j, a in enumerate(row.a) if a
            )
            self._add_range(model, expr, float(row.lower), float(row.upper), row.name or f"q{k}")
        if program.Q is not None and program.Q.nnz > 0:
            t = model.addVar(name="objective_quadratic_part", vtype="C", lb=None, ub=None, obj=1.0)
            model.addCons(self._quadratic(pyscipopt, xs, program.Q) - t <= 0, name="objective_epigraph")
        return xs

    @staticmethod
    def _quadratic(pyscipopt: Any, xs: Sequence[Any], Q: sp.spmatrix) -> Any:
        coo = sp.coo_matrix(Q)
        return pyscipopt.quicksum(
            float(q) * xs[int(i)] * xs[int(j)]
            for i, j, q in zip(coo.row, coo.col, coo.data, strict=True)
            if q
        )

    @staticmethod
    def _add_range(model: Any, expr: Any, lower: float, upper: float, name: str) -> None:
        if lower > upper:
            model.addCons(expr <= upper, name=name)
            model.addCons(expr >= lower, name=name + "_lower")
        elif lower == upper:
            model.addCons(expr == upper, name=name)
        elif np.isfinite(lower) and np.isfinite(upper):
            model.addCons(lower <= (expr <= upper), name=name)
        elif np.isfinite(upper):
            model.addCons(expr <= upper, name=name)
        elif np.isfinite(lower):
            model.addCons(expr >= lower, name=name)

    def _set_params(
        self, model: Any, opts: Mapping[str, Any], time_limit: float | None, seed: int | None, spent: float
    ) -> None:
        settings: dict[str, Any] = {
            "limits/gap": float(opts["gap"]),
            "randomization/randomseedshift": solver_seed(seed),
        }
        if time_limit is not None:
            settings["limits/time"] = max(0.01, float(time_limit) - spent)
        if opts["node_limit"] is not None:
            settings["limits/nodes"] = int(opts["node_limit"])
        settings.update(opts.get("vendor", {}))
        for key, value in settings.items():
            try:
                model.setParam(key, value)
            except (KeyError, LookupError, TypeError, ValueError) as exc:
                raise BackendRejected(f"{self.name}: SCIP refused parameter {key}={value!r}: {exc}") from exc

    def _output(
        self, model: Any, program: MatrixProgram, xs: Sequence[Any], opts: Mapping[str, Any], elapsed: float
    ) -> BackendOutput:
        status = str(model.getStatus())
        sols = list(model.getSols())
        termination = _TERMINATION.get(status, Termination.COMPLETED if sols else Termination.NO_SOLUTION)
        if termination == Termination.INFEASIBLE:
            sols = []
        if not sols and termination in (Termination.OPTIMAL, Termination.COMPLETED):
            termination = Termination.NO_SOLUTION
        samples = np.zeros((0, program.num_variables))
        energies = None
        if sols:
            rows = np.array([[model.getSolVal(sol, x) for x in xs] for sol in sols], dtype=np.float64)
            samples = np.unique(clean_rows(program, rows), axis=0)  # SCIP may keep equal solutions
            energies = program.objective(samples)
            order = np.argsort(energies, kind="stable")[: int(opts["num_solutions"])]
            samples, energies = samples[order], energies[order]
        bound: float | None = None
        if termination != Termination.INFEASIBLE:
            dual = float(model.getDualbound())
            if not model.isInfinity(abs(dual)):
                bound = dual
        return BackendOutput(
            samples=samples,
            termination=termination,
            solve_seconds=elapsed,
            energies=energies,
            bound=bound,
            info={
                "scip_status": status,
                "nodes": int(model.getNNodes()),
                "gap": float(model.getGap()),
                "solutions_found": len(sols),
            },
        )
