"""The annealer's default policy: it uses the budget, more time is not worse, targets stop it early."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import dimod
import numpy as np
import pytest

import kakehashi
from kakehashi.apps.graphs.generate import graph_problem, random_sparse, toroidal_grid
from kakehashi.ising import policy
from kakehashi.ising.anneal import anneal
from kakehashi.ising.arrays import IsingArrays, cut_weights_to_ising
from kakehashi.model.problem import Problem
from kakehashi.model.readers.gset import best_known, parse_edges
from kakehashi.result import Status
from kakehashi.router import choose_by_rule


def arrays_of(graph: tuple[int, np.ndarray, np.ndarray, np.ndarray]) -> IsingArrays:
    n, i, j, w = graph
    return IsingArrays.from_ising(cut_weights_to_ising(n, np.stack([i, j], axis=1), w))


def cut_of(graph: tuple[int, np.ndarray, np.ndarray, np.ndarray], spins: np.ndarray) -> float:
    _, i, j, w = graph
    s = spins.astype(np.float64)
    return float(np.sum(w * (1.0 - s[i] * s[j]) / 2.0))


def test_solve_uses_the_budget_and_streams_a_monotone_curve() -> None:
    graph = toroidal_grid(40, 50, signed=True, seed=3)  # 2,000 nodes: one round is far below 2 s
    problem = graph_problem(graph, "torus2000")
    kakehashi.solve(graph_problem(toroidal_grid(4, 4, seed=0), "tiny"), "anneal", time_limit=0.2, seed=0)
    t0 = time.perf_counter()
    result = kakehashi.solve(problem, "anneal", time_limit=2.0, seed=5)
    wall = time.perf_counter() - t0
    assert 1.5 <= wall <= 2.5, wall
    assert result.status is Status.FEASIBLE and result.objective is not None
    # the objective is the cut of the returned sample, recomputed here from the edges
    spins = np.array([result.sample[k] for k in range(graph[0])])
    assert result.objective == pytest.approx(cut_of(graph, spins))
    curve = result.trajectory
    assert len(curve) >= 2
    times = [t for t, _ in curve]
    energies = [e for _, e in curve]
    assert times == sorted(times) and all(b < a for a, b in pairwise(energies))
    assert energies[-1] == pytest.approx(-result.objective)  # target energy of a maximisation: -cut
    assert result.time_to_best is not None and 0 < result.time_to_best <= wall
    assert result.legs[0].time_to_best == result.time_to_best
    rounds = result.info["rounds"]
    assert rounds >= 2 and result.info["round_sweeps"][-1] > result.info["round_sweeps"][0]


def test_more_time_is_not_worse_on_g1(data_dir: Path) -> None:
    path = data_dir / "gset" / "G1.txt"
    graph = parse_edges(path.read_text(), str(path))
    best = best_known(path, "G1")
    assert best is not None
    arrays = arrays_of(graph)
    cuts = {}
    for T in (0.3, 2.0):
        cuts[T] = [cut_of(graph, policy.solve(arrays, time_limit=T, seed=s).spins[0]) for s in range(3)]
    assert all(c <= best for c in cuts[2.0])
    assert np.median(cuts[2.0]) >= np.median(cuts[0.3])
    assert np.median(cuts[2.0]) >= best - 8  # loosely near the best known (11624)


def test_exact_optimum_of_a_bipartite_torus_is_reached() -> None:
    graph = toroidal_grid(20, 30, signed=False, seed=0)  # even sides: bipartite, max cut = every edge
    result = policy.solve(arrays_of(graph), time_limit=1.0, seed=2)
    assert cut_of(graph, result.spins[0]) == len(graph[3])


def test_target_stops_early_and_is_recorded() -> None:
    graph = random_sparse(3000, 6.0, signed=True, seed=4)
    arrays = arrays_of(graph)
    easy = float(policy.solve(arrays, time_limit=0.3, seed=1).energies[0]) + 20.0
    t0 = time.perf_counter()
    result = policy.solve(arrays, time_limit=10.0, seed=2, target=easy)
    assert time.perf_counter() - t0 < 3.0
    assert result.reached_target and result.energies[0] <= easy + 1e-7
    assert result.time_to_target is not None and result.time_to_target <= result.seconds


def test_fill_stretches_a_short_schedule_to_the_limit() -> None:
    arrays = arrays_of(toroidal_grid(30, 30, signed=True, seed=1))
    t0 = time.perf_counter()
    result = anneal(arrays, num_replicas=2, num_sweeps=10, time_limit=0.6, seed=0, fill=True)
    assert 0.4 <= time.perf_counter() - t0 <= 0.9
    assert result.info["sweeps"] > 2 * 10 * 5


def test_policy_chooses_longer_first_rounds_for_sparse_signed_graphs() -> None:
    dense = policy.features(arrays_of(random_sparse(800, 48.0, signed=False, seed=0)))
    sparse = policy.features(arrays_of(toroidal_grid(70, 70, signed=True, seed=0)))
    assert sparse.signed and not dense.signed and sparse.mean_degree == pytest.approx(4.0)
    assert policy.first_sweeps(sparse) > policy.first_sweeps(dense)


def test_auto_gives_an_ising_problem_one_leg() -> None:
    bqm = dimod.generators.gnp_random_bqm(60, 0.2, "SPIN", random_state=1)
    assert choose_by_rule(Problem(bqm)).backends == ("anneal",)
