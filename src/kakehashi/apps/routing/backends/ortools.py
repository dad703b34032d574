"""OR-Tools routing (Google): path-cheapest-arc start, guided local search until the time limit."""

from __future__ import annotations

import atexit
import json
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from kakehashi.apps.routing.backends.common import (
    construction_if_short,
    module_available,
    output_from_routes,
    routing_budget,
    routing_target,
)
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

#: Share of the time left handed to the worker (its answer still has to travel back as JSON).
NATIVE_SHARE = 0.9
#: Set-up before the first answer, seconds per node² (the worker's distance matrix and first solution: 0.5-1.3 s at 1,002 nodes, reference machine);
#: with less time left the backend answers the nearest-neighbour construction instead.
STARTUP_PER_NODE2 = 1.0e-6


class _Worker:
    """One kept child process running :mod:`ortools_worker` (JSON lines over stdin/stdout).

    OR-Tools bundles its own HiGHS, whose symbols clash with highspy's once both are loaded in
    one process, so the solve runs in a child; importing OR-Tools there takes seconds, so the
    child is kept for later solves and restarted when it dies or misbehaves.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "kakehashi.apps.routing.backends.ortools_worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return self._proc

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
            self._proc = None

    def close(self) -> None:
        """Stop the child (at interpreter exit; the next solve starts a new one)."""
        with self._lock:
            self._stop()

    def ask(self, request: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        """Send one request and wait up to ``timeout`` seconds for its answer."""
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(request) + "\n")
                proc.stdin.flush()
            except OSError as exc:
                self._stop()
                raise BackendRejected(f"ortools-routing: the OR-Tools worker is gone: {exc}") from exc
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            if not ready:
                self._stop()
                raise BackendTimeout(f"ortools-routing: no answer {timeout:.0f} s after start")
            line = proc.stdout.readline()
            if not line:
                self._stop()
                raise BackendRejected("ortools-routing: the OR-Tools worker died")
            answer: dict[str, Any] = json.loads(line)
            return answer


_WORKER = _Worker()
atexit.register(_WORKER.close)


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
        plan = routing_budget(time_limit, compiled)
        short = construction_if_short(target, plan, STARTUP_PER_NODE2, self.name)
        if short is not None:
            return short
        limit = float(time_limit) if time_limit is not None else 10.0
        # The worker's start-up (a Python process importing OR-Tools) and model building come out
        # of the budget: it gets the deadline as a UNIX time and takes what is left when it solves.
        deadline = None if plan.deadline is None else time.time() + NATIVE_SHARE * plan.left()
        request = {"distances": target.distances.tolist(), "demands": [int(q) for q in target.demands],
                   "capacity": None if target.is_tsp else int(target.capacity or 0),
                   "fleet": 1 if target.is_tsp else (target.num_vehicles or target.n - 1), "time_limit": limit,
                   "deadline": deadline}
        t0 = time.perf_counter()
        answer = _WORKER.ask(request, timeout=limit + 60.0)
        seconds = time.perf_counter() - t0
        if "error" in answer:
            raise BackendRejected(f"ortools-routing: the OR-Tools worker failed: {answer['error']}")
        routes = answer.get("routes")
        if routes is None:
            return output_from_routes(target, None, seconds=seconds, termination=Termination.NO_SOLUTION,
                                      info={"status": answer.get("status")})
        return output_from_routes(target, routes, seconds=seconds, termination=Termination.TIME_LIMIT,
                                  info={"objective": answer.get("objective")})
