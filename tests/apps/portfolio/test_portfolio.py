"""Portfolio: readers and PSD rule, MIQP on SCIP against an independent check, QUBO route, MPE."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kakehashi.apps.portfolio import (
    PortfolioInstance,
    PortfolioSettings,
    mean_percentage_error,
    polish_weights,
    read_portfolio,
    solve_portfolio,
    validate,
)
from kakehashi.exceptions import ModelError


def test_port1_scip_respects_k_and_bounds_and_objective(data_dir: Path) -> None:
    inst = read_portfolio(data_dir / "portfolio" / "port1.txt")
    assert inst.n == 31 and inst.known_frontier is not None and len(inst.known_frontier) == 2000
    settings = PortfolioSettings(k=10, min_weight=0.01, max_weight=1.0)
    lam = 0.9
    sol = solve_portfolio(inst, settings, lam, backend="scip", time_limit=3)
    w = np.array([sol.weights.get(a, 0.0) for a in inst.assets])
    assert validate(w, settings) == [] and sol.ok
    assert np.count_nonzero(w) == 10 and w[w > 0].min() >= 0.01 - 1e-9
    # independent objective
    assert sol.objective == pytest.approx(lam * w @ inst.sigma @ w - (1 - lam) * inst.mu @ w, rel=1e-9)
    # independent check: the optimal continuous weights on the answer's own selection are no better
    # (the answer's weights are optimal for its selection) ...
    held = np.flatnonzero(w > 0)
    best_on_set = polish_weights(inst, settings, lam, held)
    f = lambda x: lam * x @ inst.sigma @ x - (1 - lam) * inst.mu @ x  # noqa: E731
    assert f(w) <= f(best_on_set) + 1e-6 * abs(f(best_on_set))
    # ... and the unconstrained-cardinality optimum (a relaxation) is a lower bound
    free = polish_weights(inst, PortfolioSettings(k=31, min_weight=0.0, max_weight=1.0), lam, range(31))
    assert f(free) <= f(w) + 1e-12


def test_qubo_route_gives_valid_k_portfolio(data_dir: Path) -> None:
    inst = read_portfolio(data_dir / "portfolio" / "port1.txt")
    settings = PortfolioSettings(k=10)
    sol = solve_portfolio(inst, settings, 0.5, backend="tabu", time_limit=2, seed=3)
    w = np.array([sol.weights.get(a, 0.0) for a in inst.assets])
    assert validate(w, settings) == [] and np.count_nonzero(w) == 10
    assert sol.info["formulation"] == "selection-qubo+qp"
    assert sol.info["raw_feasible"] == (sol.info["raw_selected"] == 10)
    assert sol.info["repaired_selection"] == (not sol.info["raw_feasible"])
    # the weights are the optimal continuous weights for the selection the route made
    lam = 0.5
    f = lambda x: lam * x @ inst.sigma @ x - (1 - lam) * inst.mu @ x  # noqa: E731
    assert f(w) <= f(polish_weights(inst, settings, lam, np.flatnonzero(w))) + 1e-9


def _small_instance(n: int = 8) -> PortfolioInstance:
    rng = np.random.default_rng(7)
    f = rng.normal(size=(n, 3))
    cov = 1e-4 * (f @ f.T + np.diag(rng.uniform(0.5, 1.5, n)))
    return PortfolioInstance(name="small", assets=[f"a{i}" for i in range(n)], mean=rng.uniform(0.001, 0.01, n).tolist(),
                             covariance=cov.tolist())


@pytest.mark.parametrize("lam", [0.1, 0.9])
def test_selection_qubo_ground_state_is_the_best_k_subset(lam: float) -> None:
    import itertools

    from kakehashi.apps.portfolio import selection_penalty, selection_problem
    from kakehashi.apps.portfolio.app import proxy_objective
    from kakehashi.solver import solve

    inst, settings = _small_instance(), PortfolioSettings(k=3)
    problem = selection_problem(inst, settings, lam)
    subsets = list(itertools.combinations(range(inst.n), 3))
    for sub in subsets[:10]:  # the QUBO objective is the proxy objective on every feasible point
        ev = problem.evaluate({("z", i): int(i in sub) for i in range(inst.n)})
        assert ev.feasible and ev.objective == pytest.approx(proxy_objective(inst, lam, sub, 3), rel=1e-9, abs=1e-15)
    best = min(subsets, key=lambda sub: proxy_objective(inst, lam, sub, 3))
    # with the explicit cardinality penalty, the exact ground state of the compiled BQM is that subset
    result = solve(problem, "exact", compile_options={"penalties": selection_penalty(problem)})
    assert result.feasible
    assert sorted(i for i in range(inst.n) if result.sample[("z", i)] == 1) == list(best)


def test_repair_selection_reaches_k_greedily() -> None:
    from kakehashi.apps.portfolio.app import proxy_objective, repair_selection

    inst = _small_instance()
    too_many = repair_selection(inst, 0.5, [0, 1, 2, 3, 4, 5], 3)
    assert len(too_many) == 3 and set(too_many) <= {0, 1, 2, 3, 4, 5}
    too_few = repair_selection(inst, 0.5, [2], 3)
    assert len(too_few) == 3 and 2 in too_few
    # one missing asset: the repair adds the best single asset on the proxy objective
    one = repair_selection(inst, 0.5, [2, 5], 3)
    best_add = min((i for i in range(inst.n) if i not in (2, 5)),
                   key=lambda i: proxy_objective(inst, 0.5, [2, 5, i], 3))
    assert sorted(one) == sorted([2, 5, best_add])


def test_mpe_zero_on_the_frontier_itself() -> None:
    ef = [(0.001 * k, 0.0001 * (1 + k * k)) for k in range(1, 11)]
    assert mean_percentage_error(ef[2:5], ef) == pytest.approx(0.0)
    assert mean_percentage_error([(0.005, 0.0026 * 1.1)], ef) > 0


def test_non_psd_covariance_is_rejected_naming_the_rule(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("asset,mean,A,B\nA,0.01,1.0,2.0\nB,0.02,2.0,1.0\n")
    with pytest.raises(ModelError) as err:
        read_portfolio(f)
    assert "bad.csv" in str(err.value) and "positive semi-definite" in str(err.value)


def test_orlib_bad_record_names_line(tmp_path: Path) -> None:
    f = tmp_path / "port9.txt"
    f.write_text("2\n0.01 0.04\n0.02 x\n1 1 1\n1 2 0.5\n2 2 1\n")
    with pytest.raises(ModelError, match=r"port9.txt:3"):
        read_portfolio(f)


def test_infeasible_settings_rejected() -> None:
    inst = PortfolioInstance(name="t", assets=["a", "b"], mean=[0.1, 0.2], covariance=[[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ModelError, match="exceeds"):
        solve_portfolio(inst, PortfolioSettings(k=3), 0.5)
    with pytest.raises(ModelError, match="max_weight"):
        solve_portfolio(inst, PortfolioSettings(k=2, max_weight=0.4), 0.5)


def test_example_csv_and_plot(tmp_path: Path) -> None:
    from kakehashi.apps.portfolio import frontier
    from kakehashi.apps.portfolio.plot import plot_frontier

    inst = read_portfolio(Path(__file__).parents[3] / "examples" / "portfolio" / "assets.csv")
    sols = frontier(inst, PortfolioSettings(k=4), [0.2, 0.8], backend="scip", time_limit=3)
    assert all(s.ok and len(s.weights) == 4 for s in sols)
    assert sols[0].expected_return >= sols[1].expected_return - 1e-12
    assert plot_frontier(inst, sols, tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
