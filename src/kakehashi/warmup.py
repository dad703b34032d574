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

from kakehashi.startup import warm_up

#: Threading layers that survive a fork.
_FORK_SAFE_LAYERS = ("workqueue", "tbb", "forksafe", "safe")


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
