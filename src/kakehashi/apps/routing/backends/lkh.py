"""LKH-3 (Helsgaun) through the ``elkai`` bindings: the TSP baseline."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from kakehashi.apps.routing.backends.common import module_available, output_from_routes, routing_target
from kakehashi.backends import budget
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
        plan = budget.start(time_limit, num_variables=compiled.num_variables)
        d = target.distances
        lines = [f"TYPE : TSP\nDIMENSION : {n}\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
                 "EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION"]
        lines.extend(" ".join(str(int(v)) for v in row) for row in d)
        problem = "\n".join(lines) + "\nEOF\n"
        # What is left of the budget once the problem text is built (LKH overruns a little).
        left = plan.native_limit(share=NATIVE_SHARE)
        limit = max(0.1, left if left is not None else 10.0)
        # TIME_LIMIT bounds the search only; TOTAL_TIME_LIMIT also covers LKH's preprocessing
        # (candidate sets by subgradient ascent), which alone takes seconds for a few hundred cities.
        cfg = (f"RUNS = {int(opts['runs'])}\nTIME_LIMIT = {limit:.3f}\nTOTAL_TIME_LIMIT = {limit:.3f}\n"
               f"SEED = {int(seed or 1)}\n"
               "TRACE_LEVEL = 0\nPROBLEM_FILE = :stdin:\n")
        t0 = time.perf_counter()
        tour = [int(v) - 1 for v in _elkai.solve_problem(cfg, problem)]
        seconds = time.perf_counter() - t0
        if sorted(tour) != list(range(n)):
            # TOTAL_TIME_LIMIT ran out in LKH's preprocessing (1.6 s at 1,002 cities): no tour yet.
            return output_from_routes(target, None, seconds=seconds, termination=Termination.NO_SOLUTION,
                                      info={"runs": int(opts["runs"]), "lkh_time_limit": limit,
                                            "reason": "LKH stopped before its first tour"})
        start = tour.index(0)
        tour = tour[start:] + tour[:start]
        return output_from_routes(target, [tour[1:]], seconds=seconds, termination=Termination.COMPLETED,
                                  info={"runs": int(opts["runs"])})
