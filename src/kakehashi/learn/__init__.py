"""Learned routing: a performance model fitted on the platform's own history of races.

- :mod:`kakehashi.learn.features` — problem class and the numeric feature vector.
- :mod:`kakehashi.learn.history` — history records (JSON lines) built from :class:`~kakehashi.result.Result`.
- :mod:`kakehashi.learn.model` — k-nearest-neighbours model: expected quality and run time per backend.
- :mod:`kakehashi.learn.route` — ``route(problem, time_limit, history)``; falls back to the rule router.
"""

from kakehashi.learn.history import HistoryRecord, read_history, records_from_result, write_history
from kakehashi.learn.model import PerformanceModel, Prediction
from kakehashi.learn.route import route

__all__ = [
    "HistoryRecord",
    "PerformanceModel",
    "Prediction",
    "read_history",
    "records_from_result",
    "route",
    "write_history",
]
