"""MaxCut benchmark: kakehashi's engine against dwave-samplers SA and the simulated-bifurcation package.

Run ``python benchmarks/maxcut.py`` (``make bench``, about 12-14 minutes); ``--quick`` for a
development subset (about 1-2 minutes). Writes ``benchmarks/results/maxcut.md`` and ``maxcut.csv``
(summary) and ``maxcut_runs.csv`` (every run).

Method (the same for every solver, interleaved in one process so machine load hits all alike):
- Each solver gets its problem in its native form, built once per instance (not timed).
- Restart strategy: for each seed, a solver performs independent runs of one tuned length
  (settings below) one after another, each with its own derived seed, until its best cut reaches
  the best-known cut or the wall-time budget is spent. The wall time of every run (the solver
  call, including its own input conversion) and its best cut are logged. Every run is capped by
  the seconds left (see :func:`run_cell`); the budget per seed depends on the instance (BUDGETS).
- Time to target (TTT) for a seed: the accumulated wall time up to the end of the first run whose
  cut reaches the target (99.9% of best known rounded up, and the best known itself). A seed that
  never reaches it within the budget counts as a failure (TTT = inf). Reported: the median over
  seeds (inf if half or more fail) and the success rate.
- Dense instance: a seeded ±1 complete graph (no published optimum); its "best known" is the best
  cut any solver found in this run, computed after all runs.
- Peak memory: measured per cell in a fresh subprocess (:func:`memory_probe`): the kernel's
  peak-RSS counter (VmHWM) is reset through /proc/self/clear_refs after imports and warm-up, then
  read after building the solver's input and after one run (MiB above the RSS before each).
- The machine's load average is recorded at the start and end, and the highest 1-minute load seen
  between cells, because a shared machine slows every solver (ratios stay comparable).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import ctypes
import gc
import importlib.metadata as md
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kakehashi.ising.anneal import anneal, default_beta_range  # noqa: E402
from kakehashi.ising.arrays import IsingArrays, cut_weights_to_ising  # noqa: E402
from kakehashi.ising.sb import simulated_bifurcation  # noqa: E402

GSET = ("G1", "G14", "G22", "G39", "G55")
DENSE = "dense2000"
SOLVERS = ("kakehashi-anneal", "kakehashi-sb", "dwave-sa", "sb-package")

#: Tuned settings (benchmarks/maxcut_tune.py; the sweep and its outcome are in benchmarks/README.md).
#: (units, length, hot multiplier, cold multiplier): kakehashi-anneal (replicas, sweeps, β range as
#: multiples of its default), dwave-sa (num_reads, num_sweeps, beta_range as multiples of dwave's own
#: default), sb-package / kakehashi-sb (agents, max steps; multipliers unused).
Setting = tuple[int, int, float, float]
SETTINGS: dict[str, dict[str, Setting]] = {
    "kakehashi-anneal": {"G1": (2, 400, 3, 0.5), "G14": (2, 6400, 1, 0.5), "G22": (2, 800, 2, 0.3),
                         "G39": (2, 20000, 1, 1), "G55": (2, 20000, 1, 0.5), DENSE: (2, 16000, 1, 1)},
    "dwave-sa": {"G1": (1, 800, 2, 0.3), "G14": (1, 6400, 1, 0.5), "G22": (1, 1600, 3, 0.5),
                 "G39": (1, 20000, 1, 1), "G55": (1, 20000, 2, 1), DENSE: (1, 2000, 2, 1)},
    "sb-package": {"G1": (32, 1000, 1, 1), "G14": (32, 1000, 1, 1), "G22": (16, 1000, 1, 1),
                   "G39": (16, 1000, 1, 1), "G55": (8, 1000, 1, 1), DENSE: (16, 1000, 1, 1)},
    "kakehashi-sb": {"G1": (64, 1000, 1, 1), "G14": (64, 1000, 1, 1), "G22": (64, 1000, 1, 1),
                     "G39": (64, 1000, 1, 1), "G55": (64, 1000, 1, 1), DENSE: (64, 1000, 1, 1)},
}


def label(solver: str, setting: Setting) -> str:
    """Human-readable setting: units x length, and the β multipliers for the annealers."""
    units, length, hm, cm = setting
    text = f"{units}x{length}"
    if solver in ("kakehashi-anneal", "dwave-sa") and (hm, cm) != (1, 1):
        text += f" β×({hm:g},{cm:g})"
    return text


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


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def memory_probe(name: str, solver: str, cap: float) -> tuple[float, float]:
    """Peak memory (MiB) of one solver on one instance, measured in THIS (fresh) process.

    After the imports, the instance load and a JIT/import warm-up on a 10-node graph, the kernel's
    peak-RSS counter is reset (``/proc/self/clear_refs`` = 5, after ``malloc_trim`` returned the
    freed heap pages) and the RSS noted; the solver's input
    is built (its native form: an IsingArrays, a dimod BQM, a torch Ising model) and the counter
    read; it is reset again and one run (capped at ``cap`` seconds) done. Returned: (peak above
    the RSS before the run, peak of building the input and the run above the RSS before both).
    """
    inst = dense_instance() if name == DENSE else load_gset(name)
    tiny = Instance("tiny", 10, np.array([[i, (i + 1) % 10] for i in range(10)]), np.ones(10), None)
    MAKERS[solver](tiny, (1, 10, 1, 1))(0, 1.0)

    def reset() -> int:
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):  # freed heap pages back to the OS,
            ctypes.CDLL("libc.so.6").malloc_trim(0)  # so that a run cannot hide in them
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return _status_kib("VmRSS")

    base = reset()
    fn = MAKERS[solver](inst, SETTINGS[solver][name])
    setup_peak = _status_kib("VmHWM")
    before_run = reset()
    fn(0, cap)
    run_peak = _status_kib("VmHWM")
    return (run_peak - before_run) / 1024, (max(setup_peak, run_peak) - base) / 1024


def measure_memory(name: str, solver: str, cap: float) -> tuple[float, float]:
    """Run :func:`memory_probe` in a fresh interpreter ((nan, nan) if it fails)."""
    cmd = [sys.executable, __file__, "--memory-probe", f"{name},{solver},{cap}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=cap + 120, check=True)
        run, total = done.stdout.strip().splitlines()[-1].split()
        return float(run), float(total)
    except (subprocess.SubprocessError, ValueError, IndexError):
        return math.nan, math.nan


# ---- solvers: each returns a "run" callable: seed -> best cut of one run --------------------------

RunFn = Callable[[int, float], float]  # (seed, seconds left in the budget) -> best cut of one run


def make_anneal(inst: Instance, setting: Setting) -> RunFn:
    arrays = IsingArrays.from_ising(cut_weights_to_ising(inst.n, inst.edges, inst.weights))
    replicas, sweeps, hm, cm = setting
    hot, cold = default_beta_range(arrays)
    beta = (hot * hm, max(cold * cm, hot * hm))
    anneal(arrays, num_replicas=replicas, num_sweeps=2, seed=0)  # JIT warm-up (cached on disk)

    def run(seed: int, left: float) -> float:
        res = anneal(arrays, num_replicas=replicas, num_sweeps=sweeps, beta_range=beta, seed=seed,
                     time_limit=left)
        return -float(res.energies[0])

    return run


def make_kakehashi_sb(inst: Instance, setting: Setting) -> RunFn:
    arrays = IsingArrays.from_ising(cut_weights_to_ising(inst.n, inst.edges, inst.weights))
    agents, steps = setting[:2]
    simulated_bifurcation(arrays, num_agents=2, num_steps=2, seed=0)

    def run(seed: int, left: float) -> float:
        res = simulated_bifurcation(arrays, variant="discrete", num_agents=agents, num_steps=steps, seed=seed,
                                    time_limit=left)
        return -float(res.energies[0])

    return run


def dwave_default_beta(bqm: Any) -> tuple[float, float]:
    """dwave-samplers' own default beta_range for ``bqm`` (what it uses when given none)."""
    from dwave.samplers import SimulatedAnnealingSampler

    info = SimulatedAnnealingSampler().sample(bqm, num_reads=1, num_sweeps=1, seed=0).info
    lo, hi = info["beta_range"]
    return float(lo), float(hi)


def make_dwave(inst: Instance, setting: Setting) -> RunFn:
    import dimod
    from dwave.samplers import SimulatedAnnealingSampler

    reads, sweeps, hm, cm = setting
    bqm = dimod.BinaryQuadraticModel("SPIN")
    bqm.add_variables_from((i, 0.0) for i in range(inst.n))
    bqm.add_quadratic_from(zip(inst.edges[:, 0].tolist(), inst.edges[:, 1].tolist(),
                               (inst.weights / 2.0).tolist(), strict=True))
    bqm.offset = -float(inst.weights.sum()) / 2.0
    sampler = SimulatedAnnealingSampler()
    hot, cold = dwave_default_beta(bqm)
    beta = [hot * hm, max(cold * cm, hot * hm)]

    def run(seed: int, left: float) -> float:
        ss = sampler.sample(bqm, num_reads=reads, num_sweeps=sweeps, beta_range=beta, seed=seed % (2**32))
        return -float(ss.record.energy.min())

    return run


def make_sb_package(inst: Instance, setting: Setting) -> RunFn:
    """The simulated-bifurcation package, discrete SB, its Ising model built once (not per run).

    ``Ising(J)`` has energy -½ sᵀJ s, so J = -Js; building it once keeps the package's dense
    conversion out of every run (its best use). A run returns the best cut over all agents.
    """
    import torch
    from simulated_bifurcation.core import Ising

    agents, steps = setting[:2]
    J = torch.zeros((inst.n, inst.n), dtype=torch.float32)
    i, j = torch.from_numpy(inst.edges[:, 0]), torch.from_numpy(inst.edges[:, 1])
    w = torch.from_numpy((-inst.weights / 2.0).astype(np.float32))
    J[i, j] = w
    J[j, i] = w
    ising = Ising(J)
    edges = torch.from_numpy(inst.edges)
    weights = torch.from_numpy(inst.weights.astype(np.float32))

    def run(seed: int, left: float) -> float:
        torch.manual_seed(seed % (2**31))
        spins = ising.minimize(agents=agents, max_steps=steps, mode="discrete", heated=False, verbose=False,
                               early_stopping=True, timeout=max(left, 0.01))
        s = spins.reshape(inst.n, -1)  # (n, agents)
        cuts = (weights[:, None] * (1.0 - s[edges[:, 0]] * s[edges[:, 1]]) / 2.0).sum(dim=0)
        return float(cuts.max())

    return run


MAKERS: dict[str, Callable[[Instance, Setting], RunFn]] = {
    "kakehashi-anneal": make_anneal, "kakehashi-sb": make_kakehashi_sb,
    "dwave-sa": make_dwave, "sb-package": make_sb_package,
}


def run_cell(run: RunFn, seed: int, stop_at: float, budget: float) -> list[tuple[float, float]]:
    """Independent runs until a cut reaches ``stop_at`` or the budget is spent: [(seconds, cut)].

    Every run gets the seconds left as its own limit where the solver has one (kakehashi's
    engines, the sb-package's ``timeout``). dwave-samplers cannot be stopped inside a read, so a
    run is not started when the previous one took longer than the time left (it could not end
    inside the budget); a run that does end after the budget is logged but never counts (TTT).
    """
    log: list[tuple[float, float]] = []
    spent = 0.0
    k = 0
    while spent < budget:
        left = budget - spent
        if log and log[-1][0] > left:
            break
        t0 = time.perf_counter()
        cut = run(seed * 1_000_003 + k, left)
        dt = time.perf_counter() - t0
        spent += dt
        log.append((dt, cut))
        k += 1
        if cut >= stop_at:
            break
    return log


def ttt(log: list[tuple[float, float]], target: float, budget: float) -> float:
    """Accumulated wall time until the first run that reaches ``target`` (inf: not within budget)."""
    acc = 0.0
    for dt, cut in log:
        acc += dt
        if acc > budget + 1e-9:
            return math.inf
        if cut >= target - 1e-9:
            return acc
    return math.inf


def load_average() -> str:
    """The 1/5/15-minute load averages (the machine may be shared: timings scale with it)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


LOAD_AT_START = load_average()


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


#: How the settings above were chosen (copied into the results file).
TUNING_NOTE = """Settings: chosen with `benchmarks/maxcut_tune.py` (its rows: `maxcut_tune.csv`), the same grid
for kakehashi-anneal and dwave-sa on each instance, both solvers interleaved for the same wall time
per grid point: sweeps per run (G1 200-1600, G22 400-3200, G14 400-6400, G39 2000-40000, G55
5000-40000; dense: kakehashi 2000-16000, dwave 250-2000, as a dwave run of 2000 sweeps already
takes about 5 s there), the β range's hot and cold ends as multiples of the solver's OWN default
range (one-at-a-time 0.5/1/2, then the pairs (2,0.5), (3,0.5), (2,0.3); kakehashi's default:
hot = ln 2 / (2·rms field), cold = ln(10 n) / (2·min coupling); dwave-samplers: its built-in
default) and, on G1/G22, replicas / num_reads per run (2 or 4 / 1 or 4). Kept: the setting with
the lowest estimated median restart TTT (run time × median number of runs to the first hit).
The sb-package gets its Ising model built once per instance (not per run), the discrete variant
and early stopping; agents × steps were picked from a few trial runs per instance (more agents
did not fit the budget: 64 agents × 1000 steps take about 13 s on G22)."""


#: Wall-time budget per seed and cell (seconds): enough for the peers' tuned settings to show
#: their TTT(99.9%) on the hard instances while the default run stays under ~15 minutes.
BUDGETS = {"G1": 4.0, "G14": 3.0, "G22": 4.0, "G39": 15.0, "G55": 10.0, DENSE: 10.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="development run: G1, G22 and the dense graph; 3 seeds; 2 s budget; no memory probes")
    ap.add_argument("--instances", default=None, help=f"comma list from {', '.join((*GSET, DENSE))}")
    ap.add_argument("--solvers", default=None, help=f"comma list from {', '.join(SOLVERS)}")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per solver and instance (default 5)")
    ap.add_argument("--budget", type=float, default=None,
                    help="wall-time budget per seed and cell, seconds (default per instance: " +
                    ", ".join(f"{k} {v:g}" for k, v in BUDGETS.items()) + ")")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="output folder")
    ap.add_argument("--memory-probe", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", message="No agent has converged")  # sb-package, per run
    warnings.filterwarnings("ignore", category=UserWarning, module="simulated_bifurcation")
    if args.memory_probe:
        name, solver, cap = args.memory_probe.split(",")
        run_mib, total_mib = memory_probe(name, solver, float(cap))
        print(f"{run_mib:.3f} {total_mib:.3f}")
        return 0

    names = args.instances.split(",") if args.instances else (
        ["G1", "G22", DENSE] if args.quick else [*GSET, DENSE])
    seeds = args.seeds or (3 if args.quick else 5)
    budgets = {name: args.budget or (2.0 if args.quick else BUDGETS[name]) for name in names}
    memory = not (args.no_memory or args.quick)
    solvers_for = {name: ["kakehashi-anneal", "dwave-sa", "sb-package"] + (["kakehashi-sb"] if name == DENSE else [])
                   for name in names}
    if args.solvers:
        wanted = args.solvers.split(",")
        solvers_for = {k: [s for s in v if s in wanted] or wanted for k, v in solvers_for.items()}
    worst = sum(len(solvers_for[n]) * seeds * budgets[n] for n in names)
    print(f"{len(names)} instances, {sum(len(v) for v in solvers_for.values()) * seeds} cells: at most "
          f"~{worst / 60:.0f} min of runs (cells stop early at the best-known cut)", flush=True)

    t_start = time.perf_counter()
    max_load = [os.getloadavg()[0]]
    rows: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    for name in names:
        inst = dense_instance() if name == DENSE else load_gset(name)
        budget = budgets[name]
        fns: dict[str, RunFn] = {}
        setup: dict[str, float] = {}
        for s in solvers_for[name]:
            t0 = time.perf_counter()
            fns[s] = MAKERS[s](inst, SETTINGS[s][name])
            setup[s] = time.perf_counter() - t0
        stop_at = inst.best_known if inst.best_known is not None else math.inf
        logs: dict[str, list[list[tuple[float, float]]]] = {s: [] for s in fns}
        for seed in range(seeds):
            for s, fn in fns.items():  # interleaved: every solver once per seed
                log = run_cell(fn, seed, stop_at, budget)
                logs[s].append(log)
                max_load[0] = max(max_load[0], os.getloadavg()[0])
                best = max(c for _, c in log)
                print(f"  {name:9s} {s:17s} seed {seed}: {len(log):4d} runs, best cut {best:.0f}, "
                      f"{sum(d for d, _ in log):.2f} s", flush=True)
                for k, (dt, cut) in enumerate(log):
                    runs.append({"instance": name, "solver": s, "seed": seed, "run": k, "seconds": dt, "cut": cut})
        found = max(c for ls in logs.values() for log in ls for _, c in log)
        best_known = inst.best_known if inst.best_known is not None else found
        t999 = math.ceil(0.999 * best_known - 1e-9)
        for s in fns:
            a = [ttt(log, t999, budget) for log in logs[s]]
            b = [ttt(log, best_known, budget) for log in logs[s]]
            mem = measure_memory(name, s, min(budget, 2.0)) if memory else (math.nan, math.nan)
            rows.append({
                "instance": name, "n": inst.n, "edges": len(inst.weights), "solver": s,
                "setting": label(s, SETTINGS[s][name]), "budget_s": budget,
                "best_known": best_known, "target_999": t999,
                "best_cut": max(c for log in logs[s] for _, c in log),
                "median_run_s": float(np.median([d for log in logs[s] for d, _ in log])),
                "ttt_999_median_s": float(np.median(a)), "success_999": sum(map(math.isfinite, a)) / len(a),
                "ttt_best_median_s": float(np.median(b)), "success_best": sum(map(math.isfinite, b)) / len(b),
                "setup_s": setup[s], "run_peak_mib": mem[0], "input_and_run_peak_mib": mem[1],
            })
    elapsed = time.perf_counter() - t_start
    write(rows, runs, args, argv if argv is not None else sys.argv[1:], seeds, budgets, elapsed, max_load[0])
    return 0


def write(rows: list[dict[str, Any]], runs: list[dict[str, Any]], args: argparse.Namespace,
          argv: list[str], seeds: int, budgets: dict[str, float], elapsed: float, max_load: float) -> None:
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
        f"Command: `{' '.join(['python', 'benchmarks/maxcut.py', *argv])}`  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  ",
        f"Machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}  ",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in ver.items()) + "  ",
        f"Load average at the start / end: {LOAD_AT_START} / {load_average()}; highest 1-minute load "
        f"seen between cells: {max_load:.2f}; total wall time {elapsed / 60:.1f} min.  ",
        f"Seeds: {seeds}; budget per seed (s): " + ", ".join(f"{k} {v:g}" for k, v in budgets.items()) + ".", "",
        "TTT = median over seeds of the accumulated wall time (s) of independent runs until one reaches the "
        "target (restart strategy, see the script's docstring); — means at least half the seeds missed it. "
        "Success = fraction of seeds that reached it within the budget. Memory (fresh process per cell, "
        "after imports and warm-up, peak RSS via /proc/self/clear_refs and VmHWM; see memory_probe): peak "
        "of one run above the RSS before it / peak of building the solver's input plus one run. Setup = seconds to build the solver's input once (not in TTT). Setting: anneal "
        "replicas×sweeps, dwave-sa num_reads×num_sweeps (β× = beta_range as multiples of the solver's own "
        "default), SB agents×max steps.",
        "",
        "| instance | solver | setting | best known | best cut | TTT 99.9% (s) | success 99.9% | "
        "TTT best (s) | success best | median run (s) | setup (s) | memory run / input+run (MiB) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['instance']} | {r['solver']} | {r['setting']} | {r['best_known']:.0f} | {r['best_cut']:.0f} | "
            f"{fmt(r['ttt_999_median_s'])} | {r['success_999']:.0%} | {fmt(r['ttt_best_median_s'])} | "
            f"{r['success_best']:.0%} | {r['median_run_s']:.3f} | {r['setup_s']:.2f} | {r['run_peak_mib']:.1f} / {r['input_and_run_peak_mib']:.1f} |")
    lines += ["", "Ratios (kakehashi's best engine TTT 99.9% / peer TTT 99.9%; at most 0.5 meets the goal). "
              "Where a peer missed (its median TTT exceeds the budget B), the ratio is below ours / B:", ""]
    by_inst: dict[str, dict[str, float]] = {}
    budget_of: dict[str, float] = {}
    for r in rows:
        by_inst.setdefault(r["instance"], {})[r["solver"]] = r["ttt_999_median_s"]
        budget_of[r["instance"]] = r["budget_s"]
    for name, t in by_inst.items():
        ours = min((v for k, v in t.items() if k.startswith("kakehashi")), default=math.inf)
        parts = []
        for peer in ("dwave-sa", "sb-package"):
            if peer not in t:
                continue
            if not math.isfinite(ours):
                parts.append(f"vs {peer}: ours missed" + ("" if math.isfinite(t[peer]) else " (both missed)"))
            elif math.isfinite(t[peer]):
                verdict = "meets" if ours <= 0.5 * t[peer] else "short of"
                parts.append(f"vs {peer}: {ours / t[peer]:.2f} ({verdict} the goal)")
            else:
                bound = ours / budget_of[name]
                verdict = "meets" if bound <= 0.5 else "cannot show"
                parts.append(f"vs {peer}: peer missed, ratio < {bound:.2f} ({verdict} the goal)")
        lines.append(f"- {name}: " + "; ".join(parts))
    lines += ["", TUNING_NOTE]
    (out / "maxcut.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
