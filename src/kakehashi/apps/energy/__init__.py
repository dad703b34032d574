"""Day-ahead unit commitment with solar and a battery: MILP on HiGHS, Ising on/off + LP dispatch."""

from kakehashi.apps.energy.app import Schedule, schedule_cost, solve_unit_commitment, validate
from kakehashi.apps.energy.formulation import commitment_problem, dispatch_problem, to_problem
from kakehashi.apps.energy.instance import Battery, ThermalUnit, UnitCommitmentInstance, read_unit_commitment

__all__ = [
    "Battery",
    "Schedule",
    "ThermalUnit",
    "UnitCommitmentInstance",
    "commitment_problem",
    "dispatch_problem",
    "read_unit_commitment",
    "schedule_cost",
    "solve_unit_commitment",
    "to_problem",
    "validate",
]
