"""The way back from a compiled target to the original problem's variables.

Every pass kakehashi has (spin↔binary, integer encodings, slack variables, relabelling,
MILP identity) is an affine map from target columns to original variables, so one small
serialisable object covers them all and passes compose by matrix product:

    original = round_where_integer(offset + M @ target)

``M`` is sparse (n_original × n_target).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.model.serialize import decode_label, encode_label


@dataclass(frozen=True)
class Inverter:
    """Affine map from target samples to original samples.

    Attributes:
        original: the original problem's variables (output columns).
        target: the target's variables (input columns).
        matrix: sparse (len(original) × len(target)) coefficients.
        offset: (len(original),) constants.
        integral: (len(original),) bool: round these outputs to the nearest integer.
    """

    original: tuple[Hashable, ...]
    target: tuple[Hashable, ...]
    matrix: sp.csr_matrix
    offset: np.ndarray
    integral: np.ndarray

    @classmethod
    def identity(cls, variables: Sequence[Hashable], integral: Sequence[bool] | None = None) -> Inverter:
        n = len(variables)
        return cls(
            original=tuple(variables),
            target=tuple(variables),
            matrix=sp.identity(n, format="csr", dtype=np.float64),
            offset=np.zeros(n),
            integral=np.asarray(integral if integral is not None else [False] * n, dtype=bool),
        )

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """Map (k × n_target) target samples to (k × n_original) original samples."""
        X = np.atleast_2d(np.asarray(samples, dtype=np.float64))
        out = np.asarray((self.matrix @ X.T).T) + self.offset
        if self.integral.any():
            out[:, self.integral] = np.round(out[:, self.integral])
        return np.asarray(out)

    def then(self, inner: Inverter) -> Inverter:
        """Compose: ``self`` maps mid → original and ``inner`` maps target → mid."""
        if tuple(self.target) != tuple(inner.original):
            index = {v: i for i, v in enumerate(inner.original)}
            perm = [index[v] for v in self.target]
            inner_m = inner.matrix[perm]
            inner_off = inner.offset[perm]
        else:
            inner_m, inner_off = inner.matrix, inner.offset
        return Inverter(
            original=self.original,
            target=inner.target,
            matrix=(self.matrix @ inner_m).tocsr(),
            offset=self.offset + self.matrix @ inner_off,
            integral=self.integral,
        )

    def to_dict(self) -> dict[str, Any]:
        coo = self.matrix.tocoo()
        return {
            "original": [encode_label(v) for v in self.original],
            "target": [encode_label(v) for v in self.target],
            "entries": [
                [int(i), int(j), float(x)] for i, j, x in zip(coo.row, coo.col, coo.data, strict=True)
            ],
            "offset": self.offset.tolist(),
            "integral": self.integral.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inverter:
        original = tuple(decode_label(v) for v in data["original"])
        target = tuple(decode_label(v) for v in data["target"])
        entries = np.asarray(data["entries"], dtype=np.float64).reshape(-1, 3)
        matrix = sp.csr_matrix(
            (entries[:, 2], (entries[:, 0].astype(int), entries[:, 1].astype(int))),
            shape=(len(original), len(target)),
        )
        return cls(
            original=original,
            target=target,
            matrix=matrix,
            offset=np.asarray(data["offset"], dtype=np.float64),
            integral=np.asarray(data["integral"], dtype=bool),
        )
