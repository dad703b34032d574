"""OR-Tools routing (Google): path-cheapest-arc start, guided local search until the time limit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from kakehashi.apps.routing.backends.common import module_available, output_from_routes, routing_target
from kakehashi.backends.base import (
    Availability,
    BackendOutput,
    Capabilities,
    Termination,
    check_params,
    check_target,
)
from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import BackendRejected, BackendTimeout


class OrToolsRoutingBackend:
    """OR-Tools constraint-programming routing with guided local search (time limit in seconds)."""

    name = "ortools-routing"

    def capabilities(self) -> Capabilities:
        return Capabilities(targets=(TargetKind.ROUTING,), honours_seed=False)

    def available(self) -> Availability:
        return module_available("ortools")

    def solve(self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None,
              params: Mapping[str, Any]) -> BackendOutput:
        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        check_params(self.name, caps, params)
        target = routing_target(self.name, compiled)
        limit = float(time_limit) if time_limit is not None else 10.0
        request = {"distances": target.distances.tolist(), "demands": [int(q) for q in target.demands],
                   "capacity": None if target.is_tsp else int(target.capacity or 0),
                   "fleet": 1 if target.is_tsp else (target.num_vehicles or target.n - 1), "time_limit": limit}
        t0 = time.perf_counter()
        # OR-Tools bundles its own HiGHS, whose symbols clash with highspy's once both are loaded in
        # one process; the solve runs in a child process and talks JSON over stdin/stdout.
        try:
            proc = subprocess.run([sys.executable, "-m", "kakehashi.apps.routing.backends.ortools_worker"],
                                  input=json.dumps(request), capture_output=True, text=True,
                                  timeout=limit + 60.0, check=False)
        except subprocess.TimeoutExpired as exc:
            raise BackendTimeout(f"ortools-routing: no answer {limit + 60:.0f} s after start") from exc
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            tail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise BackendRejected(f"ortools-routing: the OR-Tools worker failed: {tail[0]}")
        answer = json.loads(proc.stdout)
        routes = answer.get("routes")
        if routes is None:
            return output_from_routes(target, None, seconds=seconds, termination=Termination.NO_SOLUTION,
                                      info={"status": answer.get("status")})
        return output_from_routes(target, routes, seconds=seconds, termination=Termination.TIME_LIMIT,
                                  info={"objective": answer.get("objective")})
