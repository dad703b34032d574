"""The resource pool: configuration, fair share, scheduling policy, quotas and estimates.

Pure library code; the platform service calls it with data from its database:

- :func:`~kakehashi.pool.config.load_pool` — the operator's pool file (TOML/YAML) → :class:`PoolConfig`.
- :func:`~kakehashi.pool.scheduler.schedule` — one scheduling pass: queue + pool state + usage → decisions.
- :func:`~kakehashi.pool.fairshare.decayed_usage` / :func:`~kakehashi.pool.fairshare.fair_share_factors`.
- :func:`~kakehashi.pool.quota.check_quota`, :func:`~kakehashi.pool.quota.charge` — admission and pricing.
- :func:`~kakehashi.pool.estimate.estimate` — expected wait, run time and cost per backend.
- :func:`~kakehashi.pool.simulate.simulate` — the same policy in simulated time.
"""

from kakehashi.pool.config import (
    Machine,
    MaintenanceWindow,
    Period,
    PoolConfig,
    ProjectTerms,
    Quota,
    QuotaUnit,
    Tier,
    load_pool,
    parse_pool,
)
from kakehashi.pool.fairshare import PriorityWeights, decayed_usage, fair_share_factors
from kakehashi.pool.quota import AuditRecord, Charge, QuotaDecision, charge, check_quota
from kakehashi.pool.scheduler import (
    Decisions,
    JobRequest,
    LegRequest,
    Placement,
    Policy,
    PoolState,
    Rejection,
    RunningLeg,
    Start,
    Wait,
    schedule,
)

__all__ = [
    "AuditRecord",
    "Charge",
    "Decisions",
    "JobRequest",
    "LegRequest",
    "Machine",
    "MaintenanceWindow",
    "Period",
    "Placement",
    "Policy",
    "PoolConfig",
    "PoolState",
    "PriorityWeights",
    "ProjectTerms",
    "Quota",
    "QuotaDecision",
    "QuotaUnit",
    "Rejection",
    "RunningLeg",
    "Start",
    "Tier",
    "Wait",
    "charge",
    "check_quota",
    "decayed_usage",
    "fair_share_factors",
    "load_pool",
    "parse_pool",
    "schedule",
]
