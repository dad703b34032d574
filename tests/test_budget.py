"""Budget: the whole call's time limit, its slack and what a backend starting now may use."""

from __future__ import annotations

import pytest

from kakehashi.budget import MIN_BACKEND_SECONDS, Budget


def test_slack_is_half_a_second_or_five_percent() -> None:
    assert Budget(0.0, 1.0).slack == pytest.approx(0.5)
    assert Budget(0.0, 100.0).slack == pytest.approx(5.0)
    assert Budget(10.0, 2.0).hard_stop == pytest.approx(12.5)
    assert Budget(0.0, None).hard_stop is None and Budget(0.0, None).slack == 0.0


def test_backend_limit_is_what_is_left_minus_the_reserve() -> None:
    budget = Budget.starting_now(5.0)
    limit = budget.backend_limit(reserve=1.0)
    assert limit is not None and 3.5 < limit <= 4.0
    assert Budget(budget.start - 10.0, 5.0).backend_limit() == MIN_BACKEND_SECONDS  # overrun: still a floor
    assert Budget.starting_now(None).backend_limit() is None


def test_round_trip_and_shift() -> None:
    budget = Budget(123.5, 2.0)
    assert Budget.from_dict(budget.to_dict()) == budget
    assert budget.shifted(1.5).deadline == pytest.approx(127.0)
