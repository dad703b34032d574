"""Exhaustive search over small BQMs (<= 24 binaries), vectorised with numpy; proves optimality.

The variables are split into ``k`` low bits and ``n - k`` high bits. With ``x = (l, h)``::

    E(l, h) = offset + E_low(l) + E_high(h) + l · (C h)

where ``C`` couples low and high variables. ``E_low`` over all ``2^k`` low states and
``E_high`` over all high states are computed once; a block of high states then costs one
``(2^k × k) @ (k × b)`` matrix product. The ``num_states`` lowest states are kept with
``argpartition`` while the blocks stream by, and the time limit is checked between blocks.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from kakehashi.backends import budget
from kakehashi.backends.base import (
    Availability,
    BackendOutput,
    Capabilities,
    HardwareKind,
    Param,
    Termination,
    binary_bqm,
    check_params,
    check_target,
)
from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import BackendRejected

MAX_VARIABLES = 24
#: Low bits enumerated per block row: 2^16 states × 16 columns (8 MiB of float64).
LOW_BITS = 16
#: Energies evaluated per block (2^20 float64 = 8 MiB; a block is also the time-limit step).
BLOCK_STATES = 1 << 20

PARAMS: dict[str, Param] = {
    "num_states": Param(int, 16, "how many of the lowest-energy states to return, lowest first"),
}


def bits(count: int, width: int) -> np.ndarray:
    """All ``count`` states of ``width`` bits as a (count × width) float64 0/1 matrix, state i = bits of i."""
    idx = np.arange(count, dtype=np.int64)
    return ((idx[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.float64)


def dense_qubo(bqm: Any, variables: Sequence[Hashable]) -> tuple[np.ndarray, np.ndarray, float]:
    """(lin, S, offset) of a binary BQM with E(x) = offset + lin·x + ½ xᵀSx; S symmetric, zero diagonal."""
    n = len(variables)
    ldata, (irow, icol, qdata), offset = bqm.to_numpy_vectors(variable_order=list(variables))
    lin = np.asarray(ldata, dtype=np.float64).copy()
    S = np.zeros((n, n))
    np.add.at(S, (np.asarray(irow, dtype=np.int64), np.asarray(icol, dtype=np.int64)), np.asarray(qdata))
    S = S + S.T
    # x_i² = x_i for binaries: a self-loop (never produced by dimod, but cheap to honour) is linear.
    lin += 0.5 * np.diag(S)
    np.fill_diagonal(S, 0.0)
    return lin, S, float(offset)


def _energies(states: np.ndarray, lin: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Energies (without offset) of 0/1 rows under linear ``lin`` and symmetric ``S`` (½ xᵀSx)."""
    return np.asarray(states @ lin + 0.5 * np.einsum("ij,ij->i", states @ S, states))


class _Best:
    """The ``keep`` lowest (energy, index) pairs seen so far; ties go to the lower index."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.energy = np.zeros(0)
        self.index = np.zeros(0, dtype=np.int64)

    def offer(self, energy: np.ndarray, index: np.ndarray) -> None:
        if energy.size > self.keep:
            part = np.argpartition(energy, self.keep - 1)[: self.keep]
            energy, index = energy[part], index[part]
        e = np.concatenate([self.energy, energy])
        i = np.concatenate([self.index, index])
        order = np.lexsort((i, e))[: self.keep]
        self.energy, self.index = e[order], i[order]


class ExactBackend:
    """Exhaustive search over every state of a BQM with at most 24 variables; proves optimality."""

    name = "exact"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=(TargetKind.BQM,),
            hardware=HardwareKind.CPU,
            max_variables=MAX_VARIABLES,
            proves_optimality=True,
            honours_time_limit=True,
            honours_seed=True,
            params=PARAMS,
        )

    def available(self) -> Availability:
        return Availability.yes()

    def solve(
        self,
        compiled: Compiled[Any],
        *,
        time_limit: float | None,
        seed: int | None,
        params: Mapping[str, Any],
    ) -> BackendOutput:
        """Enumerate every state; return the ``num_states`` lowest, lowest first.

        ``seed`` is ignored (the search is deterministic). If ``time_limit`` (seconds) runs out
        between blocks the best states seen so far are returned with ``TIME_LIMIT``.
        """

        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        keep = int(opts["num_states"])
        if keep < 1:
            raise BackendRejected(f"{self.name}: num_states must be at least 1, got {keep}")
        plan = budget.start(time_limit, num_variables=compiled.num_variables, rows=keep)
        bqm = binary_bqm(self.name, compiled)
        start = plan.started
        deadline = plan.deadline
        n = compiled.num_variables
        lin, S, _ = dense_qubo(bqm, compiled.variables)

        k = min(n, LOW_BITS)
        low = bits(1 << k, k)
        e_low = _energies(low, lin[:k], S[:k, :k])
        high = bits(1 << (n - k), n - k)
        e_high = _energies(high, lin[k:], S[k:, k:])
        couple = high @ S[k:, :k]  # row h: the field the high state h puts on the low bits
        per_block = max(1, BLOCK_STATES >> k)
        best = _Best(keep)
        finished = True
        longest = 0.0  # seconds of the slowest block so far: stop before one would overrun
        for h0 in range(0, high.shape[0], per_block):
            began = time.perf_counter()
            if deadline is not None and h0 > 0 and began + longest >= deadline:
                finished = False
                break
            h1 = min(h0 + per_block, high.shape[0])
            block = e_low[:, None] + e_high[None, h0:h1] + low @ couple[h0:h1].T  # (2^k × b)
            energy = block.T.ravel()  # index (h, l) → h·2^k + l
            index = np.arange(h0 << k, h1 << k, dtype=np.int64)
            best.offer(energy, index)
            longest = max(longest, time.perf_counter() - began)

        samples = ((best.index[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.float64)
        energies = np.asarray(bqm.energies((samples, list(compiled.variables))), dtype=np.float64)
        order = np.lexsort((best.index, energies))
        return BackendOutput(
            samples=samples[order],
            termination=Termination.OPTIMAL if finished else Termination.TIME_LIMIT,
            solve_seconds=time.perf_counter() - start,
            energies=energies[order],
            bound=float(energies.min()) if finished and energies.size else None,
            info={"states_searched": (1 << n) if finished else int(h0 << k)},
        )
