"""KakehashiSampler: BQM backends as dimod samplers, checked with dimod.testing itself."""

from __future__ import annotations

import unittest

import dimod
import dimod.testing
import pytest

from kakehashi.backends.dimod_sampler import KakehashiSampler
from kakehashi.exceptions import BackendRejected


def exact_sampler() -> KakehashiSampler:
    return KakehashiSampler("exact")


def sa_sampler() -> KakehashiSampler:
    return KakehashiSampler("sa")


@dimod.testing.load_sampler_bqm_tests(exact_sampler)
@dimod.testing.load_sampler_bqm_tests(sa_sampler)
class TestDimodSamplerChecks(unittest.TestCase):
    def test_api(self) -> None:
        dimod.testing.assert_sampler_api(exact_sampler())


def test_spin_bqm_keeps_its_vartype_and_finds_the_ground_state() -> None:
    bqm = dimod.generators.ran_r(1, 12, seed=3)  # spin BQM, ±1 couplings
    sampleset = KakehashiSampler("sa").sample(bqm, seed=5, num_reads=20)
    assert sampleset.vartype is dimod.SPIN
    dimod.testing.assert_sampleset_energies(sampleset, bqm)
    ground = dimod.ExactSolver().sample(bqm).first.energy
    assert sampleset.first.energy == pytest.approx(ground)
    assert sampleset.info["termination"] == "completed"
    assert sampleset.record.num_occurrences.sum() == 20


def test_parameters_are_the_backends_and_unknown_ones_are_rejected() -> None:
    sampler = KakehashiSampler("tabu")
    assert {"num_reads", "tenure", "timeout", "time_limit", "seed"} <= set(sampler.parameters)
    with pytest.raises(BackendRejected, match="num_reads"):
        sampler.sample(dimod.BQM({"a": 1.0}, {}, 0.0, "BINARY"), sweeps=3)


def test_a_backend_without_bqm_targets_is_no_sampler() -> None:
    with pytest.raises(BackendRejected, match="BQM"):
        KakehashiSampler("highs")
