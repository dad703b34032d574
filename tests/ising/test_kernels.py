"""Kernels agree: dense vs sparse (numpy and numba), torch on CPU vs numpy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kakehashi.ising.anneal import anneal
from kakehashi.ising.arrays import IsingArrays
from kakehashi.ising.ops import NumpyOps
from kakehashi.ising.sb import simulated_bifurcation
from kakehashi.ising.spectrum import extreme_eigenvalues, goto_c0, stable_dt


@pytest.mark.parametrize("integer", [True, False])
def test_anneal_dense_and_sparse_kernels_agree(integer: bool, make_ising: Any) -> None:
    arrays = IsingArrays.from_ising(make_ising(120, 0.1, seed=9, integer=True))
    assert arrays.integral
    dense = anneal(arrays, num_replicas=3, num_sweeps=300, seed=4, kernel="dense", integer=integer)
    sparse = anneal(arrays, num_replicas=3, num_sweeps=300, seed=4, kernel="sparse", integer=integer)
    assert dense.info["kernel"] == ("dense-int" if integer else "dense")
    np.testing.assert_array_equal(dense.spins, sparse.spins)
    np.testing.assert_allclose(dense.energies, sparse.energies)
    np.testing.assert_allclose(dense.energies, arrays.energies(dense.spins))


def test_integer_and_float_annealers_reach_the_same_optimum(make_ising: Any) -> None:
    """Both acceptance paths are exact Metropolis: on a small model both find the exact ground state."""
    model = make_ising(14, 0.5, seed=3, integer=True)
    arrays = IsingArrays.from_ising(model)
    states = np.array(np.meshgrid(*[[-1, 1]] * 14, indexing="ij")).reshape(14, -1).T
    ground = float(arrays.energies(states).min())
    for integer in (True, False):
        res = anneal(arrays, num_replicas=4, num_sweeps=300, seed=1, integer=integer)
        assert res.energies[0] == pytest.approx(ground)


def test_anneal_results_do_not_depend_on_thread_count(make_ising: Any) -> None:
    import numba
    from numba.np.ufunc.parallel import NUM_THREADS  # the thread pool's size, fixed at launch

    arrays = IsingArrays.from_ising(make_ising(200, 0.05, seed=12, integer=True))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = anneal(arrays, num_replicas=4, num_sweeps=200, seed=9)
        numba.set_num_threads(NUM_THREADS)
        many = anneal(arrays, num_replicas=4, num_sweeps=200, seed=9)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.spins, many.spins)


def test_integer_kernel_thresholds_match_metropolis() -> None:
    from kakehashi.ising.intkernels import thresholds

    thr, cut = thresholds(np.array([0.5, 2.0]), 64)
    np.testing.assert_allclose(thr[:, :10] / 2.0**32, np.exp(-np.outer([0.5, 2.0], np.arange(10))), atol=1e-9)
    assert (cut < 64).all() and (thr[np.arange(2), cut] == 0).all()  # never accepted at or beyond cut
    assert thr[1, cut[1] - 2] > 0


def test_anneal_float_couplings_use_exp_path(make_ising: Any) -> None:
    arrays = IsingArrays.from_ising(make_ising(80, 0.2, seed=1))
    res = anneal(arrays, num_replicas=2, num_sweeps=200, seed=0)
    assert not res.info["table"]
    np.testing.assert_allclose(res.energies, arrays.energies(res.spins))


def test_numpy_dense_and_sparse_products_agree(make_ising: Any) -> None:
    arrays = IsingArrays.from_ising(make_ising(100, 0.1, seed=2))
    dense, sparse = NumpyOps(arrays, dense=True), NumpyOps(arrays, dense=False)
    x = dense.uniform(100, 7, seed=1, scale=1.0)
    np.testing.assert_allclose(dense.force(x), sparse.force(x), rtol=1e-5, atol=1e-5)
    s = dense.sign(x)
    np.testing.assert_allclose(dense.energies(s), arrays.energies(s.T) - arrays.offset, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(dense.energies(s), sparse.energies(s), rtol=1e-5, atol=1e-4)


def test_sb_dense_and_sparse_runs_agree(make_ising: Any) -> None:
    arrays = IsingArrays.from_ising(make_ising(100, 0.1, seed=5, integer=True))
    a = simulated_bifurcation(arrays, variant="discrete", num_agents=8, num_steps=100, seed=3,
                              ops=NumpyOps(arrays, dense=True))
    b = simulated_bifurcation(arrays, variant="discrete", num_agents=8, num_steps=100, seed=3,
                              ops=NumpyOps(arrays, dense=False))
    np.testing.assert_allclose(a.energies, b.energies)


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("variant", ["ballistic", "discrete"])
def test_torch_cpu_matches_numpy(dense: bool, variant: str, make_ising: Any) -> None:
    pytest.importorskip("torch")
    from kakehashi.ising.torch_kernels import TorchOps

    arrays = IsingArrays.from_ising(make_ising(90, 0.15, seed=6, integer=True))
    t_ops, n_ops = TorchOps(arrays, "cpu", dense=dense), NumpyOps(arrays, dense=dense)
    x = n_ops.uniform(90, 5, seed=2, scale=1.0)
    np.testing.assert_allclose(t_ops.to_numpy(t_ops.force(t_ops.uniform(90, 5, seed=2, scale=1.0))),
                               n_ops.force(x), rtol=1e-5, atol=1e-5)
    kw: dict[str, Any] = {"variant": variant, "num_agents": 6, "num_steps": 60, "seed": 8, "polish": False}
    rt = simulated_bifurcation(arrays, ops=t_ops, **kw)
    rn = simulated_bifurcation(arrays, ops=n_ops, **kw)
    assert rt.info["kernel"].startswith("torch")
    np.testing.assert_allclose(np.sort(rt.energies), np.sort(rn.energies), atol=1e-6)


def test_dt_from_spectrum_is_stable_and_c0_rule(make_positive_graph: Any) -> None:
    arrays = IsingArrays.from_ising(make_positive_graph(300, 10, seed=1))
    lo, hi = extreme_eigenvalues(arrays.Js)
    w = np.linalg.eigvalsh(arrays.Js.toarray())
    assert hi == pytest.approx(w[-1], rel=1e-2) and lo == pytest.approx(w[0], rel=1e-2)
    c0 = goto_c0(arrays)
    assert c0 == pytest.approx(0.5 / (np.sqrt(300) * arrays.Js.toarray().std()), rel=1e-6)
    dt = stable_dt(1.0, c0, hi)
    assert dt**2 * (1.0 + c0 * hi) < 4.0
