"""Bio-manufacturing: metabolic models (COBRApy), FBA/pFBA/FVA, strain design, a DBTL loop.

Needs the ``bio`` extra (``pip install 'kakehashi[bio]'``: COBRApy, scikit-learn). Every LP and
MILP is a kakehashi :class:`~kakehashi.model.problem.Problem` solved through :func:`kakehashi.solve`;
see ``docs/bio.md``.
"""

from kakehashi.apps.bio.design import Design, knockout_candidates, validate_design
from kakehashi.apps.bio.fba import FluxSolution, ProductionRange, fba, fva, pfba, production_range
from kakehashi.apps.bio.network import MetabolicNetwork, read_model
from kakehashi.apps.bio.optknock import RouteResult, optknock, optknock_problem, rank
from kakehashi.apps.bio.qubo import qubo_problem, qubo_route, surrogate

__all__ = [
    "Design",
    "FluxSolution",
    "MetabolicNetwork",
    "ProductionRange",
    "RouteResult",
    "fba",
    "fva",
    "knockout_candidates",
    "optknock",
    "optknock_problem",
    "pfba",
    "production_range",
    "qubo_problem",
    "qubo_route",
    "rank",
    "read_model",
    "surrogate",
    "validate_design",
]
