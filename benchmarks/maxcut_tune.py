"""Tune the annealers' run settings for the MaxCut benchmark, with the same effort for every solver.

For one instance, every solver named gets the same grid: run length (sweeps), β range (hot and
cold end as multiples of the solver's OWN default range) and parallel units (kakehashi replicas,
dwave num_reads). For every grid point the solvers take turns (interleaved, so machine load hits
both alike) doing independent runs until ``--seconds`` of wall time or ``--max-runs`` runs; then

    p   = fraction of runs whose cut reaches the target (99.9% of the best known, rounded up)
    t   = mean wall time of one run (the solver call, its own input conversion included)
    TTT ≈ t / p   (expected time of the restart strategy; inf when p = 0)
    med ≈ t · k,  k = the median number of runs to the first hit, ⌈ln ½ / ln(1 − p)⌉ (the benchmark
          reports medians, so settings are ranked by this one)

Rows are appended to ``benchmarks/results/maxcut_tune.csv``; the best setting per solver is
printed. Example (the sweep recorded in benchmarks/README.md)::

    python benchmarks/maxcut_tune.py G22 --lengths 100,200,400,800 --betas 1:1,0.5:1,2:1,1:0.5,1:2
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import maxcut as mc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", help=f"one of {', '.join((*mc.GSET, mc.DENSE))}")
    ap.add_argument("--solvers", default="kakehashi-anneal,dwave-sa")
    ap.add_argument("--lengths", default="250,500,1000,2000", help="sweeps per run, comma list")
    ap.add_argument("--betas", default="1:1", help="hot:cold multiplier pairs, comma list")
    ap.add_argument("--units", default="kakehashi-anneal=2,dwave-sa=1",
                    help="solver=units[:units...] (replicas / num_reads per run)")
    ap.add_argument("--seconds", type=float, default=2.0, help="wall time per grid point and solver")
    ap.add_argument("--max-runs", type=int, default=40)
    ap.add_argument("--out", default=str(mc.REPO / "benchmarks" / "results" / "maxcut_tune.csv"))
    args = ap.parse_args(argv)

    inst = mc.dense_instance() if args.instance == mc.DENSE else mc.load_gset(args.instance)
    if inst.best_known is None:  # dense: the best cut of the last full benchmark run
        with open(mc.REPO / "benchmarks" / "results" / "maxcut.csv") as fh:
            inst.best_known = max(float(r["best_known"]) for r in csv.DictReader(fh) if r["instance"] == mc.DENSE)
    target = math.ceil(0.999 * inst.best_known - 1e-9)
    solvers = args.solvers.split(",")
    units = {k: [int(u) for u in v.split(":")] for k, v in (item.split("=") for item in args.units.split(","))}
    betas = [tuple(float(x) for x in b.split(":")) for b in args.betas.split(",")]
    lengths = [int(x) for x in args.lengths.split(",")]
    print(f"{inst.name}: target {target} (99.9% of {inst.best_known:.0f})", flush=True)
    rows = []
    best: dict[str, tuple[float, str]] = {}
    for length in lengths:
        for hm, cm in betas:
            for k in range(max(len(units.get(s, [1])) for s in solvers)):
                fns = {}
                for s in solvers:
                    u = units.get(s, [1])
                    if k < len(u):
                        setting: mc.Setting = (u[k], length, hm, cm)
                        fns[s] = (setting, mc.MAKERS[s](inst, setting))
                stats = {s: [0.0, 0, 0, 0.0] for s in fns}  # time, runs, hits, best cut
                seed = 0
                while any(v[0] < args.seconds and v[1] < args.max_runs for v in stats.values()):
                    for s, (_setting, fn) in fns.items():
                        st = stats[s]
                        if st[0] >= args.seconds or st[1] >= args.max_runs:
                            continue
                        t0 = time.perf_counter()
                        cut = fn(seed, 60.0)
                        st[0] += time.perf_counter() - t0
                        st[1] += 1
                        st[2] += cut >= target
                        st[3] = max(st[3], cut)
                    seed += 1
                for s, (setting, _fn) in fns.items():
                    tsum, runs, hits, top = stats[s]
                    t = tsum / runs
                    p = hits / runs
                    est = t / p if p else math.inf
                    med = t * (1 if p >= 1 else max(1, math.ceil(math.log(0.5) / math.log(1 - p)))) if p else math.inf
                    lab = mc.label(s, setting)
                    print(f"  {s:17s} {lab:22s} runs {runs:3d}  p {p:5.2f}  t {t:7.3f} s  TTT~{est:8.3f} s  med~{med:8.3f} s  "
                          f"best {top:.0f}", flush=True)
                    rows.append({"instance": inst.name, "solver": s, "units": setting[0], "length": length,
                                 "hot_mult": hm, "cold_mult": cm, "runs": runs, "p": p, "run_s": t,
                                 "ttt_est_s": est, "ttt_median_est_s": med, "best_cut": top, "target": target})
                    if med < best.get(s, (math.inf, ""))[0]:
                        best[s] = (med, lab)
    for s, (est, lab) in best.items():
        print(f"best {s}: {lab}  median TTT~{est:.3f} s")
    out = Path(args.out)
    new = not out.exists()
    with open(out, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        if new:
            w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
