"""Incumbents: how a running backend tells the façade its best answer so far.

A backend that improves its best sample calls :func:`report_incumbent` with that sample (in
``compiled.variables`` order, the same layout as a row of ``BackendOutput.samples``) and its
target energy. The call is a no-op costing one context-variable lookup when nobody listens, so
engines may call it at every improvement they notice between kernel chunks.

The façade (:mod:`kakehashi.solver`) installs a sink around ``backend.solve`` with
:func:`listening`: it records the best-so-far trajectory (energy against seconds) for the
``Result``, and in a race leg it forwards the incumbent to the parent process, so that a leg
stopped at the time limit still returns the best answer it had (never TIMEOUT without one).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import numpy as np


class IncumbentSink(Protocol):
    """Receives a backend's improving samples while it runs."""

    def __call__(self, sample: np.ndarray, energy: float) -> None:
        """``sample``: one row in target-variable order; ``energy``: its target objective."""


_SINK: contextvars.ContextVar[IncumbentSink | None] = contextvars.ContextVar("kakehashi_incumbent_sink",
                                                                             default=None)


def report_incumbent(sample: np.ndarray, energy: float) -> None:
    """Tell whoever listens that ``sample`` (target order) with target ``energy`` is the best so far.

    Call it only with an improvement (lower energy than the last report); the sink may copy the
    array. Cheap when no sink is installed.
    """
    sink = _SINK.get()
    if sink is not None:
        sink(sample, float(energy))


def listening() -> bool:
    """True when a sink is installed (an engine may skip building a report otherwise)."""
    return _SINK.get() is not None


@contextmanager
def incumbent_sink(sink: IncumbentSink) -> Iterator[None]:
    """Install ``sink`` for the code run inside the ``with`` block (this thread/context only)."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)
