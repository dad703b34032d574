"""What a problem is and where it can go: the data behind ``kakehashi inspect``.

:func:`features` gives class, size and density numbers (also the router's inputs);
:func:`fits` tries every built-in target kind and every registered backend.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import dimod

from kakehashi.backends.base import check_target
from kakehashi.backends.registry import all_backends
from kakehashi.compile import compile_for
from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import KakehashiError
from kakehashi.model.problem import Problem

#: Target kinds every installation can compile to.
CORE_TARGETS = (TargetKind.BQM, TargetKind.ISING, TargetKind.MILP, TargetKind.MIQP, TargetKind.CQM)


def features(problem: Problem) -> dict[str, Any]:
    """Size, vartypes, density and constraint kinds of ``problem``.

    ``density`` is interactions / (n(n−1)/2) of the objective (0 for n < 2).
    """
    model = problem.model
    n = problem.num_variables
    objective = model if isinstance(model, dimod.BinaryQuadraticModel) else model.objective
    interactions = objective.num_interactions
    kinds: Counter[str] = Counter()
    if isinstance(model, dimod.ConstrainedQuadraticModel):
        for comp in model.constraints.values():
            shape = "quadratic" if comp.lhs.num_interactions else "linear"
            kinds[f"{shape} {comp.sense.value}"] += 1
    return {
        "name": problem.name,
        "sense": problem.sense,
        "num_variables": n,
        "vartypes": problem.vartype_counts(),
        "num_constraints": problem.num_constraints,
        "constraint_kinds": dict(kinds),
        "objective_interactions": interactions,
        "density": 0.0 if n < 2 else interactions / (n * (n - 1) / 2),
        "quadratic": problem.is_quadratic(),
        "known_optimum": problem.known_optimum,
    }


def fits(problem: Problem) -> dict[str, Any]:
    """Which core targets the problem compiles to, and which backends accept it.

    Returns ``{"targets": {kind: {"ok", "num_variables" | "error"}},
    "backends": {name: {"ok", "target" | "reason"}}}``.
    """
    compiled: dict[TargetKind, Compiled[Any]] = {}
    targets: dict[str, Any] = {}
    for kind in CORE_TARGETS:
        try:
            c = compile_for(problem, kind)
        except KakehashiError as exc:
            targets[kind.value] = {"ok": False, "error": str(exc)}
            continue
        compiled[kind] = c
        compiled.setdefault(c.kind, c)
        targets[kind.value] = {"ok": True, "num_variables": c.num_variables}
    backends: dict[str, Any] = {}
    for name, backend in all_backends().items():
        if isinstance(backend, KakehashiError):
            backends[name] = {"ok": False, "reason": str(backend)}
            continue
        availability = backend.available()
        if not availability:
            backends[name] = {"ok": False, "reason": f"not available: {availability.reason}"}
            continue
        caps = backend.capabilities()
        reasons = []
        for kind in caps.targets:
            if kind not in compiled:
                reasons.append(f"does not compile to {kind.value}")
                continue
            try:
                check_target(name, caps, compiled[kind])
            except KakehashiError as exc:
                reasons.append(str(exc))
                continue
            backends[name] = {"ok": True, "target": kind.value}
            break
        else:
            backends[name] = {"ok": False, "reason": "; ".join(reasons) or "accepts no target"}
    return {"targets": targets, "backends": backends}
