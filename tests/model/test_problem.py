"""Problem: evaluation on the original model and JSON round trips."""

from __future__ import annotations

import dimod
import numpy as np
import pytest
from tests.helpers import random_cqm

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem


def test_evaluate_reports_each_violation() -> None:
    cqm = dimod.ConstrainedQuadraticModel()
    x, y = dimod.Binaries(["x", "y"])
    n = dimod.Integer("n", lower_bound=0, upper_bound=3)
    cqm.set_objective(2 * x + 3 * y + n)
    cqm.add_constraint(x + y <= 1, label="atmost")
    cqm.add_constraint(n - x >= 2, label="need")
    cqm.add_constraint(x + n == 3, label="eq")
    ev = Problem(cqm).evaluate({"x": 1, "y": 1, "n": 1})
    assert ev.objective == 6
    assert ev.violations == {"atmost": 1.0, "need": 2.0, "eq": 1.0}
    assert not ev.feasible
    ok = Problem(cqm).evaluate({"x": 0, "y": 1, "n": 3})
    assert ok.feasible and ok.max_violation == 0
    bad_bounds = Problem(cqm).evaluate({"x": 0, "y": 0, "n": 5})
    assert bad_bounds.violations["bounds:n"] == 2.0 and not bad_bounds.feasible


def test_evaluate_many_agrees_with_evaluate() -> None:
    problem = random_cqm(2)
    rng = np.random.default_rng(1)
    labels = problem.variables
    points = np.array(
        [[rng.integers(*map(int, problem.bounds(v))) if True else 0 for v in labels] for _ in range(30)],
        float,
    )
    objectives, worst = problem.evaluate_many(points, labels)
    for row, obj, w in zip(points, objectives, worst, strict=True):
        ev = problem.evaluate(dict(zip(labels, row, strict=True)))
        assert obj == pytest.approx(ev.objective)
        assert (w <= 1e-6) == ev.feasible


def test_missing_variable_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="lacks 1 variable"):
        random_cqm(0).evaluate({v: 0 for v in random_cqm(0).variables[1:]})


@pytest.mark.parametrize("seed", range(3))
def test_json_round_trip_preserves_the_model(seed: int) -> None:
    problem = random_cqm(seed)
    problem.known_optimum = 4.0
    again = Problem.from_json(problem.to_json())
    assert (again.name, again.sense, again.known_optimum) == (problem.name, problem.sense, 4.0)
    assert again.cqm.is_equal(problem.cqm)


def test_bqm_round_trip_with_tuple_labels() -> None:
    bqm = dimod.BinaryQuadraticModel(
        {("a", 1): 1.0, ("b", 2): -2.0}, {(("a", 1), ("b", 2)): 3.0}, 0.5, "SPIN"
    )
    again = Problem.from_json(Problem(bqm, name="t").to_json())
    assert again.is_bqm and again.model.vartype is dimod.SPIN
    assert again.model.is_equal(bqm)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"variables": [{"name": "x", "type": "BOOL"}]}, "variables[0].type"),
        ({"variables": [{"name": "x"}], "objective": {"linear": [["y", 1]]}}, "objective.linear[0]"),
        (
            {"variables": [{"name": "x"}], "constraints": [{"linear": [["x", 1]], "sense": "<", "rhs": 1}]},
            "constraints[0].sense",
        ),
        ({"variables": [{"name": "x"}], "sense": "up"}, "sense"),
        ({"objective": {}}, "problem"),
    ],
)
def test_bad_documents_name_the_field(doc: dict[str, object], field: str) -> None:
    with pytest.raises(ModelError) as info:
        Problem.from_dict(doc, source="p.json")
    assert info.value.field == field
    assert str(info.value).startswith("p.json: ")


def test_invalid_json_names_the_line() -> None:
    with pytest.raises(ModelError) as info:
        Problem.from_json('{\n "variables": [\n }', source="bad.json")
    assert info.value.line == 3
