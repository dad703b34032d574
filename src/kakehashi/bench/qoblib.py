"""Export a benchmark result as QOBLIB submissions, and check them (QOBLIB CONTRIBUTING.md).

One submission directory per (backend, budget) workflow, laid out as in QOBLIB's repository,
``<class>/submissions/<YYYYMMDD>_kakehashi-<backend>-<budget>s/``, holding one folder per
instance with:

- ``<instance>_summary.csv``: the 27 columns of QOBLIB's ``misc/submission_template.csv``;
- ``<instance>_solution.sol``: the best run's solution, ``# Objective value = V`` then one 0/1
  value per line (MIS: one per vertex; LABS: the sequence ``x_1..x_n``, ``s_i = 2 x_i - 1``);
- ``<instance>_objective_time_series.json``: one list per run of ``{"Time", "Incumbent"}``.

Counts follow QOBLIB's definitions: ``# Successful Runs`` are feasible runs within ε of the
workflow's own best (QOBLIB's rule); success against the best-known value is in the remarks.
Runtimes are means over runs (seconds, wall clock, excluding nothing: a local run has no
queue). An instance with no feasible run is not exported (QOBLIB requires a solution file) and
is listed in the returned notes. :func:`check_submission` re-verifies what was written: the
solution's objective recomputed from the instance (MIS: independence on the ``.gph`` graph),
monotone incumbents, and counts that add up.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kakehashi.bench.metrics import reaches
from kakehashi.bench.suite import instance_from_dict, load_problem
from kakehashi.datasets.location import data_dir
from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem

#: QOBLIB's submission CSV header (misc/submission_template.csv), in order.
COLUMNS = ("Problem", "Submitter", "Date", "Reference", "Best Objective Value", "Optimality Bound",
           "Modeling Approach", "# Decision Variables", "# Binary Variables", "# Integer Variables",
           "# Continuous Variables", "# Non-Zero Coefficients", "Coefficients Type", "Coefficients Range",
           "Workflow", "Algorithm Type", "# Runs", "# Feasible Runs", "# Successful Runs", "Success Threshold",
           "Hardware Specifications", "Total Runtime", "CPU Runtime", "GPU Runtime", "QPU Runtime",
           "Other HW Runtime", "Remarks")
#: Backends whose answer does not depend on the seed.
DETERMINISTIC = ("exact", "highs", "scip", "steepest")
_INDEX = re.compile(r"(\d+)$")


def _coefficients(problem: Problem) -> list[float]:
    """Every nonzero coefficient of objective and constraints."""
    cqm = problem.cqm
    coefs = [float(b) for b in cqm.objective.linear.values()] + [float(b) for b in cqm.objective.quadratic.values()]
    for c in cqm.constraints.values():
        coefs += [float(b) for b in c.lhs.linear.values()] + [float(b) for b in c.lhs.quadratic.values()]
    return [c for c in coefs if c != 0]


def model_sizes(problem: Problem) -> dict[str, Any]:
    """QOBLIB's model columns for ``problem``."""
    counts = problem.vartype_counts()
    # An integer variable bounded to [0, 1] (QOBLIB's LP files declare x "General" 0..1) is binary.
    unit = sum(1 for v in problem.variables
               if problem.vartype(v).name == "INTEGER" and problem.bounds(v) == (0.0, 1.0))
    counts["BINARY"] = counts.get("BINARY", 0) + unit
    counts["INTEGER"] = counts.get("INTEGER", 0) - unit
    coefs = _coefficients(problem)
    integral = all(float(c).is_integer() for c in coefs)
    return {
        "# Decision Variables": problem.num_variables,
        "# Binary Variables": counts.get("BINARY", 0) + counts.get("SPIN", 0),
        "# Integer Variables": counts.get("INTEGER", 0),
        "# Continuous Variables": counts.get("REAL", 0),
        "# Non-Zero Coefficients": len(coefs),
        "Coefficients Type": "Integer" if integral else "Continuous",
        "Coefficients Range": f"{min(coefs):g} - {max(coefs):g}" if coefs else "N/A - N/A",
    }


def solution_values(problem: Problem, qclass: str, sample: dict[str, Any]) -> list[int]:
    """The 0/1 values QOBLIB's solution format lists, from a stored run sample."""
    data = sample.get("data", "")
    if sample.get("encoding") not in ("binary-bits", "spin-bits") or len(data) != problem.num_variables:
        raise ModelError("the run's sample is not a 0/1 string over the problem's variables")
    by_index: dict[int, int] = {}
    for var, bit in zip(problem.variables, data, strict=True):
        m = _INDEX.search(str(var))
        if m is None:
            raise ModelError(f"variable {var!r} has no QOBLIB index")
        by_index[int(m.group(1))] = int(bit)
    n = len(by_index)
    if qclass == "02-labs":
        n = int(problem.metadata.get("labs_n") or 0) or n
    return [by_index.get(k, 0) for k in range(1, n + 1)]


def labs_energy(bits: list[int]) -> int:
    """LABS energy ``Σ_k C_k²`` of the sequence ``s_i = 2 x_i - 1``."""
    s = [2 * b - 1 for b in bits]
    n = len(s)
    return sum(sum(s[i] * s[i + k] for i in range(n - k)) ** 2 for k in range(1, n))


def read_gph(path: Path) -> tuple[int, list[tuple[int, int]]]:
    """A DIMACS-like ``.gph`` graph: ``p edge N M`` then ``e u v`` lines (1-based)."""
    n, edges = 0, []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts[:2] == ["p", "edge"]:
            n = int(parts[2])
        elif parts and parts[0] == "e":
            edges.append((int(parts[1]), int(parts[2])))
    return n, edges


def _hardware(manifest: dict[str, Any]) -> str:
    m = manifest["machine"]
    gpu = m["gpu"] if isinstance(m["gpu"], str) else "; ".join(m["gpu"])
    return f"CPU {m['cpu_model']} ({m['cpu_cores']} logical cores), GPU {gpu}, {m['os']}"


def _fmt(x: float | None) -> str:
    return "N/A" if x is None else f"{x:.6g}"


def export_qoblib(doc: dict[str, Any], out: Path, *, submitter: str = "kakehashi bench",
                  reference: str = "kakehashi bench result.json", root: Path | None = None) -> list[Path]:
    """Write the submissions of ``doc`` under ``out``; return the submission directories.

    Raises ModelError when the suite is not a QOBLIB suite (instances without ``qoblib_class``).
    """
    suite, man = doc["suite"], doc["manifest"]
    sense = suite["sense"]
    eps = float(suite["protocol"]["epsilon"])
    instances = {i["id"]: instance_from_dict(i) for i in suite["instances"]}
    if not all(i.extra.get("qoblib_class") for i in instances.values()):
        raise ModelError(f"suite {suite['name']!r} is not a QOBLIB suite (its instances name no qoblib_class)")
    date = datetime.now(UTC)
    groups: dict[tuple[str, float], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in doc["runs"]:
        groups[(r["backend"], float(r["budget"]))][r["instance"]].append(r)
    written: list[Path] = []
    skipped: list[str] = []
    for (backend, budget), per_inst in sorted(groups.items()):
        qclass = str(next(iter(instances.values())).extra["qoblib_class"])
        sub = out / qclass / "submissions" / f"{date:%Y%m%d}_kakehashi-{backend}-{budget:g}s"
        for ident, runs in sorted(per_inst.items()):
            inst = instances[ident]
            feasible = [r for r in runs if r.get("feasible") and r.get("objective") is not None]
            if not feasible:
                skipped.append(f"{sub.name}/{ident}: no feasible run")
                continue
            problem = load_problem(inst, root=root)
            if inst.extra.get("n"):
                problem.metadata["labs_n"] = int(inst.extra["n"])
            objs = [float(r["objective"]) for r in feasible]
            best_run = (max if sense == "max" else min)(feasible, key=lambda r: float(r["objective"]))
            best = float(best_run["objective"])
            own_goal = best - eps * abs(best) if sense == "max" else best + eps * abs(best)
            successful = sum(1 for v in objs if reaches(v, own_goal, sense))
            vs_known = (sum(1 for v in objs if reaches(v, float(inst.best_known), sense))
                        if inst.best_known is not None else None)
            bounds = [float(r["bound"]) for r in runs if r.get("status") == "OPTIMAL" and r.get("bound") is not None]
            hw = {r.get("hardware") or "cpu" for r in runs}
            mean_total = sum(float(r.get("wall_s") or 0) for r in runs) / len(runs)
            mean_solve = sum(float((r.get("timings") or {}).get("solve") or 0) for r in runs) / len(runs)
            specific = any(r.get("instance_specific") for r in runs)
            load = man["load_average"]
            row = {
                "Problem": ident, "Submitter": submitter, "Date": f"{date:%Y-%m-%d}", "Reference": reference,
                "Best Objective Value": f"{best:g}",
                "Optimality Bound": _fmt(bounds[0]) if bounds else "N/A",
                "Modeling Approach": inst.extra.get("modeling", inst.format),
                **{k: str(v) for k, v in model_sizes(problem).items()},
                "Workflow": (f"kakehashi.solve(problem, '{backend}', time_limit={budget:g} s, seed=k) on the "
                             f"{inst.format} model {inst.path}; every answer evaluated on the original model"),
                "Algorithm Type": "Deterministic" if backend in DETERMINISTIC else "Stochastic",
                "# Runs": str(len(runs)), "# Feasible Runs": str(len(feasible)),
                "# Successful Runs": str(successful), "Success Threshold": f"{eps:g}",
                "Hardware Specifications": _hardware(man),
                "Total Runtime": f"{mean_total:.6g}",
                "CPU Runtime": f"{mean_solve:.6g}" if hw <= {"cpu"} else "N/A",
                "GPU Runtime": f"{mean_solve:.6g}" if "gpu" in hw else "N/A",
                "QPU Runtime": "N/A", "Other HW Runtime": "N/A",
                "Remarks": (f"seeds {sorted(r['seed'] for r in runs)}; runs reaching the best known "
                            f"{inst.best_known:g}: {vs_known} of {len(runs)}; "
                            f"instance-specific parameters: {'yes' if specific else 'no'}; "
                            f"kakehashi {man['kakehashi_version']} commit {man['git_commit']}; "
                            f"load average (1 min) mean {load['load1_mean']:.2f}; runtimes are means in seconds")
                if inst.best_known is not None else "",
            }
            folder = sub / ident
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / f"{ident}_summary.csv").open("w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=list(COLUMNS))
                w.writeheader()
                w.writerow(row)
            bits = solution_values(problem, inst.extra["qoblib_class"], best_run["sample"])
            (folder / f"{ident}_solution.sol").write_text(
                f"# Objective value = {best:g}\n" + "".join(f"{b}\n" for b in bits), encoding="utf-8")
            series = [[{"Time": float(t), "Incumbent": float(v)} for t, v in (r.get("trajectory") or [])]
                      for r in sorted(runs, key=lambda r: r["seed"])]
            (folder / f"{ident}_objective_time_series.json").write_text(json.dumps(series), encoding="utf-8")
        if sub.is_dir():
            written.append(sub)
            if skipped:
                (sub / "NOT_EXPORTED.txt").write_text("\n".join(skipped) + "\n", encoding="utf-8")
    return written


def check_submission(sub: Path, suite: dict[str, Any], *, root: Path | None = None) -> list[str]:
    """kakehashi's own checks of a written submission; returns the problems found (empty = OK)."""
    sense = suite["sense"]
    instances = {i["id"]: instance_from_dict(i) for i in suite["instances"]}
    base = root if root is not None else data_dir()
    problems: list[str] = []
    for folder in sorted(p for p in sub.iterdir() if p.is_dir()):
        ident = folder.name
        inst = instances.get(ident)
        if inst is None:
            problems.append(f"{ident}: not an instance of the suite")
            continue
        with (folder / f"{ident}_summary.csv").open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if len(rows) != 1 or tuple(rows[0]) != COLUMNS:
            problems.append(f"{ident}: summary CSV header/rows differ from QOBLIB's template")
            continue
        row = rows[0]
        runs, feas, succ = int(row["# Runs"]), int(row["# Feasible Runs"]), int(row["# Successful Runs"])
        if not 0 <= succ <= feas <= runs:
            problems.append(f"{ident}: counts do not add up (runs {runs}, feasible {feas}, successful {succ})")
        best = float(row["Best Objective Value"])
        lines = (folder / f"{ident}_solution.sol").read_text(encoding="utf-8").splitlines()
        bits = [int(x) for x in lines if x and not x.startswith("#")]
        qclass = inst.extra.get("qoblib_class")
        if qclass == "07-independentset":
            n, edges = read_gph(base / inst.extra["graph"])
            if len(bits) != n:
                problems.append(f"{ident}: solution lists {len(bits)} vertices, graph has {n}")
            clash = [(u, v) for u, v in edges if bits[u - 1] and bits[v - 1]]
            if clash:
                problems.append(f"{ident}: not independent: edge {clash[0]} has both ends chosen")
            if sum(bits) != best:
                problems.append(f"{ident}: solution has {sum(bits)} vertices, CSV says {best:g}")
        elif qclass == "02-labs":
            if len(bits) != int(inst.extra["n"]):
                problems.append(f"{ident}: sequence length {len(bits)}, expected {inst.extra['n']}")
            if labs_energy(bits) != best:
                problems.append(f"{ident}: sequence energy {labs_energy(bits)}, CSV says {best:g}")
        series = json.loads((folder / f"{ident}_objective_time_series.json").read_text(encoding="utf-8"))
        if len(series) != runs:
            problems.append(f"{ident}: {len(series)} time series for {runs} runs")
        finals = []
        for k, run in enumerate(series):
            for a, b in itertools.pairwise(run):
                worse = b["Incumbent"] < a["Incumbent"] if sense == "max" else b["Incumbent"] > a["Incumbent"]
                if b["Time"] < a["Time"] or worse:
                    problems.append(f"{ident}: run {k} incumbent series is not monotone")
                    break
            if run:
                finals.append(run[-1]["Incumbent"])
        if len(finals) != feas:
            problems.append(f"{ident}: {len(finals)} runs have an incumbent, {feas} declared feasible")
        if finals and (max(finals) if sense == "max" else min(finals)) != best:
            problems.append(f"{ident}: best final incumbent differs from the best objective {best:g}")
    return problems
