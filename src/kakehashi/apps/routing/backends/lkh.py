"""LKH-3 (Helsgaun) through the ``elkai`` bindings: the TSP baseline."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from kakehashi.apps.routing.backends.common import (
    construction_if_short,
    module_available,
    output_from_routes,
    routing_budget,
    routing_target,
)
from kakehashi.apps.routing.target import RoutingTarget
from kakehashi.backends.base import (
    Availability,
    BackendOutput,
    Capabilities,
    Param,
    Termination,
    check_params,
    check_target,
)
from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import BackendRejected

#: Share of the time left handed to LKH's TOTAL_TIME_LIMIT.
NATIVE_SHARE = 0.9
#: Set-up before the first answer, seconds per node² (POPMUSIC candidates and a first tour: 0.3 s at 1,002 cities, reference machine);
#: with less time left the backend answers the nearest-neighbour construction instead.
STARTUP_PER_NODE2 = 0.3e-6
#: LKH's subgradient ascent, seconds per city² (1.2 s at 1,002 cities on the reference machine).
ASCENT_SECONDS_PER_CITY2 = 1.2e-6
#: Below this multiple of the ascent's time, LKH runs with POPMUSIC candidates and no ascent.
FAST_FACTOR = 3.0
#: TSPLIB distance functions LKH computes itself from coordinates (same rounding as TSPLIB).
COORD_TYPES = ("EUC_2D", "CEIL_2D", "ATT", "GEO")


class LKHBackend:
    """Lin–Kernighan–Helsgaun for symmetric TSPs; ``runs`` restarts within the time limit (seconds)."""

    name = "lkh"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=(TargetKind.ROUTING,),
            params={"runs": Param(int, 5, "independent LKH runs (each stops at the time limit)")},
        )

    def available(self) -> Availability:
        return module_available("elkai")

    def solve(self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None,
              params: Mapping[str, Any]) -> BackendOutput:
        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        target = routing_target(self.name, compiled)
        if not target.is_tsp:
            raise BackendRejected("lkh: the elkai build of LKH-3 solves TSPs only; use pyvrp or ortools-routing")
        n = target.n
        if n < 3:
            return output_from_routes(target, [list(range(1, n))], seconds=0.0, termination=Termination.OPTIMAL,
                                      info={})
        try:
            from elkai import _elkai  # the documented DistanceMatrix API has no time limit or seed
        except ImportError as exc:  # pragma: no cover
            raise BackendRejected(f"lkh: {exc}") from exc
        plan = routing_budget(time_limit, compiled)
        short = construction_if_short(target, plan, STARTUP_PER_NODE2, self.name)
        if short is not None:
            return short
        problem = problem_text(target)
        # What is left of the budget once the problem text is built (LKH overruns a little).
        left = plan.native_limit(share=NATIVE_SHARE)
        limit = max(0.1, left if left is not None else 10.0)
        # TIME_LIMIT bounds the search only; TOTAL_TIME_LIMIT also covers LKH's preprocessing.
        # LKH's default candidate sets come from a subgradient ascent that ignores both limits
        # (1.2 s at 1,002 cities, no tour at all within 1 s); when the budget is short for it,
        # POPMUSIC candidates without the ascent honour the limit (pr1002: 0.35 s for 0.3 s,
        # 0.7% above the optimum; the optimum within 1 s).
        fast = limit < FAST_FACTOR * ASCENT_SECONDS_PER_CITY2 * n * n
        candidates = "CANDIDATE_SET_TYPE = POPMUSIC\nSUBGRADIENT = NO\n" if fast else ""
        cfg = (f"RUNS = {int(opts['runs'])}\nTIME_LIMIT = {limit:.3f}\nTOTAL_TIME_LIMIT = {limit:.3f}\n"
               f"SEED = {int(seed or 1)}\n{candidates}"
               "TRACE_LEVEL = 0\nPROBLEM_FILE = :stdin:\n")
        t0 = time.perf_counter()
        tour = [int(v) - 1 for v in _elkai.solve_problem(cfg, problem)]
        seconds = time.perf_counter() - t0
        if sorted(tour) != list(range(n)):
            # TOTAL_TIME_LIMIT ran out in LKH's preprocessing (1.6 s at 1,002 cities): no tour yet.
            return output_from_routes(target, None, seconds=seconds, termination=Termination.NO_SOLUTION,
                                      info={"runs": int(opts["runs"]), "lkh_time_limit": limit,
                                            "candidates": "popmusic" if fast else "ascent",
                                            "reason": "LKH stopped before its first tour"})
        start = tour.index(0)
        tour = tour[start:] + tour[:start]
        return output_from_routes(target, [tour[1:]], seconds=seconds, termination=Termination.COMPLETED,
                                  info={"runs": int(opts["runs"]), "candidates": "popmusic" if fast else "ascent"})


def problem_text(target: RoutingTarget) -> str:
    """The TSPLIB text LKH reads: coordinates when LKH computes the instance's own distance
    function (O(n) text instead of an n x n matrix: 0.7 s at 1,002 cities), else the matrix."""
    n = target.n
    kind = target.edge_weight_type.upper()
    if target.coords is not None and kind in COORD_TYPES and len(target.coords) == n:
        nodes = "\n".join(f"{i + 1} {x!r} {y!r}" for i, (x, y) in enumerate(target.coords.tolist()))
        return (f"TYPE : TSP\nDIMENSION : {n}\nEDGE_WEIGHT_TYPE : {kind}\n"
                f"NODE_COORD_SECTION\n{nodes}\nEOF\n")
    rows = "\n".join(" ".join(map(str, row)) for row in target.distances.astype(np.int64).tolist())
    return (f"TYPE : TSP\nDIMENSION : {n}\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
            f"EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION\n{rows}\nEOF\n")
