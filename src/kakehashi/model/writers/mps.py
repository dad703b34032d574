"""Writer for free-format MPS, read back by kakehashi's MPS reader and by HiGHS.

``OBJSENSE MAX`` for maximisation; the objective constant as minus the RHS of the objective
row (the CPLEX/HiGHS convention); integers and binaries inside ``'MARKER' 'INTORG'`` blocks,
every integer with an explicit bound (so that the MPSX default ``[0, 1]`` for unbounded marker
integers never applies) and binaries as ``BV``; the quadratic objective as ``QUADOBJ`` (lower
triangle of Q in ``½ x'Qx``), quadratic constraint terms as ``QCMATRIX`` (full matrix). A column
with no coefficient is written with a 0 in the objective row so that it exists.
"""

from __future__ import annotations

import math

from kakehashi.model.problem import Problem
from kakehashi.model.writers.flat import FlatProblem, FlatVariable, flatten, number

_OBJ = "obj"


def _bounds(v: FlatVariable) -> list[tuple[str, str | None]]:
    if v.kind == "BINARY":
        return [("BV", None)]
    if v.lb == v.ub:
        return [("FX", number(v.lb))]
    if math.isinf(v.lb) and math.isinf(v.ub):
        return [("FR", None)]
    out: list[tuple[str, str | None]] = []
    if math.isinf(v.lb):
        out.append(("MI", None))
    elif v.lb != 0.0 or v.kind == "INTEGER":
        out.append(("LO", number(v.lb)))
    if not math.isinf(v.ub):
        out.append(("UP", number(v.ub)))
    return out


def dumps_flat(flat: FlatProblem) -> str:
    names = {v.name for v in flat.variables} | {r.name for r in flat.rows}
    obj = _OBJ
    while obj in names:
        obj += "_"
    lines = [f"* {flat.name}: written by kakehashi"]
    lines += [f"* renamed: {label} -> {name}" for label, name in flat.renamed.items()]
    lines.append(f"NAME {flat.name.replace(' ', '_') or 'problem'}")
    if flat.sense == "max":
        lines += ["OBJSENSE", "    MAX"]
    lines += ["ROWS", f" N {obj}"]
    code = {"<=": "L", ">=": "G", "==": "E"}
    lines += [f" {code[r.sense]} {r.name}" for r in flat.rows]
    lines.append("COLUMNS")
    column: dict[str, list[tuple[str, float]]] = {v.name: [] for v in flat.variables}
    for v, b in flat.objective_linear.items():
        column[v].append((obj, b))
    for r in flat.rows:
        for v, b in r.linear.items():
            column[v].append((r.name, b))
    in_block, marker = False, 0
    for var in flat.variables:
        integral = var.kind != "REAL"
        if integral != in_block:
            lines.append(f"    MARKER{marker:04d} 'MARKER' '{'INTORG' if integral else 'INTEND'}'")
            marker += 1
            in_block = integral
        entries = column[var.name] or [(obj, 0.0)]
        lines += [f"    {var.name} {row} {number(b)}" for row, b in entries]
    if in_block:
        lines.append(f"    MARKER{marker:04d} 'MARKER' 'INTEND'")
    rhs = [(obj, -flat.offset)] if flat.offset else []
    rhs += [(r.name, r.rhs) for r in flat.rows if r.rhs]
    lines.append("RHS")
    lines += [f"    RHS {row} {number(value)}" for row, value in rhs]
    bounds = [(kind, v.name, value) for v in flat.variables for kind, value in _bounds(v)]
    if bounds:
        lines.append("BOUNDS")
        lines += [
            f" {kind} BND {name}" + ("" if value is None else f" {value}") for kind, name, value in bounds
        ]
    if flat.objective_quadratic:
        lines.append("QUADOBJ")
        for (u, w), b in flat.objective_quadratic.items():
            lines.append(f"    {u} {w} {number(2.0 * b if u == w else b)}")
    for r in flat.rows:
        if r.quadratic:
            lines.append(f"QCMATRIX {r.name}")
            for (u, w), b in r.quadratic.items():
                if u == w:
                    lines.append(f"    {u} {u} {number(b)}")
                else:
                    lines += [f"    {u} {w} {number(b / 2)}", f"    {w} {u} {number(b / 2)}"]
    lines.append("ENDATA")
    return "\n".join(lines) + "\n"


def dumps(problem: Problem) -> str:
    """``problem`` as free-format MPS text."""
    return dumps_flat(flatten(problem))
