"""Ising and matrix targets preserve energies; inverters serialise."""

from __future__ import annotations

import json

import dimod
import numpy as np
import pytest
from tests.helpers import random_cqm

from kakehashi.compile import compile_for, to_ising
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import TargetKind
from kakehashi.model.problem import Problem


def test_ising_energy_equals_bqm_energy() -> None:
    rng = np.random.default_rng(0)
    bqm = dimod.generators.gnp_random_bqm(30, 0.3, "BINARY", random_state=1)
    compiled = to_ising(Problem(bqm))
    spins = rng.choice([-1.0, 1.0], size=(20, 30))
    binaries = compiled.inverter(spins)
    expected = bqm.energies((binaries, list(compiled.inverter.original)))
    assert np.allclose(compiled.target.energies(spins), expected)


@pytest.mark.parametrize("sense", ["min", "max"])
def test_spin_bqm_goes_straight_to_ising(sense: str) -> None:
    bqm = dimod.generators.ran_r(1, 12, seed=4)
    problem = Problem(bqm, sense=sense)  # type: ignore[arg-type]
    compiled = to_ising(problem)
    assert compiled.report.passes[0]["pass"] == "bqm_to_ising"
    spins = np.random.default_rng(2).choice([-1.0, 1.0], size=(8, 12))
    sign = -1.0 if sense == "max" else 1.0
    assert np.allclose(
        compiled.target.energies(spins), sign * bqm.energies((spins, list(compiled.variables)))
    )


@pytest.mark.parametrize("seed", range(4))
def test_matrix_program_matches_the_model(seed: int) -> None:
    problem = random_cqm(seed)
    compiled = compile_for(problem, TargetKind.MIQP)
    assert compiled.kind is TargetKind.MIQP
    program = compiled.target
    rng = np.random.default_rng(seed)
    lo, hi = program.lower, program.upper
    points = rng.integers(lo.astype(int), hi.astype(int) + 1, size=(16, len(lo))).astype(float)
    sign = -1.0 if problem.sense == "max" else 1.0
    objectives, _ = problem.evaluate_many(compiled.inverter(points), compiled.inverter.original)
    assert np.allclose(program.objective(points), sign * objectives)
    cqm = problem.cqm
    for row, name in enumerate(program.row_names):
        lhs = cqm.constraints[name].lhs
        expected = lhs.energies((points, list(compiled.variables))) - lhs.offset
        assert np.allclose(program.A[row] @ points.T, expected)


def test_linear_problem_is_milp_and_quadratic_refuses_milp() -> None:
    cqm = dimod.ConstrainedQuadraticModel()
    x = dimod.Integer("x", upper_bound=5)
    r = dimod.Real("r", upper_bound=2.5)
    cqm.set_objective(3 * x - r)
    cqm.add_constraint(x + r <= 4, label="c")
    compiled = compile_for(Problem(cqm), "miqp")
    assert compiled.kind is TargetKind.MILP
    assert list(compiled.target.integrality) == [True, False]
    from kakehashi.exceptions import CompileError

    with pytest.raises(CompileError, match="MIQP"):
        compile_for(random_cqm(0), "milp")


def test_inverter_round_trips_through_json() -> None:
    compiled = compile_for(random_cqm(5), "bqm")
    data = json.loads(json.dumps(compiled.inverter.to_dict()))
    again = Inverter.from_dict(data)
    states = np.random.default_rng(0).integers(0, 2, size=(5, len(compiled.variables)))
    assert again.original == compiled.inverter.original
    assert np.array_equal(again(states), compiled.inverter(states))


def test_cqm_target_negates_a_maximised_objective() -> None:
    problem = random_cqm(1)
    assert problem.sense == "max"
    compiled = compile_for(problem, "cqm")
    sample = {v: 0 for v in problem.variables}
    sample["x0"] = 1
    assert compiled.target.objective.energy(sample) == pytest.approx(-problem.objective_value(sample))
