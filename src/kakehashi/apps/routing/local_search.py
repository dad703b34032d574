"""Classical CVRP local search used to tidy up the hybrid route (pure Python, one core).

Neighbourhoods (first improvement, repeated until none improves):

* intra-route 2-opt and relocate (or-opt of one customer),
* relocate of one customer into another route,
* swap of two customers between routes,
* 2-opt* (exchange the tails of two routes, both orientations).

Capacity excess is allowed during the search but priced at ``penalty`` per demand unit over
capacity (default: the longest distance in the instance, so any excess costs more than any
edge); the number of routes never exceeds the fleet size (routes are a fixed list of ``k``
slots, some possibly empty). :func:`iterated_local_search` adds ruin-and-recreate
perturbations (remove a customer and its nearest neighbours, reinsert each at its cheapest
position) with a threshold acceptance that tightens to zero by the deadline, and returns the
best capacity-feasible routing it met (or the least-excess one when none was feasible).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Sequence

import numpy as np

Routes = list[list[int]]


class _Ctx:
    """Distances as nested lists (fast scalar access), demands, capacity, excess penalty."""

    def __init__(self, d: np.ndarray, demand: np.ndarray, capacity: int | None, penalty: float | None) -> None:
        self.D: list[list[float]] = np.asarray(d, dtype=float).tolist()
        self.dem: list[int] = [int(x) for x in demand]
        self.cap = int(capacity) if capacity is not None else 10**18
        self.P = float(penalty) if penalty is not None else float(np.max(d)) + 1.0
        order = np.argsort(np.asarray(d, dtype=float), axis=1)
        self.near: list[list[int]] = [[int(j) for j in row if j != i and j != 0] for i, row in enumerate(order)]

    def exc(self, load: int) -> int:
        return load - self.cap if load > self.cap else 0


def route_length(D: list[list[float]], r: Sequence[int]) -> float:
    """Length of depot → r → depot."""
    if not r:
        return 0.0
    s = D[0][r[0]] + D[r[-1]][0]
    for a, b in itertools.pairwise(r):
        s += D[a][b]
    return s


def total_cost(ctx: _Ctx, routes: Routes) -> float:
    """Length plus penalised capacity excess."""
    return sum(route_length(ctx.D, r) + ctx.P * ctx.exc(sum(ctx.dem[v] for v in r)) for r in routes)


def _two_opt_intra(D: list[list[float]], r: list[int]) -> bool:
    path = [0, *r, 0]
    improved_any = False
    improved = True
    while improved:
        improved = False
        for i in range(1, len(path) - 2):
            a, b = path[i - 1], path[i]
            dab = D[a][b]
            for j in range(i + 1, len(path) - 1):
                c, e = path[j], path[j + 1]
                if D[a][c] + D[b][e] < dab + D[c][e] - 1e-9:
                    path[i:j + 1] = path[i:j + 1][::-1]
                    improved = improved_any = True
                    break
            if improved:
                break
    r[:] = path[1:-1]
    return improved_any


def _best_insertion(D: list[list[float]], r: Sequence[int], v: int) -> tuple[float, int]:
    """Cheapest insertion cost of ``v`` into route ``r`` and the position."""
    best, pos = float("inf"), 0
    prev = 0
    for q in range(len(r) + 1):
        nxt = r[q] if q < len(r) else 0
        c = D[prev][v] + D[v][nxt] - D[prev][nxt]
        if c < best:
            best, pos = c, q
        prev = nxt
    return best, pos


def _relocate(ctx: _Ctx, routes: Routes, loads: list[int]) -> bool:
    D, dem = ctx.D, ctx.dem
    for a in range(len(routes)):
        ra = routes[a]
        pos = 0
        while pos < len(ra):
            v = ra[pos]
            prev = ra[pos - 1] if pos > 0 else 0
            nxt = ra[pos + 1] if pos + 1 < len(ra) else 0
            gain = D[prev][v] + D[v][nxt] - D[prev][nxt]
            dv = dem[v]
            pen_a = ctx.P * (ctx.exc(loads[a] - dv) - ctx.exc(loads[a]))
            best = (-1e-9, -1, -1)
            empty_tried = False
            for b in range(len(routes)):
                rb = routes[b]
                if b == a:
                    rest = ra[:pos] + ra[pos + 1:]
                    ins, q = _best_insertion(D, rest, v)
                    delta = ins - gain
                else:
                    if not rb:
                        if empty_tried:
                            continue
                        empty_tried = True
                    pen_b = ctx.P * (ctx.exc(loads[b] + dv) - ctx.exc(loads[b]))
                    base = pen_a + pen_b - gain
                    if base >= best[0] and base >= 0:
                        continue
                    ins, q = _best_insertion(D, rb, v)
                    delta = base + ins
                if delta < best[0]:
                    best = (delta, b, q)
            if best[1] >= 0:
                _, b, q = best
                if b == a:
                    ra.pop(pos)
                    ra.insert(q, v)
                else:
                    ra.pop(pos)
                    routes[b].insert(q, v)
                    loads[a] -= dv
                    loads[b] += dv
                return True
            pos += 1
    return False


def _swap(ctx: _Ctx, routes: Routes, loads: list[int]) -> bool:
    D, dem = ctx.D, ctx.dem
    for a in range(len(routes)):
        ra = routes[a]
        for b in range(a + 1, len(routes)):
            rb = routes[b]
            if not ra or not rb:
                continue
            for i, v in enumerate(ra):
                pa = ra[i - 1] if i > 0 else 0
                na = ra[i + 1] if i + 1 < len(ra) else 0
                out_a = D[pa][v] + D[v][na]
                dv = dem[v]
                for j, w in enumerate(rb):
                    dw = dem[w]
                    pb = rb[j - 1] if j > 0 else 0
                    nb = rb[j + 1] if j + 1 < len(rb) else 0
                    delta = (D[pa][w] + D[w][na] - out_a + D[pb][v] + D[v][nb] - D[pb][w] - D[w][nb])
                    if dv != dw:
                        delta += ctx.P * (ctx.exc(loads[a] - dv + dw) - ctx.exc(loads[a])
                                          + ctx.exc(loads[b] - dw + dv) - ctx.exc(loads[b]))
                    if delta < -1e-9:
                        ra[i], rb[j] = w, v
                        loads[a] += dw - dv
                        loads[b] += dv - dw
                        return True
    return False


def _two_opt_star(ctx: _Ctx, routes: Routes, loads: list[int]) -> bool:
    D, dem = ctx.D, ctx.dem
    for a in range(len(routes)):
        ra = routes[a]
        for b in range(a + 1, len(routes)):
            rb = routes[b]
            if not ra and not rb:
                continue
            xa = [0, *ra, 0]
            xb = [0, *rb, 0]
            pre_a = [0]
            for v in ra:
                pre_a.append(pre_a[-1] + dem[v])
            pre_b = [0]
            for v in rb:
                pre_b.append(pre_b[-1] + dem[v])
            la, lb = loads[a], loads[b]
            base_pen = ctx.exc(la) + ctx.exc(lb)
            for i in range(len(ra) + 1):  # a keeps ra[:i]
                x0, x1 = xa[i], xa[i + 1]
                dx = D[x0][x1]
                for j in range(len(rb) + 1):  # b keeps rb[:j]
                    y0, y1 = xb[j], xb[j + 1]
                    old = dx + D[y0][y1]
                    # variant 1: a' = ra[:i] + rb[j:], b' = rb[:j] + ra[i:]
                    d1 = D[x0][y1] + D[y0][x1] - old
                    n_a1 = pre_a[i] + lb - pre_b[j]
                    n_b1 = pre_b[j] + la - pre_a[i]
                    p1 = ctx.P * (ctx.exc(n_a1) + ctx.exc(n_b1) - base_pen)
                    # variant 2: a' = ra[:i] + reversed(rb[:j]), b' = reversed(ra[i:]) + rb[j:]
                    d2 = D[x0][y0] + D[x1][y1] - old
                    n_a2 = pre_a[i] + pre_b[j]
                    n_b2 = la - pre_a[i] + lb - pre_b[j]
                    p2 = ctx.P * (ctx.exc(n_a2) + ctx.exc(n_b2) - base_pen)
                    if d1 + p1 < -1e-9 and d1 + p1 <= d2 + p2:
                        routes[a] = ra[:i] + rb[j:]
                        routes[b] = rb[:j] + ra[i:]
                        loads[a], loads[b] = n_a1, n_b1
                        return True
                    if d2 + p2 < -1e-9:
                        routes[a] = ra[:i] + rb[:j][::-1]
                        routes[b] = ra[i:][::-1] + rb[j:]
                        loads[a], loads[b] = n_a2, n_b2
                        return True
    return False


def _descend(ctx: _Ctx, routes: Routes, deadline: float) -> None:
    loads = [sum(ctx.dem[v] for v in r) for r in routes]
    for r in routes:
        _two_opt_intra(ctx.D, r)
    while time.perf_counter() < deadline:
        if _relocate(ctx, routes, loads) or _swap(ctx, routes, loads) or _two_opt_star(ctx, routes, loads):
            continue
        if any(_two_opt_intra(ctx.D, r) for r in routes):
            continue
        break


def local_search(d: np.ndarray, demand: np.ndarray, capacity: int | None, routes: Sequence[Sequence[int]], *,
                 fleet: int | None = None, penalty: float | None = None, deadline: float | None = None) -> Routes:
    """One descent to a local optimum of the neighbourhoods above; returns the non-empty routes."""
    ctx = _Ctx(d, demand, capacity, penalty)
    work = [list(r) for r in routes]
    while fleet is not None and len(work) < fleet:
        work.append([])
    _descend(ctx, work, deadline if deadline is not None else float("inf"))
    return [r for r in work if r]


def _ruin_recreate(ctx: _Ctx, routes: Routes, rng: random.Random, n_remove: int) -> Routes:
    customers = [v for r in routes for v in r]
    seed_v = rng.choice(customers)
    removed = {seed_v, *ctx.near[seed_v][: n_remove - 1]}
    new = [[v for v in r if v not in removed] for r in routes]
    loads = [sum(ctx.dem[v] for v in r) for r in new]
    order = list(removed)
    rng.shuffle(order)
    order.sort(key=lambda v: -ctx.dem[v] if rng.random() < 0.5 else 0)
    for v in order:
        best = (float("inf"), 0, 0)
        for b, rb in enumerate(new):
            ins, q = _best_insertion(ctx.D, rb, v)
            c = ins + ctx.P * (ctx.exc(loads[b] + ctx.dem[v]) - ctx.exc(loads[b]))
            if c < best[0]:
                best = (c, b, q)
        _, b, q = best
        new[b].insert(q, v)
        loads[b] += ctx.dem[v]
    return new


def iterated_local_search(d: np.ndarray, demand: np.ndarray, capacity: int | None,
                          routes: Sequence[Sequence[int]], *, fleet: int | None, seconds: float,
                          seed: int | None = None, penalty: float | None = None) -> tuple[Routes, dict[str, float]]:
    """Local search, then ruin-and-recreate + local search until ``seconds`` have passed.

    Returns the best routes (capacity-feasible when any feasible routing was met) and stats:
    iterations run and the cost of the first local optimum.
    """
    t_end = time.perf_counter() + max(0.0, seconds)
    ctx = _Ctx(d, demand, capacity, penalty)
    rng = random.Random(seed)
    cur = [list(r) for r in routes]
    while fleet is not None and len(cur) < fleet:
        cur.append([])
    if fleet is None:
        cur.append([])
    _descend(ctx, cur, t_end)
    cur_cost = total_cost(ctx, cur)
    first = cur_cost

    def feasible(rs: Routes) -> bool:
        return all(sum(ctx.dem[v] for v in r) <= ctx.cap for r in rs)

    best = [list(r) for r in cur]
    best_key = (not feasible(cur), cur_cost)
    n = sum(len(r) for r in cur)
    it = 0
    t0 = time.perf_counter()
    span = max(1e-9, t_end - t0)
    while time.perf_counter() < t_end and n > 2:
        it += 1
        k = rng.randint(2, max(3, min(n // 4, 15)))
        cand = _ruin_recreate(ctx, cur, rng, k)
        if fleet is None and all(cand):
            cand.append([])
        _descend(ctx, cand, t_end)
        cost = total_cost(ctx, cand)
        thr = 0.01 * max(0.0, 1.0 - (time.perf_counter() - t0) / span)
        if cost < cur_cost * (1.0 + thr):
            cur, cur_cost = cand, cost
            key = (not feasible(cur), cur_cost)
            if key < best_key:
                best, best_key = [list(r) for r in cur], key
    return [r for r in best if r], {"ils_iterations": float(it), "first_local_optimum": first}
