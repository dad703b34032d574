"""Cloud adapters against their vendors' local simulators and mocks, plus missing-credential messages."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from kakehashi.backends.cloud.braket import BraketBackend
from kakehashi.backends.cloud.dwave import DWaveHybridBackend, DWaveQpuBackend
from kakehashi.backends.cloud.ibm import IbmBackend
from kakehashi.backends.cloud.jobs import wait_or_cancel
from kakehashi.backends.registry import register, unregister
from kakehashi.exceptions import BackendRejected, BackendTimeout, BackendUnavailable
from kakehashi.testing import BackendConformance
from tests.backends.gate.test_qaoa import brute_force_maxcut, compiled_of, maxcut_ising


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for var in ("IBM_QUANTUM_TOKEN", "DWAVE_API_TOKEN", "BRAKET_DEVICE_ARN", "DWAVE_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


def test_missing_credentials_say_what_to_set(no_credentials: None) -> None:
    assert "set IBM_QUANTUM_TOKEN" in IbmBackend().available().reason
    assert "set DWAVE_API_TOKEN" in DWaveQpuBackend().available().reason
    assert "set DWAVE_API_TOKEN" in DWaveHybridBackend().available().reason
    assert "set BRAKET_DEVICE_ARN" in BraketBackend().available().reason
    for reason in (IbmBackend().available().reason, BraketBackend().available().reason):
        assert reason.startswith("not available: ")
    with pytest.raises(BackendUnavailable, match="DWAVE_API_TOKEN"):
        DWaveQpuBackend().solve(compiled_of(maxcut_ising(nx.cycle_graph(4))), time_limit=1, seed=0, params={})


def test_timeout_cancels_the_vendor_job() -> None:
    cancelled: list[bool] = []
    with pytest.raises(BackendTimeout, match="cancelled"):
        wait_or_cancel(lambda: False, lambda: cancelled.append(True), deadline=0.0, what="job")
    assert cancelled == [True]


def test_ibm_fake_manila_maxcut_and_width_check() -> None:
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    backend = IbmBackend(device=FakeManilaV2())
    g = nx.cycle_graph(4)
    out = backend.solve(compiled_of(maxcut_ising(g)), time_limit=None, seed=3, params={"p": 1, "shots": 512})
    assert -out.energies.min() == brute_force_maxcut(g)  # type: ignore[union-attr]
    assert out.info["device"] == "fake_manila" and out.info["simulated"] is True
    assert out.info["transpiled_depth"] > 0
    with pytest.raises(BackendRejected, match="needs 6 qubits but device fake_manila has 5"):
        backend.solve(compiled_of(maxcut_ising(nx.cycle_graph(6))), time_limit=None, seed=3, params={})


def test_dwave_mock_qpu_embeds_and_solves() -> None:
    import dimod
    from dwave.system.testing import MockDWaveSampler

    from kakehashi.compile.inverter import Inverter
    from kakehashi.compile.ising import ising_to_bqm
    from kakehashi.compile.targets import Compiled, TargetKind

    g = nx.random_regular_graph(3, 10, seed=1)
    ising = maxcut_ising(g)
    bqm = ising_to_bqm(ising, range(10)).change_vartype(dimod.BINARY, inplace=False)
    compiled = Compiled(TargetKind.BQM, bqm, tuple(range(10)), Inverter.identity(range(10)))
    out = DWaveQpuBackend(MockDWaveSampler()).solve(compiled, time_limit=10, seed=0, params={"num_reads": 50})
    assert np.allclose(out.energies, bqm.energies((out.samples, list(range(10)))))  # type: ignore[arg-type]
    assert -out.energies.min() == brute_force_maxcut(g)  # type: ignore[union-attr]


def test_braket_local_simulator_maxcut() -> None:
    g = nx.random_regular_graph(3, 8, seed=4)
    out = BraketBackend(device="local").solve(compiled_of(maxcut_ising(g)), time_limit=None, seed=0,
                                              params={"p": 2, "shots": 500})
    assert out.info["simulated"] is True
    assert -out.energies.min() == brute_force_maxcut(g)  # type: ignore[union-attr]
    assert int(out.num_occurrences.sum()) == 500  # type: ignore[union-attr]


# ---------------------------------------------------------------- conformance kit over each adapter
def _ibm() -> IbmBackend:
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime.fake_provider import FakeGuadalupeV2

    # the fake device's coupling map and gate set without its noise model: noisy trajectories of a
    # 10-qubit circuit take longer than the kit's limits (the noisy path is tested on FakeManilaV2)
    return IbmBackend(device=AerSimulator.from_backend(FakeGuadalupeV2(), noise_model=None), max_qubits=10)


def _dwave_qpu() -> DWaveQpuBackend:
    from dwave.system.testing import MockDWaveSampler

    return DWaveQpuBackend(MockDWaveSampler())


def _dwave_hybrid() -> DWaveHybridBackend:
    import dimod
    from dwave.samplers import TabuSampler

    return DWaveHybridBackend(bqm_sampler=TabuSampler(), cqm_sampler=dimod.ExactCQMSolver())


def _braket() -> BraketBackend:
    return BraketBackend(device="local", max_qubits=10)


ADAPTERS = [("test-dwave-mock", _dwave_qpu), ("test-dwave-hybrid-local", _dwave_hybrid),
            ("test-braket-local", _braket)]


class TestCloudConformance(BackendConformance):
    @pytest.fixture(params=ADAPTERS, ids=[a[0] for a in ADAPTERS])
    def conformance_backend_name(self, request: pytest.FixtureRequest) -> object:
        name, factory = request.param
        register(name, factory)
        yield name
        unregister(name)


class TestIbmFakeConformance(BackendConformance):
    """Transpiling for a 16-qubit device plus local simulation: the kit gets 5 s here."""

    time_limit = 5.0

    @pytest.fixture
    def conformance_backend_name(self) -> object:
        register("test-ibm-fake", _ibm)
        yield "test-ibm-fake"
        unregister("test-ibm-fake")
