"""HiGHS adapter: optima against scipy.optimize (milp, SLSQP) and SCIP, rejections, statuses."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp, minimize

from kakehashi.backends.base import Termination
from kakehashi.backends.classical.highs import HighsBackend
from kakehashi.backends.classical.scip import ScipBackend
from kakehashi.compile.targets import TargetKind
from kakehashi.exceptions import BackendRejected
from kakehashi.testing import market_split_case
from tests.backends.classical.programs import QuadraticRow, box_program, compiled, knapsack


def test_knapsack_50_items_proved_optimal_and_matches_scipy_and_scip() -> None:
    program, v, w, cap = knapsack(50, seed=11)
    ref = milp(
        -v,
        constraints=LinearConstraint(w[None, :], -np.inf, cap),
        integrality=np.ones(50),
        bounds=Bounds(0, 1),
    )
    out = HighsBackend().solve(compiled(program), time_limit=20, seed=0, params={})
    assert out.termination is Termination.OPTIMAL
    x = out.samples[0]
    assert set(np.unique(x)) <= {0.0, 1.0} and w @ x <= cap
    assert out.energies is not None and out.energies[0] == pytest.approx(ref.fun + 3.0, abs=1e-9)
    assert out.bound == pytest.approx(out.energies[0], abs=1e-6)
    scip = ScipBackend().solve(compiled(program), time_limit=20, seed=0, params={})
    assert scip.termination is Termination.OPTIMAL
    assert scip.energies is not None and scip.energies[0] == pytest.approx(out.energies[0], abs=1e-9)


def test_mixed_integer_with_general_integers_and_equality_rows_matches_brute_force() -> None:
    # min x0 - 2 x1 + 3 x2 + 0.5 y, x in {0..3}^3 integer, y continuous in [0, 4]
    # s.t. x0 + x1 + x2 == 4, x1 - y <= 1
    A = sp.csr_matrix(np.array([[1.0, 1, 1, 0], [0, 1, 0, -1]]))
    program = box_program(
        np.array([1.0, -2, 3, 0.5]),
        None,
        0.0,
        3.0,
        True,
        A=A,
        row_lower=np.array([4.0, -np.inf]),
        row_upper=np.array([4.0, 1.0]),
    )
    program = replace(
        program, upper=np.array([3.0, 3, 3, 4]), integrality=np.array([True, True, True, False])
    )
    best = np.inf
    for x0 in range(4):
        for x1 in range(4):
            x2 = 4 - x0 - x1
            if 0 <= x2 <= 3:
                y = max(0.0, x1 - 1.0)
                best = min(best, x0 - 2 * x1 + 3 * x2 + 0.5 * y)
    out = HighsBackend().solve(compiled(program), time_limit=10, seed=0, params={})
    assert out.termination is Termination.OPTIMAL
    assert out.energies is not None and out.energies[0] == pytest.approx(best)


def test_convex_qp_matches_scipy_minimize() -> None:
    rng = np.random.default_rng(5)
    M = rng.normal(size=(5, 5))
    P = M.T @ M + 0.5 * np.eye(5)
    c = rng.normal(size=5)
    Q = np.triu(2 * P) - np.diag(np.diag(P))  # xᵀQx = xᵀPx with Q upper triangular
    A = sp.csr_matrix(np.ones((1, 5)))
    program = box_program(
        c, Q, -2.0, 2.0, False, A=A, row_lower=np.array([1.5]), row_upper=np.array([np.inf]), offset=-1.25
    )
    ref = minimize(
        lambda x: x @ P @ x + c @ x - 1.25,
        np.full(5, 0.3),
        jac=lambda x: 2 * P @ x + c,
        bounds=[(-2, 2)] * 5,
        constraints=[{"type": "ineq", "fun": lambda x: x.sum() - 1.5}],
        method="SLSQP",
        options={"ftol": 1e-12},
    )
    out = HighsBackend().solve(compiled(program), time_limit=10, seed=0, params={})
    assert out.termination is Termination.OPTIMAL
    assert out.energies is not None and out.energies[0] == pytest.approx(ref.fun, abs=1e-6)
    assert out.samples[0].sum() >= 1.5 - 1e-7


def test_infeasible_milp_is_reported_infeasible() -> None:
    A = sp.csr_matrix(np.ones((1, 3)))
    program = box_program(
        np.ones(3), None, 0.0, 1.0, True, A=A, row_lower=np.array([3.5]), row_upper=np.array([np.inf])
    )
    out = HighsBackend().solve(compiled(program), time_limit=5, seed=0, params={})
    assert out.termination is Termination.INFEASIBLE
    assert out.samples.shape == (0, 3)


@pytest.mark.parametrize(
    ("program", "match"),
    [
        (
            box_program(np.zeros(2), [[1.0, 1.0], [0.0, 1.0]], -1, 1, True),
            "integer problems with a quadratic",
        ),
        (box_program(np.zeros(2), [[-1.0, 0.0], [0.0, 1.0]], -1, 1, False), "not convex"),
        (
            box_program(
                np.zeros(2),
                None,
                -1,
                1,
                False,
                quadratic_rows=(
                    QuadraticRow(Q=sp.csr_matrix(np.eye(2)), a=np.zeros(2), lower=-np.inf, upper=1.0),
                ),
            ),
            "quadratic constraints",
        ),
    ],
)
def test_rejects_what_highs_cannot_solve_and_names_scip(program: object, match: str) -> None:
    with pytest.raises(BackendRejected, match=match) as info:
        HighsBackend().solve(compiled(program, TargetKind.MIQP), time_limit=1, seed=0, params={})  # type: ignore[arg-type]
    assert "scip" in str(info.value)


def test_time_limit_stops_a_hard_instance_with_an_honest_status() -> None:
    target = market_split_case(rows=4, columns=40).compile(TargetKind.MILP)
    out = HighsBackend().solve(target, time_limit=0.5, seed=0, params={})
    assert out.termination is Termination.TIME_LIMIT  # market split is far from solved in 0.5 s
    assert out.solve_seconds < 0.5 + 1.0
    if out.samples.shape[0]:
        assert out.energies is not None and (out.bound is None or out.bound <= out.energies[0] + 1e-9)


def test_params_and_vendor_options() -> None:
    program, *_ = knapsack(12, seed=2)
    out = HighsBackend().solve(
        compiled(program),
        time_limit=5,
        seed=3,
        params={"mip_rel_gap": 1e-3, "presolve": "off", "vendor": {"mip_max_nodes": 1000}},
    )
    assert out.termination in (Termination.OPTIMAL, Termination.COMPLETED)
    with pytest.raises(BackendRejected, match="no_such_highs_option"):
        HighsBackend().solve(
            compiled(program), time_limit=5, seed=3, params={"vendor": {"no_such_highs_option": 1}}
        )
    with pytest.raises(BackendRejected, match="mip_rel_gap"):
        HighsBackend().solve(compiled(program), time_limit=5, seed=3, params={"gap": 0.1})


@pytest.mark.parametrize("threads", [2, 1, None])
def test_thread_counts_can_change_between_runs(threads: int | None) -> None:
    program, *_ = knapsack(15, seed=6)
    params = {} if threads is None else {"threads": threads}
    out = HighsBackend().solve(compiled(program), time_limit=5, seed=0, params=params)
    assert out.termination is Termination.OPTIMAL
