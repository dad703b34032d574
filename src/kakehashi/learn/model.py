"""A k-nearest-neighbours performance model: expected quality and run time per backend.

Fitted on :class:`~kakehashi.learn.history.HistoryRecord` lists. Records of one (group, backend,
time limit) are averaged first (repeated runs). For a new problem and time limit, each backend's
expected quality is the inverse-distance-weighted mean quality of its ``k`` nearest points of the
SAME problem class, in standardised feature space (:data:`kakehashi.learn.features.NUMERIC`);
a backend with no history in that class gets no prediction (no extrapolation across classes).
Expected run time is the weighted mean of the neighbours' solve seconds. Plain numpy, deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kakehashi.learn.features import numeric, problem_class
from kakehashi.learn.history import HistoryRecord, group_best, quality

#: Neighbours per prediction.
DEFAULT_K = 5
#: Smallest standard deviation used when standardising a feature (avoids blowing up constants).
_MIN_SCALE = 0.05


@dataclass(frozen=True)
class Prediction:
    """A backend's expected quality (1 = matches the best known) and solve seconds, with support."""

    backend: str
    quality: float
    seconds: float
    neighbours: int
    distance: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "quality": self.quality,
            "seconds": self.seconds,
            "neighbours": self.neighbours,
            "distance": self.distance,
        }


@dataclass
class _Points:
    x: np.ndarray  # standardised later
    quality: np.ndarray
    seconds: np.ndarray
    groups: list[str]


class PerformanceModel:
    """k-NN over (problem features, time limit) → quality and seconds, per backend and class."""

    def __init__(self, records: Sequence[HistoryRecord], *, k: int = DEFAULT_K) -> None:
        self.k = k
        self.num_records = len(records)
        best = group_best(records)
        cells: dict[tuple[str, str, str, float | None], list[HistoryRecord]] = defaultdict(list)
        for r in records:
            cells[(r.problem_class, r.backend, r.group, r.time_limit)].append(r)
        raw: dict[tuple[str, str], list[tuple[np.ndarray, float, float, str]]] = defaultdict(list)
        for (cls, backend, group, tl), rs in cells.items():
            q = float(np.mean([quality(r.objective, r.feasible, best[group], r.sense) for r in rs]))
            s = float(np.mean([r.seconds for r in rs]))
            raw[(cls, backend)].append((numeric(rs[0].features, tl), q, s, group))
        allx = np.array([p[0] for pts in raw.values() for p in pts]) if raw else np.zeros((0, 8))
        self._mu = allx.mean(axis=0) if len(allx) else np.zeros(allx.shape[1])
        self._sd = np.maximum(allx.std(axis=0), _MIN_SCALE) if len(allx) else np.ones(allx.shape[1])
        self._points: dict[tuple[str, str], _Points] = {}
        self._groups: dict[str, set[str]] = defaultdict(set)
        for (cls, backend), pts in raw.items():
            self._points[(cls, backend)] = _Points(
                x=(np.array([p[0] for p in pts]) - self._mu) / self._sd,
                quality=np.array([p[1] for p in pts]),
                seconds=np.array([p[2] for p in pts]),
                groups=[p[3] for p in pts],
            )
            self._groups[cls].update(p[3] for p in pts)

    def groups(self, problem_class: str) -> int:
        """How many distinct problems of ``problem_class`` the model has seen."""
        return len(self._groups.get(problem_class, ()))

    def backends(self, problem_class: str) -> list[str]:
        return sorted(b for (c, b) in self._points if c == problem_class)

    def predict(self, features: Mapping[str, Any], time_limit: float | None) -> dict[str, Prediction]:
        """Expected quality and seconds per backend with history in this problem's class."""
        cls = problem_class(features)
        x = (numeric(features, time_limit) - self._mu) / self._sd
        out = {}
        for (c, backend), pts in self._points.items():
            if c != cls:
                continue
            d = np.linalg.norm(pts.x - x, axis=1)
            idx = np.argsort(d, kind="stable")[: self.k]
            w = 1.0 / (d[idx] + 0.1)
            out[backend] = Prediction(
                backend=backend,
                quality=float(np.dot(w, pts.quality[idx]) / w.sum()),
                seconds=float(np.dot(w, pts.seconds[idx]) / w.sum()),
                neighbours=len(idx),
                distance=float(d[idx].mean()),
            )
        return out
