"""Budgets: the deadline a backend works to, the reserve and trimming."""

from __future__ import annotations

import numpy as np
import pytest

from kakehashi.backends import budget


def test_no_limit_no_deadline() -> None:
    plan = budget.start(None, num_variables=10_000)
    assert plan.deadline is None and plan.left() == float("inf") and not plan.expired()
    assert plan.native_limit() is None


def test_deadline_keeps_a_reserve_for_large_outputs() -> None:
    small = budget.start(2.0, num_variables=10)
    large = budget.start(2.0, num_variables=200_000, rows=64)
    assert small.deadline is not None and large.deadline is not None
    # small outputs: the reserve fits in half the slack, the whole limit is work time
    assert small.deadline - small.started == pytest.approx(2.0, abs=1e-6)
    assert large.deadline - large.started < small.deadline - small.started
    # a tiny limit still leaves a quarter of it for work
    tiny = budget.start(0.1, num_variables=1_000_000)
    assert tiny.deadline is not None and tiny.deadline - tiny.started == pytest.approx(0.025, abs=1e-6)


def test_slack_is_the_contract() -> None:
    assert budget.slack(1.0) == 0.5 and budget.slack(10.0) == 0.5 and budget.slack(100.0) == 5.0


def test_trim_keeps_the_best_rows() -> None:
    samples = np.zeros((64, 20_000))
    energies = np.arange(64.0)[::-1]
    keep = budget.trim(samples, energies)
    assert len(keep) == budget.MAX_ENTRIES // 20_000
    assert set(energies[keep]) == set(np.sort(energies)[: len(keep)])
    assert len(budget.trim(np.zeros((5, 10)), None)) == 5
    assert len(budget.trim(np.zeros((3, 10**6)), np.zeros(3))) == 1  # never no row
