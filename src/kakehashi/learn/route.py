"""``route()``: the learned ``auto`` router, with the rule router as its fallback.

With enough history for the problem's class (at least :data:`MIN_GROUPS` distinct problems), it
ranks the backends that fit the problem and are available here by expected quality within the
time budget (ties: faster first) and races the top :data:`~kakehashi.router.MAX_LEGS`. Otherwise
it returns the rule's choice (:func:`kakehashi.router.choose_by_rule`) and says why.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from kakehashi.inspection import features, fits
from kakehashi.learn.features import problem_class
from kakehashi.learn.history import HistoryRecord, read_history
from kakehashi.learn.model import PerformanceModel
from kakehashi.model.problem import Problem
from kakehashi.router import MAX_LEGS, Choice, choose_by_rule

#: Distinct problems of a class the history must hold before the model is trusted.
MIN_GROUPS = 3

History = PerformanceModel | Sequence[HistoryRecord] | str | Path

_CACHE: dict[tuple[str, float, int], PerformanceModel] = {}


def load_model(history: History) -> PerformanceModel:
    """A fitted model from a model, a record list or a JSON-lines file (cached by path and mtime)."""
    if isinstance(history, PerformanceModel):
        return history
    if isinstance(history, str | Path):
        path = Path(history)
        stat = path.stat() if path.exists() else None
        key = (str(path.resolve()), stat.st_mtime if stat else 0.0, stat.st_size if stat else 0)
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = PerformanceModel(read_history(path) if stat else [])
        return _CACHE[key]
    return PerformanceModel(list(history))


def _fallback(problem: Problem, why: str) -> Choice:
    rule = choose_by_rule(problem)
    reason = f"{why}; rule: {rule.reason}; racing {', '.join(rule.backends)}"
    return Choice(rule.backends, reason, expected={}, source="rule")


def route(
    problem: Problem, time_limit: float | None, history: History | None, *, max_legs: int = MAX_LEGS
) -> Choice:
    """The backends to race for ``problem`` within ``time_limit`` seconds, learned from ``history``.

    ``Choice.expected`` maps each chosen backend to its expected quality (1 = the best known).
    """
    if history is None:
        return _fallback(problem, "no history")
    if problem.complete_for:
        return _fallback(problem, f"model complete only for {', '.join(problem.complete_for)}")
    model = load_model(history)
    feats = features(problem)
    cls = problem_class(feats)
    seen = model.groups(cls)
    if seen < MIN_GROUPS:
        return _fallback(problem, f"too little history for class {cls} ({seen} problems < {MIN_GROUPS})")
    predictions = model.predict(feats, time_limit)
    eligible = {name for name, info in fits(problem)["backends"].items() if info["ok"]}
    ranked = sorted(
        (p for b, p in predictions.items() if b in eligible), key=lambda p: (-round(p.quality, 4), p.seconds, p.backend)
    )
    if not ranked:
        return _fallback(problem, f"no backend with history for class {cls} is available here")
    chosen = ranked[:max_legs]
    detail = ", ".join(f"{p.backend} {p.quality:.4f} (~{p.seconds:.2g} s)" for p in ranked[: max_legs + 2])
    reason = (
        f"learned: {model.num_records} history records, {seen} {cls} problems; "
        f"expected quality within {time_limit if time_limit is not None else 'no'} s: {detail}; "
        f"racing {', '.join(p.backend for p in chosen)}"
    )
    return Choice(
        tuple(p.backend for p in chosen), reason, expected={p.backend: p.quality for p in chosen}, source="learned"
    )


def history_from_env() -> str | None:
    """The history file named by ``KAKEHASHI_ROUTER_HISTORY``, if set and non-empty."""
    path = os.environ.get("KAKEHASHI_ROUTER_HISTORY", "").strip()
    return path or None
