"""Strain design: the OptKnock MILP is exact against brute force, reproduces published designs; QUBO, DBTL, CLI."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kakehashi.apps.bio import fba, knockout_candidates, optknock, qubo_route, validate_design
from kakehashi.apps.bio.dbtl import propose, run_dbtl
from kakehashi.apps.bio.network import MetabolicNetwork
from kakehashi.apps.bio.qubo import screen

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def floor(anaerobic: MetabolicNetwork) -> float:
    growth = fba(anaerobic).objective
    assert growth is not None
    return 0.1 * growth


@pytest.fixture(scope="module")
def candidates(anaerobic: MetabolicNetwork, floor: float) -> list[str]:
    cand = knockout_candidates(anaerobic, "EX_succ_e", min_growth=floor)
    assert "PFL" in cand and "EX_glc__D_e" not in cand and "ATPM" not in cand and "Biomass_Ecoli_core" not in cand
    return cand


def test_milp_k2_equals_brute_force_over_all_pairs(anaerobic: MetabolicNetwork, floor: float,
                                                   candidates: list[str]) -> None:
    run = optknock(anaerobic, "EX_succ_e", candidates, 2, min_growth=floor, time_limit=60)
    best = run.best
    assert best is not None and best.valid and len(best.knockouts) <= 2
    pairs = [list(p) for p in itertools.combinations(candidates, 2)] + [[c] for c in candidates]
    exhaustive = max(v for v in screen(anaerobic, "EX_succ_e", pairs, min_growth=floor) if v is not None)
    assert best.production == pytest.approx(exhaustive, abs=1e-5)
    assert best.predicted == pytest.approx(best.production, abs=1e-3)  # the tilt makes it the worst case
    assert best.growth is not None and best.growth >= floor


def test_published_lactate_design_reproduced_and_matched(anaerobic: MetabolicNetwork, floor: float) -> None:
    # Zhou et al. 2003 (AEM 69:399) SZ63: ΔfocA-pflB ΔadhE ΔackA (ΔfrdBC is lethal in the core model)
    published = validate_design(anaerobic, ["PFL", "ACALD", "ALCD2x", "ACKr"], "EX_lac__D_e", min_growth=floor)
    assert published.valid
    assert published.production == pytest.approx(17.485, abs=1e-3)
    cand = knockout_candidates(anaerobic, "EX_lac__D_e", min_growth=floor)
    ours = optknock(anaerobic, "EX_lac__D_e", cand, 3, min_growth=floor, time_limit=60).best
    assert ours is not None and ours.valid and len(ours.knockouts) <= 3
    assert ours.production is not None and ours.production >= published.guaranteed - 1e-6


def test_published_succinate_design_reproduced_and_matched(anaerobic: MetabolicNetwork) -> None:
    # Jantama et al. 2008 (Biotechnol Bioeng 99:1140) KJ060: ΔldhA ΔadhE ΔackA ΔfocA-pflB
    published = validate_design(anaerobic, ["LDH_D", "ACALD", "ALCD2x", "ACKr", "PFL"], "EX_succ_e", min_growth=0.02)
    assert published.valid and published.production == pytest.approx(9.8848, abs=1e-3)
    cand = knockout_candidates(anaerobic, "EX_succ_e", min_growth=0.02)
    ours = optknock(anaerobic, "EX_succ_e", cand, 3, min_growth=0.02, time_limit=60).best
    assert ours is not None and ours.valid and len(ours.knockouts) <= 3
    assert ours.production is not None and ours.production >= published.guaranteed - 1e-6


def test_qubo_route_designs_are_validated_by_fba(anaerobic: MetabolicNetwork, floor: float,
                                                 candidates: list[str]) -> None:
    run = qubo_route(anaerobic, "EX_succ_e", candidates, 2, min_growth=floor, time_limit=2.0, evaluate=5)
    assert run.designs and run.best is not None
    for d in run.designs:
        again = validate_design(anaerobic, d.knockouts, "EX_succ_e", min_growth=floor)
        assert again.production == pytest.approx(d.production, abs=1e-6) and again.valid == d.valid
    assert run.best.valid and run.best.guaranteed > 5.0
    # screening on COBRApy agrees with the HiGHS validation
    assert screen(anaerobic, "EX_succ_e", [run.best.knockouts], min_growth=floor)[0] == pytest.approx(
        run.best.production, abs=1e-5)


def test_dbtl_improves_over_three_rounds_on_the_simulated_lab(anaerobic: MetabolicNetwork, floor: float,
                                                              candidates: list[str]) -> None:
    from kakehashi.apps.bio.network import read_model

    net = read_model("textbook").anaerobic()
    start = [("ALCD2x", "PTAr", "PYK")]
    result = run_dbtl(net, "EX_succ_e", start, candidates, 4, min_growth=floor, batch=2, seed=4)
    best = [r["best_so_far"] for r in result["rounds"]]
    assert result["improvements"] >= 3
    assert best == sorted(best) and best[-1] > best[0]
    assert all(r["measurements"] for r in result["rounds"])
    step = propose(anaerobic, "EX_succ_e", [(("ALCD2x", "PTAr", "PYK"), 9.0), ((), 0.1)], candidates, 4,
                   min_growth=floor, batch=3)
    assert len(step["proposals"]) == 3 and all(p["expected_improvement"] >= 0 for p in step["proposals"])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kakehashi", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")})


def test_cli_json_is_one_document_and_bad_ids_exit_2(tmp_path: Path) -> None:
    out = _cli("fba", "textbook", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["objective"] == pytest.approx(0.8739215069684, abs=1e-6)
    png = tmp_path / "designs.png"
    out = _cli("strain-design", "textbook", "--product", "EX_succ_e", "--knockouts", "2", "--anaerobic",
               "--designs", "1", "--json", "--plot", str(png))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["designs"][0]["valid"] and doc["designs"][0]["production_min"] > 9.0
    assert png.stat().st_size > 10_000
    bad = _cli("strain-design", "textbook", "--product", "EX_succ")
    assert bad.returncode == 2 and "unknown reaction 'EX_succ'" in bad.stderr and "Traceback" not in bad.stderr
