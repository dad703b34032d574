"""Metrics with uncertainty, per (instance, backend, budget) and over a suite.

Definitions (``bk`` the suite's best-known value, ``ε`` the protocol's success threshold):

- quality at budget: the objective of each feasible run; the median with a bootstrap CI.
- gap to best known: ``(bk - f) / |bk|`` (max) or ``(f - bk) / |bk|`` (min); approximation
  ratio ``f / bk`` (max) or ``bk / f`` (min) where both are positive.
- success: a feasible run whose incumbent reaches the target ``(1 - ε)·bk`` (max) or
  ``(1 + ε)·bk`` (min); success probability ``p`` with a bootstrap CI.
- time to target (TTT) of a successful run: the first time in its incumbent series at target.
- TTS(99%): ``t_run · ln(0.01) / ln(1 - p)`` with ``t_run`` the mean wall time of a run
  (``t_run`` itself when ``p ≥ 0.99``; infinite, written ``null``, when ``p = 0``).
- Dolan–Moré performance profile over the suite's instances, for a cost ``c`` (TTS99, or
  ``1 + gap``): ``ρ_s(τ) = |{p : c_ps ≤ τ · min_s c_ps}| / |P|``.
- machine-seconds by hardware kind (wall time × legs) and the mean cost per run in yen at the
  pool's list prices (see :func:`summarize`).

Bootstrap: ``B`` resamples of the runs (with replacement), percentile interval, NumPy generator
seeded with ``seed``, so the same result file always gives the same intervals.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: Success probability TTS is computed for.
TTS_TARGET = 0.99
BOOTSTRAP = 1000
CONFIDENCE = 0.95


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def target(best_known: float, sense: str, epsilon: float) -> float:
    """The objective a run must reach to count as a success."""
    slack = epsilon * abs(best_known)
    return best_known - slack if sense == "max" else best_known + slack


def reaches(value: float, goal: float, sense: str, tol: float = 1e-9) -> bool:
    """``value`` is at least as good as ``goal`` (with a tiny absolute tolerance)."""
    return value >= goal - tol if sense == "max" else value <= goal + tol


def gap(value: float, best_known: float, sense: str) -> float:
    """Relative gap to best known (positive = worse); absolute when ``best_known`` is 0."""
    diff = best_known - value if sense == "max" else value - best_known
    return diff / abs(best_known) if best_known else diff


def ratio(value: float, best_known: float, sense: str) -> float | None:
    """Approximation ratio (1 = best known; < 1 worse) where both values are positive."""
    if value <= 0 or best_known <= 0:
        return None
    return value / best_known if sense == "max" else best_known / value


def time_to_target(series: Sequence[Sequence[float]], goal: float, sense: str) -> float | None:
    """First time (s) at which the incumbent series reaches ``goal`` (None if never)."""
    for t, v in series:
        if reaches(v, goal, sense):
            return float(t)
    return None


def tts(p: float, t_run: float, q: float = TTS_TARGET) -> float:
    """Time to solution with probability ``q``: ``t_run · ln(1-q)/ln(1-p)`` (inf when p = 0)."""
    if p <= 0:
        return math.inf
    if p >= q:
        return t_run
    return t_run * math.log(1 - q) / math.log(1 - p)


def _quantile(values: np.ndarray, q: float) -> float:
    """Inf-safe percentile (nearest rank on the sorted values)."""
    ordered = np.sort(values)
    k = min(len(ordered) - 1, max(0, math.floor(q * (len(ordered) - 1) + 0.5)))
    return float(ordered[k])


def bootstrap(data: np.ndarray, stat: Callable[[np.ndarray], float], *, seed: int = 0,
              resamples: int = BOOTSTRAP, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap CI of ``stat`` over the rows of ``data``."""
    rng = np.random.default_rng(seed)
    n = len(data)
    stats = np.array([stat(data[rng.integers(0, n, n)]) for _ in range(resamples)])
    alpha = (1 - confidence) / 2
    return _quantile(stats, alpha), _quantile(stats, 1 - alpha)


def group_metrics(runs: list[dict[str, Any]], *, best_known: float | None, sense: str, epsilon: float,
                  seed: int = 0) -> dict[str, Any]:
    """Metrics of the runs of one (instance, backend, budget) cell group."""
    n = len(runs)
    feasible = [r for r in runs if r.get("feasible") and r.get("objective") is not None]
    objs = np.array([float(r["objective"]) for r in feasible])
    walls = np.array([float(r.get("wall_s") or 0.0) for r in runs])
    out: dict[str, Any] = {"runs": n, "feasible_runs": len(feasible),
                           "errors": sum(1 for r in runs if r.get("status") == "ERROR"),
                           "mean_wall_s": float(walls.mean()) if n else None,
                           "max_wall_s": float(walls.max()) if n else None}
    if len(objs):
        best = float(objs.max() if sense == "max" else objs.min())
        lo, hi = bootstrap(objs, lambda a: float(np.median(a)), seed=seed)
        out.update({"best": best, "median": float(np.median(objs)), "median_ci": [lo, hi],
                    "worst": float(objs.min() if sense == "max" else objs.max())})
    if best_known is None or not n:
        return out
    goal = target(best_known, sense, epsilon)
    out["target"] = goal
    if len(objs):
        gaps = np.array([gap(v, best_known, sense) for v in objs])
        out["median_gap"] = float(np.median(gaps))
        out["median_gap_ci"] = list(bootstrap(gaps, lambda a: float(np.median(a)), seed=seed))
        out["best_gap"] = float(gaps.min())
        out["median_ratio"] = ratio(float(np.median(objs)), best_known, sense)
    ttts: list[float | None] = []
    for r in runs:
        series = r.get("trajectory") or []
        hit = time_to_target(series, goal, sense) if r.get("feasible") else None
        ttts.append(hit)
    success = np.array([t is not None for t in ttts], dtype=float)
    p = float(success.mean())
    both = np.column_stack([success, walls])
    out["successes"] = int(success.sum())
    out["success_p"] = p
    out["success_p_ci"] = list(bootstrap(success, lambda a: float(a.mean()), seed=seed))
    t_run = float(walls.mean())
    estimate = tts(p, t_run)
    lo, hi = bootstrap(both, lambda a: tts(float(a[:, 0].mean()), float(a[:, 1].mean())), seed=seed)
    out["tts99"] = _finite(estimate)
    out["tts99_ci"] = [_finite(lo), _finite(hi)]
    hits = np.array([t for t in ttts if t is not None])
    if len(hits):
        out["median_ttt"] = float(np.median(hits))
        out["median_ttt_ci"] = list(bootstrap(hits, lambda a: float(np.median(a)), seed=seed))
    return out


def performance_profile(costs: dict[str, dict[str, float]], taus: Sequence[float] | None = None) -> dict[str, Any]:
    """Dolan–Moré profile. ``costs[instance][backend]`` (``inf`` = failed); returns τ and ρ_s(τ)."""
    instances = sorted(costs)
    backends = sorted({b for c in costs.values() for b in c})
    ratios: dict[str, list[float]] = {b: [] for b in backends}
    for inst in instances:
        row = costs[inst]
        finite = [v for v in row.values() if math.isfinite(v)]
        best = min(finite) if finite else math.inf
        for b in backends:
            v = row.get(b, math.inf)
            if not math.isfinite(v) or not math.isfinite(best):
                ratios[b].append(math.inf)
            else:
                ratios[b].append(v / best if best > 0 else (1.0 if v <= 0 else math.inf))
    finite_r = [r for rs in ratios.values() for r in rs if math.isfinite(r)]
    top = max([*finite_r, 1.0])
    if taus is None:
        taus = [float(t) for t in np.unique(np.concatenate([[1.0], np.geomspace(1.0, max(top, 1.0001) * 1.05, 40)]))]
    rho = {b: [sum(1 for r in ratios[b] if r <= tau * (1 + 1e-12)) / max(1, len(instances)) for tau in taus]
           for b in backends}
    return {"instances": instances, "taus": list(taus), "rho": rho,
            "ratios": {b: [_finite(r) for r in rs] for b, rs in ratios.items()}}


def prices_from_pool(path: str | None) -> tuple[dict[str, float], str]:
    """Yen per machine-second by backend from a pool file (the first machine running it wins).

    Without a file: the local pool (this machine, 0 yen/s). Returns the prices and their source.
    """
    from kakehashi.pool.config import load_pool, local_pool

    pool = load_pool(path) if path else local_pool()
    prices: dict[str, float] = {}
    for machine in pool.machines:
        for backend in machine.backends:
            prices.setdefault(backend, float(machine.price_yen_per_second))
    return prices, (str(path) if path else "local pool (0 yen/s)")


def run_machine_seconds(run: dict[str, Any]) -> float:
    """Machine-seconds a run held: its measured wall time × its legs (a race holds one slot per leg).

    An upper bound on what the solve itself used, but it charges runs that timed out or failed
    (whose ``timings.solve`` is 0) for the time they really held the machine.
    """
    return float(run.get("wall_s") or 0.0) * max(1, len(run.get("legs") or []))


def machine_seconds(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Machine-seconds (see :func:`run_machine_seconds`) summed by hardware kind over ``runs``."""
    out: dict[str, float] = defaultdict(float)
    for r in runs:
        out[str(r.get("hardware") or "cpu")] += run_machine_seconds(r)
    return dict(out)


def summarize(doc: dict[str, Any], *, seed: int = 0, pool: str | None = None) -> dict[str, Any]:
    """Every metric of a result document: per group, and profiles per budget.

    Cost: each run's machine-seconds × the yen-per-second price of the backend it ran on
    (``backend_used``) in ``pool`` (default: the local pool, free); reported as the mean per run.
    """
    prices, price_source = prices_from_pool(pool)
    suite = doc["suite"]
    sense = suite["sense"]
    epsilon = float(suite["protocol"]["epsilon"])
    best = {i["id"]: i.get("best_known") for i in suite["instances"]}
    groups: dict[tuple[str, str, float], list[dict[str, Any]]] = defaultdict(list)
    for r in doc["runs"]:
        groups[(r["instance"], r["backend"], float(r["budget"]))].append(r)
    rows = []
    for (inst, backend, budget), runs in sorted(groups.items()):
        m = group_metrics(runs, best_known=best.get(inst), sense=sense, epsilon=epsilon, seed=seed)
        m["machine_seconds"] = machine_seconds(runs)
        costs = [run_machine_seconds(r) * prices.get(str(r.get("backend_used") or r["backend"]), 0.0) for r in runs]
        m["mean_cost_yen"] = sum(costs) / len(costs) if costs else None
        rows.append({"instance": inst, "backend": backend, "budget": budget,
                     "best_known": best.get(inst),
                     "instance_specific": any(r.get("instance_specific") for r in runs), **m})
    profiles: dict[str, dict[str, Any]] = {"tts99": {}, "quality": {}}
    for budget in sorted({r["budget"] for r in rows}):
        tts_cost: dict[str, dict[str, float]] = defaultdict(dict)
        q_cost: dict[str, dict[str, float]] = defaultdict(dict)
        for r in rows:
            if r["budget"] != budget or r.get("best_known") is None:
                continue
            t = r.get("tts99")
            tts_cost[r["instance"]][r["backend"]] = math.inf if t is None else float(t)
            g = r.get("median_gap")
            q_cost[r["instance"]][r["backend"]] = math.inf if g is None else 1.0 + max(0.0, float(g))
        if tts_cost:
            profiles["tts99"][f"{budget:g}"] = performance_profile(tts_cost)
            profiles["quality"][f"{budget:g}"] = performance_profile(q_cost)
    return {"epsilon": epsilon, "sense": sense, "tts_target": TTS_TARGET, "bootstrap": BOOTSTRAP,
            "prices_yen_per_second": prices, "price_source": price_source,
            "confidence": CONFIDENCE, "seed": seed, "groups": rows, "profiles": profiles}
