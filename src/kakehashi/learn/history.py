"""History records: one per backend per solved problem, stored as JSON lines.

A record holds the problem's features (:func:`kakehashi.learn.features.summary`), its class, the
backend, the time limit (seconds), the backend's objective (in the problem's sense), whether it
was feasible, its status and solve seconds, the best known objective and the best objective in
its race. ``group`` identifies the problem instance: records of one group are compared with each
other to measure quality.

Quality of a record (:meth:`HistoryRecord.quality`): ``1 − gap`` to the best objective known for
its group (the better of ``best_known``, every ``best_in_race`` and every feasible objective in
the group), clipped to [0, 1]; 0 when infeasible or without an objective.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kakehashi.exceptions import ModelError
from kakehashi.inspection import features as problem_features
from kakehashi.learn.features import problem_class, summary
from kakehashi.model.problem import Problem
from kakehashi.result import Result, Status


@dataclass(frozen=True)
class HistoryRecord:
    """One backend's outcome on one problem (see the module docstring)."""

    group: str
    problem_class: str
    features: dict[str, Any]
    backend: str
    time_limit: float | None
    sense: str
    objective: float | None
    feasible: bool
    status: str
    seconds: float
    best_known: float | None = None
    best_in_race: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HistoryRecord:
        return cls(**d)


def _better(a: float | None, b: float | None, sense: str) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b) if sense == "min" else max(a, b)


def group_best(records: Iterable[HistoryRecord]) -> dict[str, float | None]:
    """The best objective known per group (best known, best in race, feasible objectives)."""
    best: dict[str, float | None] = {}
    for r in records:
        b = best.get(r.group)
        b = _better(b, r.best_known, r.sense)
        b = _better(b, r.best_in_race, r.sense)
        if r.feasible:
            b = _better(b, r.objective, r.sense)
        best[r.group] = b
    return best


def quality(objective: float | None, feasible: bool, best: float | None, sense: str) -> float:
    """``1 − gap`` of ``objective`` to ``best`` in [0, 1] (gap relative to |best|, at least 1e-9)."""
    if objective is None or not feasible:
        return 0.0
    if best is None:
        return 1.0
    diff = objective - best if sense == "min" else best - objective
    scale = max(abs(best), 1e-9)
    return float(min(1.0, max(0.0, 1.0 - diff / scale)))


def records_from_result(
    problem: Problem, result: Result, *, time_limit: float | None, group: str | None = None
) -> list[HistoryRecord]:
    """One record per leg of ``result`` (a race or a single solve) on ``problem``."""
    feats = problem_features(problem)
    cls = problem_class(feats)
    legs = result.legs
    feasible_objs = [leg.objective for leg in legs if leg.feasible and leg.objective is not None]
    best_in_race: float | None = None
    for obj in feasible_objs:
        best_in_race = _better(best_in_race, obj, problem.sense)
    return [
        HistoryRecord(
            group=group or problem.name,
            problem_class=cls,
            features=summary(feats),
            backend=leg.backend,
            time_limit=time_limit,
            sense=problem.sense,
            objective=leg.objective,
            feasible=leg.feasible,
            status=leg.status.value if isinstance(leg.status, Status) else str(leg.status),
            seconds=float(leg.solve_seconds),
            best_known=problem.known_optimum,
            best_in_race=best_in_race,
        )
        for leg in legs
    ]


def read_history(path: str | Path) -> list[HistoryRecord]:
    """Read JSON-lines history; a bad line raises :class:`ModelError` naming file and line."""
    path = Path(path)
    out = []
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ModelError(f"cannot read the history file: {exc.strerror}", source=path) from exc
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(HistoryRecord.from_dict(json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise ModelError(f"not a history record: {exc}", source=path, line=i) from exc
    return out


def write_history(path: str | Path, records: Sequence[HistoryRecord], *, append: bool = True) -> None:
    """Write records as JSON lines (appending by default)."""
    with Path(path).open("a" if append else "w") as fh:
        for r in records:
            fh.write(r.to_json() + "\n")
