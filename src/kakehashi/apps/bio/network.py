"""Metabolic networks read with COBRApy (SBML, JSON, the bundled E. coli core), held as arrays.

A :class:`MetabolicNetwork` is the stoichiometric matrix ``S`` (metabolites × reactions, mmol per
mmol of reaction), the flux bounds of every reaction (mmol gDW⁻¹ h⁻¹; the biomass reaction's
flux is the growth rate in h⁻¹) and the objective vector ``c`` (maximised). It is immutable:
:meth:`MetabolicNetwork.with_bounds` and :meth:`MetabolicNetwork.knockout` return changed copies,
so a design never leaks into the model it was made from.

COBRApy does the reading (it is the community's reference SBML/JSON reader, and it ships E. coli
core as ``textbook``); kakehashi then checks what COBRApy lets through or reports vaguely: a
missing objective, a lower bound above the upper bound, a reaction naming an undeclared
metabolite — each as a :class:`~kakehashi.exceptions.ModelError` that names the reaction.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.exceptions import ModelError

#: Names that load the E. coli core model bundled with COBRApy (no network needed).
BUNDLED = {"textbook": "textbook.xml.gz", "e_coli_core": "textbook.xml.gz", "ecoli_core": "textbook.xml.gz"}
#: Flux bound that stands for "unbounded" in COBRA models (mmol gDW⁻¹ h⁻¹); ±inf is clipped to it.
DEFAULT_BOUND = 1000.0


def _cobra() -> Any:
    try:
        import cobra
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ModelError("metabolic models need COBRApy: pip install 'kakehashi[bio]'", field="model") from exc
    return cobra


@dataclass(frozen=True)
class MetabolicNetwork:
    """A constraint-based metabolic model as arrays (see the module docstring for units)."""

    name: str
    reactions: tuple[str, ...]
    metabolites: tuple[str, ...]
    S: sp.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    c: np.ndarray
    exchange: np.ndarray
    has_genes: np.ndarray
    transport: np.ndarray
    source: str = ""
    reaction_names: tuple[str, ...] = ()
    knocked_out: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)
    #: The ``cobra.Model`` it was read from (for COBRApy-side screening and cross-checks).
    model: Any = field(default=None, compare=False, repr=False)

    # ------------------------------------------------------------------ lookup
    @property
    def num_reactions(self) -> int:
        return len(self.reactions)

    @property
    def objective_reaction(self) -> str:
        """The reaction with the largest objective coefficient (the biomass reaction for growth)."""
        return self.reactions[int(np.argmax(np.abs(self.c)))]

    def index(self, reaction: str, *, field: str = "reaction") -> int:
        """Column of ``reaction``; an unknown id is a :class:`ModelError` that suggests close ids."""
        try:
            return self._positions[reaction]
        except KeyError:
            close = difflib.get_close_matches(reaction, self.reactions, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ModelError(f"unknown reaction {reaction!r} in model {self.name}{hint}",
                             source=self.source or None, field=field) from None

    @property
    def _positions(self) -> dict[str, int]:
        cached = self.__dict__.get("_pos")
        if cached is None:
            cached = {r: i for i, r in enumerate(self.reactions)}
            object.__setattr__(self, "_pos", cached)
        return cached  # type: ignore[no-any-return]

    # ----------------------------------------------------------------- changes
    def with_bounds(self, bounds: Mapping[str, tuple[float, float]]) -> MetabolicNetwork:
        """A copy with new (lower, upper) flux bounds for the named reactions."""
        lower, upper = self.lower.copy(), self.upper.copy()
        for rid, (lb, ub) in bounds.items():
            j = self.index(rid, field="bounds")
            if lb > ub:
                raise ModelError(f"reaction {rid}: lower bound {lb} > upper bound {ub}", field="bounds")
            lower[j], upper[j] = float(lb), float(ub)
        return replace(self, lower=lower, upper=upper)

    def with_objective(self, reaction: str) -> MetabolicNetwork:
        """A copy that maximises the flux of ``reaction`` alone."""
        c = np.zeros(self.num_reactions)
        c[self.index(reaction, field="objective")] = 1.0
        return replace(self, c=c)

    def knockout(self, reactions: Iterable[str]) -> MetabolicNetwork:
        """A copy with the named reactions' fluxes fixed at zero (reaction deletions)."""
        ids = sorted(set(reactions))
        lower, upper = self.lower.copy(), self.upper.copy()
        for rid in ids:
            j = self.index(rid, field="knockouts")
            lower[j] = upper[j] = 0.0
        return replace(self, lower=lower, upper=upper, knocked_out=tuple(sorted(set(self.knocked_out) | set(ids))))

    def anaerobic(self, oxygen: str = "EX_o2_e") -> MetabolicNetwork:
        """A copy without oxygen uptake (``oxygen``'s lower bound set to 0)."""
        j = self.index(oxygen, field="anaerobic")
        return self.with_bounds({oxygen: (0.0, float(max(self.upper[j], 0.0)))})


def _check_dict(data: Mapping[str, Any], source: str) -> None:
    """Checks on a COBRA JSON document before COBRApy sees it (COBRApy's errors name no reaction)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("reactions"), list):
        raise ModelError("expected a COBRA JSON model: an object with a 'reactions' list", source=source)
    declared = {m.get("id") for m in data.get("metabolites", []) if isinstance(m, Mapping)}
    has_objective = False
    for i, r in enumerate(data["reactions"]):
        if not isinstance(r, Mapping) or "id" not in r:
            raise ModelError(f"reaction #{i}: expected an object with an 'id'", source=source, field="reactions")
        rid = r["id"]
        try:
            lb = float(r.get("lower_bound", -DEFAULT_BOUND))
            ub = float(r.get("upper_bound", DEFAULT_BOUND))
        except (TypeError, ValueError):
            raise ModelError(f"reaction {rid}: bounds must be numbers", source=source, field=f"reactions.{rid}") from None
        if math.isnan(lb) or math.isnan(ub):
            raise ModelError(f"reaction {rid}: a bound is NaN", source=source, field=f"reactions.{rid}")
        if lb > ub:
            raise ModelError(f"reaction {rid}: lower bound {lb:g} > upper bound {ub:g}", source=source,
                             field=f"reactions.{rid}")
        for met in r.get("metabolites", {}):
            if met not in declared:
                raise ModelError(f"reaction {rid}: metabolite {met!r} is not declared", source=source,
                                 field=f"reactions.{rid}")
        has_objective = has_objective or float(r.get("objective_coefficient", 0.0) or 0.0) != 0.0
    if not has_objective:
        raise ModelError("no objective: no reaction has a nonzero objective_coefficient", source=source,
                         field="objective")


def _load_cobra(source: str | Path) -> Any:
    cobra = _cobra()
    text = str(source)
    if text in BUNDLED:
        path = Path(cobra.__file__).parent / "data" / BUNDLED[text]
        return cobra.io.read_sbml_model(str(path))
    path = Path(source)
    if not path.exists():
        raise ModelError(f"no such model file (or bundled model: {', '.join(sorted(BUNDLED))})", source=text)
    suffixes = "".join(path.suffixes).lower()
    try:
        if suffixes.endswith(".json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise ModelError(f"invalid JSON: {exc.msg}", source=text, line=exc.lineno) from exc
            _check_dict(data, text)
            return cobra.io.model_from_dict(data)
        if suffixes.endswith((".xml", ".sbml", ".xml.gz", ".sbml.gz")):
            return cobra.io.read_sbml_model(str(path))
        if suffixes.endswith(".mat"):
            return cobra.io.load_matlab_model(str(path))
    except ModelError:
        raise
    except Exception as exc:  # COBRApy raises bare ValueError/CobraSBMLError/KeyError on bad files
        raise ModelError(f"COBRApy could not read the model: {exc}", source=text) from exc
    raise ModelError("unknown model format: expected .xml/.sbml(.gz) (SBML), .json or .mat", source=text)


def from_cobra(model: Any, *, source: str = "") -> MetabolicNetwork:
    """Arrays of a ``cobra.Model``; raises :class:`ModelError` naming the reaction at fault."""
    from cobra.util.array import create_stoichiometric_matrix

    reactions = tuple(r.id for r in model.reactions)
    if not reactions:
        raise ModelError("the model has no reactions", source=source or None)
    lower = np.array([r.lower_bound for r in model.reactions], dtype=float)
    upper = np.array([r.upper_bound for r in model.reactions], dtype=float)
    warnings: list[str] = []
    for j, rid in enumerate(reactions):
        if math.isnan(lower[j]) or math.isnan(upper[j]):
            raise ModelError(f"reaction {rid}: a bound is NaN", source=source or None, field=f"reactions.{rid}")
        if lower[j] > upper[j]:
            raise ModelError(f"reaction {rid}: lower bound {lower[j]:g} > upper bound {upper[j]:g}",
                             source=source or None, field=f"reactions.{rid}")
        if math.isinf(lower[j]) or math.isinf(upper[j]):
            warnings.append(f"reaction {rid}: infinite bound clipped to ±{DEFAULT_BOUND:g}")
    lower = np.clip(lower, -DEFAULT_BOUND, DEFAULT_BOUND)
    upper = np.clip(upper, -DEFAULT_BOUND, DEFAULT_BOUND)
    c = np.array([float(r.objective_coefficient) for r in model.reactions])
    if not np.any(c):
        raise ModelError("no objective: no reaction has a nonzero objective coefficient",
                         source=source or None, field="objective")
    exchanges = {r.id for r in model.boundary}
    return MetabolicNetwork(
        name=str(model.id or Path(source).stem or "model"),
        reactions=reactions,
        metabolites=tuple(m.id for m in model.metabolites),
        S=sp.csr_matrix(create_stoichiometric_matrix(model, array_type="dok"), dtype=float),
        lower=lower, upper=upper, c=c,
        exchange=np.array([rid in exchanges for rid in reactions]),
        has_genes=np.array([len(r.genes) > 0 for r in model.reactions]),
        transport=np.array([len(r.compartments) > 1 for r in model.reactions]),
        source=source,
        reaction_names=tuple(str(r.name or r.id) for r in model.reactions),
        warnings=tuple(warnings),
        model=model,
    )


def read_model(source: str | Path) -> MetabolicNetwork:
    """Read an SBML (.xml, .xml.gz), COBRA JSON (.json) or MATLAB (.mat) model, or a bundled name.

    ``"textbook"`` (also ``"e_coli_core"``) is E. coli core (Orth, Fleming & Palsson 2010) as
    shipped inside COBRApy: 95 reactions, 72 metabolites, aerobic growth on 10 mmol gDW⁻¹ h⁻¹
    glucose. Nothing is downloaded.
    """
    import logging

    logging.getLogger("cobra").setLevel(logging.ERROR)  # COBRApy logs SBML notes as warnings
    model = _load_cobra(source)
    return from_cobra(model, source=str(source))
