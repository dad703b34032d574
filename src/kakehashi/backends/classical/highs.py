"""HiGHS (via highspy) for LP, MILP and convex continuous QP; it proves optimality.

The target is a :class:`~kakehashi.compile.targets.MatrixProgram`, minimised::

    offset + c·x + xᵀQx   s.t.  row_lower <= A x <= row_upper,  lower <= x <= upper

HiGHS minimises ``offset + c·x + ½ xᵀHx`` with ``H`` given as its lower triangle, column-wise.
Since ``xᵀQx = ½ xᵀ(Q + Qᵀ)x`` for any ``Q``, we pass ``H = tril(Q + Qᵀ)`` (so the diagonal of
``H`` is twice the diagonal of an upper-triangular ``Q``). HiGHS 1.15 solves neither
integer problems with a quadratic objective nor quadratic constraints nor non-convex QPs;
those are rejected with :class:`~kakehashi.exceptions.BackendRejected` pointing at ``scip``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
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

#: Share of the time left handed to HiGHS's own limit (it may overrun it a little in presolve).
NATIVE_SHARE = 0.9
#: Above this many variables the convexity test (a dense eigenvalue problem) is left to HiGHS.
CONVEXITY_CHECK_MAX_VARIABLES = 2000

PARAMS: dict[str, Param] = {
    "mip_rel_gap": Param(
        float,
        0.0,
        "relative MIP gap at which HiGHS stops (0: prove exact optimality; HiGHS's own default is 1e-4)",
    ),
    "mip_abs_gap": Param(float, 1e-6, "absolute MIP gap at which HiGHS stops (objective units)"),
    "threads": Param((int, type(None)), None, "number of threads (None: HiGHS's choice)"),
    "presolve": Param(str, "choose", "presolve: 'choose', 'on' or 'off'"),
}


def _hessian_lower_csc(Q: sp.spmatrix) -> sp.csc_matrix:
    """HiGHS's Hessian for ``xᵀQx``: the lower triangle of ``Q + Qᵀ``, column-wise."""
    H = sp.tril((Q + Q.T).tocsc(), format="csc")
    H.eliminate_zeros()
    H.sort_indices()
    return H


def _is_convex(Q: sp.spmatrix) -> bool:
    """Whether ``xᵀQx`` is convex: ``Q + Qᵀ`` positive semidefinite up to round-off."""
    S = (Q + Q.T).toarray()
    scale = max(1.0, float(np.abs(S).max(initial=0.0)))
    return bool(np.linalg.eigvalsh(S).min(initial=0.0) >= -1e-9 * scale)


class HighsBackend:
    """HiGHS: LP, MILP and convex continuous QP; proves optimality (``mip_rel_gap`` 0 by default)."""

    name = "highs"

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
        return Availability.of_modules("highspy", hint="pip install 'highspy>=1.7'")

    def _check_program(self, program: MatrixProgram) -> bool:
        """Reject what HiGHS cannot solve; return whether the objective is quadratic."""
        if program.quadratic_rows:
            raise BackendRejected(
                f"{self.name}: HiGHS does not accept quadratic constraints "
                f"({len(program.quadratic_rows)} given); use the 'scip' backend"
            )
        quadratic = program.Q is not None and program.Q.nnz > 0
        if quadratic and bool(np.any(program.integrality)):
            raise BackendRejected(
                f"{self.name}: HiGHS 1.15 cannot solve integer problems with a quadratic objective; "
                "use the 'scip' backend"
            )
        if (
            quadratic
            and program.Q is not None
            and program.num_variables <= CONVEXITY_CHECK_MAX_VARIABLES
            and not _is_convex(program.Q)
        ):
            raise BackendRejected(
                f"{self.name}: the quadratic objective is not convex, which HiGHS cannot solve; "
                "use the 'scip' backend"
            )
        return quadratic

    def solve(
        self,
        compiled: Compiled[Any],
        *,
        time_limit: float | None,
        seed: int | None,
        params: Mapping[str, Any],
    ) -> BackendOutput:
        """Solve the MatrixProgram; samples hold one row (the incumbent) when HiGHS has one.

        ``time_limit`` (seconds) becomes HiGHS's ``time_limit``; ``seed`` its ``random_seed``;
        ``params['vendor']`` is a mapping of further HiGHS options set verbatim.
        """
        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        program = compiled.target
        if not isinstance(program, MatrixProgram):
            raise BackendRejected(
                f"{self.name}: expected a MatrixProgram target, got {type(program).__name__}"
            )
        quadratic = self._check_program(program)
        n = program.num_variables
        start = time.perf_counter()
        if n == 0:
            ok = empty_program_feasible(program)
            return BackendOutput(
                samples=np.zeros((1 if ok else 0, 0)),
                termination=Termination.OPTIMAL if ok else Termination.INFEASIBLE,
                solve_seconds=time.perf_counter() - start,
                energies=np.array([program.offset]) if ok else None,
                bound=program.offset if ok else None,
            )

        import highspy

        plan = budget.start(time_limit, num_variables=n, rows=1)
        h = highspy.Highs()
        self._set_options(h, highspy, opts, time_limit, seed)
        self._pass_model(h, highspy, program, quadratic)
        if time_limit is not None:  # the model is in: HiGHS gets what is left of the budget
            h.setOptionValue("time_limit", float(plan.native_limit(share=NATIVE_SHARE) or time_limit))
        custom_threads = opts["threads"] is not None
        if custom_threads:
            # HiGHS's task scheduler is process-wide and fixes its thread count when first used:
            # reset it before and after a run with an explicit count (not thread-safe across
            # concurrent HiGHS runs in one process; the façade races backends in processes).
            highspy.Highs.resetGlobalScheduler(True)
        try:
            run_status = h.run()
        finally:
            if custom_threads:
                highspy.Highs.resetGlobalScheduler(True)
        elapsed = time.perf_counter() - start
        if run_status == highspy.HighsStatus.kError:
            raise BackendError(f"{self.name}: HiGHS failed: {h.modelStatusToString(h.getModelStatus())}")
        return self._output(h, highspy, program, quadratic, elapsed)

    def _set_options(
        self, h: Any, highspy: Any, opts: Mapping[str, Any], time_limit: float | None, seed: int | None
    ) -> None:
        settings: dict[str, Any] = {
            "output_flag": False,
            "random_seed": solver_seed(seed),
            "mip_rel_gap": float(opts["mip_rel_gap"]),
            "mip_abs_gap": float(opts["mip_abs_gap"]),
            "presolve": str(opts["presolve"]),
        }
        if time_limit is not None:
            if time_limit <= 0:
                raise BackendRejected(f"{self.name}: time_limit must be positive, got {time_limit}")
            settings["time_limit"] = float(time_limit)
        if opts["threads"] is not None:
            settings["threads"] = int(opts["threads"])
        settings.update(opts.get("vendor", {}))
        for key, value in settings.items():
            status = h.setOptionValue(key, value)
            if status != highspy.HighsStatus.kOk:
                raise BackendRejected(f"{self.name}: HiGHS refused option {key}={value!r}")

    def _pass_model(self, h: Any, highspy: Any, program: MatrixProgram, quadratic: bool) -> None:
        n, m = program.num_variables, int(program.A.shape[0])
        A = sp.csr_matrix(program.A, dtype=np.float64)
        A.sort_indices()
        integrality = np.where(
            np.asarray(program.integrality, dtype=bool),
            int(highspy.HighsVarType.kInteger),
            int(highspy.HighsVarType.kContinuous),
        ).astype(np.int32)
        status = h.passModel(
            n,
            m,
            int(A.nnz),
            0,
            int(highspy.MatrixFormat.kRowwise),
            int(highspy.HessianFormat.kTriangular),
            int(highspy.ObjSense.kMinimize),
            float(program.offset),
            np.asarray(program.c, dtype=np.float64),
            np.asarray(program.lower, dtype=np.float64),
            np.asarray(program.upper, dtype=np.float64),
            np.asarray(program.row_lower, dtype=np.float64),
            np.asarray(program.row_upper, dtype=np.float64),
            A.indptr.astype(np.int32),
            A.indices.astype(np.int32),
            A.data.astype(np.float64),
            np.zeros(n + 1, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.float64),
            integrality,
        )
        if status == highspy.HighsStatus.kError:
            raise BackendRejected(f"{self.name}: HiGHS rejected the model (inconsistent bounds or matrix)")
        if quadratic and program.Q is not None:
            H = _hessian_lower_csc(program.Q)
            status = h.passHessian(
                n,
                int(H.nnz),
                int(highspy.HessianFormat.kTriangular),
                H.indptr.astype(np.int32),
                H.indices.astype(np.int32),
                H.data.astype(np.float64),
            )
            if status == highspy.HighsStatus.kError:
                raise BackendRejected(f"{self.name}: HiGHS rejected the quadratic objective")

    def _output(
        self, h: Any, highspy: Any, program: MatrixProgram, quadratic: bool, elapsed: float
    ) -> BackendOutput:
        status = h.getModelStatus()
        info = h.getInfo()
        has_solution = int(info.primal_solution_status) == int(highspy.SolutionStatus.kSolutionStatusFeasible)
        is_mip = bool(np.any(program.integrality))
        M = highspy.HighsModelStatus
        if status == M.kOptimal:
            termination = Termination.OPTIMAL
        elif status == M.kInfeasible:
            termination = Termination.INFEASIBLE
        elif status == M.kTimeLimit:
            termination = Termination.TIME_LIMIT
        elif has_solution and status in (
            M.kIterationLimit,
            M.kSolutionLimit,
            M.kObjectiveBound,
            M.kInterrupt,
        ):
            termination = Termination.COMPLETED
        else:
            termination = Termination.NO_SOLUTION
        if termination in (Termination.INFEASIBLE, Termination.NO_SOLUTION):
            has_solution = False
        samples = np.zeros((0, program.num_variables))
        energies = None
        if has_solution:
            samples = clean_rows(program, np.asarray(h.getSolution().col_value, dtype=np.float64))
            energies = program.objective(samples)
        bound: float | None = None
        if is_mip and termination != Termination.INFEASIBLE and np.isfinite(info.mip_dual_bound):
            bound = float(info.mip_dual_bound)
        elif not is_mip and termination == Termination.OPTIMAL:
            bound = float(info.objective_function_value)
        details: dict[str, Any] = {
            "model_status": h.modelStatusToString(status),
            "simplex_iterations": int(info.simplex_iteration_count),
            "highs_version": h.version(),
        }
        if is_mip:
            details["nodes"] = int(info.mip_node_count)
            details["mip_gap"] = float(info.mip_gap)
        if quadratic:
            details["qp_iterations"] = int(info.qp_iteration_count)
        if status in (M.kUnbounded, M.kUnboundedOrInfeasible):
            details["unbounded"] = True
        return BackendOutput(
            samples=samples,
            termination=termination,
            solve_seconds=elapsed,
            energies=energies,
            bound=bound,
            info=details,
        )
