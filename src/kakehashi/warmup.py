"""Warm-up of the race leg server: imported ONLY by the forkserver that legs fork from.

Importing this module has effects by design: it makes numba use its ``workqueue`` threading
layer (GNU OpenMP, numba's default here, aborts a process forked after it ran; workqueue's
threads are rebuilt after a fork) unless ``NUMBA_THREADING_LAYER`` says otherwise, imports the
solver and the engines, and runs each warm-up backend once on tiny problems. numba loads the
kernels from its on-disk cache (``cache=True``) here, once; every leg forked afterwards starts
with them in memory. A backend that fails to warm up is skipped (the leg reports its error).
"""

from __future__ import annotations

import contextlib
import os
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
#: Threading layers that survive a fork.
_FORK_SAFE_LAYERS = ("workqueue", "tbb", "forksafe", "safe")


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
    """Run every warm-up backend once on each tiny problem it accepts (errors are ignored)."""
    from kakehashi.backends.registry import get_backend
    from kakehashi.solver import run_backend

    for name in LOAD_BACKENDS:
        with contextlib.suppress(Exception):
            get_backend(name).available()
    problems = _problems()
    with _quiet():
        for name in WARM_BACKENDS:
            for problem in problems:
                try:
                    run_backend(problem, name, time_limit=0.05, seed=0)
                except Exception:  # an unavailable backend or a target it does not take: skip
                    continue


def _main() -> None:
    layer = os.environ.get("NUMBA_THREADING_LAYER")
    if layer is None:
        try:
            import numba
        except ImportError:
            return
        numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]
    elif layer not in _FORK_SAFE_LAYERS:
        import kakehashi.solver  # noqa: F401 - imports only: running kernels here would break forks

        return
    warm_up()


with contextlib.suppress(Exception):  # a failed warm-up only makes legs start colder
    _main()
