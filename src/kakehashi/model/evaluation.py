"""The evaluation of one sample on a problem's original model."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Evaluation:
    """Objective (in the problem's own sense) and per-constraint violations of one sample."""

    objective: float
    violations: dict[str, float] = field(default_factory=dict)
    feasible: bool = True

    @property
    def max_violation(self) -> float:
        return max(self.violations.values(), default=0.0)
