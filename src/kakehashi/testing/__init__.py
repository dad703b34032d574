"""Testing tools for backend authors: the conformance kit and its seeded problems.

``from kakehashi.testing import BackendConformance`` and subclass it with ``backend_name`` set;
see :mod:`kakehashi.testing.conformance`. Importing this package needs pytest.
"""

from kakehashi.testing.conformance import BackendConformance, target_energies
from kakehashi.testing.problems import (
    Case,
    bqm_case,
    convex_qp_case,
    integer_qp_case,
    knapsack_case,
    market_split_case,
    random_bqm,
)

__all__ = [
    "BackendConformance",
    "Case",
    "bqm_case",
    "convex_qp_case",
    "integer_qp_case",
    "knapsack_case",
    "market_split_case",
    "random_bqm",
    "target_energies",
]
