"""Domain checks a generic model cannot make: a routing answer must be one set of valid routes.

The routing edge formulation (:func:`kakehashi.apps.routing.formulation.to_problem`) has degree
constraints only; sub-tours satisfy it. :func:`check` rebuilds the routes from the answer and
validates them with :func:`kakehashi.apps.routing.solution.validate` (coverage, one tour for a
TSP, capacities), and gives the recomputed cost. The runner marks a run whose routes break a
rule infeasible, whatever status the solver gave it (and keeps that status as ``solver_status``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kakehashi.model.problem import Problem
from kakehashi.result import Result


@dataclass(frozen=True)
class DomainCheck:
    """``ok``: the answer is valid for the domain; ``objective``: its recomputed objective."""

    ok: bool
    objective: float | None
    violations: list[str] = field(default_factory=list)


def check(problem: Problem, result: Result) -> DomainCheck | None:
    """The domain check of ``result`` (None when the problem has no domain rules)."""
    if problem.metadata.get("domain") != "routing" or "routing_instance" not in problem.metadata:
        return None
    from kakehashi.apps.routing.app import interpret
    from kakehashi.apps.routing.instance import RoutingInstance

    instance = RoutingInstance.model_validate(problem.metadata["routing_instance"])
    solution = interpret(result, instance)
    validation = solution.validation
    ok = bool(validation and validation.ok)
    violations = list(validation.violations) if validation else ["not validated"]
    return DomainCheck(ok=ok, objective=float(solution.total_cost) if ok else None, violations=violations)
