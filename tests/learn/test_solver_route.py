"""``solve(problem, "auto")`` consults the learned router and records expected vs achieved quality."""

from __future__ import annotations

from pathlib import Path

import pytest

import kakehashi
from kakehashi.learn.history import write_history
from tests.learn.test_route import history, maxcut


def test_auto_records_expected_and_achieved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.jsonl"
    write_history(path, history({"steepest": 1.0, "tabu": 0.99, "sa": 0.5}, [maxcut(30 + 4 * k, 0.3, k) for k in range(5)]))
    monkeypatch.setenv("KAKEHASHI_ROUTER_HISTORY", str(path))
    problem = maxcut(36, 0.3, 42)
    result = kakehashi.solve(problem, "auto", time_limit=2.0, seed=1)
    route = result.info["route"]
    assert route["source"] == "learned"
    assert route["backends"] == ["steepest", "tabu"]
    assert route["expected"]["steepest"] == pytest.approx(1.0)
    assert "steepest" in route["reason"] and "tabu" in route["reason"]
    achieved = route["achieved"]
    assert set(achieved) == {"steepest", "tabu"}
    best = min(a["objective"] for a in achieved.values())
    assert result.objective == best and max(a["quality"] for a in achieved.values()) == 1.0
