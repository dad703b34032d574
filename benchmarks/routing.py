"""Routing benchmark: CVRPLIB A/B and TSPLIB with a per-instance time budget; writes a Markdown table.

Usage:
    python benchmarks/routing.py [--time-limit 10] [--every 1] [--solvers pyvrp,ortools-routing,hybrid:tabu]
                                 [--tsp-solvers lkh] [--max-tsp 280] [--out benchmarks/results/routing.md]

Every answer is validated with kakehashi.apps.routing.validate; gaps are to the published
optima in ``$KAKEHASHI_DATA_DIR/cvrplib/optima.csv`` and ``tsplib/optima.csv``.
``--every N`` keeps every N-th CVRP instance (a documented subset when time is short).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from kakehashi.apps.routing import read_routing, solve_routing


def run(args: argparse.Namespace) -> str:
    data = Path(os.environ.get("KAKEHASHI_DATA_DIR", "/work/shared/data"))
    files = sorted((data / "cvrplib" / "A").glob("*.vrp")) + sorted((data / "cvrplib" / "B").glob("*.vrp"))
    files = files[:: args.every]
    solvers = [s for s in args.solvers.split(",") if s]
    lines = [f"# Routing benchmark\n\nCommand: `{' '.join(sys.argv)}`  \n"
             f"Machine: {platform.node()} ({os.cpu_count()} cores, shared), Python {platform.python_version()}, "
             f"time limit {args.time_limit} s per instance and solver.\n",
             "## CVRPLIB (gap % to the published optimum; * = failed validate(), - = no solution)\n",
             "| instance | optimum | " + " | ".join(solvers) + " | best |",
             "|---|---|" + "---|" * (len(solvers) + 1)]
    sums = {s: [] for s in [*solvers, "best"]}
    for f in files:
        inst = read_routing(f)
        cells = []
        best = None
        for s in solvers:
            backend = s.split(":", 1)[1] if s.startswith("hybrid:") else s
            t0 = time.perf_counter()
            try:
                sol = solve_routing(inst, backend, time_limit=args.time_limit, seed=1)
            except Exception as exc:
                cells.append(f"error: {type(exc).__name__}")
                print(inst.name, s, "error", exc, file=sys.stderr)
                continue
            ok = sol.validation is not None and sol.validation.ok
            if not sol.routes:
                cells.append("-")
            elif sol.gap is None:
                cells.append(str(sol.total_cost) + ("" if ok else "*"))
            else:
                cells.append(f"{100 * sol.gap:.2f}" + ("" if ok else "*"))
                if ok:
                    sums[s].append(100 * sol.gap)
                    best = sol.gap if best is None else min(best, sol.gap)
            print(inst.name, s, sol.total_cost, sol.gap, ok, f"{time.perf_counter() - t0:.1f}s", file=sys.stderr,
                  flush=True)
        if best is not None:
            sums["best"].append(100 * best)
        lines.append(f"| {inst.name} | {inst.known_optimum:g} | " + " | ".join(cells) +
                     f" | {'' if best is None else f'{100 * best:.2f}'} |")
    lines.append("| **mean (validated answers)** | | " + " | ".join(
        f"{sum(v) / len(v):.2f} ({len(v)}/{len(files)})" if v else "-" for k, v in sums.items() if k != "best")
        + f" | {sum(sums['best']) / max(1, len(sums['best'])):.2f} |")
    tsp = [s for s in args.tsp_solvers.split(",") if s]
    if tsp:
        lines += ["\n## TSPLIB (gap % to optimum)\n", "| instance | n | optimum | " + " | ".join(tsp) + " |",
                  "|---|---|---|" + "---|" * len(tsp)]
        for f in sorted((data / "tsplib").glob("*.tsp")):
            inst = read_routing(f)
            if inst.dimension > args.max_tsp or inst.known_optimum is None:
                continue
            cells = []
            for s in tsp:
                sol = solve_routing(inst, s, time_limit=args.time_limit, seed=1)
                ok = sol.validation is not None and sol.validation.ok
                cells.append(f"{100 * (sol.gap or 0):.2f}" + ("" if ok else "*"))
                print(inst.name, s, sol.total_cost, ok, file=sys.stderr, flush=True)
            lines.append(f"| {inst.name} | {inst.dimension} | {inst.known_optimum:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--solvers", default="pyvrp,ortools-routing,hybrid:tabu")
    ap.add_argument("--tsp-solvers", default="lkh")
    ap.add_argument("--max-tsp", type=int, default=280)
    ap.add_argument("--out", default="benchmarks/results/routing.md")
    args = ap.parse_args()
    table = run(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(table)
    print(table)


if __name__ == "__main__":
    main()
