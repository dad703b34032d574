"""Repair of an on/off schedule from an Ising backend, so that an economic dispatch can exist.

:func:`repair_commitment` applies, in order, and records every change:

1. the hours the initial state forces (a unit still inside its minimum up/down time);
2. coverage: in each hour whose committed capacity Σ p_max is below what
   :func:`~kakehashi.apps.energy.formulation.coverage_needs` asks (net demand + reserve, less
   the battery's power unless ``battery_credit=False``), commit off units, cheapest per MWh at
   full output first ((fixed + marginal·p_max)/p_max), until it holds;
3. minimum up/down time, one violation at a time: a short on-run is dropped when coverage
   holds without it, else extended forward to min_up; a short off-run between two on-runs is
   removed by dropping the next on-run when coverage allows, else filled (the unit stays on).
   Steps 2–3 repeat until nothing changes;
4. trim: unit-hours that coverage does not need are switched off, most expensive unit (per MW
   at the estimated loading) first, whenever min up/down still hold.

:func:`check_commitment` lists what an on/off schedule breaks among those rules (the raw Ising
answer's feasibility).
"""

from __future__ import annotations

from kakehashi.apps.energy.formulation import coverage_needs, hourly_unit_cost
from kakehashi.apps.energy.instance import UnitCommitmentInstance

OnOff = list[list[int]]  # [unit][hour]


def _forced(inst: UnitCommitmentInstance) -> dict[tuple[int, int], int]:
    out = {}
    for g, u in enumerate(inst.units):
        need = (u.min_up if u.initial_on else u.min_down) - u.initial_hours
        for t in range(min(max(0, need), inst.hours)):
            out[(g, t)] = int(u.initial_on)
    return out


def _runs(inst: UnitCommitmentInstance, g: int, row: list[int]) -> list[tuple[int, int, int]]:
    """(state, start, length) of each run; the initial state counts as a run ending at hour 0."""
    u = inst.units[g]
    runs: list[tuple[int, int, int]] = []
    state, start = int(u.initial_on), -u.initial_hours
    for t, x in enumerate(row):
        if x != state:
            runs.append((state, start, t - start))
            state, start = x, t
    runs.append((state, start, len(row) - start))  # the last run may continue past the horizon
    return runs


def check_commitment(inst: UnitCommitmentInstance, on: OnOff, *, battery_credit: bool = True) -> list[str]:
    """Rules an on/off schedule breaks: forced initial hours, coverage (:func:`coverage_needs`), min up/down."""
    needs = coverage_needs(inst, battery_credit=battery_credit)
    out = []
    for (g, t), val in _forced(inst).items():
        if on[g][t] != val:
            out.append(f"{inst.units[g].name} hour {t}: initial state forces {val}")
    for t in range(inst.hours):
        cap = sum(u.p_max * on[g][t] for g, u in enumerate(inst.units))
        if cap < needs[t] - 1e-9:
            out.append(f"hour {t}: committed {cap:g} MW < needed {needs[t]:g} MW")
    for g, u in enumerate(inst.units):
        runs = _runs(inst, g, on[g])
        for k, (st, s0, length) in enumerate(runs[:-1]):
            need = u.min_up if st else u.min_down
            if length < need and (st or k > 0):
                out.append(f"{u.name}: {'on' if st else 'off'} for {length} h from hour {max(s0, 0)}, needs {need} h")
    return out


def _cover_ok_without(inst: UnitCommitmentInstance, needs: list[float], on: OnOff, g: int, hours: range) -> bool:
    """Whether coverage still holds in ``hours`` with unit ``g`` off there."""
    p = inst.units[g].p_max
    for t in hours:
        cap = sum(u.p_max * on[h][t] for h, u in enumerate(inst.units))
        if on[g][t] and cap - p < needs[t] - 1e-9:
            return False
    return True


def _free(forced: dict[tuple[int, int], int], g: int, hours: range) -> bool:
    return all((g, t) not in forced for t in hours)


def _fix_min_times(inst: UnitCommitmentInstance, needs: list[float], fix: OnOff, forced: dict[tuple[int, int], int],
                   actions: list[str]) -> bool:
    """Resolve one min up/down violation (cheapest way that keeps coverage); True if something changed."""
    T = inst.hours
    for g, u in enumerate(inst.units):
        runs = _runs(inst, g, fix[g])
        for k, (st, s0, length) in enumerate(runs):
            last = k == len(runs) - 1
            if st and s0 >= 0 and not last and length < u.min_up:
                hours = range(s0, s0 + length)
                if _cover_ok_without(inst, needs, fix, g, hours) and _free(forced, g, hours):
                    for t in hours:
                        fix[g][t] = 0
                    actions.append(f"{u.name}: on-run h{s0}..h{s0 + length - 1} shorter than {u.min_up} h dropped")
                else:
                    for t in range(s0 + length, min(T, s0 + u.min_up)):
                        fix[g][t] = 1
                    actions.append(f"{u.name}: on-run from h{s0} extended to {u.min_up} h")
                return True
            if not st and k > 0 and not last and length < u.min_down:
                nxt = runs[k + 1]  # the on-run after the gap
                after = range(nxt[1], nxt[1] + nxt[2])
                if k + 1 < len(runs) - 1 and _cover_ok_without(inst, needs, fix, g, after) and _free(forced, g, after):
                    for t in after:
                        fix[g][t] = 0
                    actions.append(f"{u.name}: on-run h{nxt[1]}..h{nxt[1] + nxt[2] - 1} after a short off-run dropped")
                else:
                    for t in range(max(0, s0), s0 + length):
                        fix[g][t] = 1
                    actions.append(f"{u.name}: off-run h{s0}..h{s0 + length - 1} shorter than {u.min_down} h filled")
                return True
    return False


def _trim(inst: UnitCommitmentInstance, needs: list[float], fix: OnOff, forced: dict[tuple[int, int], int], actions: list[str]) -> None:
    """Switch off unit-hours that coverage does not need, most expensive unit first, keeping min up/down."""
    cost = hourly_unit_cost(inst)
    order = sorted(range(len(inst.units)), key=lambda g: -cost[g] / inst.units[g].p_max)
    for g in order:
        u = inst.units[g]
        for t in range(inst.hours):
            if not fix[g][t] or (g, t) in forced or not _cover_ok_without(inst, needs, fix, g, range(t, t + 1)):
                continue
            fix[g][t] = 0
            if check_unit(inst, fix, g):
                fix[g][t] = 1
            else:
                actions.append(f"{u.name} h{t}: off (not needed for coverage)")


def check_unit(inst: UnitCommitmentInstance, on: OnOff, g: int) -> list[str]:
    """Min up/down violations of unit ``g`` (runs that end inside the horizon)."""
    u = inst.units[g]
    out = []
    runs = _runs(inst, g, on[g])
    for k, (st, s0, length) in enumerate(runs[:-1]):
        need = u.min_up if st else u.min_down
        if length < need and (st or k > 0):
            out.append(f"{u.name}: {'on' if st else 'off'} for {length} h from hour {max(s0, 0)}, needs {need} h")
    return out


def repair_commitment(inst: UnitCommitmentInstance, on: OnOff, *, trim: bool = True,
                      battery_credit: bool = True) -> tuple[OnOff, list[str]]:
    """A repaired copy of ``on`` and the list of changes made (see the module docstring).

    ``trim=False`` skips step 4 and ``battery_credit=False`` asks coverage of thermal units alone
    (:func:`coverage_needs`): the fallbacks used when the dispatch LP finds no solution for the
    repaired schedule (battery energy or ramp limits need more committed capacity).
    """
    needs = coverage_needs(inst, battery_credit=battery_credit)
    T = inst.hours
    fix = [list(row) for row in on]
    actions: list[str] = []
    forced = _forced(inst)
    for (g, t), val in forced.items():
        if fix[g][t] != val:
            fix[g][t] = val
            actions.append(f"{inst.units[g].name} h{t}: initial state -> {val}")
    order = sorted(range(len(inst.units)),
                   key=lambda g: (inst.units[g].fixed_cost + inst.units[g].marginal_cost * inst.units[g].p_max)
                   / inst.units[g].p_max)
    for _ in range(8 * T * max(1, len(inst.units))):
        changed = False
        for t in range(T):
            cap = sum(u.p_max * fix[g][t] for g, u in enumerate(inst.units))
            for g in order:
                if cap >= needs[t] - 1e-9:
                    break
                if not fix[g][t]:
                    fix[g][t] = 1
                    cap += inst.units[g].p_max
                    changed = True
                    actions.append(f"{inst.units[g].name} h{t}: on for coverage")
        changed = _fix_min_times(inst, needs, fix, forced, actions) or changed
        if not changed:
            break
    if trim:
        _trim(inst, needs, fix, forced, actions)
    return fix, actions
