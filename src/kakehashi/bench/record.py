"""What a testbed keeps of a benchmark result: validation and the leaderboard entries.

:func:`validate_result` checks a result document (``result.json`` of ``kakehashi bench run``)
before it is stored: the format tag, the suite (name, sense, protocol, instances with their
hashes), the manifest, and every run's fields and types. Every mistake is a
:class:`~kakehashi.exceptions.ModelError` naming the field (``runs[3].budget``).

:func:`entries` condenses a result into one row per (backend, machine kind) — the unit of a
leaderboard. The numbers are recomputed from the runs, never taken from the document's own
``metrics``:

* ``runs``, ``instances``: how many runs, on how many distinct instances;
* ``feasible_rate``: feasible runs / runs;
* ``success_rate``: runs whose objective is within ε (the suite's ``epsilon``, relative) of the
  instance's best-known value / runs with a best-known value (None when no instance has one);
* ``median_gap``: the median relative gap |objective − best| / |best| of the feasible runs;
* ``machine_seconds``: the sum of the runs' wall seconds (what the runs held);
* ``cost_yen``: the sum of the runs' metered cost where the service recorded one (else None).

A run's machine kind is ``machine_kind`` where the service recorded it (runs made with
``--url``), else its ``hardware`` kind, else ``cpu``.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any

from kakehashi.exceptions import ModelError

FORMAT = "kakehashi.bench/1"
#: Most runs one stored result may hold.
MAX_RUNS = 100_000
_STATUSES = {"OPTIMAL", "FEASIBLE", "INFEASIBLE", "NO_SOLUTION", "TIMEOUT", "ERROR"}


def _need(d: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise ModelError(f"{where}{key}: required", field=f"{where}{key}")
    value = d[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ModelError(f"{where}{key}: expected {_name(kind)}, got a boolean", field=f"{where}{key}")
    if not isinstance(value, kind):
        raise ModelError(f"{where}{key}: expected {_name(kind)}, got {type(value).__name__}",
                         field=f"{where}{key}")
    return value


def _name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({"str": "a string", "int": "an integer", "float": "a number", "dict": "an object",
                        "list": "an array", "bool": "a boolean", "NoneType": "null"}.get(k.__name__, k.__name__)
                       for k in kinds)


def _finite(value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ModelError(f"{where}: expected a finite number", field=where)


def validate_result(doc: Any) -> None:
    """Raise :class:`ModelError` (naming the field) unless ``doc`` is a bench result document."""
    if not isinstance(doc, dict):
        raise ModelError("a benchmark result is a JSON object", field="body")
    if doc.get("format") != FORMAT:
        raise ModelError(f"format: expected {FORMAT!r} (a result.json of 'kakehashi bench run'), "
                         f"got {doc.get('format')!r}", field="format")
    suite = _need(doc, "suite", dict, "")
    name = _need(suite, "name", str, "suite.")
    if not 0 < len(name) <= 100:
        raise ModelError("suite.name: 1 to 100 characters", field="suite.name")
    if suite.get("sense") not in ("min", "max"):
        raise ModelError("suite.sense: expected 'min' or 'max'", field="suite.sense")
    protocol = _need(suite, "protocol", dict, "suite.")
    eps = _need(protocol, "epsilon", (int, float), "suite.protocol.")
    _finite(eps, "suite.protocol.epsilon")
    instances = _need(suite, "instances", list, "suite.")
    ids: set[str] = set()
    for k, inst in enumerate(instances):
        where = f"suite.instances[{k}]."
        if not isinstance(inst, dict):
            raise ModelError(f"{where[:-1]}: expected an object", field=where[:-1])
        ids.add(_need(inst, "id", str, where))
        _need(inst, "sha256", str, where)
        best = inst.get("best_known")
        if best is not None and (isinstance(best, bool) or not isinstance(best, int | float)):
            raise ModelError(f"{where}best_known: expected a number or null", field=f"{where}best_known")
        _finite(best, f"{where}best_known")
    _need(doc, "manifest", dict, "")
    runs = _need(doc, "runs", list, "")
    if len(runs) > MAX_RUNS:
        raise ModelError(f"runs: at most {MAX_RUNS} runs per result, got {len(runs)}", field="runs")
    for k, run in enumerate(runs):
        where = f"runs[{k}]."
        if not isinstance(run, dict):
            raise ModelError(f"runs[{k}]: expected an object", field=f"runs[{k}]")
        inst = _need(run, "instance", str, where)
        if inst not in ids:
            raise ModelError(f"{where}instance: {inst!r} is not an instance of the suite", field=f"{where}instance")
        _need(run, "backend", str, where)
        _finite(_need(run, "budget", (int, float), where), f"{where}budget")
        _need(run, "seed", int, where)
        if _need(run, "status", str, where) not in _STATUSES:
            raise ModelError(f"{where}status: expected one of {sorted(_STATUSES)}", field=f"{where}status")
        _need(run, "feasible", bool, where)
        obj = run.get("objective")
        if obj is not None and (isinstance(obj, bool) or not isinstance(obj, int | float)):
            raise ModelError(f"{where}objective: expected a number or null", field=f"{where}objective")
        _finite(obj, f"{where}objective")
        wall = run.get("wall_s", 0.0)
        if isinstance(wall, bool) or not isinstance(wall, int | float) or not math.isfinite(wall) or wall < 0:
            raise ModelError(f"{where}wall_s: expected seconds >= 0", field=f"{where}wall_s")


def machine_kind(run: dict[str, Any]) -> str:
    """The machine kind a run ran on (see the module docstring)."""
    return str(run.get("machine_kind") or run.get("hardware") or "cpu")


def entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One leaderboard row per (backend, machine kind) of a validated result (module docstring)."""
    suite = doc["suite"]
    best = {i["id"]: i.get("best_known") for i in suite["instances"]}
    eps = float(suite["protocol"]["epsilon"])
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for run in doc["runs"]:
        groups[(run["backend"], machine_kind(run))].append(run)
    rows = []
    for (backend, kind), runs in sorted(groups.items()):
        gaps: list[float] = []
        judged = succeeded = 0
        for r in runs:
            b = best.get(r["instance"])
            if b is None:
                continue
            judged += 1
            if r["feasible"] and r.get("objective") is not None:
                gap = abs(float(r["objective"]) - float(b)) / max(abs(float(b)), 1e-12)
                gaps.append(gap)
                succeeded += gap <= eps + 1e-9
        costs = [r["cost_yen"] for r in runs if isinstance(r.get("cost_yen"), int | float)]
        rows.append({
            "backend": backend, "machine_kind": kind, "runs": len(runs),
            "instances": len({r["instance"] for r in runs}),
            "feasible_rate": sum(1 for r in runs if r["feasible"]) / len(runs),
            "success_rate": succeeded / judged if judged else None,
            "median_gap": statistics.median(gaps) if gaps else None,
            "machine_seconds": float(sum(float(r.get("wall_s") or 0.0) for r in runs)),
            "cost_yen": float(sum(costs)) if costs else None,
        })
    return rows
