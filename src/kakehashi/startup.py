"""One-time start-up of backends in a process: loading each once, before its first budget starts.

The first run of a backend in a process pays for importing its modules and, for kakehashi's
numba engines, for loading their compiled kernels from numba's on-disk cache (``cache=True``):
about a second on the reference machine, more under load. :func:`first_use` pays that once per
backend and process, outside any time limit, and says how long it took; :mod:`kakehashi.solver`
reports it in ``Result.timings.startup`` and starts the call's budget after it. The race leg
server (:mod:`kakehashi.warmup`) runs :func:`warm_up` once, so forked legs start warm.

Importing this module has no side effects.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kakehashi.model.problem import Problem

#: Backends run once on tiny problems: the numba engines, whose kernels load from numba's cache
#: at their first call (the only warm-up that saves a leg time).
WARM_BACKENDS = ("anneal", "sb")
#: Backends only loaded (their module imported), never run here: compiled extensions have
#: nothing to warm, and solvers that start their own thread pools (HiGHS) would leave the forked
#: legs waiting for threads that a fork does not copy.
LOAD_BACKENDS = ("highs", "scip", "exact", "sa", "tabu", "steepest")


def _problems() -> list[Problem]:
    """Tiny problems covering the engines' kernel variants: dense and sparse couplings, integer
    and real coefficients."""
    import dimod
    import numpy as np

    from kakehashi.model.problem import Problem

    rng = np.random.default_rng(0)
    problems: list[Problem] = []
    for n, p in ((24, 0.5), (400, 0.01)):
        unit = dimod.generators.gnp_random_bqm(n, p, "SPIN", random_state=1)
        for u, v in unit.quadratic:
            unit.set_quadratic(u, v, float(rng.choice((-1.0, 1.0))))
        real = unit.copy()
        for u, v in real.quadratic:
            real.set_quadratic(u, v, float(rng.normal()))
        problems += [Problem(unit), Problem(real)]
    return problems


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Send file descriptors 1 and 2 to /dev/null (solver banners printed from C) meanwhile."""
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def warm_up() -> None:
    """Load every backend of :data:`LOAD_BACKENDS` and :data:`WARM_BACKENDS` (errors are ignored)."""
    for name in (*LOAD_BACKENDS, *WARM_BACKENDS):
        first_use(name)


_loaded: set[str] = set()
_lock = threading.Lock()


def first_use(name: str) -> float:
    """Load backend ``name`` if this process has not yet; the seconds it took (0 once loaded).

    Loading imports the adapter (and what it imports) and, for :data:`WARM_BACKENDS`, runs it
    on tiny problems so its kernels are in memory. Errors are ignored here: the real call
    reports them.
    """
    with _lock:
        if name in _loaded:
            return 0.0
        _loaded.add(name)
    from kakehashi.backends.registry import get_backend
    from kakehashi.solver import run_backend

    started = time.perf_counter()
    try:
        get_backend(name).available()
    except Exception:  # an unknown or broken backend: the real call says so
        return time.perf_counter() - started
    if name in WARM_BACKENDS:
        with _quiet():
            for problem in _problems():
                try:
                    run_backend(problem, name, time_limit=0.05, seed=0)
                except Exception:  # a target it does not take: skip
                    continue
    return time.perf_counter() - started


