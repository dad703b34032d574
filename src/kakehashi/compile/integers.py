"""Encode integer and spin variables as binaries (pass ``integers_to_binaries``).

Log encoding (default): an integer x ∈ [lb, ub] with range R = ub − lb uses k = ⌊log2 R⌋ + 1
bits with coefficients 1, 2, 4, …, 2^(k−2) and a last coefficient R − (2^(k−1) − 1), so every
value in [lb, ub] and nothing outside it is representable ("bounded-coefficient" log encoding).
Unary encoding uses R bits of coefficient 1 (smoother landscapes for annealers, more variables).
A spin s becomes s = 2x − 1.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Literal

import dimod
import numpy as np
import scipy.sparse as sp

from kakehashi.compile.inverter import Inverter
from kakehashi.compile.poly import Affine
from kakehashi.exceptions import CompileError
from kakehashi.model.problem import Problem

Encoding = Literal["log", "unary"]

#: Integer ranges above this are refused for binary targets (too many bits to be useful).
MAX_INTEGER_RANGE = 2**20


def bit_label(v: Hashable, i: int) -> Hashable:
    """Label of the i-th bit encoding integer variable ``v``."""
    return ("_kk", "bit", v, i)


def coefficients(range_: int, encoding: Encoding = "log") -> list[int]:
    """Bit coefficients for an integer of range ``range_`` (ub − lb)."""
    if range_ <= 0:
        return []
    if encoding == "unary":
        return [1] * range_
    k = math.floor(math.log2(range_)) + 1
    coefs = [2**i for i in range(k - 1)]
    coefs.append(range_ - (2 ** (k - 1) - 1))
    return coefs


def encode_variables(
    problem: Problem, encoding: Encoding = "log"
) -> tuple[dict[Hashable, Affine], list[Hashable], Inverter, dict[str, int]]:
    """Affine binary encodings of every variable of ``problem``.

    Returns ``(encoding_map, binaries, inverter, stats)``: the expression of each original
    variable, the list of binary variables created (in order), the inverter from those
    binaries back to the original variables, and counts per vartype. REAL variables cannot
    be encoded exactly and raise :class:`CompileError`.
    """
    originals = problem.variables
    enc: dict[Hashable, Affine] = {}
    binaries: list[Hashable] = []
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    offset = np.zeros(len(originals))
    integral = np.zeros(len(originals), dtype=bool)
    stats = {"binary": 0, "spin": 0, "integer": 0, "bits": 0}
    for i, v in enumerate(originals):
        vt = problem.vartype(v)
        if vt is dimod.BINARY:
            enc[v] = (0.0, [(v, 1.0)])
            rows.append(i)
            cols.append(len(binaries))
            vals.append(1.0)
            binaries.append(v)
            stats["binary"] += 1
        elif vt is dimod.SPIN:
            enc[v] = (-1.0, [(v, 2.0)])
            rows.append(i)
            cols.append(len(binaries))
            vals.append(2.0)
            offset[i] = -1.0
            binaries.append(v)
            stats["spin"] += 1
        elif vt is dimod.INTEGER:
            lo, hi = problem.bounds(v)
            lb, ub = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
            if ub - lb > MAX_INTEGER_RANGE:
                raise CompileError(
                    f"integer variable {v!r} has range [{lb}, {ub}] (more than {MAX_INTEGER_RANGE} values); "
                    "tighten its bounds or use a MILP/MIQP backend"
                )
            terms: list[tuple[Hashable, float]] = []
            for k, c in enumerate(coefficients(ub - lb, encoding)):
                b = bit_label(v, k)
                terms.append((b, float(c)))
                rows.append(i)
                cols.append(len(binaries))
                vals.append(float(c))
                binaries.append(b)
            enc[v] = (float(lb), terms)
            offset[i] = float(lb)
            integral[i] = True
            stats["integer"] += 1
            stats["bits"] += len(terms)
        else:
            raise CompileError(
                f"variable {v!r} is continuous (REAL): binary targets cannot represent it; "
                "use a MILP/MIQP backend such as highs or scip"
            )
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(len(originals), len(binaries)))
    inverter = Inverter(
        original=tuple(originals), target=tuple(binaries), matrix=matrix, offset=offset, integral=integral
    )
    return enc, binaries, inverter, stats
