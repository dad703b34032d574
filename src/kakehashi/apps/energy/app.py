"""Solve and validate unit commitment: the schedule, its cost, and every rule checked from scratch.

* ``highs`` / ``scip``: the full MILP (:func:`~kakehashi.apps.energy.formulation.to_problem`).
* any other backend (Ising machines): the on/off QUBO
  (:func:`~kakehashi.apps.energy.formulation.commitment_qubo`: estimated hourly cost, exact
  start-up costs, coverage of net demand + reserve as a penalty) on that backend; the raw
  answer is checked (:func:`~kakehashi.apps.energy.repair.check_commitment`,
  ``info["raw_violations"]``), repaired by the documented greedy step
  (:func:`~kakehashi.apps.energy.repair.repair_commitment`, ``info["repairs"]``), and the
  economic dispatch LP is solved on HiGHS with the commitment fixed (when the repaired schedule
  has no dispatch, the repair is redone asking coverage from thermal units alone, then also
  without its trim step: ``info["battery_credit"]``, ``info["trimmed"]``). A
  commitment for which no dispatch exists is reported as INFEASIBLE with the LP's status.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from kakehashi.apps.energy.formulation import commitment_qubo, dispatch_problem, to_problem
from kakehashi.apps.energy.instance import UnitCommitmentInstance
from kakehashi.apps.energy.repair import check_commitment, repair_commitment

MILP_BACKENDS = ("highs", "scip")
#: Power tolerance of validate(), MW.
TOL = 1e-4


class Schedule(BaseModel):
    """Hourly on/off and output per unit (MW), solar used, battery charge/discharge (MW) and state (MWh)."""

    instance: str
    on: dict[str, list[int]]
    power: dict[str, list[float]]
    solar_used: list[float]
    charge: list[float] = Field(default_factory=list)
    discharge: list[float] = Field(default_factory=list)
    soc: list[float] = Field(default_factory=list)
    cost: float = 0.0
    cost_breakdown: dict[str, float] = Field(default_factory=dict)
    status: str = ""
    backend: str = ""
    solve_seconds: float = 0.0
    violations: list[str] = Field(default_factory=list)
    info: dict[str, Any] = Field(default_factory=dict)


def schedule_cost(inst: UnitCommitmentInstance, on: dict[str, list[int]], power: dict[str, list[float]]) -> dict[str, float]:
    """Fixed, energy and start-up cost of a schedule, recomputed from the unit data."""
    fixed = energy = start = 0.0
    for u in inst.units:
        prev = int(u.initial_on)
        for t in range(inst.hours):
            fixed += u.fixed_cost * on[u.name][t]
            energy += u.marginal_cost * power[u.name][t]
            start += u.startup_cost * max(0, on[u.name][t] - prev)
            prev = on[u.name][t]
    return {"fixed": fixed, "energy": energy, "startup": start, "total": fixed + energy + start}


def schedule_from_sample(inst: UnitCommitmentInstance, sample: Mapping[Any, float]) -> Schedule:
    """The schedule a solver's sample encodes (on/off, MW per unit-hour), costed (yen) and validated."""
    T = inst.hours
    on = {u.name: [round(float(sample.get(("u", g, t), 0.0))) for t in range(T)] for g, u in enumerate(inst.units)}
    power = {u.name: [float(sample.get(("p", g, t), 0.0)) for t in range(T)] for g, u in enumerate(inst.units)}
    sch = Schedule(instance=inst.name, on=on, power=power,
                   solar_used=[float(sample.get(("s", t), 0.0)) for t in range(T)])
    if inst.battery is not None:
        sch.charge = [float(sample.get(("c", t), 0.0)) for t in range(T)]
        sch.discharge = [float(sample.get(("d", t), 0.0)) for t in range(T)]
        sch.soc = [float(sample.get(("e", t), 0.0)) for t in range(T)]
    breakdown = schedule_cost(inst, on, power)
    sch.cost, sch.cost_breakdown = breakdown["total"], breakdown
    sch.violations = validate(inst, sch)
    return sch


def validate(inst: UnitCommitmentInstance, sch: Schedule) -> list[str]:
    """Broken rules: demand balance, unit limits, spinning reserve, ramps, min up/down, battery, solar."""
    out: list[str] = []
    T = inst.hours
    bat = inst.battery
    eta = math.sqrt(bat.efficiency) if bat else 1.0
    for t in range(T):
        supply = sum(sch.power[u.name][t] for u in inst.units) + sch.solar_used[t]
        if bat:
            supply += sch.discharge[t] - sch.charge[t]
        if abs(supply - inst.demand[t]) > TOL * max(1.0, inst.demand[t]):
            out.append(f"hour {t}: balance: supply {supply:.3f} MW != demand {inst.demand[t]:.3f} MW")
        if sch.solar_used[t] > inst.solar_at(t) + TOL or sch.solar_used[t] < -TOL:
            out.append(f"hour {t}: solar used {sch.solar_used[t]:.3f} MW outside [0, forecast {inst.solar_at(t)}]")
        head = sum(u.p_max * sch.on[u.name][t] - sch.power[u.name][t] for u in inst.units)
        if head < inst.reserve_fraction * inst.demand[t] - TOL:
            out.append(f"hour {t}: reserve: headroom {head:.3f} MW below {inst.reserve_fraction * inst.demand[t]:.3f} MW")
    for u in inst.units:
        on, p = sch.on[u.name], sch.power[u.name]
        for t in range(T):
            lo, hi = (u.p_min, u.p_max) if on[t] else (0.0, 0.0)
            if not lo - TOL <= p[t] <= hi + TOL:
                out.append(f"{u.name} hour {t}: output {p[t]:.3f} MW outside [{lo}, {hi}] (on={on[t]})")
            prev_p = (u.initial_power if u.initial_on else 0.0) if t == 0 else p[t - 1]
            prev_on = int(u.initial_on) if t == 0 else on[t - 1]
            up_lim = u.ramp_up if prev_on else max(u.p_min, u.ramp_up)
            down_lim = u.ramp_down if on[t] else max(u.p_min, u.ramp_down)
            if p[t] - prev_p > up_lim + TOL:
                out.append(f"{u.name} hour {t}: ramp-up {p[t] - prev_p:.3f} MW/h above {up_lim}")
            if prev_p - p[t] > down_lim + TOL:
                out.append(f"{u.name} hour {t}: ramp-down {prev_p - p[t]:.3f} MW/h above {down_lim}")
        # run lengths, the initial state counting as a run of initial_hours
        runs: list[tuple[int, int, int]] = []  # (state, start, length)
        state, start = int(u.initial_on), -u.initial_hours
        for t in range(T):
            if on[t] != state:
                runs.append((state, start, t - start))
                state, start = on[t], t
        for st, s0, length in runs:
            need = u.min_up if st else u.min_down
            if length < need:
                kind = "min up" if st else "min down"
                out.append(f"{u.name}: {kind}: {'on' if st else 'off'} for {length} h from hour {max(s0, 0)}, "
                           f"needs {need} h")
    if bat:
        level = bat.initial_soc * bat.capacity
        for t in range(T):
            if sch.charge[t] > bat.power + TOL or sch.discharge[t] > bat.power + TOL:
                out.append(f"battery hour {t}: power above {bat.power} MW")
            level = level + eta * sch.charge[t] - sch.discharge[t] / eta
            if level < -TOL or level > bat.capacity + TOL:
                out.append(f"battery hour {t}: state of charge {level:.3f} MWh outside [0, {bat.capacity}]")
            if abs(level - sch.soc[t]) > 1e-3 * max(1.0, bat.capacity):
                out.append(f"battery hour {t}: reported state {sch.soc[t]:.3f} MWh, recomputed {level:.3f}")
        if level < bat.final_soc_min * bat.capacity - 1e-3:
            out.append(f"battery: final state {level:.3f} MWh below {bat.final_soc_min * bat.capacity} MWh")
    return out


def _commitment_sample(inst: UnitCommitmentInstance, on: list[list[int]]) -> dict[Any, float]:
    """On/off ``("u", g, t)`` and start-up ``("v", g, t)`` values of an on/off schedule ([unit][hour])."""
    out: dict[Any, float] = {}
    for g, u in enumerate(inst.units):
        prev = int(u.initial_on)
        for t in range(inst.hours):
            out[("u", g, t)] = float(on[g][t])
            out[("v", g, t)] = float(max(0, on[g][t] - prev))
            prev = on[g][t]
    return out


def solve_unit_commitment(inst: UnitCommitmentInstance, backend: str = "highs", *, time_limit: float = 30.0,
                          seed: int | None = None) -> Schedule:
    """A validated schedule from the MILP (``highs``/``scip``) or the Ising on/off route."""
    from kakehashi.solver import solve

    if backend in MILP_BACKENDS:
        result = solve(to_problem(inst), backend, time_limit=time_limit, seed=seed)
        if not result.sample:
            return Schedule(instance=inst.name, on={}, power={}, solar_used=[], status=result.status.value,
                            backend=backend, violations=[f"no schedule: {result.status.value}"])
        sch = schedule_from_sample(inst, result.sample)
        sch.status, sch.backend, sch.solve_seconds = result.status.value, backend, result.timings.solve
        sch.info = {"bound": result.bound, "objective": result.objective}
        return sch
    onoff = solve(commitment_qubo(inst), backend, time_limit=time_limit, seed=seed)
    if not onoff.sample:
        return Schedule(instance=inst.name, on={}, power={}, solar_used=[], status=onoff.status.value,
                        backend=backend, violations=["the Ising backend returned no commitment"])
    T, G = inst.hours, len(inst.units)
    raw = [[round(float(onoff.sample.get(("u", g, t), 0.0))) for t in range(T)] for g in range(G)]
    raw_violations = check_commitment(inst, raw)
    for credit, trim in ((True, True), (False, True), (False, False)):
        on, repairs = repair_commitment(inst, raw, trim=trim, battery_credit=credit)
        commitment = _commitment_sample(inst, on)
        lp = solve(dispatch_problem(inst, commitment), "highs", time_limit=time_limit)
        if lp.sample and lp.feasible:
            break
    info: dict[str, Any] = {"commitment_status": onoff.status.value, "raw_qubo_feasible": bool(onoff.feasible),
                            "raw_feasible": not raw_violations,
                            "raw_violations": raw_violations[:10], "raw_violation_count": len(raw_violations),
                            "repairs": repairs[:20], "repair_count": len(repairs), "trimmed": trim,
                            "battery_credit": credit,
                            "dispatch_status": lp.status.value}
    if not lp.sample or not lp.feasible:
        return Schedule(instance=inst.name, on={}, power={}, solar_used=[], status="INFEASIBLE",
                        backend=f"{backend}+highs", info=info,
                        violations=[f"no economic dispatch exists for this commitment ({lp.status.value})"])
    sch = schedule_from_sample(inst, {**commitment, **lp.sample})
    sch.status = "FEASIBLE" if not sch.violations else "INFEASIBLE"
    sch.backend, sch.info = f"{backend}+highs", info
    sch.solve_seconds = onoff.timings.solve + lp.timings.solve
    return sch
