"""Metrics: TTS, time to target, bootstrap intervals and Dolan–Moré profiles on hand-made data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from kakehashi.bench.metrics import (
    bootstrap,
    gap,
    group_metrics,
    performance_profile,
    ratio,
    time_to_target,
    tts,
)


def test_tts_formula() -> None:
    assert tts(0.5, 2.0) == pytest.approx(2.0 * math.log(0.01) / math.log(0.5))  # ~13.29 s
    assert tts(1.0, 2.0) == 2.0
    assert tts(0.0, 2.0) == math.inf


def test_gap_and_ratio_by_sense() -> None:
    assert gap(90, 100, "max") == pytest.approx(0.1) and ratio(90, 100, "max") == pytest.approx(0.9)
    assert gap(110, 100, "min") == pytest.approx(0.1) and ratio(125, 100, "min") == pytest.approx(0.8)


def test_time_to_target_is_first_crossing() -> None:
    series = [[0.1, 5.0], [0.4, 8.0], [0.9, 10.0]]
    assert time_to_target(series, 8.0, "max") == 0.4
    assert time_to_target(series, 11.0, "max") is None


def test_bootstrap_is_seeded_and_brackets_the_median() -> None:
    data = np.arange(20, dtype=float)
    a = bootstrap(data, lambda x: float(np.median(x)), seed=3)
    assert a == bootstrap(data, lambda x: float(np.median(x)), seed=3)
    assert a[0] <= 9.5 <= a[1]


def test_group_metrics_success_and_tts() -> None:
    runs = [
        {"feasible": True, "objective": 10.0, "wall_s": 1.0, "trajectory": [[0.2, 7.0], [0.5, 10.0]]},
        {"feasible": True, "objective": 9.0, "wall_s": 1.0, "trajectory": [[0.3, 9.0]]},
        {"feasible": False, "objective": 12.0, "wall_s": 1.0, "trajectory": []},
        {"feasible": True, "objective": 10.0, "wall_s": 1.0, "trajectory": [[0.7, 10.0]]},
    ]
    m = group_metrics(runs, best_known=10.0, sense="max", epsilon=0.0)
    assert m["runs"] == 4 and m["feasible_runs"] == 3 and m["successes"] == 2
    assert m["success_p"] == 0.5
    assert m["tts99"] == pytest.approx(tts(0.5, 1.0))
    assert m["median_ttt"] == pytest.approx(0.6)
    assert m["success_p_ci"][0] <= 0.5 <= m["success_p_ci"][1]
    # with epsilon 0.1 the 9.0 run succeeds too
    assert group_metrics(runs, best_known=10.0, sense="max", epsilon=0.1)["successes"] == 3


def test_performance_profile_hand_example() -> None:
    costs = {"p1": {"a": 1.0, "b": 2.0}, "p2": {"a": 4.0, "b": 2.0}, "p3": {"a": 1.0, "b": math.inf}}
    prof = performance_profile(costs, taus=[1.0, 2.0, 10.0])
    assert prof["rho"]["a"] == [2 / 3, 1.0, 1.0]
    assert prof["rho"]["b"] == [1 / 3, 2 / 3, 2 / 3]


def test_cost_in_yen_from_pool_prices(tmp_path: Path) -> None:
    from kakehashi.bench.metrics import summarize

    pool = tmp_path / "pool.toml"
    pool.write_text('[[machines]]\nname = "c"\nkind = "cpu"\nbackends = ["sa"]\nprice_yen_per_second = 2.0\n')
    runs = [{"key": f"i|sa|1|{k}", "instance": "i", "backend": "sa", "budget": 1.0, "seed": k, "feasible": True,
             "objective": 1.0, "wall_s": s, "hardware": "cpu", "backend_used": "sa", "legs": [{}],
             "timings": {"solve": s}, "trajectory": [[s, 1.0]]} for k, s in enumerate([0.5, 1.5])]
    doc = {"suite": {"sense": "min", "protocol": {"epsilon": 0.0}, "instances": [{"id": "i", "best_known": 1.0}]},
           "runs": runs}
    (g,) = summarize(doc, pool=str(pool))["groups"]
    assert g["machine_seconds"] == {"cpu": 2.0}
    assert g["mean_cost_yen"] == pytest.approx(2.0)  # (0.5 + 1.5) s x 2 yen/s / 2 runs
    assert summarize(doc)["groups"][0]["mean_cost_yen"] == 0.0  # local pool: free
