"""MaxCut benchmark: kakehashi's engine against dwave-samplers SA and the simulated-bifurcation package.

Run ``python benchmarks/maxcut.py`` (``make bench``); ``--quick`` for a small subset. Writes
``benchmarks/results/maxcut.md`` and ``maxcut.csv`` (summary) and ``maxcut_runs.csv`` (every run).

Method (the same for every solver, interleaved in one process so machine load hits all alike):
- Each solver gets its problem in its native form, built once per instance (not timed).
- Restart strategy: for each seed, a solver performs independent runs of one tuned length
  (settings below) one after another, each with its own derived seed, until its best cut reaches
  the best-known cut or the wall-time budget is spent. The wall time of every run (the solver
  call, including its own input conversion) and its best cut are logged.
- Time to target (TTT) for a seed: the accumulated wall time up to the end of the first run whose
  cut reaches the target (99.9% of best known rounded up, and the best known itself). A seed that
  never reaches it within the budget counts as a failure (TTT = inf). Reported: the median over
  seeds (inf if half or more fail) and the success rate.
- Dense instance: a seeded ±1 complete graph (no published optimum); its "best known" is the best
  cut any solver found in this run, computed after all runs.
- Peak memory: the largest resident-set-size (RSS, from /proc/self/statm) seen by a background
  thread sampling every 5 ms during the cell, minus the RSS at the start of the cell (MiB).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata as md
import math
import os
import platform
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kakehashi.backends.sb.anneal import anneal  # noqa: E402
from kakehashi.backends.sb.arrays import IsingArrays, cut_weights_to_ising  # noqa: E402
from kakehashi.backends.sb.sb import simulated_bifurcation  # noqa: E402

GSET = ("G1", "G14", "G22", "G39", "G55")
DENSE = "dense2000"
SOLVERS = ("kakehashi-anneal", "kakehashi-sb", "dwave-sa", "sb-package")

#: Tuned run lengths (chosen by short sweeps over a few lengths on this machine; see README).
#: kakehashi-anneal: (replicas, sweeps); dwave-sa: (num_reads, num_sweeps);
#: sb-package / kakehashi-sb: (agents, max steps), discrete SB.
SETTINGS: dict[str, dict[str, tuple[int, int]]] = {
    "kakehashi-anneal": {"G1": (2, 1000), "G14": (2, 2000), "G22": (2, 1000), "G39": (2, 4000),
                         "G55": (2, 4000), DENSE: (2, 4000)},
    "dwave-sa": {"G1": (1, 1000), "G14": (1, 2000), "G22": (1, 1000), "G39": (1, 4000),
                 "G55": (1, 4000), DENSE: (1, 2000)},
    "sb-package": {"G1": (128, 2000), "G14": (128, 2000), "G22": (128, 2000), "G39": (128, 2000),
                   "G55": (128, 2000), DENSE: (64, 1000)},
    "kakehashi-sb": {"G1": (64, 1000), "G14": (64, 1000), "G22": (64, 1000), "G39": (64, 1000),
                     "G55": (64, 1000), DENSE: (64, 1000)},
}


@dataclass
class Instance:
    name: str
    n: int
    edges: np.ndarray  # (m, 2) 0-based
    weights: np.ndarray  # (m,)
    best_known: float | None

    def cut(self, spins: np.ndarray) -> float:
        s = np.asarray(spins, dtype=np.float64)
        return float(np.sum(self.weights * (1.0 - s[self.edges[:, 0]] * s[self.edges[:, 1]]) / 2.0))


def data_dir() -> Path:
    env = os.environ.get("KAKEHASHI_DATA_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data"


def load_gset(name: str) -> Instance:
    """Parse ``gset/<name>.txt`` (first line ``n m``, then ``i j w`` 1-based) and its best known cut."""
    root = data_dir() / "gset"
    with open(root / f"{name}.txt") as fh:
        n, m = (int(v) for v in fh.readline().split())
        body = np.loadtxt(fh, dtype=np.int64, ndmin=2)
    if body.shape[0] != m:
        raise SystemExit(f"{name}: expected {m} edges, read {body.shape[0]}")
    best = None
    with open(root / "best_known.csv") as fh:
        for row in csv.DictReader(fh):
            if row["instance"] == name:
                best = float(row["best_known"])
    return Instance(name, n, body[:, :2] - 1, body[:, 2].astype(np.float64), best)


def dense_instance(n: int = 2000, seed: int = 2000) -> Instance:
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(n, 1)
    w = rng.choice(np.array([-1.0, 1.0]), size=iu[0].size)
    return Instance(DENSE, n, np.stack(iu, axis=1), w, None)


class PeakRSS:
    """Peak resident set size during a block, by a sampling thread (bytes above the start)."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _rss(self) -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * self._page

    def __enter__(self) -> PeakRSS:
        self.base = self._rss()
        self.peak = self.base
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def delta_mib(self) -> float:
        return (self.peak - self.base) / 2**20


# ---- solvers: each returns a "run" callable: seed -> best cut of one run --------------------------

RunFn = Callable[[int, float], float]  # (seed, seconds left in the budget) -> best cut of one run


def make_anneal(inst: Instance, setting: tuple[int, int]) -> RunFn:
    arrays = IsingArrays.from_ising(cut_weights_to_ising(inst.n, inst.edges, inst.weights))
    replicas, sweeps = setting
    anneal(arrays, num_replicas=replicas, num_sweeps=2, seed=0)  # JIT warm-up (cached on disk)

    def run(seed: int, left: float) -> float:
        res = anneal(arrays, num_replicas=replicas, num_sweeps=sweeps, seed=seed)
        return -float(res.energies[0])

    return run


def make_kakehashi_sb(inst: Instance, setting: tuple[int, int]) -> RunFn:
    arrays = IsingArrays.from_ising(cut_weights_to_ising(inst.n, inst.edges, inst.weights))
    agents, steps = setting
    simulated_bifurcation(arrays, num_agents=2, num_steps=2, seed=0)

    def run(seed: int, left: float) -> float:
        res = simulated_bifurcation(arrays, variant="discrete", num_agents=agents, num_steps=steps, seed=seed,
                                    time_limit=left)
        return -float(res.energies[0])

    return run


def make_dwave(inst: Instance, setting: tuple[int, int]) -> RunFn:
    import dimod
    from dwave.samplers import SimulatedAnnealingSampler

    reads, sweeps = setting
    bqm = dimod.BinaryQuadraticModel("SPIN")
    bqm.add_variables_from((i, 0.0) for i in range(inst.n))
    bqm.add_quadratic_from(zip(inst.edges[:, 0].tolist(), inst.edges[:, 1].tolist(),
                               (inst.weights / 2.0).tolist(), strict=True))
    bqm.offset = -float(inst.weights.sum()) / 2.0
    sampler = SimulatedAnnealingSampler()

    def run(seed: int, left: float) -> float:
        ss = sampler.sample(bqm, num_reads=reads, num_sweeps=sweeps, seed=seed % (2**32))
        return -float(ss.record.energy.min())

    return run


def make_sb_package(inst: Instance, setting: tuple[int, int]) -> RunFn:
    import simulated_bifurcation as sbp
    import torch

    agents, steps = setting
    Q = torch.zeros((inst.n, inst.n), dtype=torch.float32)
    i, j = inst.edges[:, 0], inst.edges[:, 1]
    Q[torch.from_numpy(np.minimum(i, j)), torch.from_numpy(np.maximum(i, j))] = torch.from_numpy(
        (inst.weights / 2.0).astype(np.float32))
    const = -float(inst.weights.sum()) / 2.0

    def run(seed: int, left: float) -> float:
        torch.manual_seed(seed % (2**31))
        _, value = sbp.minimize(Q, domain="spin", agents=agents, max_steps=steps, mode="discrete",
                                heated=False, verbose=False, early_stopping=True, best_only=True,
                                timeout=max(left, 0.01))
        return -(float(value) + const)

    return run


MAKERS: dict[str, Callable[[Instance, tuple[int, int]], RunFn]] = {
    "kakehashi-anneal": make_anneal, "kakehashi-sb": make_kakehashi_sb,
    "dwave-sa": make_dwave, "sb-package": make_sb_package,
}


def run_cell(run: RunFn, seed: int, stop_at: float, budget: float) -> tuple[list[tuple[float, float]], float]:
    """Independent runs until ``stop_at`` or the budget; returns [(seconds, cut)] and peak MiB."""
    log: list[tuple[float, float]] = []
    spent = 0.0
    with PeakRSS() as mem:
        k = 0
        while spent < budget:
            t0 = time.perf_counter()
            cut = run(seed * 1_000_003 + k, budget - spent)
            dt = time.perf_counter() - t0
            spent += dt
            log.append((dt, cut))
            k += 1
            if cut >= stop_at:
                break
    return log, mem.delta_mib


def ttt(log: list[tuple[float, float]], target: float) -> float:
    acc = 0.0
    for dt, cut in log:
        acc += dt
        if cut >= target - 1e-9:
            return acc
    return math.inf


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("kakehashi", "numpy", "scipy", "numba", "dwave-samplers", "dimod", "simulated-bifurcation", "torch"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt(x: float) -> str:
    return "—" if math.isinf(x) else f"{x:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="G1, G22 and the dense graph; 3 seeds; 4 s budget")
    ap.add_argument("--instances", default=None, help=f"comma list from {', '.join((*GSET, DENSE))}")
    ap.add_argument("--solvers", default=None, help=f"comma list from {', '.join(SOLVERS)}")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per solver and instance (default 5)")
    ap.add_argument("--budget", type=float, default=None, help="wall-time budget per seed, seconds (default 8)")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="output folder")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", message="No agent has converged")  # sb-package, per run

    names = args.instances.split(",") if args.instances else (
        ["G1", "G22", DENSE] if args.quick else [*GSET, DENSE])
    seeds = args.seeds or (3 if args.quick else 5)
    budget = args.budget or (4.0 if args.quick else 8.0)
    solvers_for = {name: ["kakehashi-anneal", "dwave-sa", "sb-package"] + (["kakehashi-sb"] if name == DENSE else [])
                   for name in names}
    if args.solvers:
        wanted = args.solvers.split(",")
        solvers_for = {k: [s for s in v if s in wanted] or wanted for k, v in solvers_for.items()}
    cells = sum(len(v) for v in solvers_for.values()) * seeds
    print(f"{len(names)} instances, {cells} cells, budget {budget:g} s per cell: at most "
          f"~{cells * budget / 60:.0f} min (cells stop early at the best-known cut)", flush=True)

    rows: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    for name in names:
        inst = dense_instance() if name == DENSE else load_gset(name)
        fns = {s: MAKERS[s](inst, SETTINGS[s][name]) for s in solvers_for[name]}
        stop_at = inst.best_known if inst.best_known is not None else math.inf
        logs: dict[str, list[list[tuple[float, float]]]] = {s: [] for s in fns}
        mems: dict[str, list[float]] = {s: [] for s in fns}
        for seed in range(seeds):
            for s, fn in fns.items():  # interleaved: every solver once per seed
                log, mem = run_cell(fn, seed, stop_at, budget)
                logs[s].append(log)
                mems[s].append(mem)
                best = max(c for _, c in log)
                print(f"  {name:9s} {s:17s} seed {seed}: {len(log):4d} runs, best cut {best:.0f}, "
                      f"{sum(d for d, _ in log):.2f} s", flush=True)
                for k, (dt, cut) in enumerate(log):
                    runs.append({"instance": name, "solver": s, "seed": seed, "run": k, "seconds": dt, "cut": cut})
        found = max(c for ls in logs.values() for log in ls for _, c in log)
        best_known = inst.best_known if inst.best_known is not None else found
        t999 = math.ceil(0.999 * best_known - 1e-9)
        for s in fns:
            a = [ttt(log, t999) for log in logs[s]]
            b = [ttt(log, best_known) for log in logs[s]]
            rows.append({
                "instance": name, "n": inst.n, "edges": len(inst.weights), "solver": s,
                "setting": "x".join(str(v) for v in SETTINGS[s][name]),
                "best_known": best_known, "target_999": t999,
                "best_cut": max(c for log in logs[s] for _, c in log),
                "median_run_s": float(np.median([d for log in logs[s] for d, _ in log])),
                "ttt_999_median_s": float(np.median(a)), "success_999": sum(map(math.isfinite, a)) / len(a),
                "ttt_best_median_s": float(np.median(b)), "success_best": sum(map(math.isfinite, b)) / len(b),
                "peak_rss_mib": max(mems[s]),
            })
    write(rows, runs, args, argv if argv is not None else sys.argv[1:], seeds, budget)
    return 0


def write(rows: list[dict[str, Any]], runs: list[dict[str, Any]], args: argparse.Namespace,
          argv: list[str], seeds: int, budget: float) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "maxcut.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(out / "maxcut_runs.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(runs[0]))
        w.writeheader()
        w.writerows(runs)
    ver = versions()
    lines = [
        "# MaxCut benchmark", "",
        f"Command: `python benchmarks/maxcut.py {' '.join(argv)}`".rstrip() + "  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  ",
        f"Machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}  ",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in ver.items()) + "  ",
        f"Seeds: {seeds}; budget per seed: {budget:g} s wall time.", "",
        "TTT = median over seeds of the accumulated wall time (s) of independent runs until one reaches the "
        "target (restart strategy, see the script's docstring); — means at least half the seeds missed it. "
        "Success = fraction of seeds that reached it within the budget. Memory = peak RSS above the cell's "
        "start (MiB). Setting: anneal replicas×sweeps, dwave-sa num_reads×num_sweeps, SB agents×max steps.",
        "",
        "| instance | solver | setting | best known | best cut | TTT 99.9% (s) | success 99.9% | "
        "TTT best (s) | success best | median run (s) | memory (MiB) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['instance']} | {r['solver']} | {r['setting']} | {r['best_known']:.0f} | {r['best_cut']:.0f} | "
            f"{fmt(r['ttt_999_median_s'])} | {r['success_999']:.0%} | {fmt(r['ttt_best_median_s'])} | "
            f"{r['success_best']:.0%} | {r['median_run_s']:.3f} | {r['peak_rss_mib']:.1f} |")
    lines += ["", "Ratios (kakehashi's best engine TTT 99.9% / peer TTT 99.9%; below 0.5 meets the goal):", ""]
    by_inst: dict[str, dict[str, float]] = {}
    for r in rows:
        by_inst.setdefault(r["instance"], {})[r["solver"]] = r["ttt_999_median_s"]
    for name, t in by_inst.items():
        ours = min(v for k, v in t.items() if k.startswith("kakehashi"))
        parts = []
        for peer in ("dwave-sa", "sb-package"):
            if peer in t:
                ratio = ours / t[peer] if math.isfinite(t[peer]) and t[peer] > 0 else (0.0 if math.isfinite(ours) else math.nan)
                parts.append(f"vs {peer}: {ratio:.2f}" if math.isfinite(t[peer]) else
                             f"vs {peer}: peer missed ({'ours ' + fmt(ours) + ' s' if math.isfinite(ours) else 'both missed'})")
        lines.append(f"- {name}: " + "; ".join(parts))
    (out / "maxcut.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
