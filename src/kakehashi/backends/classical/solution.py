"""Shared pieces of the MILP/MIQP adapters: limits, seeds and the sample rows they return."""

from __future__ import annotations

import numpy as np

from kakehashi.compile.targets import MatrixProgram

#: Largest seed the solvers accept (HiGHS ``random_seed`` and SCIP's seed shift are C ints).
MAX_SEED = 2**31 - 1


def solver_seed(seed: int | None) -> int:
    """Map any Python int onto the solvers' non-negative C-int seed range."""
    return 0 if seed is None else int(seed) % MAX_SEED


def clean_rows(program: MatrixProgram, rows: np.ndarray) -> np.ndarray:
    """Round integer columns and clip every column to its bounds.

    Solvers return integer variables within their integrality tolerance (0.9999999...); the
    façade and the inverter expect exact integers, so these columns are rounded. Clipping undoes
    bound violations of the order of the feasibility tolerance.
    """
    X = np.atleast_2d(np.asarray(rows, dtype=np.float64)).copy()
    if program.integrality.any():
        cols = np.asarray(program.integrality, dtype=bool)
        X[:, cols] = np.round(X[:, cols])
    return np.clip(X, program.lower, program.upper)


def empty_program_feasible(program: MatrixProgram) -> bool:
    """Whether a program without variables is feasible: every row must admit activity 0."""
    lin_ok = bool(np.all(program.row_lower <= 0.0) and np.all(program.row_upper >= 0.0))
    quad_ok = all(r.lower <= 0.0 <= r.upper for r in program.quadratic_rows)
    return lin_ok and quad_ok
