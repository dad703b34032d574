"""dwave-samplers adapters: ground states against exhaustive search, batching, seeds, time limits."""

from __future__ import annotations

import time
from typing import Any

import dimod
import numpy as np
import pytest

from kakehashi.backends.annealing.dwave_samplers import (
    SimulatedAnnealingBackend,
    SteepestDescentBackend,
    TabuBackend,
    batch_sizes,
)
from kakehashi.backends.base import Termination
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import BackendRejected
from kakehashi.testing import random_bqm

BACKENDS = [SimulatedAnnealingBackend, TabuBackend, SteepestDescentBackend]


def _compiled(bqm: dimod.BinaryQuadraticModel) -> Compiled[Any]:
    labels = list(bqm.variables)[::-1]  # not the BQM's own order: columns must follow `variables`
    return Compiled(
        kind=TargetKind.BQM, target=bqm, variables=tuple(labels), inverter=Inverter.identity(labels)
    )


@pytest.mark.parametrize("cls", [SimulatedAnnealingBackend, TabuBackend])
def test_finds_the_ground_state_of_a_small_bqm(cls: type) -> None:
    bqm = random_bqm(12, seed=8)
    target = _compiled(bqm)
    out = cls().solve(target, time_limit=0.3, seed=1, params={})
    ground = dimod.ExactSolver().sample(bqm).first.energy
    assert out.energies is not None
    assert out.energies[0] == pytest.approx(ground)
    np.testing.assert_allclose(bqm.energies((out.samples, list(target.variables))), out.energies, atol=1e-9)


def test_steepest_descent_reaches_local_minima() -> None:
    bqm = random_bqm(12, seed=9)
    target = _compiled(bqm)
    out = SteepestDescentBackend().solve(target, time_limit=None, seed=4, params={"num_reads": 8})
    assert out.num_occurrences is not None and out.num_occurrences.sum() == 8
    for row, energy in zip(out.samples, np.asarray(out.energies), strict=True):
        for j in range(row.size):  # no single flip improves a local minimum
            flipped = row.copy()
            flipped[j] = 1 - flipped[j]
            assert bqm.energies((flipped[None, :], list(target.variables)))[0] >= energy - 1e-9


def test_batches_double_and_add_up() -> None:
    assert list(batch_sizes(100)) == [16, 32, 52]
    sizes = batch_sizes(None)
    assert [next(sizes) for _ in range(11)][-2:] == [4096, 4096]


def test_sa_uses_the_time_limit_for_more_reads_and_stops_at_num_reads() -> None:
    target = _compiled(random_bqm(10, seed=2))
    default = SimulatedAnnealingBackend().solve(target, time_limit=None, seed=3, params={"num_sweeps": 50})
    timed = SimulatedAnnealingBackend().solve(target, time_limit=0.4, seed=3, params={"num_sweeps": 50})
    capped = SimulatedAnnealingBackend().solve(target, time_limit=5.0, seed=3, params={"num_reads": 40})
    assert default.info["num_reads"] == 16
    assert timed.info["num_reads"] > 16
    assert capped.info["num_reads"] == 40 and capped.termination is Termination.COMPLETED
    assert capped.solve_seconds < 5.0


def test_sa_same_seed_same_samples_independent_of_the_clock() -> None:
    target = _compiled(random_bqm(30, seed=4, density=0.3))
    params = {"num_reads": 50, "num_sweeps": 100}
    a = SimulatedAnnealingBackend().solve(target, time_limit=None, seed=11, params=params)
    b = SimulatedAnnealingBackend().solve(target, time_limit=30.0, seed=11, params=params)
    c = SimulatedAnnealingBackend().solve(target, time_limit=None, seed=12, params=params)
    assert np.array_equal(a.samples, b.samples)
    assert np.array_equal(a.num_occurrences, b.num_occurrences)  # type: ignore[arg-type]
    assert not np.array_equal(a.samples, c.samples)


@pytest.mark.parametrize("cls", BACKENDS)
def test_time_limit_is_honoured(cls: type) -> None:
    target = _compiled(random_bqm(300, seed=5, density=0.1))
    start = time.perf_counter()
    out = cls().solve(target, time_limit=0.5, seed=0, params={})
    assert time.perf_counter() - start < 0.5 + 1.0
    assert out.samples.shape[1] == 300 and out.samples.shape[0] >= 1


def test_tabu_timeout_is_derived_from_the_time_limit() -> None:
    target = _compiled(random_bqm(50, seed=6))
    start = time.perf_counter()
    out = TabuBackend().solve(target, time_limit=0.6, seed=0, params={"num_reads": 3})
    elapsed = time.perf_counter() - start
    assert 0.3 < elapsed < 0.6 + 1.0  # it uses the time (three reads of ~175 ms) and stops
    assert out.num_occurrences is not None and out.num_occurrences.sum() == 3


@pytest.mark.parametrize("cls", BACKENDS)
def test_unknown_parameter_lists_the_accepted_ones(cls: type) -> None:
    backend = cls()
    with pytest.raises(BackendRejected) as info:
        backend.solve(_compiled(random_bqm(3)), time_limit=None, seed=0, params={"sweeps": 5})
    for name in backend.capabilities().params:
        assert name in str(info.value)
