"""The ``anneal`` and ``sb`` backends: energies, seeds, time limits, targets, parameters."""

from __future__ import annotations

import time
from typing import Any

import dimod
import numpy as np
import pytest

from kakehashi.backends.base import Backend, Termination
from kakehashi.backends.registry import get_backend
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled, IsingModel, TargetKind
from kakehashi.exceptions import BackendRejected

SMALL_PARAMS: dict[str, dict[str, Any]] = {
    "anneal": {"num_replicas": 4, "num_sweeps": 200},
    "sb": {"num_agents": 16, "num_steps": 200},
}


def to_bqm(model: IsingModel) -> dimod.BinaryQuadraticModel:
    coo = model.J.tocoo()
    return dimod.BinaryQuadraticModel.from_ising(
        {i: float(v) for i, v in enumerate(model.h)},
        {(int(i), int(j)): float(v) for i, j, v in zip(coo.row, coo.col, coo.data, strict=True)},
        model.offset,
    )


@pytest.mark.parametrize("name", ["anneal", "sb"])
def test_registered_and_protocol(name: str) -> None:
    backend = get_backend(name)
    assert isinstance(backend, Backend)
    assert backend.available()
    assert TargetKind.ISING in backend.capabilities().targets


@pytest.mark.parametrize("name", ["anneal", "sb"])
def test_energies_match_dimod(name: str, small_ising: IsingModel, make_compiled: Any) -> None:
    out = get_backend(name).solve(make_compiled(small_ising), time_limit=None, seed=3,
                                  params=SMALL_PARAMS[name])
    bqm = to_bqm(small_ising)
    assert out.energies is not None
    assert set(np.unique(out.samples)) <= {-1.0, 1.0}
    expected = dimod.SampleSet.from_samples_bqm((out.samples, list(range(small_ising.num_variables))), bqm)
    np.testing.assert_allclose(np.sort(out.energies), np.sort(expected.record.energy), atol=1e-6)
    # Best first, and the best is at least as good as a steepest-descent polish of random states.
    assert np.all(np.diff(out.energies) >= -1e-9)
    from dwave.samplers import SteepestDescentSolver

    descent = SteepestDescentSolver().sample(bqm, num_reads=50, seed=1)
    assert out.energies[0] <= descent.first.energy + 1e-9


@pytest.mark.parametrize("name", ["anneal", "sb"])
def test_bqm_target_gives_binary_samples(name: str, small_ising: IsingModel) -> None:
    bqm = to_bqm(small_ising).change_vartype("BINARY", inplace=False)
    variables = tuple(bqm.variables)
    compiled = Compiled(kind=TargetKind.BQM, target=bqm, variables=variables, inverter=Inverter.identity(variables))
    out = get_backend(name).solve(compiled, time_limit=None, seed=5, params=SMALL_PARAMS[name])
    assert set(np.unique(out.samples)) <= {0.0, 1.0}
    expected = bqm.energies((out.samples, list(variables)))
    assert out.energies is not None
    np.testing.assert_allclose(out.energies, expected, atol=1e-6)


@pytest.mark.parametrize("name", ["anneal", "sb"])
def test_same_seed_same_samples(name: str, small_ising: IsingModel, make_compiled: Any) -> None:
    backend = get_backend(name)
    runs = [backend.solve(make_compiled(small_ising), time_limit=None, seed=s, params=SMALL_PARAMS[name])
            for s in (11, 11, 12)]
    np.testing.assert_array_equal(runs[0].samples, runs[1].samples)
    assert runs[0].info["seed"] == 11 and runs[2].info["seed"] == 12


@pytest.mark.parametrize(("name", "params"), [
    ("anneal", {"num_replicas": 2, "num_sweeps": 10_000_000}),
    ("sb", {"num_agents": 8, "num_steps": 10_000_000, "patience": None}),
])
def test_time_limit_holds(name: str, params: dict[str, Any], make_ising: Any, make_compiled: Any) -> None:
    model = make_ising(300, 0.05, seed=2, integer=True)
    backend = get_backend(name)
    backend.solve(make_compiled(model), time_limit=None, seed=0, params=SMALL_PARAMS[name])  # JIT warm
    t0 = time.perf_counter()
    out = backend.solve(make_compiled(model), time_limit=0.5, seed=0, params=params)
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0
    assert out.termination == Termination.TIME_LIMIT
    assert out.energies is not None and np.isfinite(out.energies).all()


def test_anneal_target_stops_early(make_ising: Any, make_compiled: Any) -> None:
    model = make_ising(200, 0.05, seed=4, integer=True)
    backend = get_backend("anneal")
    ref = backend.solve(make_compiled(model), time_limit=None, seed=1, params={"num_sweeps": 500})
    assert ref.energies is not None
    target = float(ref.energies[0]) + 4.0
    out = backend.solve(make_compiled(model), time_limit=10.0, seed=2,
                        params={"num_sweeps": 300, "restarts": True, "target_energy": target})
    assert out.info["reached_target"]
    assert out.energies is not None and out.energies[0] <= target
    assert out.termination == Termination.COMPLETED


@pytest.mark.parametrize("name", ["anneal", "sb"])
def test_unknown_param_rejected(name: str, small_ising: IsingModel, make_compiled: Any) -> None:
    with pytest.raises(BackendRejected, match="accepted"):
        get_backend(name).solve(make_compiled(small_ising), time_limit=None, seed=0, params={"bogus": 1})


def test_sb_rejects_bad_variant(small_ising: IsingModel, make_compiled: Any) -> None:
    with pytest.raises(BackendRejected, match="variant"):
        get_backend("sb").solve(make_compiled(small_ising), time_limit=None, seed=0, params={"variant": "x"})
