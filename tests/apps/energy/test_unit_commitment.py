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
    ccgt = next(u for u in inst.units if u.min_up >= 3 and not u.initial_on)
    bad.on[ccgt.name] = [0] * 24
    bad.on[ccgt.name][12] = 1
    assert any("min up" in v for v in validate(inst, bad))
    # Every unit on at full power all day: far more than the night's demand, whichever optimum
    # the solver returned (the broken schedule must not depend on it).
    bad = sch.model_copy(deep=True)
    for u in inst.units:
        bad.on[u.name] = [1] * inst.hours
        bad.power[u.name] = [u.p_max] * inst.hours
    assert sum(u.p_max for u in inst.units) > min(inst.demand) + max(inst.solar)
    assert any("balance" in v for v in validate(inst, bad))


def test_demand_above_fleet_capacity_is_rejected(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text())
    data["demand"][18] = 5000
    f = tmp_path / "uc.json"
    f.write_text(json.dumps(data))
    with pytest.raises(ModelError) as err:
        read_unit_commitment(f)
    msg = str(err.value)
    assert "uc.json" in msg and "demand[18]" in msg and "demand <= capacity" in msg


def test_ising_route_gives_a_valid_schedule_no_better_than_the_optimum(solved) -> None:  # type: ignore[no-untyped-def]
    inst, best = solved
    sch = solve_unit_commitment(inst, "sa", time_limit=2, seed=1)
    assert sch.status == "FEASIBLE" and sch.violations == [] and validate(inst, sch) == []
    assert sch.cost >= best.cost * (1 - 1e-6)
    assert {"raw_qubo_feasible", "raw_feasible", "repairs", "dispatch_status"} <= set(sch.info)


def test_optimum_meets_the_qubo_constraints_and_its_objective(solved) -> None:  # type: ignore[no-untyped-def]
    from kakehashi.apps.energy import check_commitment, commitment_qubo
    from kakehashi.apps.energy.formulation import hourly_unit_cost

    inst, best = solved
    on = [best.on[u.name] for u in inst.units]
    assert check_commitment(inst, on) == []  # coverage (with the battery's power) is a relaxation of the MILP
    ev = commitment_qubo(inst).evaluate({("u", g, t): on[g][t] for g in range(len(inst.units))
                                         for t in range(inst.hours)})
    cost = hourly_unit_cost(inst)
    expected = sum(cost[g] * sum(on[g]) for g in range(len(inst.units)))
    expected += sum(u.startup_cost * max(0, on[g][t] - (on[g][t - 1] if t else int(u.initial_on)))
                    for g, u in enumerate(inst.units) for t in range(inst.hours))
    assert ev.feasible and ev.objective == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("pattern", ["off", "on", "toggle"])
def test_repair_satisfies_every_commitment_rule(pattern: str) -> None:
    from kakehashi.apps.energy import check_commitment, repair_commitment

    inst = read_unit_commitment(EXAMPLE)
    G, T = len(inst.units), inst.hours
    raw = {"off": [[0] * T for _ in range(G)], "on": [[1] * T for _ in range(G)],
           "toggle": [[(t + g) % 2 for t in range(T)] for g in range(G)]}[pattern]
    assert bool(check_commitment(inst, raw)) == (pattern != "on")  # all-on breaks no commitment rule
    for credit in (True, False):
        for trim in (True, False):
            fixed, actions = repair_commitment(inst, raw, trim=trim, battery_credit=credit)
            assert check_commitment(inst, fixed, battery_credit=credit) == []
            assert bool(actions) == (pattern != "on" or trim)  # all-on changes only by trimming
            if pattern == "on" and trim:
                assert sum(map(sum, fixed)) < G * T


def test_gantt_plot(solved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kakehashi.apps.energy.plot import plot_schedule

    inst, sch = solved
    assert plot_schedule(inst, sch, tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
