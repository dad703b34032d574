"""SCIP adapter: non-convex integer QP and quadratic rows against brute force, MILP against HiGHS."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from kakehashi.backends.base import Termination
from kakehashi.backends.classical.highs import HighsBackend
from kakehashi.backends.classical.scip import ScipBackend
from kakehashi.compile.targets import TargetKind
from kakehashi.exceptions import BackendRejected
from kakehashi.testing import market_split_case
from tests.backends.classical.programs import QuadraticRow, box_program, compiled, knapsack


def _nonconvex_problem(with_row: bool) -> tuple[object, float]:
    rng = np.random.default_rng(7)
    n = 4
    Q = np.triu(rng.uniform(-3, 3, (n, n)))
    c = rng.uniform(-2, 2, n)
    rows = ()
    if with_row:  # x0² + x1·x2 + x3 >= 1 and <= 5
        Qr = sp.csr_matrix(([1.0, 1.0], ([0, 1], [0, 2])), shape=(n, n))
        rows = (QuadraticRow(Q=Qr, a=np.array([0, 0, 0, 1.0]), lower=1.0, upper=5.0, name="ring"),)
    program = box_program(c, Q, -2.0, 3.0, True, quadratic_rows=rows, offset=0.75)
    grid = np.array(list(itertools.product(range(-2, 4), repeat=n)), dtype=float)
    values = 0.75 + grid @ c + np.einsum("ij,jk,ik->i", grid, Q, grid)
    ok = np.ones(len(grid), dtype=bool)
    if with_row:
        act = grid[:, 0] ** 2 + grid[:, 1] * grid[:, 2] + grid[:, 3]
        ok = (act >= 1) & (act <= 5)
    return program, float(values[ok].min())


@pytest.mark.parametrize("with_row", [False, True])
def test_nonconvex_integer_qp_matches_brute_force(with_row: bool) -> None:
    program, best = _nonconvex_problem(with_row)
    out = ScipBackend().solve(compiled(program), time_limit=20, seed=0, params={})  # type: ignore[arg-type]
    assert out.termination is Termination.OPTIMAL
    assert out.energies is not None and out.energies[0] == pytest.approx(best, abs=1e-6)
    assert np.all(np.diff(out.energies) >= -1e-9)  # best first
    assert np.all(out.samples == np.round(out.samples))
    assert out.bound is not None and out.bound <= best + 1e-6


def test_milp_agrees_with_highs_and_respects_the_seed() -> None:
    program, *_ = knapsack(30, seed=4)
    scip = ScipBackend().solve(compiled(program), time_limit=20, seed=9, params={})
    again = ScipBackend().solve(compiled(program), time_limit=20, seed=9, params={})
    highs = HighsBackend().solve(compiled(program), time_limit=20, seed=0, params={})
    assert scip.termination is Termination.OPTIMAL and highs.termination is Termination.OPTIMAL
    assert scip.energies is not None and highs.energies is not None
    assert scip.energies[0] == pytest.approx(highs.energies[0], abs=1e-9)
    assert np.array_equal(scip.samples, again.samples)


def test_convex_continuous_qp_matches_highs() -> None:
    P = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 3.0]])
    Q = np.triu(2 * P) - np.diag(np.diag(P))
    A = sp.csr_matrix(np.array([[1.0, 2.0, 1.0]]))
    program = box_program(
        np.array([1.0, -2.0, 0.5]),
        Q,
        -4.0,
        4.0,
        False,
        A=A,
        row_lower=np.array([1.0]),
        row_upper=np.array([3.0]),
    )
    scip = ScipBackend().solve(compiled(program), time_limit=20, seed=0, params={})
    highs = HighsBackend().solve(compiled(program), time_limit=20, seed=0, params={})
    assert scip.energies is not None and highs.energies is not None
    assert scip.energies[0] == pytest.approx(highs.energies[0], abs=1e-5)


def test_infeasible_quadratic_row_is_reported_infeasible() -> None:
    row = QuadraticRow(Q=sp.csr_matrix(np.eye(2)), a=np.zeros(2), lower=-np.inf, upper=-1.0)  # x² + y² <= -1
    program = box_program(np.ones(2), None, -3.0, 3.0, True, quadratic_rows=(row,))
    out = ScipBackend().solve(compiled(program, TargetKind.MIQP), time_limit=5, seed=0, params={})
    assert out.termination is Termination.INFEASIBLE and out.samples.shape == (0, 2)


def test_time_limit_gives_time_limit_status() -> None:
    target = market_split_case(rows=4, columns=40).compile(TargetKind.MILP)
    out = ScipBackend().solve(target, time_limit=0.5, seed=0, params={"num_solutions": 3})
    assert out.termination is Termination.TIME_LIMIT
    assert out.solve_seconds < 0.5 + 1.0
    assert out.samples.shape[0] <= 3


def test_bad_parameters_are_rejected() -> None:
    program, *_ = knapsack(5, seed=1)
    with pytest.raises(BackendRejected, match="gap"):
        ScipBackend().solve(compiled(program), time_limit=1, seed=0, params={"mip_rel_gap": 0.1})
    with pytest.raises(BackendRejected, match="no/such"):
        ScipBackend().solve(compiled(program), time_limit=1, seed=0, params={"vendor": {"no/such": 1}})


def test_a_budget_below_scip_set_up_returns_at_once_without_an_answer(data_dir: object) -> None:
    """SCIP's set-up does not poll its interrupt flag: with less time than it needs (Gset G1,
    19,176 products, at 0.5 s) it is not started, so the call cannot overrun; nothing is
    claimed (status TIMEOUT, no sample)."""
    import time
    from pathlib import Path

    import kakehashi
    from kakehashi.apps.graphs.maxcut import maxcut_problem

    problem = maxcut_problem(Path(str(data_dir)) / "gset" / "G1.txt")
    t0 = time.monotonic()
    result = kakehashi.solve(problem, "scip", time_limit=0.5, seed=1)
    assert time.monotonic() - t0 < 0.5 + 0.5
    assert result.status.value == "TIMEOUT" and not result.sample
    assert "uninterruptible set-up" in result.info["reason"]
