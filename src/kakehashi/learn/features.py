"""The router's view of a problem: a class label and a numeric feature vector.

Classes (from :func:`kakehashi.inspection.features`):

- ``unconstrained-binary``: binary/spin variables, no constraints (MaxCut, QUBO, Ising);
- ``linear-constrained``: integer/binary variables, linear objective and constraints (MILP);
- ``quadratic-objective``: integer/binary, quadratic objective, linear constraints (MIQP, portfolio);
- ``quadratic-constraints``: quadratic constraints;
- ``continuous``: real variables present (with linear constraints).

Numeric features: log10(1 + variables), objective density, log10(1 + constraints), fractions of
binary/integer/real variables, equality-constraint fraction, log10(time limit in seconds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

CLASSES = ("unconstrained-binary", "linear-constrained", "quadratic-objective", "quadratic-constraints", "continuous")
#: Names of the numeric features, in vector order (the class one-hot follows them).
NUMERIC = ("log_variables", "density", "log_constraints", "binary", "integer", "real", "equalities", "log_time_limit")


def problem_class(features: Mapping[str, Any]) -> str:
    """The class label of a problem from its :func:`kakehashi.inspection.features` dict."""
    vartypes = features.get("vartypes", {})
    kinds = features.get("constraint_kinds", {})
    if any(k.startswith("quadratic") for k in kinds):
        return "quadratic-constraints"
    if vartypes.get("REAL"):
        return "continuous"
    if not features.get("num_constraints"):
        return "unconstrained-binary" if not vartypes.get("INTEGER") else "linear-constrained"
    return "quadratic-objective" if features.get("objective_interactions") else "linear-constrained"


def numeric(features: Mapping[str, Any], time_limit: float | None) -> np.ndarray:
    """The numeric feature vector (see :data:`NUMERIC`); ``time_limit`` None counts as 10 s."""
    n = max(1, int(features.get("num_variables", 0)))
    vartypes = features.get("vartypes", {})
    kinds = features.get("constraint_kinds", {})
    m = int(features.get("num_constraints", 0))
    eq = sum(v for k, v in kinds.items() if k.endswith("=="))
    return np.array(
        [
            math.log10(1 + n),
            float(features.get("density", 0.0)),
            math.log10(1 + m),
            (vartypes.get("BINARY", 0) + vartypes.get("SPIN", 0)) / n,
            vartypes.get("INTEGER", 0) / n,
            vartypes.get("REAL", 0) / n,
            eq / m if m else 0.0,
            math.log10(max(1e-3, time_limit if time_limit is not None else 10.0)),
        ],
        dtype=float,
    )


def summary(features: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-safe subset of a features dict that history records keep."""
    keep = ("num_variables", "vartypes", "num_constraints", "constraint_kinds", "objective_interactions", "density", "quadratic")
    return {k: features[k] for k in keep if k in features}
