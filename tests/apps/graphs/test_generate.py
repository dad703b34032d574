"""The Gset-style generators: deterministic, simple graphs of the announced size and degree."""

from __future__ import annotations

import numpy as np
import pytest

from kakehashi.apps.graphs.generate import graph_problem, random_sparse, toroidal_grid
from kakehashi.apps.graphs.maxcut import cut_value
from kakehashi.exceptions import ModelError


def _simple(graph: tuple[int, np.ndarray, np.ndarray, np.ndarray]) -> None:
    n, i, j, _ = graph
    assert np.all(i < j) and np.all(j < n) and np.all(i >= 0)
    assert len(np.unique(i * n + j)) == len(i), "repeated edge"


def test_torus_every_node_has_four_neighbours() -> None:
    graph = toroidal_grid(5, 7, seed=3)
    n, i, j, w = graph
    assert n == 35 and len(i) == 70
    _simple(graph)
    degree = np.bincount(np.concatenate([i, j]), minlength=n)
    assert np.all(degree == 4)
    assert set(np.unique(w)) <= {-1.0, 1.0}
    assert np.all(toroidal_grid(5, 7, signed=False)[3] == 1.0)


def test_random_sparse_size_and_degree() -> None:
    graph = random_sparse(7000, 4.0, signed=True, seed=7)
    n, i, _, w = graph
    assert n == 7000 and len(i) == 14000
    _simple(graph)
    assert set(np.unique(w)) == {-1.0, 1.0}


def test_generators_are_deterministic() -> None:
    a, b = random_sparse(500, 10.0, seed=1), random_sparse(500, 10.0, seed=1)
    for x, y in zip(a[1:], b[1:], strict=True):
        assert np.array_equal(x, y)
    c = random_sparse(500, 10.0, seed=2)
    assert not np.array_equal(a[1], c[1])


def test_problem_energy_is_the_cut() -> None:
    graph = random_sparse(60, 6.0, signed=True, seed=4)
    problem = graph_problem(graph, "g")
    side = np.random.default_rng(0).integers(0, 2, size=60)
    spins = {v: int(2 * side[v] - 1) for v in range(60)}
    assert problem.evaluate(spins).objective == pytest.approx(cut_value(graph, side))
    assert problem.sense == "max"


def test_bad_arguments_are_model_errors() -> None:
    with pytest.raises(ModelError):
        toroidal_grid(2, 10)
    with pytest.raises(ModelError):
        random_sparse(10, 20.0)
