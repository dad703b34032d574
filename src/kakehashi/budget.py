"""The time budget of one ``solve()`` call, shared by the calling process and its race legs.

The time limit ``T`` is a contract on the whole call (compile + start-up + run + invert +
evaluate): ``solve()`` returns within ``T + slack`` of its entry, ``slack = max(0.5 s, 5 % of T)``.
Times are on the monotonic clock (:func:`time.monotonic`, seconds), which every process on one
host shares, so a leg process can be told absolute instants instead of durations that would
silently grow by its start-up time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

#: The contract's slack past the time limit: max(SLACK_SECONDS, SLACK_FRACTION × T).
SLACK_SECONDS = 0.5
SLACK_FRACTION = 0.05
#: The least time a backend is given, even when compilation used up the budget (seconds).
MIN_BACKEND_SECONDS = 0.05


@dataclass(frozen=True)
class Budget:
    """``start``: the call's entry on the monotonic clock; ``time_limit``: T in seconds (None: none)."""

    start: float
    time_limit: float | None

    @classmethod
    def starting_now(cls, time_limit: float | None) -> Budget:
        return cls(time.monotonic(), None if time_limit is None else max(0.0, float(time_limit)))

    @property
    def slack(self) -> float:
        """Seconds the call may run past the time limit (0 without a limit)."""
        return 0.0 if self.time_limit is None else max(SLACK_SECONDS, SLACK_FRACTION * self.time_limit)

    @property
    def deadline(self) -> float | None:
        """When the backends must have stopped: ``start + T``."""
        return None if self.time_limit is None else self.start + self.time_limit

    @property
    def hard_stop(self) -> float | None:
        """When the call must have returned: ``start + T + slack``."""
        return None if self.time_limit is None else self.start + self.time_limit + self.slack

    def elapsed(self) -> float:
        """Seconds since the call started."""
        return time.monotonic() - self.start

    def backend_limit(self, reserve: float = 0.0) -> float | None:
        """The time limit to give a backend starting now: what is left of T minus ``reserve``
        (seconds kept for inverting and evaluating), at least :data:`MIN_BACKEND_SECONDS`."""
        if self.deadline is None:
            return None
        return max(MIN_BACKEND_SECONDS, self.deadline - time.monotonic() - reserve)

    def shifted(self, seconds: float) -> Budget:
        """The same time limit, starting ``seconds`` later (a one-time start-up not charged to it)."""
        return Budget(self.start + seconds, self.time_limit)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "time_limit": self.time_limit}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Budget:
        limit = data.get("time_limit")
        return cls(float(data["start"]), None if limit is None else float(limit))
