"""Unit-commitment benchmark: the example day on HiGHS (MILP) and on Ising routes (on/off + LP dispatch).

Usage:
    python benchmarks/energy.py [--file examples/energy/regional_day.json] [--backends highs,tabu,sa]
                                [--time-limit 20] [--out benchmarks/results/energy.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from kakehashi.apps.energy import read_unit_commitment, solve_unit_commitment


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", default="examples/energy/regional_day.json")
    ap.add_argument("--backends", default="highs,tabu,sa")
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--out", default="benchmarks/results/energy.md")
    args = ap.parse_args()
    inst = read_unit_commitment(args.file)
    lines = [f"# Unit-commitment benchmark\n\nCommand: `{' '.join(sys.argv)}`  \n"
             f"Machine: {platform.node()} ({os.cpu_count()} cores, shared). Instance {inst.name} "
             f"({inst.hours} h, {len(inst.units)} units, synthetic={inst.synthetic}).\n",
             "| backend | status | cost (yen) | gap to HiGHS optimum % | valid | seconds | note |",
             "|---|---|---|---|---|---|---|"]
    best = None
    for b in args.backends.split(","):
        t0 = time.perf_counter()
        try:
            sch = solve_unit_commitment(inst, b, time_limit=args.time_limit, seed=1)
        except Exception as exc:
            lines.append(f"| {b} | ERROR | - | - | - | - | {type(exc).__name__}: {exc} |")
            continue
        secs = time.perf_counter() - t0
        if b == "highs" and sch.status == "OPTIMAL":
            best = sch.cost
        gap = f"{100 * (sch.cost - best) / best:.2f}" if best and sch.on else "-"
        note = "; ".join(sch.violations[:1]) or str(sch.info.get("commitment_status", ""))
        lines.append(f"| {sch.backend} | {sch.status} | {sch.cost:,.0f} | {gap} | {not sch.violations} | "
                     f"{secs:.1f} | {note} |")
        print(lines[-1], file=sys.stderr, flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
