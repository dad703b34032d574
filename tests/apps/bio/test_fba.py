"""FBA, pFBA and FVA through kakehashi.solve() agree with COBRApy's own optimiser on E. coli core."""

from __future__ import annotations

import json
from pathlib import Path

import cobra
import pytest
from cobra.flux_analysis import flux_variability_analysis, pfba

from kakehashi.apps.bio import fba, fva, production_range, read_model
from kakehashi.apps.bio import pfba as kk_pfba
from kakehashi.apps.bio.network import MetabolicNetwork
from kakehashi.exceptions import ModelError


def test_fba_matches_cobrapy_aerobic_growth(core: MetabolicNetwork) -> None:
    sol = fba(core)
    reference = cobra.io.load_model("textbook").slim_optimize()
    assert sol.objective == pytest.approx(0.8739215069684, abs=1e-6)
    assert sol.objective == pytest.approx(reference, abs=1e-6)
    # the fluxes balance every metabolite (checked here, independently of kakehashi's evaluation)
    import numpy as np

    v = np.array([sol.fluxes[r] for r in core.reactions])
    assert np.abs(core.S @ v).max() < 1e-6


def test_pfba_and_fva_match_cobrapy(core: MetabolicNetwork) -> None:
    model = cobra.io.load_model("textbook")
    assert kk_pfba(core).objective == pytest.approx(pfba(model).fluxes.abs().sum(), rel=1e-6)
    names = ["PGI", "EX_ac_e", "ME1", "SUCDi"]
    ours = fva(core, names)
    theirs = flux_variability_analysis(model, names)
    for r in names:
        assert ours[r][0] == pytest.approx(theirs.loc[r, "minimum"], abs=1e-5)
        assert ours[r][1] == pytest.approx(theirs.loc[r, "maximum"], abs=1e-5)


def test_production_range_is_the_worst_and_best_case_at_the_growth_optimum(anaerobic: MetabolicNetwork) -> None:
    rng = production_range(anaerobic.knockout(["ACKr", "PYK"]), "EX_etoh_e")
    assert rng.growth == pytest.approx(0.0912913, abs=1e-5)
    assert rng.minimum is not None and rng.maximum is not None
    assert rng.minimum < rng.maximum - 0.1  # alternative optima differ: the worst case matters
    model = cobra.io.load_model("textbook")
    with model:
        model.reactions.EX_o2_e.lower_bound = 0
        for r in ("ACKr", "PYK"):
            model.reactions.get_by_id(r).knock_out()
        mu = model.slim_optimize()
        model.reactions.Biomass_Ecoli_core.lower_bound = mu
        model.objective = "EX_etoh_e"
        model.objective_direction = "min"
        assert model.slim_optimize() == pytest.approx(rng.minimum, abs=1e-5)


def _write(tmp_path: Path, mutate: object) -> Path:
    data = cobra.io.model_to_dict(cobra.io.load_model("textbook"))
    mutate(data)  # type: ignore[operator]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    return path


def test_bad_models_name_the_reaction(tmp_path: Path, core: MetabolicNetwork) -> None:
    def swap(d: dict) -> None:
        r = next(r for r in d["reactions"] if r["id"] == "PGI")
        r["lower_bound"], r["upper_bound"] = 5.0, 1.0

    with pytest.raises(ModelError, match="reaction PGI: lower bound 5 > upper bound 1"):
        read_model(_write(tmp_path, swap))

    def no_objective(d: dict) -> None:
        for r in d["reactions"]:
            r.pop("objective_coefficient", None)

    with pytest.raises(ModelError, match="no objective"):
        read_model(_write(tmp_path, no_objective))

    def ghost(d: dict) -> None:
        d["reactions"][0]["metabolites"]["ghost_c"] = -1.0

    with pytest.raises(ModelError, match="metabolite 'ghost_c' is not declared"):
        read_model(_write(tmp_path, ghost))
    with pytest.raises(ModelError, match=r"unknown reaction 'EX_succ' .*did you mean EX_succ_e"):
        core.knockout(["EX_succ"])
    with pytest.raises(ModelError, match="no such model file"):
        read_model(tmp_path / "missing.xml")


def test_json_model_reads_like_the_bundled_one(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: None)
    assert fba(read_model(path)).objective == pytest.approx(0.8739215069684, abs=1e-6)
