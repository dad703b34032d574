"""Domain jobs: an app's own input (routing, portfolio, unit commitment) submitted to the service.

At submission :func:`build` reads the domain input with the app's own reader and validation
(every bad record is a :class:`~kakehashi.exceptions.ModelError` naming the record and the rule),
builds the app's Problem and records what interpretation needs in ``Problem.metadata["app"]``
(the app name, the validated instance and the options). The worker runs the plain
``kakehashi.solve(problem)``; :func:`answer` turns the stored Result back into the domain answer
and checks it with the app's own ``validate()``.

Supported routes (the ones whose answer follows from the Result alone):

* ``routing`` — the edge formulation on the routing backends (``pyvrp``, ``lkh``,
  ``ortools-routing``; ``auto``: ``lkh`` for a TSP, ``pyvrp`` for a CVRP). Input: a
  :class:`~kakehashi.apps.routing.RoutingInstance` as JSON, or TSPLIB/CVRPLIB/CSV text with
  ``format`` ``tsp``/``vrp``/``csv``; options ``capacity`` and ``num_vehicles``.
* ``portfolio`` — the MIQP on ``scip``/``highs`` (``auto``: ``scip``); the answer re-optimises the
  weights of the solver's selection continuously, as :func:`~kakehashi.apps.portfolio.solve_portfolio`
  does. Input: a :class:`~kakehashi.apps.portfolio.PortfolioInstance` as JSON, or CSV / OR-Library
  text (``format`` ``csv``/``orlib``); options ``k``, ``min_weight``, ``max_weight``, ``lambda``.
* ``bio`` — FBA or the OptKnock strain-design MILP on ``highs``/``scip`` (:mod:`kakehashi.service.bio_jobs`).
* ``unit-commitment`` — the full MILP on ``highs``/``scip`` (``auto``: ``highs``). Input: the
  unit-commitment JSON (object or text).

Not supported through the service: the Ising/QUBO routes of the three apps (they need a repair
step, a continuous re-dispatch LP or penalty compile options between solves).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem
from kakehashi.result import Result

#: The apps a job may name.
APPS = ("routing", "portfolio", "unit-commitment", "bio")

#: Text formats of each app's input and the file suffix its reader expects.
FORMATS: dict[str, dict[str, str]] = {
    "routing": {"tsp": ".tsp", "vrp": ".vrp", "csv": ".csv"},
    "portfolio": {"csv": ".csv", "orlib": ".txt", "txt": ".txt"},
    "unit-commitment": {"json": ".json"},
    "bio": {"json": ".json", "sbml": ".xml"},
}


class RoutingOptions(BaseModel):
    """Routing options: vehicle capacity (CSV input: a CVRP when given) and fleet size."""

    model_config = ConfigDict(extra="forbid")

    capacity: int | None = Field(None, ge=1)
    num_vehicles: int | None = Field(None, ge=1)


class PortfolioOptions(BaseModel):
    """Portfolio options: exactly ``k`` assets, weight bounds, trade-off ``lambda`` (0: return, 1: risk)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    k: int = Field(10, ge=1)
    min_weight: float = Field(0.01, ge=0.0, le=1.0)
    max_weight: float = Field(1.0, gt=0.0, le=1.0)
    lam: float = Field(0.5, ge=0.0, le=1.0, alias="lambda")


class NoOptions(BaseModel):
    """An app without options."""

    model_config = ConfigDict(extra="forbid")


def _model_error(exc: ValidationError, what: str) -> ModelError:
    first = exc.errors()[0]
    where = ".".join(str(x) for x in first.get("loc", ())) or None
    return ModelError(f"{first.get('msg', 'invalid')} (in the {what})", source="input", field=where)


def _validated(cls: type[BaseModel], data: Mapping[str, Any], what: str) -> Any:
    """``cls(**data)``, every failure a ModelError (the apps' validators raise ModelError themselves)."""
    try:
        return cls.model_validate(dict(data))
    except ValidationError as exc:
        raise _model_error(exc, what) from None


def _relabel(exc: ModelError, label: str) -> ModelError:
    """The same error, naming ``label`` instead of the temporary file."""
    return ModelError(exc.reason, source=label, line=exc.line, field=exc.field)


def _read_text(app: str, text: str, fmt: str | None, name: str, reader: Callable[[Path], Any]) -> Any:
    """Run the app's file reader on ``text`` written to a temporary file with the format's suffix."""
    formats = FORMATS[app]
    if fmt is None:
        if len(formats) > 1:
            raise ModelError(f"text input needs a format: one of {', '.join(formats)}", field="format")
        fmt = next(iter(formats))
    suffix = formats.get(fmt.lower())
    if suffix is None:
        raise ModelError(
            f"unknown {app} format {fmt!r}; expected one of {', '.join(formats)}", field="format"
        )
    stem = "".join(c for c in name if c.isalnum() or c in "-_.")[:80] or app
    with tempfile.TemporaryDirectory(prefix="kh-domain-") as tmp:
        path = Path(tmp) / f"{stem}{suffix}"
        path.write_text(text, encoding="utf-8")
        try:
            return reader(path)
        except ModelError as exc:
            raise _relabel(exc, "input") from None
        except (ValueError, TypeError, KeyError, IndexError, OSError, UnicodeError) as exc:
            raise ModelError(
                f"cannot read the {app} input: {type(exc).__name__}: {exc}", source="input"
            ) from None


def _pick_backend(app: str, backend: str | list[str], allowed: tuple[str, ...], auto: str) -> str | list[str]:
    names = [backend] if isinstance(backend, str) else list(backend)
    if names == ["auto"]:
        return auto
    bad = [n for n in names if n not in allowed]
    if bad:
        raise ModelError(
            f"backend {bad[0]!r} is not offered for {app} jobs through the service "
            f"(use 'auto' or one of: {', '.join(allowed)}); the app's Ising route needs the app's own solve",
            field="backend",
        )
    return backend


def _max_nodes(max_variables: int) -> int:
    """The most nodes whose n(n-1)/2 edge variables fit in ``max_variables``."""
    n = max(2, math.isqrt(2 * max_variables) + 1)
    while n > 2 and n * (n - 1) // 2 > max_variables:
        n -= 1
    return n


def _routing(
    data: Mapping[str, Any] | str,
    fmt: str | None,
    name: str,
    raw_options: Mapping[str, Any],
    max_variables: int,
) -> tuple[Problem, dict[str, Any], Any]:
    from kakehashi.apps.routing import RoutingInstance, read_routing

    opts: RoutingOptions = _validated(RoutingOptions, raw_options, "options")
    if isinstance(data, str):
        inst = _read_text(
            "routing",
            data,
            fmt,
            name,
            lambda p: read_routing(
                p, capacity=opts.capacity, num_vehicles=opts.num_vehicles, max_nodes=_max_nodes(max_variables)
            ),
        )
    else:
        merged = dict(data)
        merged.setdefault("source", "input")
        for key in ("capacity", "num_vehicles"):
            if getattr(opts, key) is not None:
                merged[key] = getattr(opts, key)
        try:
            inst = _validated(RoutingInstance, merged, "routing instance")
        except ModelError as exc:
            raise _relabel(exc, "input") from None
    assert isinstance(inst, RoutingInstance)
    edges = inst.dimension * (inst.dimension - 1) // 2
    if edges > max_variables:
        raise ModelError(
            f"{inst.dimension} nodes give {edges} edge variables; this service accepts at most {max_variables}",
            source="input",
        )
    why = inst.check_feasible_by_construction()
    if why is not None:
        raise ModelError(
            f"infeasible by construction: {why} (rule: total demand <= fleet capacity)",
            source="input",
            field="num_vehicles",
        )
    from kakehashi.apps.routing import to_problem

    return to_problem(inst), inst.model_dump(mode="json"), opts


def _portfolio(
    data: Mapping[str, Any] | str,
    fmt: str | None,
    name: str,
    raw_options: Mapping[str, Any],
    max_variables: int,
) -> tuple[Problem, dict[str, Any], Any]:
    from kakehashi.apps.portfolio import PortfolioInstance, PortfolioSettings, read_portfolio, to_problem

    opts: PortfolioOptions = _validated(PortfolioOptions, raw_options, "options")
    if isinstance(data, str):
        inst = _read_text("portfolio", data, fmt, name, read_portfolio)
    else:
        mean = data.get("mean")
        if isinstance(mean, list) and 2 * len(mean) > max_variables:
            raise ModelError(
                f"{len(mean)} assets; this service accepts at most {max_variables // 2}",
                source="input",
                field="mean",
            )
        merged = {"source": "input", **data}
        inst = _validated(PortfolioInstance, merged, "portfolio instance")
    assert isinstance(inst, PortfolioInstance)
    settings = PortfolioSettings(k=opts.k, min_weight=opts.min_weight, max_weight=opts.max_weight)
    try:
        settings.check(inst.n, "input")
    except ModelError as exc:
        raise _relabel(exc, "options") from None
    return to_problem(inst, settings, opts.lam), inst.model_dump(mode="json"), opts


def _unit_commitment(
    data: Mapping[str, Any] | str,
    fmt: str | None,
    name: str,
    raw_options: Mapping[str, Any],
    max_variables: int,
) -> tuple[Problem, dict[str, Any], Any]:
    from kakehashi.apps.energy import UnitCommitmentInstance, read_unit_commitment, to_problem

    opts = _validated(NoOptions, raw_options, "options")
    if isinstance(data, str):
        inst = _read_text("unit-commitment", data, fmt, name, read_unit_commitment)
    else:
        units = data.get("units")
        demand = data.get("demand")
        if (
            isinstance(units, list)
            and isinstance(demand, list)
            and 8 * len(units) * len(demand) > max_variables
        ):
            raise ModelError("too many units x hours for this service", source="input", field="units")
        merged = {"source": "input", "name": name, **data}
        inst = _validated(UnitCommitmentInstance, merged, "unit-commitment instance")
    assert isinstance(inst, UnitCommitmentInstance)
    return to_problem(inst), inst.model_dump(mode="json"), opts


def _bio(data: Mapping[str, Any] | str, fmt: str | None, name: str, options: dict[str, Any],
         max_variables: int) -> tuple[Problem, dict[str, Any], Any]:
    from kakehashi.service.bio_jobs import build_bio

    return build_bio(data, fmt, name, options, max_variables)


def _bio_answer(instance: dict[str, Any], options: dict[str, Any], result: Result) -> dict[str, Any]:
    from kakehashi.service.bio_jobs import bio_answer

    return bio_answer(instance, options, result)


#: app -> (builder, backends offered, backend for 'auto' given the instance JSON).
_BUILDERS: dict[
    str,
    tuple[
        Callable[..., tuple[Problem, dict[str, Any], Any]], tuple[str, ...], Callable[[dict[str, Any]], str]
    ],
] = {
    "routing": (
        _routing,
        ("pyvrp", "lkh", "ortools-routing"),
        lambda inst: "lkh" if inst.get("kind") == "tsp" else "pyvrp",
    ),
    "portfolio": (_portfolio, ("scip", "highs"), lambda inst: "scip"),
    "unit-commitment": (_unit_commitment, ("highs", "scip"), lambda inst: "highs"),
    "bio": (_bio, ("highs", "scip"), lambda inst: "highs"),
}


def build(
    app: str,
    data: Mapping[str, Any] | str,
    *,
    fmt: str | None = None,
    options: Mapping[str, Any] | None = None,
    name: str | None = None,
    backend: str | list[str] = "auto",
    max_variables: int = 1_000_000,
) -> tuple[Problem, str | list[str]]:
    """The app's Problem for domain input ``data`` (JSON object or file text) and the backend to run.

    Raises:
        ModelError: unknown app, bad input (naming the record and rule), or a backend the app's
            service route does not offer.
    """
    if app == "energy":
        app = "unit-commitment"
    if app not in _BUILDERS:
        raise ModelError(f"unknown app {app!r}; expected one of {', '.join(APPS)}", field="app")
    builder, allowed, auto = _BUILDERS[app]
    problem, instance, opts = builder(data, fmt, name or app, dict(options or {}), max_variables)
    if name:
        problem.name = name
    problem.metadata["app"] = {
        "name": app,
        "instance": instance,
        "options": opts.model_dump(mode="json", by_alias=True),
    }
    return problem, _pick_backend(app, backend, allowed, auto(instance))


def app_of(metadata: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``metadata["app"]`` record of a domain job's Problem, or None for a plain job."""
    record = metadata.get("app")
    if isinstance(record, dict) and record.get("name") in APPS and isinstance(record.get("instance"), dict):
        return record
    return None


def _routing_answer(instance: dict[str, Any], options: dict[str, Any], result: Result) -> dict[str, Any]:
    from kakehashi.apps.routing import RoutingInstance, interpret

    sol = interpret(result, RoutingInstance(**instance))
    valid = bool(sol.validation and sol.validation.ok)
    violations = list(sol.validation.violations) if sol.validation else ["no validation"]
    return {
        "cost": float(sol.total_cost),
        "unit": "distance",
        "valid": valid,
        "violations": violations,
        "answer": sol.to_summary(),
    }


def _portfolio_answer(instance: dict[str, Any], options: dict[str, Any], result: Result) -> dict[str, Any]:
    from kakehashi.apps.portfolio import PortfolioInstance, PortfolioSettings, polish_weights, validate
    from kakehashi.apps.portfolio.formulation import MIQP_UNITS, weights_from_sample

    inst = PortfolioInstance(**instance)
    opts = PortfolioOptions.model_validate(options)
    settings = PortfolioSettings(k=opts.k, min_weight=opts.min_weight, max_weight=opts.max_weight)
    lam = opts.lam

    def summary(w: np.ndarray, formulation: str) -> dict[str, Any]:
        ret, var = float(inst.mu @ w), float(w @ inst.sigma @ w)
        return {
            "weights": {inst.assets[i]: float(w[i]) for i in np.flatnonzero(w > 1e-6)},
            "expected_return": ret,
            "variance": var,
            "objective": lam * var - (1 - lam) * ret,
            "violations": validate(w, settings),
            "formulation": formulation,
        }

    w = weights_from_sample(inst.n, result.sample, MIQP_UNITS) if result.sample else np.zeros(inst.n)
    best = summary(w, "miqp")
    held = np.flatnonzero(w > 1e-6)
    if result.sample and not best["violations"] and len(held) == settings.k:
        polished = summary(polish_weights(inst, settings, lam, held), "miqp+qp")
        if not polished["violations"] and polished["objective"] <= best["objective"]:
            polished["raw_objective"] = best["objective"]
            best = polished
    violations = list(best["violations"]) if result.sample else [f"no portfolio: {result.status.value}"]
    return {
        "cost": best["objective"],
        "unit": f"λ·variance − (1−λ)·return, λ = {lam:g}",
        "valid": not violations,
        "violations": violations,
        "answer": {"instance": inst.name, "lambda": lam, "k": settings.k, **best, "violations": violations},
    }


def _uc_answer(instance: dict[str, Any], options: dict[str, Any], result: Result) -> dict[str, Any]:
    from kakehashi.apps.energy import UnitCommitmentInstance
    from kakehashi.apps.energy.app import schedule_from_sample

    inst = UnitCommitmentInstance(**instance)
    if not result.sample:
        return {
            "cost": None,
            "unit": "yen",
            "valid": False,
            "violations": [f"no schedule: {result.status.value}"],
            "answer": None,
        }
    sch = schedule_from_sample(inst, result.sample)
    sch.status, sch.backend = result.status.value, result.backend
    return {
        "cost": sch.cost,
        "unit": "yen",
        "valid": not sch.violations,
        "violations": list(sch.violations),
        "answer": sch.model_dump(mode="json"),
    }


_ANSWERS: dict[str, Callable[[dict[str, Any], dict[str, Any], Result], dict[str, Any]]] = {
    "routing": _routing_answer,
    "portfolio": _portfolio_answer,
    "unit-commitment": _uc_answer,
    "bio": lambda instance, options, result: _bio_answer(instance, options, result),
}


def answer(record: Mapping[str, Any], result: Result) -> dict[str, Any]:
    """The domain answer of a finished domain job: ``app``, ``cost``, ``unit``, ``valid``,
    ``violations`` (the app's own ``validate()``), ``status``, ``backend`` and the app's ``answer``
    (routes / weights / schedule)."""
    app = str(record["name"])
    out = _ANSWERS[app](dict(record["instance"]), dict(record.get("options") or {}), result)
    body = {"app": app, "status": result.status.value, "backend": result.backend, **out}
    return dict(_finite(json.loads(json.dumps(body, default=str))))


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
