"""Decomposition: a graph larger than the sub-backend's limit, solved through 8-variable subproblems."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from kakehashi.backends.registry import get_backend
from kakehashi.exceptions import BackendRejected
from kakehashi.hybrid.decompose import DecomposeBackend, clamp, select_subproblem
from kakehashi.testing import BackendConformance
from tests.backends.gate.test_qaoa import compiled_of, maxcut_ising


def torus(rows: int, cols: int) -> nx.Graph:
    """An even torus is bipartite: its maximum cut is every edge."""
    return nx.convert_node_labels_to_integers(nx.grid_2d_graph(rows, cols, periodic=True))


def test_clamped_subproblem_energy_matches_full_model() -> None:
    ising = maxcut_ising(nx.random_regular_graph(3, 20, seed=3))
    sym = ising.symmetric()
    rng = np.random.default_rng(0)
    s = rng.choice([-1.0, 1.0], 20)
    sub = select_subproblem(sym, np.asarray(ising.h + sym @ s), s, 6, set())
    assert len(set(sub)) == 6
    part = clamp(ising, sym, s, sub)
    t = s.copy()
    t[sub] = rng.choice([-1.0, 1.0], 6)
    # energy differences agree: the clamped model differs from the full one by a constant
    d_full = ising.energies(t)[0] - ising.energies(s)[0]
    d_sub = part.energies(t[sub])[0] - part.energies(s[sub])[0]
    assert d_full == pytest.approx(d_sub)


def test_subproblems_alone_reach_the_bipartite_optimum() -> None:
    g = torus(8, 8)  # 64 spins, max cut = 128 edges
    out = DecomposeBackend().solve(
        compiled_of(maxcut_ising(g)), time_limit=60, seed=1,
        params={"sub_backend": "exact", "sub_size": 8, "polish": "steepest", "iterations": 400, "convergence": 60},
    )
    assert -out.energies[0] == pytest.approx(g.number_of_edges())  # type: ignore[index]
    assert out.info["num_subproblems"] == len(out.info["subproblem_sizes"]) > 0
    assert max(out.info["subproblem_sizes"]) == 8
    assert out.info["improving_subproblems"] >= 1


def test_sub_size_above_the_sub_backend_limit_is_rejected() -> None:
    limit = get_backend("exact").capabilities().max_variables
    assert limit is not None
    with pytest.raises(BackendRejected, match="exceeds"):
        DecomposeBackend().solve(compiled_of(maxcut_ising(torus(4, 4))), time_limit=5, seed=0,
                                 params={"sub_size": limit + 1})


def test_decompose_over_qaoa() -> None:
    g = torus(4, 6)  # 24 spins > qaoa's 16
    out = DecomposeBackend().solve(
        compiled_of(maxcut_ising(g)), time_limit=60, seed=2,
        params={"sub_backend": "qaoa", "sub_size": 6, "sub_params": {"p": 1, "shots": 128}, "iterations": 3},
    )
    assert out.info["sub_backend"] == "qaoa" and out.info["num_subproblems"] >= 1
    assert -out.energies[0] == pytest.approx(g.number_of_edges())  # type: ignore[index]


class TestDecomposeConformance(BackendConformance):
    backend_name = "decompose"
