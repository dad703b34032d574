"""``choose()``: the backends ``solve(problem, "auto")`` races, learned or by rule.

The learned router (:func:`kakehashi.learn.route.route`) decides when a history is given or
``KAKEHASHI_ROUTER_HISTORY`` names a JSON-lines history file; it falls back to the documented
rule (:func:`kakehashi.router.choose_by_rule`) with no or too little history. Imports run one
way: this module → :mod:`kakehashi.learn.route` → :mod:`kakehashi.router`.
"""

from __future__ import annotations

from kakehashi.learn.route import History, history_from_env, route
from kakehashi.model.problem import Problem
from kakehashi.router import Choice, choose_by_rule


def choose(problem: Problem, time_limit: float | None = None, history: History | None = None) -> Choice:
    """The backends to race for ``problem`` within ``time_limit`` seconds: learned from
    ``history`` (or the file named by ``KAKEHASHI_ROUTER_HISTORY``) when there is enough of it,
    else the documented rule."""
    if history is None:
        history = history_from_env()
    if history is None:
        return choose_by_rule(problem)
    return route(problem, time_limit, history)


__all__ = ["Choice", "choose"]
