"""Deterministic Gset-style graphs of any size (rudy's families, re-implemented).

The Gset collection stops at 20,000 nodes only for a few toroidal graphs and holds no random
graph between 5,000 and 20,000 nodes in our data directory; benchmarks that need a MaxCut
instance of a given size build one here. Two families, as in Helmberg & Rendl's rudy calls:

* :func:`toroidal_grid`: a ``rows × cols`` 2-D torus (every node has 4 neighbours), weights
  ±1 drawn with equal probability (like G62–G81) or all 1 (``signed=False``, like G48–G50).
* :func:`random_sparse`: a uniform random graph with ``n`` nodes and about ``n · degree / 2``
  distinct edges (like G1–G5 at density 6%, or G22's 1%), weights 1 or ±1.
* :func:`planar_union`: the union of planar graphs on the same nodes (like G14–G21, G35–G42,
  G51–G54, G58–G59, which rudy builds as the union of two planar graphs: mean degree about 12).
  Each planar graph here is the Delaunay triangulation of uniform random points
  (``scipy.spatial.Delaunay``), not rudy's own planar generator.

Same arguments, same graph: the generator is ``numpy.random.default_rng(seed)`` and nothing else.
Graphs are ``(n, i, j, w)`` edge arrays (0-based, ``i < j``), the layout of
:func:`kakehashi.apps.graphs.maxcut.read_graph`; :func:`graph_problem` makes the MaxCut Problem.
"""

from __future__ import annotations

import numpy as np

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem
from kakehashi.model.readers.gset import maxcut_bqm

Graph = tuple[int, np.ndarray, np.ndarray, np.ndarray]


def _weights(rng: np.random.Generator, m: int, signed: bool) -> np.ndarray:
    if not signed:
        return np.ones(m)
    return rng.choice(np.array([-1.0, 1.0]), size=m)


def toroidal_grid(rows: int, cols: int, *, signed: bool = True, seed: int = 0) -> Graph:
    """A ``rows × cols`` torus: node ``r·cols + c`` joined to its right and lower neighbours (wrapping).

    Both sides must be at least 3 (smaller tori repeat edges). ``2 · rows · cols`` edges.
    """
    if rows < 3 or cols < 3:
        raise ModelError(f"a torus needs at least 3 rows and 3 columns, got {rows} × {cols}")
    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(rows * cols), cols)
    node = r * cols + c
    right = r * cols + (c + 1) % cols
    down = ((r + 1) % rows) * cols + c
    a = np.concatenate([node, node])
    b = np.concatenate([right, down])
    i, j = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((j, i))
    i, j = i[order], j[order]
    return rows * cols, i.astype(np.int64), j.astype(np.int64), _weights(rng, len(i), signed)


def random_sparse(n: int, degree: float, *, signed: bool = False, seed: int = 0) -> Graph:
    """A uniform random graph: ``round(n · degree / 2)`` distinct edges, no loops.

    ``degree`` is the mean degree (G1: 800 nodes at 6% density ≈ 47.9; G22: 2,000 nodes ≈ 20).
    """
    if n < 2:
        raise ModelError(f"a random graph needs at least 2 nodes, got {n}")
    m = round(n * degree / 2)
    if degree <= 0 or m > n * (n - 1) // 2:
        raise ModelError(f"mean degree must lie in (0, {n - 1}], got {degree}")
    rng = np.random.default_rng(seed)
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < m:  # draw pairs until m distinct ones are in hand
        a = rng.integers(0, n, size=2 * (m - len(keys)) + 16)
        b = rng.integers(0, n, size=len(a))
        keep = a != b
        lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
        fresh = lo.astype(np.int64) * n + hi
        keys = np.concatenate([keys, fresh[~np.isin(fresh, keys)]])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]  # keep draw order, drop repeats
    keys = np.sort(keys[:m])
    i, j = np.divmod(keys, n)
    return n, i, j, _weights(rng, m, signed)


def planar_union(n: int, copies: int = 2, *, signed: bool = False, seed: int = 0) -> Graph:
    """The union of ``copies`` Delaunay triangulations of ``n`` uniform random points each.

    Every triangulation is planar (about ``3n`` edges); their union on the same ``n`` node labels
    has about ``3n · copies`` distinct edges. Weights 1, or ±1 with ``signed=True``.
    """
    from scipy.spatial import Delaunay

    if n < 4 or copies < 1:
        raise ModelError(f"a planar union needs at least 4 nodes and 1 copy, got {n} nodes, {copies} copies")
    rng = np.random.default_rng(seed)
    keys = []
    for _ in range(copies):
        tri = Delaunay(rng.random((n, 2))).simplices
        for a, b in ((0, 1), (1, 2), (0, 2)):
            lo = np.minimum(tri[:, a], tri[:, b]).astype(np.int64)
            hi = np.maximum(tri[:, a], tri[:, b]).astype(np.int64)
            keys.append(lo * n + hi)
    uniq = np.unique(np.concatenate(keys))
    i, j = np.divmod(uniq, n)
    return n, i, j, _weights(rng, len(uniq), signed)


def graph_problem(graph: Graph, name: str) -> Problem:
    """The MaxCut :class:`Problem` (SPIN BQM, energy = cut value, maximised) of ``graph``."""
    n, i, j, w = graph
    metadata: dict[str, object] = {"format": "generated", "instance": name, "n": n, "m": len(w),
                                   "kind": "maxcut"}
    return Problem(maxcut_bqm(n, i, j, w), name=name, sense="max", metadata=metadata)

