"""Day-ahead unit commitment with solar and a battery: MILP on HiGHS, Ising on/off + LP dispatch."""

from kakehashi.apps.energy.app import Schedule, schedule_cost, solve_unit_commitment, validate
from kakehashi.apps.energy.formulation import (
    commitment_problem,
    commitment_qubo,
    dispatch_problem,
    to_problem,
)
from kakehashi.apps.energy.instance import Battery, ThermalUnit, UnitCommitmentInstance, read_unit_commitment
from kakehashi.apps.energy.repair import check_commitment, repair_commitment

__all__ = [
    "Battery",
    "Schedule",
    "ThermalUnit",
    "UnitCommitmentInstance",
    "check_commitment",
    "commitment_problem",
    "commitment_qubo",
    "dispatch_problem",
    "read_unit_commitment",
    "repair_commitment",
    "schedule_cost",
    "solve_unit_commitment",
    "to_problem",
    "validate",
]
