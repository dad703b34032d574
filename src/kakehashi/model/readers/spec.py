"""An intermediate, line-aware description of a mathematical program, and its dimod build.

The LP and MPS readers fill a :class:`ModelSpec` while parsing (remembering the line where each
variable, bound and constraint came from) and call :func:`build`, which turns it into a
:class:`~kakehashi.model.problem.Problem` over a dimod CQM. Errors found while building (a bound
that crosses, a quadratic term on a continuous variable, which dimod cannot hold) still name the
file and the line.

Infinite bounds: dimod stores no infinities. A continuous (REAL) variable's infinite bound is
stored as ``±1e30`` (dimod's own sentinel); an integer's as ``±(2**53 - 1)`` (dimod's default and
limit for INTEGER).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import dimod

from kakehashi.exceptions import ModelError

if TYPE_CHECKING:
    from kakehashi.model.problem import Problem

VarKind = Literal["REAL", "INTEGER", "BINARY"]
ConstraintSense = Literal["<=", ">=", "=="]

#: dimod's bound for REAL variables, used for +-infinity.
REAL_INF = 1e30
#: dimod's bound for INTEGER variables (2**53 - 1), used for +-infinity.
INTEGER_INF = float(2**53 - 1)

_SENSES = {"<=": dimod.sym.Sense.Le, ">=": dimod.sym.Sense.Ge, "==": dimod.sym.Sense.Eq}


@dataclass
class VarSpec:
    """One variable: its kind, bounds (``math.inf`` allowed) and the line where it first appeared."""

    name: str
    line: int
    kind: VarKind = "REAL"
    lb: float = 0.0
    ub: float = math.inf
    bound_line: int | None = None


@dataclass
class Expression:
    """A quadratic expression: linear and quadratic coefficients plus a constant."""

    linear: dict[str, float] = field(default_factory=dict)
    quadratic: dict[tuple[str, str], float] = field(default_factory=dict)
    constant: float = 0.0
    #: first line on which each quadratic term appeared (for error messages)
    quad_lines: dict[tuple[str, str], int] = field(default_factory=dict)

    def add_linear(self, v: str, bias: float) -> None:
        self.linear[v] = self.linear.get(v, 0.0) + bias

    def add_quadratic(self, u: str, v: str, bias: float, line: int) -> None:
        key = (u, v) if (v, u) not in self.quadratic else (v, u)
        self.quadratic[key] = self.quadratic.get(key, 0.0) + bias
        self.quad_lines.setdefault(key, line)

    def scaled(self, factor: float) -> Expression:
        return Expression(
            {v: b * factor for v, b in self.linear.items()},
            {k: b * factor for k, b in self.quadratic.items()},
            self.constant * factor,
            dict(self.quad_lines),
        )

    def merged(self, other: Expression) -> Expression:
        out = self.scaled(1.0)
        for v, b in other.linear.items():
            out.add_linear(v, b)
        for (u, v), b in other.quadratic.items():
            out.add_quadratic(u, v, b, other.quad_lines.get((u, v), 0))
        out.constant += other.constant
        return out

    @property
    def has_variables(self) -> bool:
        return bool(self.linear) or bool(self.quadratic)


@dataclass
class ConstraintSpec:
    """``lhs <sense> rhs`` where ``lhs`` holds every variable term and ``rhs`` every constant."""

    name: str
    lhs: Expression
    sense: ConstraintSense
    rhs: float
    line: int


@dataclass
class ModelSpec:
    """Everything a reader collected; variables keep their order of first appearance."""

    source: str | None
    name: str = "problem"
    sense: Literal["min", "max"] = "min"
    variables: dict[str, VarSpec] = field(default_factory=dict)
    objective: Expression = field(default_factory=Expression)
    constraints: list[ConstraintSpec] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    #: what the reader skipped or reinterpreted, each as ``"file:line: message"``
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str, line: int | None = None) -> None:
        """Record that the reader skipped or reinterpreted something (never silently)."""
        where = "" if self.source is None else self.source
        if line is not None:
            where = f"{where}:{line}" if where else f"line {line}"
        self.warnings.append(f"{where}: {message}" if where else message)

    def var(self, name: str, line: int) -> VarSpec:
        """The variable called ``name``, created (continuous, ``[0, inf)``) on first use."""
        spec = self.variables.get(name)
        if spec is None:
            spec = self.variables[name] = VarSpec(name, line)
        return spec

    def constraint_names(self) -> set[str]:
        return {c.name for c in self.constraints}


def _finite(value: float, kind: VarKind) -> float:
    limit = INTEGER_INF if kind == "INTEGER" else REAL_INF
    return max(-limit, min(limit, value))


def build(spec: ModelSpec) -> Problem:
    """Turn ``spec`` into a :class:`Problem` over a dimod CQM; raises :class:`ModelError`."""
    from kakehashi.model.problem import Problem

    src = spec.source
    cqm = dimod.ConstrainedQuadraticModel()  # type: ignore[no-untyped-call]
    for v in spec.variables.values():
        if v.kind == "BINARY":
            cqm.add_variable("BINARY", v.name)
            continue
        if v.lb > v.ub:
            raise ModelError(
                f"lower bound {v.lb:g} of {v.name!r} exceeds its upper bound {v.ub:g}",
                source=src,
                line=v.bound_line or v.line,
            )
        if v.lb == math.inf or v.ub == -math.inf:
            raise ModelError(f"variable {v.name!r} has an empty domain", source=src, line=v.bound_line)
        lb, ub = v.lb, v.ub
        if v.kind == "INTEGER":
            lb, ub = math.ceil(lb) if math.isfinite(lb) else lb, math.floor(ub) if math.isfinite(ub) else ub
            if lb > ub:
                raise ModelError(
                    f"integer variable {v.name!r} has no integer value within its bounds [{v.lb:g}, {v.ub:g}]",
                    source=src,
                    line=v.bound_line or v.line,
                )
        cqm.add_variable(v.kind, v.name, lower_bound=_finite(lb, v.kind), upper_bound=_finite(ub, v.kind))

    def check_quadratic(expr: Expression, where: str) -> list[tuple[str, str, float]]:
        terms: list[tuple[str, str, float]] = []
        for (u, w), bias in expr.quadratic.items():
            for x in (u, w):
                if spec.variables[x].kind == "REAL":
                    raise ModelError(
                        f"continuous quadratic {where} (the term {u}*{w} on the continuous variable "
                        f"{x!r}) is not supported yet: kakehashi's model holds quadratic terms only "
                        "between binary or integer variables (declare it General or Binary)",
                        source=src,
                        line=expr.quad_lines.get((u, w)),
                    )
            terms.append((u, w, bias))
        return terms

    obj = spec.objective
    quad = check_quadratic(obj, "objective")
    linear = dict(obj.linear)
    objective = cqm.objective
    for u, w, bias in quad:
        if u == w and spec.variables[u].kind == "BINARY":
            linear[u] = linear.get(u, 0.0) + bias  # x*x == x for binaries
        else:
            objective.add_quadratic(u, w, bias)
    for label, bias in linear.items():
        objective.add_linear(label, bias)
    objective.offset = obj.constant

    seen: set[str] = set()
    for c in spec.constraints:
        if c.name in seen:
            raise ModelError(f"duplicate constraint name {c.name!r}", source=src, line=c.line)
        seen.add(c.name)
        quad = check_quadratic(c.lhs, f"constraint {c.name!r}")
        terms: list[tuple[Any, ...]] = []
        lin = dict(c.lhs.linear)
        for u, w, bias in quad:
            if u == w and spec.variables[u].kind == "BINARY":
                lin[u] = lin.get(u, 0.0) + bias
            else:
                terms.append((u, w, bias))
        terms = [(name, b) for name, b in lin.items()] + terms
        cqm.add_constraint_from_iterable(terms, _SENSES[c.sense], rhs=c.rhs - c.lhs.constant, label=c.name)

    metadata = dict(spec.metadata)
    if src is not None:
        metadata.setdefault("source", src)
    if spec.warnings:
        metadata["warnings"] = [*metadata.get("warnings", []), *spec.warnings]
    return Problem(cqm, name=spec.name, sense=spec.sense, metadata=metadata)


def source_name(source: str | Path | None) -> str | None:
    """The source as a string for error messages (``None`` stays ``None``)."""
    return None if source is None else str(source)
