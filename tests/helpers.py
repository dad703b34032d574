"""Small seeded problem generators shared by the tests."""

from __future__ import annotations

import dimod
import numpy as np

from kakehashi.model.problem import Problem


def random_cqm(seed: int, n_binary: int = 5, n_integer: int = 1, quadratic: bool = True) -> Problem:
    """A small random CQM with integer coefficients: ``<=``, ``>=`` and ``==`` constraints."""
    rng = np.random.default_rng(seed)
    cqm = dimod.ConstrainedQuadraticModel()
    xs = [dimod.Binary(f"x{i}") for i in range(n_binary)]
    ints = [
        dimod.Integer(f"n{i}", lower_bound=-1, upper_bound=int(rng.integers(2, 6))) for i in range(n_integer)
    ]
    objective = sum(int(rng.integers(-5, 6)) * x for x in xs + ints)
    if quadratic:
        objective += int(rng.integers(-3, 4)) * xs[0] * xs[1] + int(rng.integers(-2, 3)) * xs[2] * ints[0]
    cqm.set_objective(objective)
    cqm.add_constraint(
        sum(int(rng.integers(1, 4)) * x for x in xs) + ints[0] <= int(rng.integers(3, 7)), label="le"
    )
    cqm.add_constraint(xs[0] + xs[3] + xs[4] >= 1, label="ge")
    cqm.add_constraint(xs[1] + xs[2] == 1, label="eq")
    return Problem(cqm, name=f"random{seed}", sense="max" if seed % 2 else "min")


def brute_force(problem: Problem) -> float:
    """Best feasible objective by enumeration (binary and small integer variables only)."""
    import itertools

    domains = []
    for v in problem.variables:
        lo, hi = problem.bounds(v)
        domains.append(range(int(lo), int(hi) + 1))
    best: float | None = None
    for values in itertools.product(*domains):
        sample = dict(zip(problem.variables, values, strict=True))
        ev = problem.evaluate(sample)
        if ev.feasible and (best is None or problem.is_better(ev.objective, best)):
            best = ev.objective
    assert best is not None
    return best
