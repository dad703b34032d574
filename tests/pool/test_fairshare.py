"""Fair-share arithmetic: decay, normalisation, F = 2^(-U/S), multifactor priority."""

from __future__ import annotations

import math

import pytest

from kakehashi.pool.fairshare import (
    PriorityWeights,
    decay,
    decayed_usage,
    fair_share_factors,
    job_priority,
    normalised_shares,
    priority_factor,
    starvation_bound,
)


def test_half_life_decay() -> None:
    assert decay(100.0, 3600.0, 3600.0) == pytest.approx(50.0)
    assert decay(100.0, 7200.0, 3600.0) == pytest.approx(25.0)
    assert decay(100.0, -5.0, 3600.0) == 100.0
    # entries at t=0 (80) and t=3600 (40), seen at t=7200 with a one-hour half-life: 20 + 20
    assert decayed_usage([(0.0, 80.0), (3600.0, 40.0)], 7200.0, 3600.0) == pytest.approx(40.0)


def test_fair_share_factor_values() -> None:
    shares = {"a": 1.0, "b": 3.0}
    assert normalised_shares(shares) == {"a": 0.25, "b": 0.75}
    # nobody used anything: everyone gets 1
    assert fair_share_factors({}, shares) == {"a": 1.0, "b": 1.0}
    # a used exactly its share (25 % of all usage): F = 2^-1
    f = fair_share_factors({"a": 25.0, "b": 75.0}, shares)
    assert f["a"] == pytest.approx(0.5) and f["b"] == pytest.approx(0.5)
    # a used everything: F_a = 2^(-1/0.25) = 1/16, b untouched: 1
    f = fair_share_factors({"a": 10.0}, shares)
    assert f["a"] == pytest.approx(1 / 16) and f["b"] == 1.0


def test_priority_terms_and_bound() -> None:
    w = PriorityWeights(age=1000, fairshare=1000, priority=500, size=100, max_age=3600)
    assert priority_factor(-1000) == 0.0 and priority_factor(1000) == 1.0 and priority_factor(0) == 0.5
    p = job_priority(age=1800, fairshare=0.5, priority=0, legs=2, total_slots=4, weights=w)
    assert p == pytest.approx(1000 * 0.5 + 1000 * 0.5 + 500 * 0.5 + 100 * 0.5)
    # age keeps growing past max_age (not capped as in Slurm)
    assert job_priority(age=7200, fairshare=0, priority=-1000, legs=1, total_slots=1, weights=w) > 2000
    assert starvation_bound(w) == pytest.approx(3600 * 1600 / 1000)
    assert math.isinf(starvation_bound(PriorityWeights(age=0)))
