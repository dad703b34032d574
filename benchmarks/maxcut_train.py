"""Fit the annealer policy's constants on the TRAINING graphs only (``maxcut.TRAIN``).

Each candidate (a set of values for :mod:`kakehashi.ising.policy`'s constants) runs the policy on
the chosen training graphs at each budget and seed; dwave-sa under the benchmark's policy runs
alongside (interleaved) as the yardstick. Prints and writes ``benchmarks/results/maxcut_train.md``:
mean gap to best known (%) per candidate and budget. The constants kept in policy.py are the
candidate with the lowest mean gap; the benchmark (``maxcut.py``) reports only graphs outside TRAIN.

    python benchmarks/maxcut_train.py --graphs G1,G7,G11,G14,G18,G22,G55 --budgets 2 --seeds 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import maxcut as mc
from kakehashi.ising import policy
from kakehashi.ising.arrays import IsingArrays, cut_weights_to_ising

#: Candidates: name -> policy constants set for the run (others keep their defaults).
CANDIDATES: dict[str, dict[str, Any]] = {
    "growth2": {"GROWTH": 2.0, "HOT_MULT": 1.0, "COLD_MULT": 1.0},
    "growth4": {"GROWTH": 4.0, "HOT_MULT": 1.0, "COLD_MULT": 1.0},
    "cold0.5": {"GROWTH": 2.0, "HOT_MULT": 1.0, "COLD_MULT": 0.5},
    "hot2": {"GROWTH": 2.0, "HOT_MULT": 2.0, "COLD_MULT": 1.0},
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graphs", default="G1,G7,G11,G14,G18,G22,G55")
    ap.add_argument("--budgets", default="2")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--candidates", default=",".join(CANDIDATES))
    ap.add_argument("--out", default=str(mc.REPO / "benchmarks" / "results" / "maxcut_train.md"))
    args = ap.parse_args(argv)
    graphs = args.graphs.split(",")
    outside = [g for g in graphs if g not in mc.TRAIN]
    if outside:
        raise SystemExit(f"{', '.join(outside)}: not in the training set {mc.TRAIN}")
    budgets = [float(b) for b in args.budgets.split(",")]
    names = args.candidates.split(",")
    defaults = {k: getattr(policy, k) for c in CANDIDATES.values() for k in c}
    mc.warm_up(["anneal"])
    gaps: dict[tuple[str, float], list[float]] = {}
    load0 = mc.load_average()
    t0 = time.perf_counter()
    for g in graphs:
        inst = mc.load(g)
        assert inst.best_known is not None
        arrays = IsingArrays.from_ising(cut_weights_to_ising(inst.n, np.stack([inst.i, inst.j], axis=1), inst.w))
        dwave = mc.make_dwave(inst)
        for T in budgets:
            for seed in range(args.seeds):
                for name in names:
                    for k, v in {**defaults, **CANDIDATES[name]}.items():
                        setattr(policy, k, v)
                    r = policy.solve(arrays, time_limit=T, seed=seed)
                    gaps.setdefault((name, T), []).append(100 * (inst.best_known - inst.cut(r.spins[0])) / inst.best_known)
                cut, _, _ = dwave(T, seed)
                gaps.setdefault(("dwave-sa", T), []).append(100 * (inst.best_known - cut) / inst.best_known)
            print(g, T, "  ".join(f"{k[0]} {np.mean(v[-args.seeds:]):.3f}" for k, v in gaps.items() if k[1] == T),
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
    lines = ["# Policy fit on the training set", "",
             f"Command: `python benchmarks/maxcut_train.py {' '.join(argv if argv is not None else sys.argv[1:])}`  ",
             f"Graphs (all in TRAIN): {', '.join(graphs)}; seeds {args.seeds}; load at start {load0}, end "
             f"{mc.load_average()}; {(time.perf_counter() - t0) / 60:.1f} min.", "",
             "| candidate | constants | " + " | ".join(f"mean gap % at {b:g} s" for b in budgets) + " |",
             "|---|---|" + "---:|" * len(budgets)]
    for name in [*names, "dwave-sa"]:
        consts = ", ".join(f"{k}={v}" for k, v in CANDIDATES.get(name, {}).items()) or "benchmark policy"
        lines.append(f"| {name} | {consts} | " + " | ".join(f"{np.mean(gaps[(name, b)]):.3f}" for b in budgets) + " |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
