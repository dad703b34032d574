"""Reader for kakehashi's QUBO/Ising JSON schema (``docs/formats.md``) and ``kakehashi.problem`` JSON.

QUBO/Ising schema::

    {"type": "qubo" | "ising",             required
     "name": "my-problem",                 optional (default: the file's stem)
     "linear": {"0": 1.5, "a": -2} | [[v, bias], ...],
     "quadratic": [[u, v, bias], ...] | {"u,v": bias},
     "offset": 0.0,                        optional
     "sense": "min" | "max",               optional (default "min")
     "known_optimum": -12.0,               optional
     "metadata": {...}}                    optional

``qubo`` gives a BINARY BQM (variables 0/1), ``ising`` a SPIN BQM (variables -1/+1) with energy
``offset + Σ linear[v] s_v + Σ bias s_u s_v``. Labels are strings or integers; object keys
that spell a base-10 integer (``"0"``, ``"-3"``) become integers, so ``{"0": 1.5}`` and
``[[0, 1.5]]`` mean the same variable. Repeated pairs add up; ``u == v`` in a QUBO is a linear
term (x² = x); in an Ising model it is the constant 1 (s² = 1) and is added to the offset.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import dimod

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem

_INT = re.compile(r"-?\d+\Z")


def _label(raw: Any, where: str, source: str | None) -> Hashable:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ModelError(
            f"expected a variable label (string or integer), got {raw!r}", source=source, field=where
        )
    if isinstance(raw, str) and _INT.match(raw):
        return int(raw)
    return raw


def _number(raw: Any, where: str, source: str | None) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ModelError(f"expected a number, got {raw!r}", source=source, field=where)
    return float(raw)


def problem_from_qubo_dict(data: Any, *, source: str | None = None, name: str | None = None) -> Problem:
    """Build a BQM :class:`Problem` from a parsed QUBO/Ising JSON document."""
    if not isinstance(data, Mapping):
        raise ModelError("expected a JSON object at the top level", source=source)
    kind = data.get("type")
    if kind not in ("qubo", "ising"):
        raise ModelError(f'expected "type": "qubo" or "ising", got {kind!r}', source=source, field="type")
    vartype = dimod.BINARY if kind == "qubo" else dimod.SPIN
    bqm = dimod.BinaryQuadraticModel(vartype)
    linear = data.get("linear", {})
    if isinstance(linear, Mapping):
        items = [(k, v, f"linear[{k!r}]") for k, v in linear.items()]
    elif isinstance(linear, list):
        items = []
        for i, item in enumerate(linear):
            if not isinstance(item, list) or len(item) != 2:
                raise ModelError("expected [variable, bias]", source=source, field=f"linear[{i}]")
            items.append((item[0], item[1], f"linear[{i}]"))
    else:
        raise ModelError("expected an object or a list of [variable, bias]", source=source, field="linear")
    for raw, bias, where in items:
        bqm.add_linear(_label(raw, where, source), _number(bias, where, source))
    quadratic = data.get("quadratic", [])
    triples: list[tuple[Any, Any, Any, str]] = []
    if isinstance(quadratic, Mapping):
        for key, bias in quadratic.items():
            parts = str(key).split(",")
            if len(parts) != 2:
                raise ModelError("expected a key 'u,v'", source=source, field=f"quadratic[{key!r}]")
            triples.append((parts[0].strip(), parts[1].strip(), bias, f"quadratic[{key!r}]"))
    elif isinstance(quadratic, list):
        for i, item in enumerate(quadratic):
            if not isinstance(item, list) or len(item) != 3:
                raise ModelError("expected [u, v, bias]", source=source, field=f"quadratic[{i}]")
            triples.append((item[0], item[1], item[2], f"quadratic[{i}]"))
    else:
        raise ModelError("expected a list of [u, v, bias]", source=source, field="quadratic")
    offset = _number(data.get("offset", 0.0), "offset", source)
    for ru, rv, rb, where in triples:
        u, v, b = _label(ru, where, source), _label(rv, where, source), _number(rb, where, source)
        if u == v:
            if vartype is dimod.BINARY:
                bqm.add_linear(u, b)
            else:
                bqm.add_variable(u)
                offset += b
        else:
            bqm.add_quadratic(u, v, b)
    bqm.offset += offset
    sense = data.get("sense", "min")
    if sense not in ("min", "max"):
        raise ModelError(f'expected "min" or "max", got {sense!r}', source=source, field="sense")
    known = data.get("known_optimum")
    known_opt = None if known is None else _number(known, "known_optimum", source)
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ModelError("expected an object", source=source, field="metadata")
    metadata = {**metadata, "format": f"{kind}-json"}
    if source is not None:
        metadata.setdefault("source", source)
    default = Path(source).stem if source else "problem"
    return Problem(
        bqm,
        name=str(data.get("name", name or default)),
        sense=sense,
        known_optimum=known_opt,
        metadata=metadata,
    )


def _load(text: str, source: str | None) -> Any:
    from kakehashi import safejson

    try:
        return safejson.loads(text)  # bounded depth and integer length, strict JSON
    except safejson.JsonLimitError as exc:
        raise ModelError(exc.reason, source=source, line=exc.line) from exc


def reads(text: str, *, source: str | Path | None = None, format: str | None = None) -> Problem:
    """Parse JSON ``text``: QUBO/Ising, or a ``kakehashi.problem`` document.

    ``format`` may be ``"qubo"``, ``"ising"``, ``"kakehashi.problem"`` or ``None`` (decided by the
    document's ``"format"`` / ``"type"`` key).
    """
    src = None if source is None else str(source)
    data = _load(text, src)
    is_problem = format == "kakehashi.problem" or (
        format is None and isinstance(data, Mapping) and data.get("format") == "kakehashi.problem"
    )
    if is_problem:
        return Problem.from_dict(data, source=src)
    if format in ("qubo", "ising") and isinstance(data, Mapping) and data.get("type", format) != format:
        raise ModelError(f'expected "type": {format!r}, got {data.get("type")!r}', source=src, field="type")
    if format in ("qubo", "ising") and isinstance(data, Mapping) and "type" not in data:
        data = {**data, "type": format}
    return problem_from_qubo_dict(data, source=src)


def read(path: str | Path, *, format: str | None = None) -> Problem:
    """Read a QUBO/Ising or ``kakehashi.problem`` JSON file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read the file: {exc}", source=p) from exc
    return reads(text, source=p, format=format)
