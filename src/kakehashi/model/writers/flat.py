"""A :class:`Problem` flattened for the file writers: names, bounds, terms, rows.

Both writers need the same view: every variable with a name valid in LP and MPS files, its kind
and bounds with ``±inf`` restored (dimod stores ``±1e30`` for continuous and ``±(2**53 - 1)``
for integer variables, see :mod:`kakehashi.model.readers.spec`), the objective, and each
constraint as ``linear + quadratic <sense> rhs`` with the constant moved to the right.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Literal

import dimod

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem
from kakehashi.model.readers.lp import KEYWORDS
from kakehashi.model.readers.spec import INTEGER_INF, REAL_INF

Kind = Literal["BINARY", "INTEGER", "REAL"]
RowSense = Literal["<=", ">=", "=="]
_SENSES: dict[str, RowSense] = {"<=": "<=", ">=": ">=", "==": "=="}

#: names both readers (kakehashi's and HiGHS's) accept unchanged in LP and free MPS files
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_RESERVED = KEYWORDS | {"e"}


@dataclass
class FlatVariable:
    name: str
    kind: Kind
    lb: float
    ub: float


@dataclass
class FlatRow:
    name: str
    linear: dict[str, float]
    quadratic: dict[tuple[str, str], float]
    sense: RowSense
    rhs: float


@dataclass
class FlatProblem:
    name: str
    sense: Literal["min", "max"]
    variables: list[FlatVariable]
    objective_linear: dict[str, float]
    objective_quadratic: dict[tuple[str, str], float]
    offset: float
    rows: list[FlatRow]
    #: original label -> written name, for the labels that had to be renamed
    renamed: dict[str, str] = field(default_factory=dict)


def _infinite(value: float, kind: Kind) -> float:
    limit = INTEGER_INF if kind == "INTEGER" else REAL_INF
    if value >= limit:
        return math.inf
    if value <= -limit:
        return -math.inf
    return value


def _valid(label: Hashable) -> bool:
    return (
        isinstance(label, str)
        and _NAME.fullmatch(label) is not None
        and label.lower() not in _RESERVED
        and not re.fullmatch(r"[eE]\d.*", label)  # "e1" reads as an exponent in some LP readers
    )


def flatten(problem: Problem) -> FlatProblem:
    """The writers' view of ``problem``; raises :class:`ModelError` for SPIN variables."""
    cqm = problem.cqm
    renamed: dict[str, str] = {}
    names: dict[Hashable, str] = {}
    taken = {label for label in cqm.variables if _valid(label)}

    def name_of(label: Hashable, prefix: str, index: int, used: set[Hashable]) -> str:
        if _valid(label):
            return str(label)
        k, candidate = index, f"{prefix}{index}"
        while candidate in used:
            k += 1
            candidate = f"{prefix}{k}"
        used.add(candidate)
        renamed[repr(label)] = candidate
        return candidate

    variables = []
    for i, v in enumerate(cqm.variables):
        vt = cqm.vartype(v)
        if vt is dimod.SPIN:
            raise ModelError(
                f"variable {v!r} is a spin (-1/+1): LP and MPS hold binary, integer and continuous "
                "variables; convert the model to binary first (dimod's change_vartype)",
                field="variables",
            )
        names[v] = name_of(v, "x", i, taken)
        kind: Kind = vt.name
        if vt is dimod.BINARY:
            variables.append(FlatVariable(names[v], kind, 0.0, 1.0))
            continue
        lb = _infinite(float(cqm.lower_bound(v)), kind)
        ub = _infinite(float(cqm.upper_bound(v)), kind)
        variables.append(FlatVariable(names[v], kind, lb, ub))

    def terms(qm: dimod.QuadraticModel) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
        linear = {names[v]: float(b) for v, b in qm.linear.items() if b != 0}
        quadratic = {(names[u], names[w]): float(b) for (u, w), b in qm.quadratic.items() if b != 0}
        return linear, quadratic

    obj_lin, obj_quad = terms(cqm.objective)
    row_taken = {label for label in cqm.constraints if _valid(label)} | set(names.values())
    rows = []
    for i, (label, comp) in enumerate(cqm.constraints.items()):
        lin, quad = terms(comp.lhs)
        sense = _SENSES[comp.sense.value]
        rhs = float(comp.rhs) - float(comp.lhs.offset)
        rows.append(FlatRow(name_of(label, "c", i + 1, row_taken), lin, quad, sense, rhs))
    return FlatProblem(
        name=problem.name,
        sense=problem.sense,
        variables=variables,
        objective_linear=obj_lin,
        objective_quadratic=obj_quad,
        offset=float(cqm.objective.offset),
        rows=rows,
        renamed=renamed,
    )


def number(x: float) -> str:
    """The shortest text that reads back as exactly ``x`` (``3`` not ``3.0``)."""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text
