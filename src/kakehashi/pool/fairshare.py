"""Fair share and multifactor job priority, after Slurm's ``priority/multifactor`` plugin (simplified).

Decayed usage
    Each project's usage (billing units: list-price yen, i.e. machine-seconds × unit price before
    discounts, so one QPU-second weighs what it costs) decays with half-life ``H`` seconds::

        U_p(t) = Σ_runs u_r · 2^(-(t - t_r) / H)

    and is normalised over all projects: ``Û_p = U_p / Σ_q U_q`` (0 when nobody used anything).

Normalised shares
    ``S_p = shares_p / Σ_q shares_q`` over the projects in the pool (Slurm's flat tree).

Fair-share factor (Slurm's classic formula)
    ``F_p = 2^(-Û_p / S_p)``: 1 for a project with no recent use, 0.5 for a project that used
    exactly its share, towards 0 for a project far above its share.

Job priority
    ``P = w_age · A + w_fs · F_p + w_prio · Q + w_size · Z`` with

    - age factor ``A = (now - submit) / max_age`` — unlike Slurm it is NOT capped at 1: this is
      what makes the scheduler starvation-free (see :func:`starvation_bound`);
    - ``Q = (priority - PRIORITY_MIN) / (PRIORITY_MAX - PRIORITY_MIN)`` in [0, 1], the user's
      priority (an integer in [-1000, 1000], as in the service's submission schema);
    - job size factor ``Z = legs / total slots of the pool`` in (0, 1] (Slurm's default favours
      larger jobs, so a racing portfolio that needs many slots is not starved by small jobs).

Ties are broken by submit time (older first), then job id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: The user priority range (the service's submission schema).
PRIORITY_MIN = -1000
PRIORITY_MAX = 1000


def decay(usage: float, dt: float, half_life: float) -> float:
    """``usage`` after ``dt`` seconds of half-life ``half_life`` seconds."""
    if dt <= 0:
        return usage
    return float(usage * 2.0 ** (-dt / half_life))


def decayed_usage(entries: Iterable[tuple[float, float]], now: float, half_life: float) -> float:
    """Σ amount · 2^(-(now - t)/half_life) over ``(t, amount)`` ledger entries (t in seconds, t <= now)."""
    return float(sum(amount * 2.0 ** (-max(0.0, now - t) / half_life) for t, amount in entries))


def normalised_shares(shares: Mapping[str, float]) -> dict[str, float]:
    """``S_p = shares_p / Σ shares`` (every share must be > 0)."""
    total = sum(shares.values())
    if total <= 0:
        return {p: 0.0 for p in shares}
    return {p: s / total for p, s in shares.items()}


def fair_share_factors(usage: Mapping[str, float], shares: Mapping[str, float]) -> dict[str, float]:
    """``F_p = 2^(-Û_p / S_p)`` for every project in ``shares`` (missing usage counts as 0).

    Args:
        usage: decayed usage per project (any non-negative unit).
        shares: raw shares per project (normalised here).
    """
    norm = normalised_shares(shares)
    total = sum(max(0.0, usage.get(p, 0.0)) for p in shares)
    out = {}
    for p, s in norm.items():
        u = 0.0 if total <= 0 else max(0.0, usage.get(p, 0.0)) / total
        out[p] = 0.0 if s <= 0 else 2.0 ** (-u / s)
    return out


@dataclass(frozen=True)
class PriorityWeights:
    """Multifactor weights and the age normaliser (seconds)."""

    age: float = 1000.0
    fairshare: float = 1000.0
    priority: float = 500.0
    size: float = 100.0
    max_age: float = 7200.0

    def __post_init__(self) -> None:
        if self.max_age <= 0 or min(self.age, self.fairshare, self.priority, self.size) < 0:
            raise ValueError("weights must be >= 0 and max_age > 0")


def priority_factor(priority: int) -> float:
    """The user priority mapped to [0, 1]."""
    clipped = min(max(priority, PRIORITY_MIN), PRIORITY_MAX)
    return (clipped - PRIORITY_MIN) / (PRIORITY_MAX - PRIORITY_MIN)


def job_priority(
    *,
    age: float,
    fairshare: float,
    priority: int,
    legs: int,
    total_slots: int,
    weights: PriorityWeights,
) -> float:
    """``w_age·A + w_fs·F + w_prio·Q + w_size·Z`` (see the module docstring); ``age`` in seconds."""
    a = max(0.0, age) / weights.max_age
    z = min(1.0, legs / max(1, total_slots))
    return weights.age * a + weights.fairshare * fairshare + weights.priority * priority_factor(priority) + weights.size * z


def starvation_bound(weights: PriorityWeights) -> float:
    """Seconds Δ such that no job submitted more than Δ after job J ever outranks J.

    Every non-age term lies in [0, w_fs + w_prio + w_size], and J's age lead over a job K submitted
    ``d`` seconds later is ``w_age · d / max_age``. So K can outrank J only if
    ``d < Δ = max_age · (w_fs + w_prio + w_size) / w_age``. Hence at most the finitely many jobs
    submitted before ``t_J + Δ`` can ever be ahead of J; each runs for a bounded time (its limit),
    and once J is the highest-priority waiting job EASY backfilling never delays it — J starts
    once the machines it can use are up. With ``w_age = 0`` there is no bound (inf).
    """
    if weights.age <= 0:
        return math.inf
    return weights.max_age * (weights.fairshare + weights.priority + weights.size) / weights.age
