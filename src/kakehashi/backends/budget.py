"""Time budgets: the one place a backend turns ``time_limit`` into a deadline it keeps.

The contract (issue 10): the wall time of ``kakehashi.solve()`` — compile, run, invert and
evaluate — stays within ``T + max(0.5 s, 5 % of T)``. A backend sees only its own part, so it
works to a deadline that leaves room for what comes after it:

* :func:`start` makes a :class:`Budget` at the top of ``Backend.solve``: the deadline is
  ``now + time_limit`` less a reserve for returning the samples (:func:`reserve_seconds`). The
  façade (:mod:`kakehashi.solver`) has already taken the time it needs to invert and evaluate
  out of the ``time_limit`` it passes, and the compile time already spent.
* Engines cut their work into chunks and stop at :meth:`Budget.expired`; native solvers get
  :meth:`Budget.native_limit` (the seconds left, shrunk by a factor for solvers known to
  overshoot their own limit, e.g. SCIP's presolve, OR-Tools' first solution).
* :func:`trim` keeps the best rows of a large sample array: inverting and evaluating 64 rows of
  20,000 variables costs the façade over a second (measured: 1.7 s; one row 0.2-0.5 s), more than the contract's slack.

Nothing here sleeps or spawns; it only reads ``time.perf_counter()``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

#: Seconds always kept back for the façade after a backend returns (invert, evaluate, Result).
BASE_RESERVE = 0.05
#: Further seconds kept back per target variable (copying and trimming one row's columns; the
#: façade reserves its own inversion and evaluation before it passes the time limit).
RESERVE_PER_VARIABLE = 0.5e-6
#: Further seconds kept back per sample entry (rows × variables) the backend may return.
RESERVE_PER_ENTRY = 0.5e-6
#: Share of the contract's slack that may stand in for the reserve (measured on a loaded 2-core
#: machine: with 0.5, runs at T = 10 s ended 0.06-0.17 s past the contract).
ABSORBED_SLACK = 0.25
#: Most sample entries (rows × variables) :func:`trim` keeps; at least one row always stays.
MAX_ENTRIES = 50_000


def slack(time_limit: float) -> float:
    """The contract's allowance past the limit: ``max(0.5 s, 5 % of T)`` (seconds)."""
    return max(0.5, 0.05 * float(time_limit))


def reserve_seconds(num_variables: int, rows: int = 1) -> float:
    """Seconds to keep back for inverting and evaluating ``rows`` samples of ``num_variables``."""
    n = max(0, num_variables)
    entries = min(max(1, rows) * n, max(MAX_ENTRIES, n))
    return BASE_RESERVE + RESERVE_PER_VARIABLE * n + RESERVE_PER_ENTRY * entries


@dataclass(frozen=True)
class Budget:
    """A backend run's deadline (``time.perf_counter()`` seconds; None: no limit)."""

    started: float
    deadline: float | None

    def left(self) -> float:
        """Seconds until the deadline (``inf`` without one; may be negative)."""
        return float("inf") if self.deadline is None else self.deadline - time.perf_counter()

    def expired(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def native_limit(self, share: float = 1.0, minimum: float = 0.01) -> float | None:
        """Seconds to hand a native solver now: ``share`` of what is left, at least ``minimum``."""
        if self.deadline is None:
            return None
        return max(minimum, share * self.left())


def start(time_limit: float | None, *, num_variables: int = 0, rows: int = 1,
          reserve: float | None = None) -> Budget:
    """The budget of a backend run that starts now.

    Args:
        time_limit: the ``time_limit`` the backend was given (seconds; None: no limit).
        num_variables, rows: the size of the sample array it will return (sets the reserve).
        reserve: seconds to keep back instead of :func:`reserve_seconds`.
    """
    now = time.perf_counter()
    if time_limit is None:
        return Budget(now, None)
    end = now + float(time_limit)
    keep = reserve_seconds(num_variables, rows) if reserve is None else float(reserve)
    # A quarter of the contract's slack may absorb the reserve (the rest is the margin for load,
    # for a last uninterruptible chunk and for compile time the façade did not announce); a tiny
    # limit still gets a quarter of itself for work.
    keep = min(max(0.0, keep - ABSORBED_SLACK * slack(float(time_limit))), 0.75 * float(time_limit))
    return Budget(now, end - keep)


def trim(samples: np.ndarray, energies: np.ndarray | None = None,
         max_entries: int = MAX_ENTRIES) -> np.ndarray:
    """Indices of the rows to return: all when small, else the lowest-energy ones (at least one).

    Keeps at most ``max_entries`` rows × variables, so the façade's evaluation stays cheap.
    """
    rows, cols = samples.shape if samples.ndim == 2 else (len(samples), 1)
    keep = max(1, max_entries // max(1, cols))
    if rows <= keep:
        return np.arange(rows)
    if energies is None:
        return np.arange(keep)
    return np.argsort(np.asarray(energies), kind="stable")[:keep]
