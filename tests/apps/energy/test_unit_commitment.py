"""Unit commitment: HiGHS MILP on the example, validate() on bad schedules, bad input, Ising route."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kakehashi.apps.energy import read_unit_commitment, solve_unit_commitment, validate
from kakehashi.exceptions import ModelError

EXAMPLE = Path(__file__).parents[3] / "examples" / "energy" / "regional_day.json"


@pytest.fixture(scope="module")
def solved():  # type: ignore[no-untyped-def]
    inst = read_unit_commitment(EXAMPLE)
    return inst, solve_unit_commitment(inst, "highs", time_limit=60)


def test_example_solves_to_proved_optimum_and_validates(solved) -> None:  # type: ignore[no-untyped-def]
    inst, sch = solved
    assert inst.synthetic and inst.hours == 24
    assert sch.status == "OPTIMAL" and sch.violations == []
    assert sch.cost == pytest.approx(sch.info["objective"], rel=1e-6)
    assert sch.info["bound"] == pytest.approx(sch.cost, rel=1e-4)


def test_validate_catches_broken_rules(solved) -> None:  # type: ignore[no-untyped-def]
    inst, sch = solved
    unit = inst.units[0].name
    bad = sch.model_copy(deep=True)
    bad.power[unit][5] += 30.0
    assert any("balance" in v for v in validate(inst, bad))
    bad = sch.model_copy(deep=True)
    bad.power[unit][10] = inst.units[0].p_max
    bad.power[unit][9] = inst.units[0].p_min
    assert any("ramp" in v for v in validate(inst, bad))
    bad = sch.model_copy(deep=True)
    peaker = next(u for u in inst.units if u.min_up == 1)
    ccgt = next(u for u in inst.units if u.min_up >= 3 and not u.initial_on)
    bad.on[ccgt.name] = [0] * 24
    bad.on[ccgt.name][12] = 1
    assert any("min up" in v for v in validate(inst, bad))
    bad = sch.model_copy(deep=True)
    for u in inst.units:
        if u.name != peaker.name:
            bad.on[u.name] = [1 if p > 0 else 0 for p in bad.power[u.name]]
    bad.on[inst.units[0].name] = [1] * 24
    for t in range(24):
        bad.power[inst.units[0].name][t] = inst.units[0].p_max
    assert validate(inst, bad)  # balance and/or reserve broken


def test_demand_above_fleet_capacity_is_rejected(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text())
    data["demand"][18] = 5000
    f = tmp_path / "uc.json"
    f.write_text(json.dumps(data))
    with pytest.raises(ModelError) as err:
        read_unit_commitment(f)
    msg = str(err.value)
    assert "uc.json" in msg and "demand[18]" in msg and "demand <= capacity" in msg


def test_ising_route_reports_gap_or_infeasibility(solved) -> None:  # type: ignore[no-untyped-def]
    inst, best = solved
    sch = solve_unit_commitment(inst, "tabu", time_limit=3, seed=1)
    if sch.status == "FEASIBLE":
        assert sch.violations == [] and sch.cost >= best.cost * (1 - 1e-6)
    else:
        assert sch.status == "INFEASIBLE" and sch.violations


def test_gantt_plot(solved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kakehashi.apps.energy.plot import plot_schedule

    inst, sch = solved
    assert plot_schedule(inst, sch, tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
