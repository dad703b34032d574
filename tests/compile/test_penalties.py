"""CQM → BQM: the penalised BQM's ground state is the constrained optimum."""

from __future__ import annotations

import dimod
import numpy as np
import pytest
from tests.helpers import brute_force, random_cqm

from kakehashi.compile import compile_for, cqm_to_bqm
from kakehashi.exceptions import CompileError
from kakehashi.model.problem import Problem


@pytest.mark.parametrize("seed", range(6))
def test_bqm_ground_state_is_the_constrained_optimum(seed: int) -> None:
    problem = random_cqm(seed)
    compiled = cqm_to_bqm(problem)
    bqm = compiled.target
    sampleset = dimod.ExactSolver().sample(bqm)
    columns = [list(sampleset.variables).index(v) for v in compiled.variables]
    states = sampleset.record.sample[:, columns]
    original = compiled.inverter(states)
    objectives, violations = problem.evaluate_many(original, compiled.inverter.original)
    ground = int(np.argmin(sampleset.record.energy))
    assert violations[ground] <= 1e-9, "the BQM ground state must be feasible"
    assert objectives[ground] == pytest.approx(brute_force(problem))
    # on feasible states the penalties vanish: min over slacks of the energy = ±objective
    sign = -1.0 if problem.sense == "max" else 1.0
    feasible = violations <= 1e-9
    for state_obj, energy in zip(objectives[feasible], sampleset.record.energy[feasible], strict=True):
        assert energy >= sign * state_obj - 1e-9


def test_one_weight_per_constraint_in_the_report() -> None:
    problem = random_cqm(3)
    report = cqm_to_bqm(problem).report.passes[-1]
    assert set(report["penalties"]) == {"le", "ge", "eq"}
    assert all(w > 0 for w in report["penalties"].values())
    assert report["slack_bits"] > 0


def test_weight_follows_the_documented_rule() -> None:
    cqm = dimod.ConstrainedQuadraticModel()
    a, b, c = dimod.Binaries(["a", "b", "c"])
    cqm.set_objective(10 * a + 1 * b + 1 * c)
    cqm.add_constraint(a + b == 1, label="ab")
    cqm.add_constraint(b + c == 1, label="bc")
    weights = cqm_to_bqm(Problem(cqm), penalty_scale=2.0).report.passes[-1]["penalties"]
    assert weights["ab"] == pytest.approx(2.0 * 10)  # max |Δ| over {a, b} is 10
    assert weights["bc"] == pytest.approx(2.0 * 1)


def test_override_and_unknown_constraint() -> None:
    problem = random_cqm(1)
    weights = cqm_to_bqm(problem, penalties={"eq": 123.0}).report.passes[-1]["penalties"]
    assert weights["eq"] == 123.0
    with pytest.raises(CompileError, match="unknown constraints"):
        cqm_to_bqm(problem, penalties={"nope": 1.0})


def test_quadratic_constraint_and_reals_are_refused() -> None:
    cqm = dimod.ConstrainedQuadraticModel()
    x, y = dimod.Binaries(["x", "y"])
    cqm.set_objective(x + y)
    cqm.add_constraint(x * y <= 0, label="q")
    with pytest.raises(CompileError, match="quadratic"):
        compile_for(Problem(cqm), "bqm")
    cqm2 = dimod.ConstrainedQuadraticModel()
    r = dimod.Real("r", upper_bound=3)
    cqm2.set_objective(r)
    with pytest.raises(CompileError, match="continuous"):
        compile_for(Problem(cqm2), "bqm")


def test_non_integral_inequality_is_discretised_and_reported() -> None:
    cqm = dimod.ConstrainedQuadraticModel()
    xs = list(dimod.Binaries([f"x{i}" for i in range(4)]))
    cqm.set_objective(-sum(xs))
    cqm.add_constraint(0.5 * xs[0] + 0.5 * xs[1] + 1.5 * xs[2] + 1.0 * xs[3] <= 2.0, label="cap")
    compiled = cqm_to_bqm(Problem(cqm))
    assert compiled.report.passes[-1]["discretised"] == ["cap"]
    sampleset = dimod.ExactSolver().sample(compiled.target)
    best = sampleset.first.sample
    state = np.array([[best[v] for v in compiled.variables]])
    ev = Problem(cqm).evaluate(
        dict(zip(compiled.inverter.original, compiled.inverter(state)[0], strict=True))
    )
    assert ev.feasible and ev.objective == -3.0


def test_redundant_and_unsatisfiable_constraints_are_reported() -> None:
    cqm = dimod.ConstrainedQuadraticModel()
    x, y = dimod.Binaries(["x", "y"])
    cqm.set_objective(x - y)
    cqm.add_constraint(x + y <= 5, label="loose")
    cqm.add_constraint(x + y >= 3, label="impossible")
    report = cqm_to_bqm(Problem(cqm)).report.passes[-1]
    assert report["redundant"] == ["loose"] and report["unsatisfiable"] == ["impossible"]
