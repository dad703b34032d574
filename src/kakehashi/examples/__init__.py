"""Bundled example problems and the runner behind ``kakehashi demo`` / ``make run``.

Files (all synthetic, generated with fixed seeds):

- ``knapsack50.lp``: a 50-item 0/1 knapsack (maximise value under one capacity).
  Its optimum is computed independently by dynamic programming (:func:`knapsack_optimum`).
- ``maxcut40.txt``: a 40-node MaxCut instance in Gset (rudy) format, ±1 weights.
- ``production.mps``: a small production plan with integer batches and continuous overtime.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import dimod

from kakehashi.model.problem import Problem
from kakehashi.result import Result

EXAMPLES_DIR = Path(str(files("kakehashi.examples")))


def path(name: str) -> Path:
    """Path of a bundled example file."""
    return EXAMPLES_DIR / name


def knapsack_optimum(problem: Problem) -> float:
    """Optimum of a 0/1 knapsack Problem (one ``<=`` constraint, integer weights) by DP.

    An independent check of the solvers: O(n · capacity) time.
    """
    cqm = problem.cqm
    (comp,) = cqm.constraints.values()
    capacity = int(comp.rhs - comp.lhs.offset)
    weights = {v: int(b) for v, b in comp.lhs.linear.items()}
    best = [0.0] * (capacity + 1)
    for v, value in cqm.objective.linear.items():
        w = weights.get(v, 0)
        for c in range(capacity, w - 1, -1):
            best[c] = max(best[c], best[c - w] + value)
    return best[capacity]


def run_examples(*, time_limit: float = 5.0, seed: int = 1, console: Any = None) -> list[tuple[str, Result]]:
    """Solve every bundled example; returns (label, result) rows."""
    import kakehashi

    rows: list[tuple[str, Result]] = []
    knapsack = kakehashi.read(path("knapsack50.lp"))
    assert isinstance(knapsack.model, dimod.ConstrainedQuadraticModel)
    knapsack.known_optimum = knapsack_optimum(knapsack)
    jobs: list[tuple[str, Problem, str]] = [
        ("knapsack50 (LP)", knapsack, "auto"),
        ("knapsack50 (LP)", knapsack, "sa"),
        ("maxcut40 (Gset)", kakehashi.read(path("maxcut40.txt")), "auto"),
        ("production (MPS)", kakehashi.read(path("production.mps")), "auto"),
    ]
    for label, problem, backend in jobs:
        if console is not None:
            console.print(f"solving {label} on {backend} ...")
        rows.append((label, kakehashi.solve(problem, backend, time_limit=time_limit, seed=seed)))
    return rows
