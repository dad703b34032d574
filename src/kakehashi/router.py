"""The rule-based ``auto`` router: which backends to race for a problem.

The rule, on problem class and size (a learned router replaces it when history exists):

1. Continuous variables, or quadratic constraints → exact mathematical programming:
   linear → ``highs`` and ``scip`` race (both prove optimality); quadratic → ``scip``.
2. Unconstrained binary/spin (a BQM, or a CQM without constraints and without integers):
   at most ``EXACT_LIMIT`` variables → ``exact``; otherwise the best available Ising
   heuristic from :data:`ISING_PREFERENCE` alone (:data:`ISING_LEGS` = 1), with the whole budget.
3. Constrained binary/integer problems: linear → ``highs`` + ``scip`` (proofs beat
   heuristics here); quadratic objective → ``scip`` + the best Ising heuristic on the
   penalised BQM.

0. A model complete only for some targets (:attr:`Problem.complete_for`; the routing edge
   formulation, whose sub-tour and capacity rules only a ``routing`` target enforces) goes to
   one backend of those targets: ``lkh`` for a TSP, ``pyvrp`` otherwise (the same choice as
   :func:`kakehashi.apps.routing.solve_routing`), the next available one when that is missing.
   One leg, not a race: on the reference 2-core machine a second leg halves the first's CPU.

Only available backends are chosen; at most :data:`MAX_LEGS` race at once.

This module is the rule and nothing else; it imports neither the learned router nor the
façade. One direction of dependency: :mod:`kakehashi.auto` (what ``solve(..., "auto")`` calls)
→ :mod:`kakehashi.learn.route` (the learned router, which falls back to this rule) →
:mod:`kakehashi.router`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dimod

from kakehashi.backends.registry import backend_names, get_backend
from kakehashi.exceptions import BackendUnavailable, KakehashiError
from kakehashi.model.problem import Problem

EXACT_LIMIT = 20
MAX_LEGS = 2
#: Ising heuristics in order of preference. ``sb`` is not among them: it lost to ``anneal`` on every
#: size class at every budget (benchmarks/results/maxcut.md); it stays a backend of its own.
ISING_PREFERENCE = ("anneal", "sa", "tabu", "steepest")
#: Legs ``auto`` gives an unconstrained Ising problem: one, the whole machine for ``anneal``.
#: Measured (2026-12-03, 2 cores, load 3.4-6.2, T = 3 s, 2 seeds, training graphs G11, G14, G22,
#: G55; solve() wall time): mean gap to best known anneal alone 0.063%, race anneal+sa 0.206%,
#: race anneal+sb 0.251% (G55: 0.131 / 0.335 / 0.384; G11: 0.000 / 0.355 / 0.532). A second leg
#: halves the annealer's cores and never paid for it.
ISING_LEGS = 1
#: Backends of the routing target in order of preference (a TSP puts ``lkh`` first).
ROUTING_PREFERENCE = ("pyvrp", "lkh", "ortools-routing")


@dataclass(frozen=True)
class Choice:
    """The backends ``auto`` races and why.

    ``expected`` maps each chosen backend to its expected quality in [0, 1] (learned routing only;
    1 = matches the best known objective); ``source`` is ``"rule"`` or ``"learned"``.
    """

    backends: tuple[str, ...]
    reason: str
    expected: dict[str, float] = field(default_factory=dict)
    source: str = "rule"

    def to_dict(self) -> dict[str, Any]:
        return {"backends": list(self.backends), "reason": self.reason, "expected": dict(self.expected),
                "source": self.source}


def _available(names: tuple[str, ...]) -> list[str]:
    registered = set(backend_names())
    out = []
    for name in names:
        if name not in registered:
            continue
        try:
            if get_backend(name).available():
                out.append(name)
        except KakehashiError:
            continue
    return out


def _for_targets(problem: Problem) -> Choice:
    """Rule 0: one available backend of the targets the model is complete for (the preferred
    routing backends are tried first, so that the others are not even loaded)."""
    kinds = set(problem.complete_for)
    preferred: tuple[str, ...] = ROUTING_PREFERENCE
    if problem.metadata.get("kind") == "tsp":
        preferred = ("lkh", *(n for n in ROUTING_PREFERENCE if n != "lkh"))
    registered = backend_names()
    names = [n for n in preferred if n in registered]
    names += sorted(n for n in registered if n not in names)
    reason = f"model complete only for the {', '.join(sorted(kinds))} target: one backend of it"
    fitting = []
    for name in names:
        try:
            backend = get_backend(name)
            if not kinds & {t.value for t in backend.capabilities().targets}:
                continue
            fitting.append(name)
            if backend.available():
                return Choice((name,), reason)
        except KakehashiError:
            continue
    raise BackendUnavailable(f"auto: no available backend takes the {', '.join(sorted(kinds))} target "
                             f"({', '.join(fitting) or 'none registered'} installed but unavailable)")


def choose_by_rule(problem: Problem) -> Choice:
    """The backends to race for ``problem`` under the documented rule."""
    if problem.complete_for:
        return _for_targets(problem)
    counts = problem.vartype_counts()
    n = problem.num_variables
    quadratic_constraints = not problem.is_bqm and any(
        c.lhs.num_interactions for c in problem.cqm.constraints.values()
    )
    quadratic_objective = (
        problem.model.num_interactions > 0
        if isinstance(problem.model, dimod.BinaryQuadraticModel)
        else problem.model.objective.num_interactions > 0
    )
    unconstrained_binary = (
        problem.num_constraints == 0 and not counts.get("INTEGER") and not counts.get("REAL")
    )
    if counts.get("REAL") or quadratic_constraints:
        wanted: tuple[str, ...] = (
            ("scip",) if (quadratic_objective or quadratic_constraints) else ("highs", "scip")
        )
        reason = "continuous variables or quadratic constraints: mathematical programming"
    elif unconstrained_binary and n <= EXACT_LIMIT:
        wanted, reason = ("exact",), f"unconstrained with {n} <= {EXACT_LIMIT} variables: exhaustive search"
    elif unconstrained_binary:
        wanted, reason = ISING_PREFERENCE, f"unconstrained binary with {n} variables: one Ising heuristic, the whole budget"
        chosen = _available(wanted)[:ISING_LEGS]
        if not chosen:
            raise BackendUnavailable(f"auto: none of {', '.join(wanted)} is available here ({reason})")
        return Choice(tuple(chosen), reason)
    elif not quadratic_objective:
        wanted, reason = (
            ("highs", "scip"),
            "linear constrained integer problem: MILP solvers that prove optimality",
        )
    else:
        wanted = ("scip", *ISING_PREFERENCE)
        reason = (
            "quadratic objective with constraints: MIQP solver and an Ising heuristic on the penalised BQM"
        )
    chosen = _available(wanted)[:MAX_LEGS]
    if not chosen:
        raise BackendUnavailable(f"auto: none of {', '.join(wanted)} is available here ({reason})")
    return Choice(tuple(chosen), reason)
