"""The time limit as a contract (issue 10): wall time of ``kakehashi.solve()`` against ``time_limit``.

Run ``python benchmarks/timelimits.py`` (about 12 minutes on the 2-core reference machine);
``--quick`` runs T = 0.5 and 1 only. Writes ``benchmarks/results/timelimits.md`` and
``timelimits.csv``.

Contract: the wall time of ``solve(problem, backend, time_limit=T)`` — compile, run, invert and
evaluate, everything inside ``solve()`` — stays within ``T + max(0.5 s, 5 % of T)``.

Method:
- Instances: Gset G1 (800 nodes) and G22 (2,000), two generated Gset-style graphs
  (:mod:`kakehashi.apps.graphs.generate`: a random sparse ±1 graph of 7,000 nodes, mean degree 4,
  and a 100 × 200 ±1 torus of 20,000 nodes), CVRPLIB A-n80-k10 and TSPLIB pr1002 (1,002 cities).
- Each backend is warmed up once in this process on a tiny instance of the same kind before its
  cells (imports, numba's cached kernels, OR-Tools' worker process): start-up of a fresh process
  is the race/start-up work's subject, not this table's. ``auto`` is measured as it comes
  (its legs run in fresh processes).
- One run per cell, seed 1, in one process, cells interleaved by T within an instance so machine
  load hits all alike. The 1-minute load average is recorded per cell (the machine is shared).
- Backends that cannot take an instance are left out and listed (exact: ≤ 30 variables; qaoa:
  a statevector simulator; highs: no integer problem with a quadratic objective, i.e. no MaxCut).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: Seconds the race leg server took to warm up in this run (set by main()).
LEG_SERVER_WARMUP = 0.0
sys.path.insert(0, str(REPO / "src"))
_SHARED = next((p / "shared" / "data" for p in (REPO.parent, REPO.parent.parent) if (p / "shared" / "data").is_dir()),
               REPO.parent / "shared" / "data")
os.environ.setdefault("KAKEHASHI_DATA_DIR", str(_SHARED))

import kakehashi  # noqa: E402
from kakehashi.backends.budget import slack  # noqa: E402

LIMITS = (0.5, 1.0, 3.0, 10.0)
#: pr1002's edge formulation has 1,003,002 variables: the façade's evaluation of one answer takes
#: 40-60 s (solver.py / model, not the backends), so it runs at two limits and without ``auto``.
PR1002_LIMITS = (0.5, 10.0)
PR1002_BACKENDS = ("pyvrp", "ortools-routing", "lkh")
MAXCUT_BACKENDS = ("sa", "tabu", "steepest", "sb", "anneal", "decompose", "scip", "auto")
ROUTING_BACKENDS = ("pyvrp", "ortools-routing", "lkh", "auto")
LEFT_OUT = {
    "exact": "enumerates at most 30 variables",
    "qaoa": "statevector simulation: a few dozen qubits at most",
    "highs": "HiGHS solves no integer problem with a quadratic objective (MaxCut); no routing target",
}
RESULTS = REPO / "benchmarks" / "results"


@dataclass
class Instance:
    name: str
    kind: str  # "maxcut" or "routing"
    size: str
    problem: Any


def data_dir() -> Path:
    return Path(os.environ["KAKEHASHI_DATA_DIR"])


def instances(quick: bool) -> list[Instance]:
    from kakehashi.apps.graphs.generate import graph_problem, random_sparse, toroidal_grid
    from kakehashi.apps.routing import read_routing, to_problem
    from kakehashi.datasets import gset

    out = [
        Instance("G1", "maxcut", "800 nodes", gset.load("G1")),
        Instance("G22", "maxcut", "2,000 nodes", gset.load("G22")),
        Instance("sparse7000", "maxcut", "7,000 nodes (generated)",
                 graph_problem(random_sparse(7000, 4.0, signed=True, seed=7), "sparse7000")),
        Instance("torus20000", "maxcut", "20,000 nodes (generated)",
                 graph_problem(toroidal_grid(100, 200, signed=True, seed=20), "torus20000")),
        Instance("A-n80-k10", "routing", "79 customers",
                 to_problem(read_routing(data_dir() / "cvrplib" / "A" / "A-n80-k10.vrp"))),
    ]
    if not quick:
        out.append(Instance("pr1002", "routing", "1,002 cities",
                            to_problem(read_routing(data_dir() / "tsplib" / "pr1002.tsp"))))
    return out


def warm_problems() -> dict[str, Any]:
    from kakehashi.apps.graphs.generate import graph_problem, toroidal_grid
    from kakehashi.apps.routing import read_routing, to_problem

    return {
        "maxcut": graph_problem(toroidal_grid(6, 6, seed=0), "warm"),
        "routing": to_problem(read_routing(data_dir() / "cvrplib" / "A" / "A-n32-k5.vrp")),
        "tsp": to_problem(read_routing(data_dir() / "tsplib" / "burma14.tsp")),
    }


FIELDS = ("instance", "size", "backend", "time_limit", "wall_s", "allowed_s", "within", "overshoot_s",
          "status", "objective", "compile_s", "solve_s", "load1", "note")


def run_cell(inst: Instance, backend: str, T: float) -> dict[str, Any]:
    load1 = os.getloadavg()[0]
    t0 = time.perf_counter()
    row: dict[str, Any] = {"instance": inst.name, "size": inst.size, "backend": backend, "time_limit": T,
                           "allowed_s": round(T + slack(T), 3), "load1": f"{load1:.2f}"}
    try:
        result = kakehashi.solve(inst.problem, backend, time_limit=T, seed=1)
    except kakehashi.KakehashiError as exc:
        wall = time.perf_counter() - t0
        row.update(wall_s=round(wall, 3), status="REFUSED", note=f"{type(exc).__name__}: {exc}"[:160])
        row.update(within="n/a", overshoot_s="")
        return row
    wall = time.perf_counter() - t0
    over = wall - (T + slack(T))
    row.update(wall_s=round(wall, 3), within="yes" if over <= 0 else "NO", overshoot_s=round(max(0.0, over), 3),
               status=result.status.value, objective=result.objective,
               compile_s=round(result.timings.compile, 3), solve_s=round(result.timings.solve, 3),
               note="" if result.objective is not None else (result.error or "no answer")[:160])
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="T = 0.5 and 1 only, no pr1002")
    ap.add_argument("--out", default=str(RESULTS / "timelimits"), help="output path without suffix")
    ap.add_argument("--instances", default="", help="comma-separated instance names to run (default: all)")
    ap.add_argument("--from-csv", default="", help="only rewrite the markdown table from this CSV")
    args = ap.parse_args()
    if args.from_csv:
        old = read_csv(Path(args.from_csv))
        limits_seen = tuple(sorted({float(r["time_limit"]) for r in old}))
        load = tuple(float(r["load1"]) for r in old)
        write_markdown(Path(args.out).with_suffix(".md"), old, limits_seen, (load[0],) * 3, (load[-1],) * 3,
                       0.0, f"(table from {Path(args.from_csv).name}; loads are per-cell 1-min values)")
        return
    limits = LIMITS[:2] if args.quick else LIMITS
    started = time.time()
    load_start = os.getloadavg()
    rows: list[dict[str, Any]] = []
    warm = warm_problems()
    # The race leg server is started and warmed once per process (as `kakehashi serve` and a
    # long-lived script have it); its one-time cost is reported, not charged to any cell.
    from kakehashi.legs import ensure_warm

    global LEG_SERVER_WARMUP
    LEG_SERVER_WARMUP = ensure_warm()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        wanted = {x for x in args.instances.split(",") if x}
        for inst in instances(args.quick):
            if wanted and inst.name not in wanted:
                continue
            is_tsp = inst.name.startswith("pr")
            backends = MAXCUT_BACKENDS if inst.kind == "maxcut" else PR1002_BACKENDS if is_tsp else ROUTING_BACKENDS
            for backend in backends:
                if backend == "lkh" and not is_tsp:
                    continue  # the elkai build of LKH-3 solves TSPs only
                wp = warm["tsp" if (inst.kind == "routing" and is_tsp) else inst.kind]
                if backend != "auto":
                    with contextlib.suppress(kakehashi.KakehashiError):
                        kakehashi.solve(wp, backend, time_limit=0.3, seed=0)
                for T in (PR1002_LIMITS if is_tsp else limits):
                    row = run_cell(inst, backend, T)
                    rows.append(row)
                    writer.writerow(row)
                    fh.flush()
                    print(",".join(str(row.get(k, "")) for k in FIELDS), flush=True)
                    if row["status"] == "REFUSED" and "not available" in row.get("note", ""):
                        break  # an unavailable backend is unavailable at every T
    write_markdown(out.with_suffix(".md"), rows, limits, load_start, os.getloadavg(), time.time() - started,
                   " ".join(sys.argv[1:]))


def read_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of an earlier run's CSV, typed as :func:`run_cell` makes them."""
    rows: list[dict[str, Any]] = []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            row: dict[str, Any] = dict(r)
            row["time_limit"] = float(r["time_limit"])
            row["wall_s"] = float(r["wall_s"])
            row["objective"] = r["objective"] or None
            rows.append(row)
    return rows


def write_markdown(path: Path, rows: list[dict[str, Any]], limits: tuple[float, ...], load_start: tuple[float, ...],
                   load_end: tuple[float, ...], seconds: float, argv: str) -> None:
    from importlib.metadata import PackageNotFoundError, version

    def ver(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "absent"

    measured = [r for r in rows if r["within"] in ("yes", "NO")]
    inside = [r for r in measured if r["within"] == "yes"]
    worst = max(measured, key=lambda r: float(r["overshoot_s"] or 0.0), default=None)
    no_answer = [r for r in measured if r.get("objective") in (None, "")]
    lines = [
        "# Time limits as a contract: wall time of `solve()` against `time_limit`",
        "",
        f"Command: `python benchmarks/timelimits.py {argv}`".rstrip() + f" ({seconds / 60:.1f} min).",
        f"Machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"kakehashi {kakehashi.__version__}, dwave-samplers {ver('dwave-samplers')}, pyscipopt {ver('pyscipopt')}, "
        f"pyvrp {ver('pyvrp')}, ortools {ver('ortools')}, numba {ver('numba')}.",
        f"Load average (1/5/15 min) at start {load_start[0]:.2f}/{load_start[1]:.2f}/{load_start[2]:.2f}, "
        f"at end {load_end[0]:.2f}/{load_end[1]:.2f}/{load_end[2]:.2f}; per cell in the CSV. The machine is "
        "shared by several engineers: every wall time here includes waiting for a core.",
        "",
        f"The race leg server was warmed once before the first cell ({LEG_SERVER_WARMUP:.1f} s here: imports and "
        "numba kernels loaded from cache; a process pays it once, reported in `Result.timings.startup`, and the "
        "first race of a process shifts its budget by it). Each backend also ran once on a small problem first.",
        "",
        "Contract: wall ≤ T + max(0.5 s, 5 % T). A cell reads `wall s ✓` (within) or `wall s ✗` (over); "
        "`—` where the backend refused the instance (the reason below the table).",
        "",
        f"**Summary: {len(inside)} of {len(measured)} measured cells within the contract"
        + (f"; worst overshoot {float(worst['overshoot_s']):.2f} s ({worst['backend']} on {worst['instance']}, "
           f"T = {worst['time_limit']})" if worst is not None and float(worst["overshoot_s"] or 0) > 0 else "")
        + f"; {len(no_answer)} measured cells without an answer.**",
        "",
        "| instance | backend | " + " | ".join(f"T = {t:g} s" for t in limits) + " | status at largest T |",
        "|---|---|" + "---|" * len(limits) + "---|",
    ]
    refusals: dict[tuple[str, str], str] = {}
    seen: list[tuple[str, str]] = []
    for r in rows:
        key = (r["instance"], r["backend"])
        if key not in seen:
            seen.append(key)
    for inst, backend in seen:
        cells = []
        last = ""
        for t in limits:
            found = [x for x in rows if x["instance"] == inst and x["backend"] == backend and x["time_limit"] == t]
            cell = found[0] if found else None
            if cell is None:
                cells.append("not run")
            elif cell["within"] == "n/a":
                cells.append("—")
                refusals[(inst, backend)] = cell.get("note", "")
            else:
                mark = "✓" if cell["within"] == "yes" else "✗"
                cells.append(f"{cell['wall_s']:.2f} {mark}")
                last = cell["status"]
        lines.append(f"| {inst} | {backend} | " + " | ".join(cells) + f" | {last} |")
    lines += ["", "Left out everywhere: " + "; ".join(f"`{k}` ({v})" for k, v in LEFT_OUT.items()) + "."]
    if refusals:
        lines += ["", "Refused cells:"]
        lines += [f"- {inst} × {backend}: {note}" for (inst, backend), note in refusals.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
