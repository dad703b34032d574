"""MaxCut and balanced partitioning as thin apps over :mod:`kakehashi.model.readers.gset`.

* :func:`maxcut_problem`: the Gset reader's SPIN BQM (energy = cut value, maximised).
* :func:`partition_problem`: minimum-cut bisection, a CQM over BINARY sides ``x_v`` with
  Σ x_v = ⌊n/2⌋; cut(x) = Σ w_ij (x_i + x_j − 2 x_i x_j).
:func:`interpret_cut` turns a Result into the two sides and recomputes the cut from the edge
list, independent of the model.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path

import dimod
import numpy as np
from pydantic import BaseModel

from kakehashi.model.problem import Problem
from kakehashi.model.readers.gset import parse_edges
from kakehashi.model.readers.gset import read as read_gset
from kakehashi.result import Result

Graph = tuple[int, np.ndarray, np.ndarray, np.ndarray]


class CutAnswer(BaseModel):
    """The two sides of a cut (0-based vertices) and the cut weight recomputed from the edges."""

    side_a: list[int]
    side_b: list[int]
    cut: float
    balanced: bool


def read_graph(path: str | Path) -> Graph:
    """``(n, i, j, w)`` edge arrays of a Gset/rudy file (0-based)."""
    p = Path(path)
    return parse_edges(p.read_text(encoding="utf-8"), str(p))


def maxcut_problem(path: str | Path) -> Problem:
    """The MaxCut Problem of a Gset file (with ``known_optimum`` from best_known.csv)."""
    return read_gset(path)


def partition_problem(graph: Graph, name: str = "partition") -> Problem:
    """Balanced bisection minimising the cut weight."""
    n, i, j, w = graph
    bqm = dimod.BinaryQuadraticModel(dimod.BINARY)
    bqm.add_variables_from((v, 0.0) for v in range(n))
    for a, b, c in zip(i.tolist(), j.tolist(), w.tolist(), strict=True):
        bqm.add_linear(a, c)
        bqm.add_linear(b, c)
        bqm.add_quadratic(a, b, -2.0 * c)
    cqm = dimod.ConstrainedQuadraticModel.from_bqm(bqm)
    cqm.add_constraint_from_iterable([(v, 1.0) for v in range(n)], "==", float(n // 2), label="balance")
    return Problem(cqm, name=name, sense="min", metadata={"domain": "graphs", "kind": "partition", "n": n})


def cut_value(graph: Graph, side: np.ndarray) -> float:
    """Σ w_ij over edges whose ends lie on different sides (``side`` is 0/1 per vertex)."""
    _, i, j, w = graph
    return float(np.sum(w * (side[i] != side[j])))


def interpret_cut(result: Result, graph: Graph) -> CutAnswer:
    """The sides of a MaxCut (spins) or partition (binaries) Result, with the recomputed cut."""
    n = graph[0]
    sample: Mapping[Hashable, float] = result.sample
    side = np.array([1 if float(sample.get(v, 0.0)) > 0 else 0 for v in range(n)], dtype=int)
    a = np.flatnonzero(side == 0).tolist()
    b = np.flatnonzero(side == 1).tolist()
    return CutAnswer(side_a=a, side_b=b, cut=cut_value(graph, side), balanced=validate_partition(side))


def validate_partition(side: np.ndarray) -> bool:
    """True when the two sides differ in size by at most one vertex."""
    ones = int(np.sum(side))
    return abs(len(side) - 2 * ones) <= 1
