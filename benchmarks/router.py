"""Learned-router benchmark: fit on raced history, evaluate ``auto`` on held-out instances.

Run ``python benchmarks/router.py`` (about 5-10 minutes on two cores; ``--quick`` for a smoke run).
Writes ``benchmarks/results/router_history.jsonl`` (the training history), ``router.md`` (table,
command, machine, versions) and ``router.csv`` (one row per held-out instance).

Method:
- Problem classes (all built with dimod, seeded): MaxCut on random graphs and on Gset subgraphs
  (induced on the first k vertices of G1/G14 for training, G22/G39 held out; needs ``KAKEHASHI_DATA_DIR``, else random
  graphs only); knapsack (MILP); cardinality-constrained portfolio selection (quadratic
  objective, one equality); small TSP routing as a one-hot assignment CQM (quadratic objective,
  equalities); unit commitment with on/off binaries and continuous power (MILP with reals).
- Training (a): every candidate backend that fits a training instance runs on it alone with the
  fixed budget ``--time-limit`` and a fixed seed; the legs form one race whose
  :func:`kakehashi.learn.records_from_result` records make the history.
- Evaluation (b): held-out instances (different seeds and sizes than training). Each candidate
  runs alone with the same budget and seed ("single backends"); then
  ``kakehashi.solve(problem, "auto", time_limit=T, seed=s)`` with ``KAKEHASHI_ROUTER_HISTORY``
  pointing at the history. ``auto`` passes when its objective is within 1 % of the best single
  backend's (relative to |best|, in the problem's sense) and ``Result.info["route"]`` names the
  backends it raced.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata as md
import itertools
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import dimod
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import kakehashi  # noqa: E402
from kakehashi.exceptions import KakehashiError  # noqa: E402
from kakehashi.inspection import features, fits  # noqa: E402
from kakehashi.learn.features import problem_class  # noqa: E402
from kakehashi.learn.history import records_from_result, write_history  # noqa: E402
from kakehashi.model.problem import Problem  # noqa: E402
from kakehashi.model.readers.gset import maxcut_bqm, parse_edges  # noqa: E402
from kakehashi.result import LegOutcome, Result, Status  # noqa: E402
from kakehashi.solver import run_backend  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
#: The backends raced in training and in the "best single backend" baseline.
CANDIDATES = ("exact", "highs", "scip", "sa", "tabu", "steepest", "anneal", "sb")


# ----------------------------------------------------------------------------- instances
def random_maxcut(n: int, p: float, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(n, 1)
    keep = rng.random(len(iu[0])) < p
    w = rng.choice([-1.0, 1.0], keep.sum()) if seed % 2 else np.ones(keep.sum())
    return Problem(maxcut_bqm(n, iu[0][keep], iu[1][keep], w), name=f"maxcut-n{n}-p{p}-s{seed}", sense="max")


def gset_maxcut(data: Path, graph: str, k: int) -> Problem | None:
    path = data / "gset" / f"{graph}.txt"
    if not path.is_file():
        return None
    _, i, j, w = parse_edges(path.read_text(), str(path))
    keep = (i < k) & (j < k)
    return Problem(maxcut_bqm(k, i[keep], j[keep], w[keep]), name=f"{graph}-first{k}", sense="max")


def knapsack(n: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    values, weights = rng.integers(5, 60, n), rng.integers(5, 40, n)
    cqm = dimod.ConstrainedQuadraticModel()
    x = [dimod.Binary(f"x{i}") for i in range(n)]
    cqm.set_objective(dimod.quicksum(int(v) * xi for v, xi in zip(values, x, strict=True)))
    cqm.add_constraint(dimod.quicksum(int(w) * xi for w, xi in zip(weights, x, strict=True)) <= int(weights.sum() * 0.4),
                       label="capacity")
    return Problem(cqm, name=f"knapsack-n{n}-s{seed}", sense="max")


def portfolio(n: int, k: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    mu = rng.uniform(0.0, 0.2, n)
    f = rng.normal(size=(n, 3))
    cov = 0.02 * (f @ f.T) / 3 + np.diag(rng.uniform(0.005, 0.03, n))
    lam = 2.0
    x = [dimod.Binary(f"a{i}") for i in range(n)]
    obj = dimod.quicksum(-float(mu[i]) * x[i] for i in range(n))
    obj += dimod.quicksum(lam * float(cov[i, j]) * (1 if i == j else 2) * x[i] * x[j]
                          for i in range(n) for j in range(i, n))
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(obj)
    cqm.add_constraint(dimod.quicksum(x) == k, label="cardinality")
    return Problem(cqm, name=f"portfolio-n{n}-k{k}-s{seed}", sense="min")


def tsp(n: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 100, (n, 2))
    d = np.rint(np.linalg.norm(pts[:, None] - pts[None], axis=2))
    x = {(c, t): dimod.Binary(f"x{c}_{t}") for c in range(n) for t in range(n)}
    obj = dimod.quicksum(float(d[a, b]) * x[a, t] * x[b, (t + 1) % n]
                         for a, b in itertools.permutations(range(n), 2) for t in range(n))
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(obj)
    for c in range(n):
        cqm.add_constraint(dimod.quicksum(x[c, t] for t in range(n)) == 1, label=f"city{c}")
    for t in range(n):
        cqm.add_constraint(dimod.quicksum(x[c, t] for c in range(n)) == 1, label=f"slot{t}")
    return Problem(cqm, name=f"tsp-n{n}-s{seed}", sense="min")


def unit_commitment(units: int, hours: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    pmin, pmax = rng.uniform(10, 40, units), rng.uniform(80, 200, units)
    fixed, marginal = rng.uniform(100, 500, units), rng.uniform(10, 40, units)
    demand = rng.uniform(0.3, 0.7, hours) * pmax.sum()
    cqm = dimod.ConstrainedQuadraticModel()
    on = {(u, t): dimod.Binary(f"on{u}_{t}") for u in range(units) for t in range(hours)}
    p = {(u, t): dimod.Real(f"p{u}_{t}", lower_bound=0, upper_bound=float(pmax[u])) for u in range(units) for t in range(hours)}
    cqm.set_objective(dimod.quicksum(float(fixed[u]) * on[u, t] + float(marginal[u]) * p[u, t]
                                     for u in range(units) for t in range(hours)))
    for t in range(hours):
        cqm.add_constraint(dimod.quicksum(p[u, t] for u in range(units)) >= float(demand[t]), label=f"demand{t}")
        for u in range(units):
            cqm.add_constraint(p[u, t] - float(pmax[u]) * on[u, t] <= 0, label=f"max{u}_{t}")
            cqm.add_constraint(p[u, t] - float(pmin[u]) * on[u, t] >= 0, label=f"min{u}_{t}")
    return Problem(cqm, name=f"uc-u{units}-h{hours}-s{seed}", sense="min")


def instances(split: str, data: Path | None, quick: bool) -> list[Problem]:
    """Training (``train``) or held-out (``test``) instances; disjoint seeds and sizes."""
    off = 0 if split == "train" else 1000
    out: list[Problem] = []
    sizes = [40, 70, 100, 150, 200, 240] if split == "train" else [50, 85, 120, 180, 220, 260]
    for k, n in enumerate(sizes):
        out.append(random_maxcut(n, 0.1 if k % 2 else 0.3, off + k))
        out.append(random_maxcut(n // 2 + 5, 0.5, off + 10 + k))
    out.append(random_maxcut(16 if split == "train" else 18, 0.5, off + 20))
    if data is not None:
        graphs = ("G1", "G14") if split == "train" else ("G22", "G39")
        for g, k in itertools.product(graphs, (60, 120)):
            prob = gset_maxcut(data, g, k + (0 if split == "train" else 10))
            if prob is not None:
                out.append(prob)
    out += [knapsack(n, off + n) for n in ((20, 40, 80, 120) if split == "train" else (30, 50, 60, 100, 150))]
    out += [portfolio(n, n // 4, off + n) for n in ((12, 20, 30, 40) if split == "train" else (16, 24, 32, 44))]
    out += [tsp(n, off + n) for n in ((4, 5, 6) if split == "train" else (5, 6, 7))]
    out += [unit_commitment(u, h, off + u * h)
            for u, h in (((3, 4), (4, 6), (5, 8), (6, 10)) if split == "train" else ((3, 6), (4, 8), (6, 6), (5, 12)))]
    return out[:12] if quick else out


# ----------------------------------------------------------------------------- running
def eligible(problem: Problem) -> list[str]:
    ok = fits(problem)["backends"]
    return [b for b in CANDIDATES if ok.get(b, {}).get("ok")]


def single(problem: Problem, backend: str, time_limit: float, seed: int) -> Result:
    t0 = time.perf_counter()
    try:
        return run_backend(problem, backend, time_limit=time_limit, seed=seed)
    except KakehashiError as exc:
        leg = LegOutcome(backend, Status.ERROR, None, False, time.perf_counter() - t0, str(exc))
        return Result(status=Status.ERROR, problem=problem.name, sense=problem.sense, legs=[leg], error=str(exc))


def race_all(problem: Problem, time_limit: float, seed: int) -> tuple[Result, dict[str, Result]]:
    runs = {b: single(problem, b, time_limit, seed) for b in eligible(problem)}
    legs = [leg for r in runs.values() for leg in r.legs]
    return Result(status=Status.FEASIBLE, problem=problem.name, sense=problem.sense, legs=legs), runs


def better(a: float, b: float, sense: str) -> bool:
    return a < b if sense == "min" else a > b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--time-limit", type=float, default=1.0, help="budget per backend (seconds)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a few instances only (smoke run)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    env = os.environ.get("KAKEHASHI_DATA_DIR")
    data = Path(env) if env else REPO.parent / "shared" / "data"
    data_dir = data if data.is_dir() else None
    RESULTS.mkdir(parents=True, exist_ok=True)
    history = RESULTS / ("router_history_quick.jsonl" if args.quick else "router_history.jsonl")
    history.write_text("")
    t_start = time.perf_counter()
    train = instances("train", data_dir, args.quick)
    n_records = 0
    for p in train:
        race, _ = race_all(p, args.time_limit, args.seed)
        recs = records_from_result(p, race, time_limit=args.time_limit)
        write_history(history, recs)
        n_records += len(recs)
        print(f"train {p.name}: {', '.join(f'{leg.backend}={leg.objective}' for leg in race.legs)}", file=sys.stderr)
    t_train = time.perf_counter() - t_start
    os.environ["KAKEHASHI_ROUTER_HISTORY"] = str(history)
    rows: list[dict[str, Any]] = []
    for p in instances("test", data_dir, args.quick):
        _, runs = race_all(p, args.time_limit, args.seed)
        best_b, best_obj = None, None
        for b, r in runs.items():
            if r.feasible and r.objective is not None and (best_obj is None or better(r.objective, best_obj, p.sense)):
                best_b, best_obj = b, r.objective
        auto = kakehashi.solve(p, "auto", time_limit=args.time_limit, seed=args.seed)
        route = auto.info.get("route", {})
        raced = list(route.get("backends", []))
        gap = None
        if best_obj is not None and auto.objective is not None and auto.feasible:
            diff = auto.objective - best_obj if p.sense == "min" else best_obj - auto.objective
            gap = diff / max(abs(best_obj), 1e-9)
        names_raced = bool(raced) and all(b in route.get("reason", "") for b in raced)
        ok = gap is not None and gap <= 0.01 and names_raced
        rows.append({
            "instance": p.name, "class": problem_class(features(p)),
            "variables": p.num_variables, "source": route.get("source"), "raced": "+".join(raced),
            "expected": ";".join(f"{b}={q:.4f}" for b, q in route.get("expected", {}).items()),
            "auto_objective": auto.objective, "best_single": best_b, "best_single_objective": best_obj,
            "gap": gap, "within_1pct": ok,
        })
        print(f"test {p.name}: auto {auto.objective} ({'+'.join(raced)}) vs {best_b} {best_obj}: gap {gap}", file=sys.stderr)
    write(rows, args, n_records, len(train), t_train, time.perf_counter() - t_start)


def write(rows: list[dict[str, Any]], args: argparse.Namespace, n_records: int, n_train: int, t_train: float, total: float) -> None:
    name = "router_quick" if args.quick else "router"
    passed = sum(r["within_1pct"] for r in rows)
    lines = [
        "# Learned router: `auto` vs the best single backend on held-out instances",
        "",
        f"Command: `python benchmarks/router.py --time-limit {args.time_limit:g} --seed {args.seed}"
        f"{' --quick' if args.quick else ''}`  ",
        f"Machine: {platform.node()} {platform.machine()}, Python {platform.python_version()}, "
        f"kakehashi {md.version('kakehashi')}, dimod {md.version('dimod')}, numpy {np.__version__}  ",
        f"Training: {n_train} instances, {n_records} history records ({t_train:.0f} s); wall time {total:.0f} s in all.  ",
        f"Result: **{passed}/{len(rows)}** held-out instances within 1 % of the best single backend with the "
        "raced backends named in the explanation.",
        "",
        "| instance | class | vars | router | raced | expected quality | auto objective | best single | its objective | gap | ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        gap = "—" if r["gap"] is None else f"{r['gap']:.3%}"
        lines.append(f"| {r['instance']} | {r['class']} | {r['variables']} | {r['source']} | {r['raced']} | {r['expected']} | "
                     f"{r['auto_objective']} | {r['best_single']} | {r['best_single_objective']} | {gap} | "
                     f"{'yes' if r['within_1pct'] else 'NO'} |")
    lines.append("")
    (RESULTS / f"{name}.md").write_text("\n".join(lines))
    with (RESULTS / f"{name}.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
