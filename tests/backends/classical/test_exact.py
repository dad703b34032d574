"""Exhaustive search: every state against dimod.ExactSolver, limits and the time limit."""

from __future__ import annotations

from typing import Any

import dimod
import numpy as np
import pytest

from kakehashi.backends.base import Termination
from kakehashi.backends.classical.exact import ExactBackend
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import BackendRejected
from kakehashi.testing import random_bqm


def _compiled(bqm: dimod.BinaryQuadraticModel, shuffle: int | None = None) -> Compiled[Any]:
    labels = list(bqm.variables)
    if shuffle is not None:
        np.random.default_rng(shuffle).shuffle(labels)
    return Compiled(
        kind=TargetKind.BQM, target=bqm, variables=tuple(labels), inverter=Inverter.identity(labels)
    )


@pytest.mark.parametrize("n", [1, 2, 7, 15, 17])
def test_lowest_states_match_dimod_exact_solver(n: int) -> None:
    bqm = random_bqm(n, seed=n, density=0.6)
    target = _compiled(bqm, shuffle=n)
    out = ExactBackend().solve(target, time_limit=None, seed=None, params={"num_states": 5})
    reference = np.sort(dimod.ExactSolver().sample(bqm).record.energy)[:5]
    assert out.termination is Termination.OPTIMAL
    assert out.energies is not None
    np.testing.assert_allclose(out.energies, reference, atol=1e-9)
    np.testing.assert_allclose(bqm.energies((out.samples, list(target.variables))), out.energies, atol=1e-9)
    assert out.bound == pytest.approx(reference[0])


def test_spin_bqm_is_searched_in_binary_form() -> None:
    spin = dimod.BinaryQuadraticModel({"a": 1.0, "b": -0.5}, {("a", "b"): -2.0, ("b", "c"): 1.0}, 0.5, "SPIN")
    out = ExactBackend().solve(_compiled(spin), time_limit=None, seed=None, params={})
    assert out.energies is not None
    assert out.energies[0] == pytest.approx(dimod.ExactSolver().sample(spin).first.energy)
    assert set(np.unique(out.samples)) <= {0.0, 1.0}


def test_more_than_24_variables_is_rejected() -> None:
    with pytest.raises(BackendRejected, match="24"):
        ExactBackend().solve(_compiled(random_bqm(25)), time_limit=None, seed=None, params={})


def test_time_limit_returns_the_best_seen_so_far() -> None:
    bqm = random_bqm(24, seed=3, density=0.3)
    out = ExactBackend().solve(_compiled(bqm), time_limit=0.01, seed=None, params={"num_states": 3})
    assert out.termination in (Termination.TIME_LIMIT, Termination.OPTIMAL)
    if out.termination is Termination.TIME_LIMIT:
        assert out.bound is None and out.info["states_searched"] < 2**24
    assert out.energies is not None
    np.testing.assert_allclose(bqm.energies((out.samples, list(bqm.variables))), out.energies, atol=1e-9)


def test_bad_num_states_is_rejected() -> None:
    with pytest.raises(BackendRejected, match="num_states"):
        ExactBackend().solve(_compiled(random_bqm(3)), time_limit=None, seed=None, params={"num_states": 0})
