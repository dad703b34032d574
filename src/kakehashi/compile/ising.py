"""BQM → Ising arrays (pass ``bqm_to_ising``): local fields h and sparse couplings J."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import dimod
import numpy as np
import scipy.sparse as sp

from kakehashi.compile.targets import IsingModel


def bqm_to_ising(bqm: dimod.BinaryQuadraticModel, order: Sequence[Hashable] | None = None) -> IsingModel:
    """The spin form of ``bqm`` as arrays, variables in ``order`` (default: the BQM's order).

    Energies are preserved exactly: E_ising(s) = E_bqm(x) with x = (s + 1) / 2.
    """
    spin = bqm.spin if bqm.vartype is dimod.BINARY else bqm
    variables = list(order) if order is not None else list(spin.variables)
    n = len(variables)
    h, (irow, icol, qdata), offset = spin.to_numpy_vectors(variable_order=variables)  # type: ignore[misc]
    lo = np.minimum(irow, icol)
    hi = np.maximum(irow, icol)
    J = sp.csr_matrix((np.asarray(qdata, dtype=np.float64), (lo, hi)), shape=(n, n))
    J.sum_duplicates()
    return IsingModel(h=np.asarray(h, dtype=np.float64), J=J, offset=float(offset))


def ising_to_bqm(model: IsingModel, variables: Sequence[Hashable]) -> dimod.BinaryQuadraticModel:
    """The SPIN BQM of an :class:`IsingModel` (for checks and dimod interoperability)."""
    coo = model.J.tocoo()
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        model.h, (coo.row, coo.col, coo.data), model.offset, dimod.SPIN, variable_order=list(variables)
    )
