"""Learned routing: records from results, the k-NN model, route() and the rule fallback."""

from __future__ import annotations

from pathlib import Path

import dimod
import numpy as np
import pytest

from kakehashi.auto import choose
from kakehashi.learn.features import problem_class
from kakehashi.learn.history import HistoryRecord, quality, read_history, records_from_result, write_history
from kakehashi.learn.model import PerformanceModel
from kakehashi.learn.route import route
from kakehashi.model.problem import Problem
from kakehashi.result import LegOutcome, Result, Status
from kakehashi.router import choose_by_rule


def maxcut(n: int, p: float, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    bqm = dimod.BinaryQuadraticModel("SPIN")
    for i in range(n):
        bqm.add_variable(i)
        for j in range(i + 1, n):
            if rng.random() < p:
                bqm.add_interaction(i, j, 1.0)
    return Problem(bqm, name=f"maxcut-{n}-{seed}")


def knapsack(n: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    cqm = dimod.ConstrainedQuadraticModel()
    x = [dimod.Binary(i) for i in range(n)]
    values, weights = rng.integers(1, 30, n), rng.integers(1, 20, n)
    cqm.set_objective(-sum(int(v) * xi for v, xi in zip(values, x, strict=True)))
    cqm.add_constraint(sum(int(w) * xi for w, xi in zip(weights, x, strict=True)) <= int(weights.sum() // 2))
    return Problem(cqm, name=f"knap-{n}-{seed}")


def race_result(problem: Problem, objectives: dict[str, float | None]) -> Result:
    legs = [
        LegOutcome(b, Status.FEASIBLE if o is not None else Status.TIMEOUT, o, o is not None, 0.5)
        for b, o in objectives.items()
    ]
    return Result(status=Status.FEASIBLE, problem=problem.name, sense=problem.sense, legs=legs)


def history(objs: dict[str, float], problems: list[Problem]) -> list[HistoryRecord]:
    out = []
    for k, p in enumerate(problems):
        base = -100.0 - k
        out += records_from_result(p, race_result(p, {b: base * q for b, q in objs.items()}), time_limit=1.0)
    return out


def test_records_and_quality(tmp_path: Path) -> None:
    p = maxcut(30, 0.3, 0)
    recs = records_from_result(p, race_result(p, {"sa": -50.0, "tabu": -48.0, "qaoa": None}), time_limit=2.0)
    assert [r.backend for r in recs] == ["sa", "tabu", "qaoa"]
    assert all(r.best_in_race == -50.0 and r.problem_class == "unconstrained-binary" for r in recs)
    assert quality(-48.0, True, -50.0, "min") == pytest.approx(0.96)
    assert quality(None, False, -50.0, "min") == 0.0
    assert quality(96.0, True, 100.0, "max") == pytest.approx(0.96)
    path = tmp_path / "h.jsonl"
    write_history(path, recs)
    assert read_history(path) == recs


def test_classes() -> None:
    from kakehashi.inspection import features

    assert problem_class(features(maxcut(10, 0.5, 1))) == "unconstrained-binary"
    assert problem_class(features(knapsack(10, 1))) == "linear-constrained"


def test_route_picks_the_backend_history_says_is_best() -> None:
    train = [maxcut(40 + 5 * k, 0.3, k) for k in range(6)]
    # in this history tabu always wins on MaxCut-like problems, sa is 5 % worse, steepest 20 %
    recs = history({"tabu": 1.0, "sa": 0.95, "steepest": 0.8}, train)
    model = PerformanceModel(recs)
    assert model.groups("unconstrained-binary") == 6
    choice = route(maxcut(45, 0.3, 99), 1.0, model)
    assert choice.source == "learned"
    assert choice.backends == ("tabu", "sa")
    assert choice.expected["tabu"] == pytest.approx(1.0) and choice.expected["sa"] == pytest.approx(0.95)
    assert "tabu" in choice.reason and "sa" in choice.reason
    # the opposite history gives the opposite choice
    recs = history({"tabu": 0.7, "sa": 0.9, "steepest": 1.0}, train)
    assert route(maxcut(45, 0.3, 99), 1.0, recs).backends == ("steepest", "sa")


def test_falls_back_to_rule_without_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = maxcut(40, 0.3, 5)
    rule = choose_by_rule(p)
    assert route(p, 1.0, None).backends == rule.backends
    # history only for another class: still the rule, and it says why
    knap_recs = history({"highs": 1.0, "sa": 0.5}, [knapsack(10 + k, k) for k in range(4)])
    choice = route(p, 1.0, knap_recs)
    assert choice.source == "rule" and choice.backends == rule.backends
    assert "too little history for class unconstrained-binary" in choice.reason
    # choose() reads KAKEHASHI_ROUTER_HISTORY
    monkeypatch.delenv("KAKEHASHI_ROUTER_HISTORY", raising=False)
    assert choose(p).source == "rule"
    path = tmp_path / "h.jsonl"
    write_history(path, history({"steepest": 1.0, "sa": 0.5, "tabu": 0.6}, [maxcut(40 + k, 0.3, k) for k in range(4)]))
    monkeypatch.setenv("KAKEHASHI_ROUTER_HISTORY", str(path))
    choice = choose(p, time_limit=1.0)
    assert choice.source == "learned" and choice.backends[0] == "steepest"
