"""Writer for the CPLEX LP format, read back by kakehashi's LP reader and by HiGHS.

Layout: ``Minimize``/``Maximize`` with the objective's quadratic part as ``[ ... ] / 2``;
``Subject To`` with one row per constraint (quadratic terms in ``[ ... ]``, no ``/ 2``);
``Bounds`` with a line for every non-binary variable (so that each variable appears, even one
that has no coefficient); ``General``; ``Binary``; ``End``. Labels that are not valid LP names
are renamed (``x<i>``, ``c<i>``) and listed in a comment at the top.
"""

from __future__ import annotations

import math

from kakehashi.model.problem import Problem
from kakehashi.model.writers.flat import FlatProblem, FlatVariable, flatten, number

_LINE = 200  # characters before a row is wrapped (LP allows rows over many lines)


def _terms(linear: dict[str, float], quadratic: dict[tuple[str, str], float], factor: float) -> list[str]:
    out = [f"{'-' if b < 0 else '+'} {number(abs(b))} {v}" for v, b in linear.items()]
    if quadratic:
        inner = []
        for (u, w), b in quadratic.items():
            c = b * factor
            sign, mag = ("-" if c < 0 else "+"), number(abs(c))
            inner.append(f"{sign} {mag} {u} ^ 2" if u == w else f"{sign} {mag} {u} * {w}")
        out.append("+ [ " + " ".join(inner) + (" ] / 2" if factor == 2.0 else " ]"))
    return out


def _wrap(head: str, parts: list[str]) -> list[str]:
    lines, current = [], head
    for part in parts:
        if len(current) + len(part) > _LINE and current.strip():
            lines.append(current)
            current = "     "
        current += " " + part
    lines.append(current)
    return lines


def _bound(v: FlatVariable) -> str:
    if v.lb == v.ub:
        return f" {v.name} = {number(v.lb)}"
    if math.isinf(v.lb) and math.isinf(v.ub):
        return f" {v.name} free"
    if math.isinf(v.ub):
        return f" {v.name} >= {number(v.lb)}"
    return f" {number(v.lb)} <= {v.name} <= {number(v.ub)}"


def dumps_flat(flat: FlatProblem) -> str:
    lines = [f"\\ {flat.name}: written by kakehashi"]
    lines += [f"\\ renamed: {label} -> {name}" for label, name in flat.renamed.items()]
    lines.append("Maximize" if flat.sense == "max" else "Minimize")
    parts = _terms(flat.objective_linear, flat.objective_quadratic, 2.0)
    if flat.offset:
        parts.append(f"{'-' if flat.offset < 0 else '+'} {number(abs(flat.offset))}")
    lines += _wrap(" obj:", parts)
    if flat.rows:
        lines.append("Subject To")
    first_var = flat.variables[0].name if flat.variables else None
    for row in flat.rows:
        parts = _terms(row.linear, row.quadratic, 1.0)
        if not parts and first_var is not None:
            parts = [f"+ 0 {first_var}"]  # a row without variables ("0 >= 3") is kept
        sense = "=" if row.sense == "==" else row.sense
        lines += _wrap(f" {row.name}:", [*parts, f"{sense} {number(row.rhs)}"])
    bounded = [v for v in flat.variables if v.kind != "BINARY"]
    if bounded:
        lines.append("Bounds")
        lines += [_bound(v) for v in bounded]
    for title, kind in (("General", "INTEGER"), ("Binary", "BINARY")):
        names = [v.name for v in flat.variables if v.kind == kind]
        if names:
            lines.append(title)
            lines += _wrap("", names)
    lines.append("End")
    return "\n".join(lines) + "\n"


def dumps(problem: Problem) -> str:
    """``problem`` as CPLEX LP text."""
    return dumps_flat(flatten(problem))
