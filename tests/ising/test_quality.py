"""No collapse on all-positive graphs: SB's step comes from the spectrum; cuts near SA's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dimod
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler

from kakehashi.compile.targets import IsingModel
from kakehashi.ising.anneal import anneal
from kakehashi.ising.arrays import IsingArrays, cut_weights_to_ising
from kakehashi.ising.sb import simulated_bifurcation


def sa_best_cut(model: IsingModel) -> float:
    coo = model.J.tocoo()
    bqm = dimod.BinaryQuadraticModel.from_ising(
        {}, {(int(i), int(j)): float(v) for i, j, v in zip(coo.row, coo.col, coo.data, strict=True)}, model.offset)
    ss = SimulatedAnnealingSampler().sample(bqm, num_reads=2, num_sweeps=1000, seed=1)
    return -float(ss.first.energy)


def load_g1(data_dir: Path) -> IsingModel:
    path = data_dir / "gset" / "G1.txt"
    if not path.exists():
        pytest.skip("Gset G1 not in the data directory")
    with open(path) as fh:
        n = int(fh.readline().split()[0])
        body = np.loadtxt(fh, dtype=np.int64)
    return cut_weights_to_ising(n, body[:, :2] - 1, body[:, 2].astype(np.float64))


@pytest.mark.parametrize("variant", ["ballistic", "discrete"])
def test_sb_no_collapse_on_all_positive_graph(variant: str, make_positive_graph: Any) -> None:
    model = make_positive_graph(800, 48, seed=3)
    arrays = IsingArrays.from_ising(model)
    sa = sa_best_cut(model)
    res = simulated_bifurcation(arrays, variant=variant, num_agents=32, num_steps=1000, seed=0)
    assert -res.energies[0] >= 0.97 * sa
    assert res.info["dt"] < 1.25  # the spectrum forced a smaller step than the zero-mean default


def test_fixed_large_step_does_collapse(make_positive_graph: Any) -> None:
    """The trap is real: dt = 1.25 without polish gives a cut far below SA's."""
    model = make_positive_graph(800, 48, seed=3)
    arrays = IsingArrays.from_ising(model)
    res = simulated_bifurcation(arrays, variant="ballistic", num_agents=8, num_steps=300, dt=1.25, seed=0,
                                polish=False)
    assert -res.energies[0] < 0.8 * sa_best_cut(model)


def test_g1_no_collapse(data_dir: Path) -> None:
    model = load_g1(data_dir)
    arrays = IsingArrays.from_ising(model)
    sa = sa_best_cut(model)
    sb = simulated_bifurcation(arrays, variant="discrete", num_agents=32, num_steps=1000, seed=1)
    an = anneal(arrays, num_replicas=2, num_sweeps=1000, seed=1)
    assert -sb.energies[0] >= 0.98 * sa
    assert -an.energies[0] >= 0.995 * sa
    assert -an.energies[0] <= 11624  # the best known cut of G1 (a bound in practice)
