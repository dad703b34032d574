"""Small seeded Ising problems for the engine's tests."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled, IsingModel, TargetKind
from kakehashi.ising.arrays import cut_weights_to_ising


def random_ising(n: int, density: float, seed: int, integer: bool = False) -> IsingModel:
    """A random Ising model with local fields (floats, or integers when ``integer``)."""
    rng = np.random.default_rng(seed)
    upper = sp.random(n, n, density=density, random_state=rng, format="csr")
    upper = sp.triu(upper, k=1).tocsr()
    if integer:
        upper.data = rng.choice(np.array([-1.0, 1.0]), size=upper.nnz)
        h = rng.integers(-1, 2, size=n).astype(np.float64)
    else:
        upper.data = rng.normal(size=upper.nnz)
        h = rng.normal(scale=0.5, size=n)
    return IsingModel(h=h, J=upper, offset=1.5)


def all_positive_graph(n: int, degree: int, seed: int) -> IsingModel:
    """MaxCut on a random graph whose weights are all +1 (the SB collapse trap)."""
    rng = np.random.default_rng(seed)
    m = n * degree // 2
    edges = rng.integers(0, n, size=(3 * m, 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    edges = edges[rng.permutation(len(edges))[:m]]
    return cut_weights_to_ising(n, edges, np.ones(len(edges)))


def compiled_ising(model: IsingModel) -> Compiled[IsingModel]:
    names = tuple(f"s{i}" for i in range(model.num_variables))
    return Compiled(kind=TargetKind.ISING, target=model, variables=names, inverter=Inverter.identity(names))


@pytest.fixture
def small_ising() -> IsingModel:
    return random_ising(60, 0.2, seed=7)


@pytest.fixture
def make_ising() -> object:
    return random_ising


@pytest.fixture
def make_positive_graph() -> object:
    return all_positive_graph


@pytest.fixture
def make_compiled() -> object:
    return compiled_ising
