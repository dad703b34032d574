"""Optimum of a file as HiGHS reads it versus as kakehashi reads it (and solves it on ``highs``).

The reference is highspy reading and solving the very same file: an independent reader. Two
readings agree when both are infeasible, or both optimal with objectives within 1e-6 relative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from kakehashi.model.problem import Problem

REL_TOL = 1e-6


@dataclass(frozen=True)
class Outcome:
    """``status`` is ``"optimal"``, ``"infeasible"`` or another word; ``objective`` when optimal."""

    status: str
    objective: float | None = None


def highs_outcome(path: Path) -> Outcome:
    """highspy reads ``path`` (a read error fails the test) and solves it."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    status = h.readModel(str(path))
    assert status != highspy.HighsStatus.kError, f"HiGHS cannot read {path}"
    h.run()
    model_status = h.getModelStatus()
    if model_status == highspy.HighsModelStatus.kOptimal:
        return Outcome("optimal", float(h.getInfo().objective_function_value))
    if model_status == highspy.HighsModelStatus.kInfeasible:
        return Outcome("infeasible")
    return Outcome(h.modelStatusToString(model_status).lower())


def our_outcome(problem: Problem) -> Outcome:
    """kakehashi solves ``problem`` on its ``highs`` backend."""
    import kakehashi

    result = kakehashi.solve(problem, "highs", time_limit=30, seed=1)
    status = result.status.value.lower()
    if status == "optimal":
        assert result.objective is not None
        return Outcome("optimal", float(result.objective))
    return Outcome(status)


def same(a: Outcome, b: Outcome) -> bool:
    """Both infeasible, or both optimal with objectives within :data:`REL_TOL` relative."""
    if a.status != b.status:
        return False
    if a.objective is None or b.objective is None:
        return a.objective is None and b.objective is None
    return math.isclose(a.objective, b.objective, rel_tol=REL_TOL, abs_tol=1e-9)


def assert_same_optimum(path: Path) -> Outcome:
    """kakehashi's reading of ``path`` and HiGHS's reading solve to the same optimum."""
    from kakehashi.model.readers import read

    ours, theirs = our_outcome(read(path)), highs_outcome(path)
    assert theirs.status in ("optimal", "infeasible"), f"HiGHS: {theirs}"
    assert same(ours, theirs), f"{path.name}: kakehashi {ours} vs HiGHS {theirs}"
    return theirs
