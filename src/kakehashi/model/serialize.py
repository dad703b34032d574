"""JSON form of a :class:`~kakehashi.model.problem.Problem` (schema ``kakehashi.problem/1``).

::

    {"format": "kakehashi.problem", "version": 1,
     "name": "knapsack", "sense": "max", "known_optimum": 1234.0, "metadata": {},
     "variables": [{"name": "x0", "type": "BINARY"},
                   {"name": "n", "type": "INTEGER", "lb": 0, "ub": 10}],
     "objective": {"linear": [["x0", 3.0]], "quadratic": [["x0", "n", -1.0]], "offset": 0.0},
     "constraints": [{"name": "cap", "linear": [["x0", 2.0]], "quadratic": [],
                      "sense": "<=", "rhs": 5.0}]}

Variable names are strings or integers; a JSON array stands for a tuple label. A problem with
no ``constraints`` key and only BINARY or only SPIN variables is read back as a BQM.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

import dimod

from kakehashi.exceptions import ModelError

if TYPE_CHECKING:
    from kakehashi.model.problem import Problem

FORMAT = "kakehashi.problem"
VERSION = 1
_VARTYPES = {"BINARY": dimod.BINARY, "SPIN": dimod.SPIN, "INTEGER": dimod.INTEGER, "REAL": dimod.REAL}
_SENSES = {"<=": dimod.sym.Sense.Le, ">=": dimod.sym.Sense.Ge, "==": dimod.sym.Sense.Eq}


def encode_label(v: Hashable) -> Any:
    """A variable label as JSON (tuples become arrays)."""
    if isinstance(v, tuple):
        return [encode_label(x) for x in v]
    if isinstance(v, str | int) and not isinstance(v, bool):
        return v
    raise ModelError(f"variable label {v!r} is not a string, integer or tuple", field="variables")


def decode_label(v: Any) -> Hashable:
    """Inverse of :func:`encode_label`."""
    if isinstance(v, list):
        return tuple(decode_label(x) for x in v)
    return v  # type: ignore[no-any-return]


def _terms(qm: Any) -> dict[str, Any]:
    return {
        "linear": [[encode_label(v), float(b)] for v, b in qm.linear.items()],
        "quadratic": [[encode_label(u), encode_label(v), float(b)] for (u, v), b in qm.quadratic.items()],
        "offset": float(qm.offset),
    }


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    model = problem.model
    variables = []
    for v in model.variables:
        vt = problem.vartype(v)
        entry: dict[str, Any] = {"name": encode_label(v), "type": vt.name}
        if vt in (dimod.INTEGER, dimod.REAL):
            lo, hi = problem.bounds(v)
            entry["lb"], entry["ub"] = lo, hi
        variables.append(entry)
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": problem.name,
        "sense": problem.sense,
        "known_optimum": problem.known_optimum,
        "metadata": problem.metadata,
        "variables": variables,
    }
    if isinstance(model, dimod.BinaryQuadraticModel):
        out["objective"] = _terms(model)
    else:
        out["objective"] = _terms(model.objective)
        constraints = []
        for label, comp in model.constraints.items():
            terms = _terms(comp.lhs)
            constraints.append(
                {
                    "name": encode_label(label),
                    "linear": terms["linear"],
                    "quadratic": terms["quadratic"],
                    "sense": comp.sense.value,
                    "rhs": float(comp.rhs) - terms["offset"],
                }
            )
        out["constraints"] = constraints
    return out


def _require(
    data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, source: str | None
) -> Any:
    if key not in data:
        raise ModelError(f"missing required field {key!r}", source=source, field=where)
    value = data[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ModelError(
            f"expected {names}, got {type(value).__name__}", source=source, field=f"{where}.{key}"
        )
    return value


def _number(x: Any, where: str, source: str | None) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ModelError(f"expected a number, got {x!r}", source=source, field=where)
    return float(x)


def _read_terms(
    data: Mapping[str, Any], where: str, known: set[Hashable], source: str | None
) -> tuple[list[tuple[Hashable, float]], list[tuple[Hashable, Hashable, float]], float]:
    linear: list[tuple[Hashable, float]] = []
    quadratic: list[tuple[Hashable, Hashable, float]] = []
    for i, item in enumerate(data.get("linear", [])):
        if not isinstance(item, list) or len(item) != 2:
            raise ModelError("expected [variable, coefficient]", source=source, field=f"{where}.linear[{i}]")
        v = decode_label(item[0])
        if v not in known:
            raise ModelError(f"unknown variable {item[0]!r}", source=source, field=f"{where}.linear[{i}]")
        linear.append((v, _number(item[1], f"{where}.linear[{i}]", source)))
    for i, item in enumerate(data.get("quadratic", [])):
        if not isinstance(item, list) or len(item) != 3:
            raise ModelError(
                "expected [variable, variable, coefficient]", source=source, field=f"{where}.quadratic[{i}]"
            )
        u, v = decode_label(item[0]), decode_label(item[1])
        for w, raw in ((u, item[0]), (v, item[1])):
            if w not in known:
                raise ModelError(f"unknown variable {raw!r}", source=source, field=f"{where}.quadratic[{i}]")
        quadratic.append((u, v, _number(item[2], f"{where}.quadratic[{i}]", source)))
    offset = _number(data.get("offset", 0.0), f"{where}.offset", source)
    return linear, quadratic, offset


def problem_from_dict(data: Mapping[str, Any], *, source: str | None = None) -> Problem:
    from kakehashi.model.problem import Problem

    if not isinstance(data, Mapping):
        raise ModelError("expected a JSON object at the top level", source=source)
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise ModelError(f"expected format {FORMAT!r}, got {fmt!r}", source=source, field="format")
    raw_vars = _require(data, "variables", list, "problem", source)
    vartypes: dict[Hashable, dimod.Vartype] = {}
    bounds: dict[Hashable, tuple[float, float]] = {}
    for i, entry in enumerate(raw_vars):
        where = f"variables[{i}]"
        if not isinstance(entry, Mapping):
            raise ModelError("expected an object with 'name' and 'type'", source=source, field=where)
        name = decode_label(_require(entry, "name", (str, int, list), where, source))
        vtype = str(entry.get("type", "BINARY")).upper()
        if vtype not in _VARTYPES:
            raise ModelError(
                f"expected type BINARY, SPIN, INTEGER or REAL, got {entry.get('type')!r}",
                source=source,
                field=f"{where}.type",
            )
        if name in vartypes:
            raise ModelError(f"duplicate variable {name!r}", source=source, field=where)
        vartypes[name] = _VARTYPES[vtype]
        if vtype in ("INTEGER", "REAL"):
            lb = _number(entry.get("lb", 0.0), f"{where}.lb", source)
            ub = _number(entry.get("ub", 1e30 if vtype == "REAL" else 2**31 - 1), f"{where}.ub", source)
            if lb > ub:
                raise ModelError(f"lower bound {lb} exceeds upper bound {ub}", source=source, field=where)
            bounds[name] = (lb, ub)
    known = set(vartypes)
    obj = data.get("objective", {})
    if not isinstance(obj, Mapping):
        raise ModelError("expected an object", source=source, field="objective")
    linear, quadratic, offset = _read_terms(obj, "objective", known, source)
    sense = data.get("sense", "min")
    if sense not in ("min", "max"):
        raise ModelError(f"expected 'min' or 'max', got {sense!r}", source=source, field="sense")
    known_opt = data.get("known_optimum")
    if known_opt is not None:
        known_opt = _number(known_opt, "known_optimum", source)
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ModelError("expected an object", source=source, field="metadata")
    name = str(data.get("name", "problem"))
    kinds = set(vartypes.values())
    constraints = data.get("constraints")
    if constraints is None and len(kinds) <= 1 and kinds <= {dimod.BINARY, dimod.SPIN}:
        vt = next(iter(kinds), dimod.BINARY)
        bqm = dimod.BinaryQuadraticModel(vt)
        for v in vartypes:
            bqm.add_variable(v)
        bqm.add_linear_from(linear)
        bqm.add_quadratic_from(quadratic)
        bqm.offset = offset
        return Problem(bqm, name=name, sense=sense, known_optimum=known_opt, metadata=dict(metadata))
    cqm = dimod.ConstrainedQuadraticModel()
    for v, vt in vartypes.items():
        lo, hi = bounds.get(v, (None, None))
        if vt in (dimod.INTEGER, dimod.REAL):
            cqm.add_variable(vt, v, lower_bound=lo, upper_bound=hi)  # type: ignore[arg-type]
        else:
            cqm.add_variable(vt, v)  # type: ignore[arg-type]
    qm = dimod.QuadraticModel()
    for v, vt in vartypes.items():
        lo, hi = bounds.get(v, (0.0, 1.0))
        if vt in (dimod.INTEGER, dimod.REAL):
            qm.add_variable(vt, v, lower_bound=lo, upper_bound=hi)
        else:
            qm.add_variable(vt, v)
    qm.add_linear_from(linear)
    qm.add_quadratic_from(quadratic)
    qm.offset = offset
    cqm.set_objective(qm)
    if constraints is not None:
        if not isinstance(constraints, list):
            raise ModelError("expected a list", source=source, field="constraints")
        for i, c in enumerate(constraints):
            where = f"constraints[{i}]"
            if not isinstance(c, Mapping):
                raise ModelError("expected an object", source=source, field=where)
            lin, quad, off = _read_terms(c, where, known, source)
            csense = c.get("sense")
            if csense not in _SENSES:
                raise ModelError(
                    f"expected sense '<=', '>=' or '==', got {csense!r}",
                    source=source,
                    field=f"{where}.sense",
                )
            rhs = _number(c.get("rhs", 0.0), f"{where}.rhs", source) - off
            label = decode_label(c.get("name", f"c{i}"))
            if label in cqm.constraints:
                raise ModelError(f"duplicate constraint name {label!r}", source=source, field=where)
            terms: list[tuple[Any, ...]] = [*lin, *quad]
            cqm.add_constraint_from_iterable(terms, _SENSES[csense], rhs=rhs, label=label)
    return Problem(cqm, name=name, sense=sense, known_optimum=known_opt, metadata=dict(metadata))
