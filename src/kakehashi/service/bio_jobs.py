"""The ``bio`` domain job: a COBRA model (JSON object, or SBML/JSON text) and an analysis.

Options: ``analysis`` ``"fba"`` (the FBA LP; answer: growth and fluxes) or ``"strain-design"``
(the OptKnock MILP of :mod:`kakehashi.apps.bio.optknock`; answer: the knockouts, validated by FBA
with the worst case over alternative optima), ``product``, ``k``, ``min_growth`` (h⁻¹; default 10%
of the wild type), ``anaerobic``. Backends: ``highs``/``scip`` (``auto``: ``highs``). The model
is stored in the job as COBRA JSON, so the answer re-validates on exactly what was solved.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem
from kakehashi.result import Result


class BioOptions(BaseModel):
    """Options of a bio job (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    analysis: str = Field("fba", pattern="^(fba|strain-design)$")
    product: str | None = None
    k: int = Field(3, ge=1, le=10)
    min_growth: float | None = Field(None, ge=0.0)
    anaerobic: bool = False


def _network(model: Mapping[str, Any], anaerobic: bool) -> Any:
    from kakehashi.apps.bio.network import _check_dict, from_cobra

    _check_dict(model, "input")
    import cobra

    try:
        net = from_cobra(cobra.io.model_from_dict(dict(model)), source="input")
    except ModelError:
        raise
    except Exception as exc:  # COBRApy's own errors on a malformed document
        raise ModelError(f"COBRApy could not read the model: {exc}", source="input") from None
    return net.anaerobic() if anaerobic else net


def build_bio(data: Mapping[str, Any] | str, fmt: str | None, name: str, options: dict[str, Any],
              max_variables: int) -> tuple[Problem, dict[str, Any], Any]:
    """The bio job's Problem, the stored instance (``{"model": COBRA JSON}``) and the options."""
    import cobra

    from kakehashi.apps.bio.design import knockout_candidates
    from kakehashi.apps.bio.fba import _objective, fba, flux_model
    from kakehashi.apps.bio.network import read_model
    from kakehashi.apps.bio.optknock import optknock_problem
    from kakehashi.apps.bio.strain import MIN_GROWTH_FRACTION

    try:
        opts = BioOptions.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ModelError(f"{first.get('msg')} (in the bio options)", source="input",
                         field=".".join(str(x) for x in first.get("loc", ()))) from None
    if isinstance(data, str):
        suffix = {"sbml": ".xml", "xml": ".xml", "json": ".json"}.get((fmt or "json").lower())
        if suffix is None:
            raise ModelError(f"unknown bio format {fmt!r}; expected sbml or json", field="format")
        with tempfile.TemporaryDirectory(prefix="kh-bio-") as tmp:
            path = Path(tmp) / f"model{suffix}"
            path.write_text(data, encoding="utf-8")
            try:
                model_dict = cobra.io.model_to_dict(read_model(path).model)
            except ModelError as exc:
                raise ModelError(exc.reason, source="input", line=exc.line, field=exc.field) from None
    else:
        model_dict = json.loads(json.dumps(dict(data)))
    net = _network(model_dict, opts.anaerobic)
    if 5 * (net.num_reactions + len(net.metabolites)) > max_variables:
        raise ModelError("model too large for this service", source="input", field="reactions")
    instance = {"model": model_dict}
    if opts.analysis == "fba":
        cqm = flux_model(net)
        _objective(cqm, [(net.reactions[j], float(net.c[j])) for j in range(net.num_reactions) if net.c[j]])
        return Problem(cqm, name=f"{net.name}-fba", sense="max", metadata={"domain": "bio"}), instance, opts
    product = opts.product
    if product is None:
        raise ModelError("strain-design needs a product reaction", source="input", field="product")
    growth = fba(net).objective
    if growth is None:
        raise ModelError("the model has no feasible flux", source="input")
    floor = MIN_GROWTH_FRACTION * growth if opts.min_growth is None else opts.min_growth
    opts = opts.model_copy(update={"min_growth": floor})
    cand = knockout_candidates(net, product, min_growth=floor)
    return optknock_problem(net, product, cand, opts.k, min_growth=floor), instance, opts


def bio_answer(instance: dict[str, Any], options: dict[str, Any], result: Result) -> dict[str, Any]:
    """FBA: growth and fluxes. Strain design: the knockouts, re-validated by FBA (worst case)."""
    from kakehashi.apps.bio.design import validate_design

    opts = BioOptions.model_validate(options)
    net = _network(instance["model"], opts.anaerobic)
    if not result.sample:
        return {"cost": None, "unit": "", "valid": False, "violations": [f"no answer: {result.status.value}"],
                "answer": {}}
    if opts.analysis == "fba":
        return {"cost": result.objective, "unit": "objective (h^-1 for growth)", "valid": bool(result.feasible),
                "violations": [] if result.feasible else sorted(result.violations)[:5],
                "answer": {"fluxes": {r: float(result.sample[r]) for r in net.reactions}}}
    assert opts.product is not None and opts.min_growth is not None
    kos = sorted(str(v[1]) for v, x in result.sample.items()
                 if isinstance(v, tuple) and v[0] == "y" and float(x) > 0.5)
    design = validate_design(net, kos, opts.product, min_growth=opts.min_growth, route="milp:service")
    return {"cost": design.production, "unit": "mmol gDW^-1 h^-1 guaranteed", "valid": design.valid,
            "violations": design.violations, "answer": design.to_dict()}
