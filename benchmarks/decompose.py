"""Decomposition on Gset G1 (800 nodes) with a 20-variable exact subproblem backend.

Run: ``python benchmarks/decompose.py [--instance G1] [--time-limit 120]``; writes
``benchmarks/results/decompose_<instance>.md`` with the command, machine and versions.
Data: ``KAKEHASHI_DATA_DIR`` (default ``../shared/data``), file ``gset/<instance>.txt``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled, IsingModel, TargetKind
from kakehashi.hybrid.decompose import DecomposeBackend

ROOT = Path(__file__).resolve().parents[1]
BEST_KNOWN = {"G1": 11624, "G2": 11620, "G3": 11622, "G14": 3064, "G22": 13359}


def load_gset(path: Path) -> tuple[IsingModel, float]:
    """MaxCut as Ising: E(s) = Σ w/2 s_i s_j − Σ w/2 = −cut(s); returns the model and total weight."""
    lines = path.read_text().split("\n")
    n, _ = (int(x) for x in lines[0].split())
    edges = np.array([[float(x) for x in ln.split()] for ln in lines[1:] if ln.strip()])
    i, j, w = edges[:, 0].astype(int) - 1, edges[:, 1].astype(int) - 1, edges[:, 2]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    J = sp.csr_matrix((w / 2.0, (lo, hi)), shape=(n, n))
    J.sum_duplicates()
    return IsingModel(h=np.zeros(n), J=J, offset=-float(w.sum()) / 2.0), float(w.sum())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--instance", default="G1")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--sub-size", type=int, default=20)
    ap.add_argument("--sub-backend", default="exact")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    data = Path(os.environ.get("KAKEHASHI_DATA_DIR", ROOT.parent / "shared" / "data"))
    ising, _ = load_gset(data / "gset" / f"{args.instance}.txt")
    n = ising.num_variables
    compiled = Compiled(TargetKind.ISING, ising, tuple(range(n)), Inverter.identity(range(n)))
    t0 = time.perf_counter()
    out = DecomposeBackend().solve(
        compiled, time_limit=args.time_limit, seed=args.seed,
        params={"sub_backend": args.sub_backend, "sub_size": args.sub_size, "iterations": 10_000,
                "convergence": 10_000},
    )
    wall = time.perf_counter() - t0
    cut = -float(ising.energies(out.samples)[0])
    best = BEST_KNOWN.get(args.instance)
    info = out.info
    sizes = info["subproblem_sizes"]
    lines = [
        f"# Decomposition on Gset {args.instance}",
        "",
        f"command: `python {' '.join(sys.argv)}`  ",
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}  ",
        f"versions: dimod {version('dimod')}, dwave-samplers {version('dwave-samplers')}, numpy {version('numpy')}",
        "",
        "| instance | n | sub-backend | sub size | subproblems | improving | cut | best known | ratio | wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {args.instance} | {n} | {info['sub_backend']} | {info['sub_size']} | {len(sizes)} | "
        f"{info['improving_subproblems']} | {cut:.0f} | {best} | "
        f"{cut / best if best else float('nan'):.4f} | {wall:.1f} |",
        "",
        f"Subproblem sizes: min {min(sizes, default=0)}, max {max(sizes, default=0)}; "
        f"cut after the initial polish {-info['energy_trace'][0]:.0f}, first 10 rounds: "
        + ", ".join(f"{-e:.0f}" for e in info["energy_trace"][1:11]),
        "",
    ]
    out_path = ROOT / "benchmarks" / "results" / f"decompose_{args.instance}.md"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
