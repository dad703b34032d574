"""Unit commitment as kakehashi Problems.

:func:`to_problem` — the MILP (CQM with BINARY on/off ``("u", g, t)`` and start-up ``("v", g, t)``,
REAL dispatch ``("p", g, t)``, solar used ``("s", t)``, battery charge ``("c", t)``, discharge
``("d", t)`` and state of charge ``("e", t)``), minimising fixed + marginal + start-up cost:

* balance        Σ_g p_gt + s_t + d_t − c_t = D_t
* limits         p_min u_gt <= p_gt <= p_max u_gt
* reserve        Σ_g (p_max u_gt − p_gt) >= r · D_t         (spinning headroom on thermal units)
* start-up       v_gt >= u_gt − u_g,t−1
* min up / down  Σ_{τ=t−UT+1..t} v_gτ <= u_gt,   Σ_{τ=t−DT+1..t} v_gτ <= 1 − u_g,t−DT
* ramps          p_gt − p_g,t−1 <= RU u_g,t−1 + max(p_min, RU)(1 − u_g,t−1)   (and down alike)
* battery        e_t = e_t−1 + η c_t − d_t / η  (η = √round-trip),  e_T >= final level

:func:`commitment_problem` — the on/off part alone (binaries only) for Ising backends: estimated
cost of each unit-hour, start-up costs, coverage Σ p_max u_gt >= D_t − solar_t + reserve,
Σ p_min u_gt <= D_t + battery power, start-up links and min up/down. Dispatch is then an LP on
HiGHS (:func:`dispatch_problem`: the MILP with u and v fixed).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping

import dimod

from kakehashi.apps.energy.instance import ThermalUnit, UnitCommitmentInstance
from kakehashi.model.problem import Problem


def _fixed_initial(unit: ThermalUnit, T: int) -> dict[int, int]:
    """Hours whose state the initial condition forces (min up/down still running at hour 0)."""
    need = (unit.min_up if unit.initial_on else unit.min_down) - unit.initial_hours
    return {t: int(unit.initial_on) for t in range(min(max(0, need), T))}


def _add_commitment_constraints(cqm: dimod.ConstrainedQuadraticModel, inst: UnitCommitmentInstance) -> None:
    T = inst.hours
    for g, unit in enumerate(inst.units):
        u0 = int(unit.initial_on)
        for t in range(T):
            prev: list[tuple[Hashable, float]] = [] if t == 0 else [(("u", g, t - 1), 1.0)]
            # v_t >= u_t - u_{t-1}  (u_{-1} is the initial state)
            rhs = -float(u0) if t == 0 else 0.0
            cqm.add_constraint_from_iterable([(("v", g, t), 1.0), (("u", g, t), -1.0), *prev], ">=", rhs,
                                             label=f"startup_{g}_{t}")
            ups = [(("v", g, tau), 1.0) for tau in range(max(0, t - unit.min_up + 1), t + 1)]
            if len(ups) > 1:
                cqm.add_constraint_from_iterable([*ups, (("u", g, t), -1.0)], "<=", 0.0, label=f"minup_{g}_{t}")
            if unit.min_down > 1:
                downs = [(("v", g, tau), 1.0) for tau in range(max(0, t - unit.min_down + 1), t + 1)]
                ref = t - unit.min_down
                if ref >= 0:
                    cqm.add_constraint_from_iterable([*downs, (("u", g, ref), 1.0)], "<=", 1.0,
                                                     label=f"mindown_{g}_{t}")
                elif u0:
                    cqm.add_constraint_from_iterable(downs, "<=", 0.0, label=f"mindown_{g}_{t}")
        for t, val in _fixed_initial(unit, T).items():
            cqm.add_constraint_from_iterable([(("u", g, t), 1.0)], "==", float(val), label=f"initial_{g}_{t}")


def to_problem(inst: UnitCommitmentInstance) -> Problem:
    """The full MILP (see the module docstring)."""
    T = inst.hours
    cqm = dimod.ConstrainedQuadraticModel()
    obj = dimod.QuadraticModel()
    for g, unit in enumerate(inst.units):
        for t in range(T):
            obj.add_variable(dimod.BINARY, ("u", g, t))
            obj.add_variable(dimod.BINARY, ("v", g, t))
            obj.add_variable(dimod.REAL, ("p", g, t), lower_bound=0.0, upper_bound=unit.p_max)
            obj.set_linear(("u", g, t), unit.fixed_cost)
            obj.set_linear(("v", g, t), unit.startup_cost)
            obj.set_linear(("p", g, t), unit.marginal_cost)
    bat = inst.battery
    for t in range(T):
        obj.add_variable(dimod.REAL, ("s", t), lower_bound=0.0, upper_bound=inst.solar_at(t))
        if bat is not None:
            obj.add_variable(dimod.REAL, ("c", t), lower_bound=0.0, upper_bound=bat.power)
            obj.add_variable(dimod.REAL, ("d", t), lower_bound=0.0, upper_bound=bat.power)
            obj.add_variable(dimod.REAL, ("e", t), lower_bound=0.0, upper_bound=bat.capacity)
    cqm.set_objective(obj)
    _add_commitment_constraints(cqm, inst)
    eta = math.sqrt(bat.efficiency) if bat else 1.0
    for t in range(T):
        terms: list[tuple[Hashable, float]] = [(("p", g, t), 1.0) for g in range(len(inst.units))]
        terms.append((("s", t), 1.0))
        if bat is not None:
            terms += [(("d", t), 1.0), (("c", t), -1.0)]
        cqm.add_constraint_from_iterable(terms, "==", float(inst.demand[t]), label=f"balance_{t}")
        head = [(("u", g, t), u.p_max) for g, u in enumerate(inst.units)]
        head += [(("p", g, t), -1.0) for g in range(len(inst.units))]
        cqm.add_constraint_from_iterable(head, ">=", inst.reserve_fraction * float(inst.demand[t]),
                                         label=f"reserve_{t}")
        for g, u in enumerate(inst.units):
            cqm.add_constraint_from_iterable([(("p", g, t), 1.0), (("u", g, t), -u.p_min)], ">=", 0.0,
                                             label=f"pmin_{g}_{t}")
            cqm.add_constraint_from_iterable([(("p", g, t), 1.0), (("u", g, t), -u.p_max)], "<=", 0.0,
                                             label=f"pmax_{g}_{t}")
            su = max(u.p_min, u.ramp_up)
            sd = max(u.p_min, u.ramp_down)
            if t == 0:
                p0 = u.initial_power if u.initial_on else 0.0
                up_rhs = (u.ramp_up if u.initial_on else su) + p0
                cqm.add_constraint_from_iterable([(("p", g, 0), 1.0)], "<=", up_rhs, label=f"rampup_{g}_0")
                cqm.add_constraint_from_iterable([(("p", g, 0), -1.0), (("u", g, 0), -u.ramp_down + sd)], "<=",
                                                 sd - p0, label=f"rampdown_{g}_0")
            else:
                cqm.add_constraint_from_iterable(
                    [(("p", g, t), 1.0), (("p", g, t - 1), -1.0), (("u", g, t - 1), su - u.ramp_up)], "<=", su,
                    label=f"rampup_{g}_{t}")
                cqm.add_constraint_from_iterable(
                    [(("p", g, t - 1), 1.0), (("p", g, t), -1.0), (("u", g, t), sd - u.ramp_down)], "<=", sd,
                    label=f"rampdown_{g}_{t}")
        if bat is not None:
            prev: list[tuple[Hashable, float]] = [] if t == 0 else [(("e", t - 1), -1.0)]
            rhs = bat.initial_soc * bat.capacity if t == 0 else 0.0
            cqm.add_constraint_from_iterable([(("e", t), 1.0), *prev, (("c", t), -eta), (("d", t), 1.0 / eta)], "==",
                                             rhs, label=f"soc_{t}")
    if bat is not None:
        cqm.add_constraint_from_iterable([(("e", T - 1), 1.0)], ">=", bat.final_soc_min * bat.capacity,
                                         label="soc_final")
    return Problem(cqm, name=inst.name, sense="min",
                   metadata={"domain": "energy", "formulation": "milp", "source": inst.source})


def commitment_problem(inst: UnitCommitmentInstance) -> Problem:
    """The binary on/off part for Ising backends (see the module docstring)."""
    T = inst.hours
    total = sum(u.p_max for u in inst.units)
    load = sum(max(0.0, d - inst.solar_at(t)) for t, d in enumerate(inst.demand)) / (T * total)
    cqm = dimod.ConstrainedQuadraticModel()
    obj = dimod.BinaryQuadraticModel(dimod.BINARY)
    for g, u in enumerate(inst.units):
        share = max(u.p_min, min(u.p_max, load * u.p_max))
        for t in range(T):
            obj.add_linear(("u", g, t), u.fixed_cost + u.marginal_cost * share)
            obj.add_linear(("v", g, t), u.startup_cost)
    cqm.set_objective(obj)
    _add_commitment_constraints(cqm, inst)
    batt = inst.battery.power if inst.battery else 0.0
    for t in range(T):
        net = float(inst.demand[t]) - inst.solar_at(t)
        need = max(0.0, net) + inst.reserve_fraction * float(inst.demand[t])
        cqm.add_constraint_from_iterable([(("u", g, t), u.p_max) for g, u in enumerate(inst.units)], ">=", need,
                                         label=f"cover_{t}")
        cqm.add_constraint_from_iterable([(("u", g, t), u.p_min) for g, u in enumerate(inst.units)], "<=",
                                         float(inst.demand[t]) + batt, label=f"minload_{t}")
    return Problem(cqm, name=f"{inst.name}-commitment", sense="min",
                   metadata={"domain": "energy", "formulation": "commitment-qubo", "source": inst.source})


def dispatch_problem(inst: UnitCommitmentInstance, commitment: Mapping[Hashable, float]) -> Problem:
    """The MILP with every ``("u", g, t)`` and ``("v", g, t)`` fixed: an LP (economic dispatch)."""
    cqm = to_problem(inst).cqm
    fixed = {v: float(round(commitment[v])) for v in cqm.variables if v[0] in ("u", "v")}  # type: ignore[index]
    fixed_cost = sum(float(cqm.objective.get_linear(v)) * x for v, x in fixed.items())
    cqm.fix_variables(fixed)
    return Problem(cqm, name=f"{inst.name}-dispatch", sense="min",
                   metadata={"domain": "energy", "formulation": "dispatch-lp", "fixed": len(fixed),
                             "fixed_cost": fixed_cost})


#: Coverage in the on/off QUBO is counted in steps of this many MW (integer data: exact slack bits).
COVER_STEP_MW = 10.0


def hourly_unit_cost(inst: UnitCommitmentInstance) -> list[float]:
    """Estimated cost of one unit-hour on: fixed cost + marginal cost × an average loading (yen/h)."""
    T = inst.hours
    total = sum(u.p_max for u in inst.units)
    load = sum(max(0.0, d - inst.solar_at(t)) for t, d in enumerate(inst.demand)) / (T * total)
    return [u.fixed_cost + u.marginal_cost * max(u.p_min, min(u.p_max, load * u.p_max)) for u in inst.units]


def coverage_needs(inst: UnitCommitmentInstance, *, battery_credit: bool = True) -> list[float]:
    """Thermal capacity each hour's commitment must reach (MW): D_t − solar_t + r·D_t, less the battery power.

    With ``battery_credit`` this is a necessary condition of the MILP (balance plus reserve,
    with the battery discharging at most its power), so the MILP optimum meets it; without it,
    the stricter thermal-only rule.
    """
    bat = inst.battery.power if (battery_credit and inst.battery is not None) else 0.0
    return [max(0.0, float(d) - inst.solar_at(t) - bat) + inst.reserve_fraction * float(d)
            for t, d in enumerate(inst.demand)]


def commitment_qubo(inst: UnitCommitmentInstance) -> Problem:
    """The on/off QUBO of the Ising route: binaries ``("u", g, t)`` only.

    * objective: estimated hourly cost of each unit-hour on (:func:`hourly_unit_cost`, yen/h) plus
      the exact start-up cost S·u_t·(1 − u_{t−1}) (quadratic, no start-up variables);
    * ``cover_t``: Σ_g ⌊p_max/step⌋ u_gt >= ⌈need_t/step⌉ (need_t from :func:`coverage_needs`) with step
      :data:`COVER_STEP_MW` — integer data, so the compile pass encodes it exactly with slack
      bits and a penalty; rounding p_max down keeps it conservative;
    * ``initial_g_t``: hours the initial state forces (min up/down still running).

    Minimum up/down times are left to the documented repair
    (:func:`kakehashi.apps.energy.repair.repair_commitment`): written as penalties (start/stop
    variables, pairwise terms) they made every tested Ising heuristic return schedules that
    broke them more often, not less.
    """
    T = inst.hours
    cost = hourly_unit_cost(inst)
    obj = dimod.BinaryQuadraticModel(dimod.BINARY)
    for g, u in enumerate(inst.units):
        for t in range(T):
            obj.add_linear(("u", g, t), cost[g] + u.startup_cost)
            if t == 0:
                if u.initial_on:
                    obj.add_linear(("u", g, 0), -u.startup_cost)
            else:
                obj.add_quadratic(("u", g, t), ("u", g, t - 1), -u.startup_cost)
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(obj)
    for t, need in enumerate(coverage_needs(inst)):
        terms = [(("u", g, t), float(math.floor(u.p_max / COVER_STEP_MW + 1e-9))) for g, u in enumerate(inst.units)]
        cqm.add_constraint_from_iterable(terms, ">=", float(math.ceil(need / COVER_STEP_MW - 1e-9)),
                                         label=f"cover_{t}")
    for g, unit in enumerate(inst.units):
        for t, val in _fixed_initial(unit, T).items():
            cqm.add_constraint_from_iterable([(("u", g, t), 1.0)], "==", float(val), label=f"initial_{g}_{t}")
    return Problem(cqm, name=f"{inst.name}-onoff", sense="min",
                   metadata={"domain": "energy", "formulation": "onoff-qubo", "cover_step_mw": COVER_STEP_MW,
                             "source": inst.source})
