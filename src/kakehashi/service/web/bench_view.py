"""The benchmarks page: a leaderboard per suite from stored ``kakehashi bench`` results.

Results are the ``result.json`` files that ``kakehashi bench run`` writes (format
``kakehashi.bench/1``), found under ``KAKEHASHI_BENCH_RESULTS`` (default
``benchmarks/results/bench`` of the working directory). A leaderboard row is one
(backend, budget) over the suite's instances: mean median gap to the best known value (a
fraction; lower is better), mean success probability at the run's target, the median time to
target (seconds) and the machine the runs were taken on. A file that is not a bench result is
skipped, never an error page.
"""

from __future__ import annotations

import json
import os
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

#: Environment variable naming the directory of stored bench results.
RESULTS_ENV = "KAKEHASHI_BENCH_RESULTS"


def results_dir() -> Path:
    return Path(os.environ.get(RESULTS_ENV) or "benchmarks/results/bench")


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def report_png(directory: str, root: Path | None = None) -> Path | None:
    """The ``report.png`` of one stored result (by its directory name), or None. Only names that
    :func:`leaderboards` lists are served, so no path outside the results directory is reachable."""
    for board in leaderboards(root):
        if board["directory"] == directory and board["report_png"]:
            return (root or results_dir()) / directory / "report.png"
    return None


def leaderboards(root: Path | None = None) -> list[dict[str, Any]]:
    """One leaderboard per stored result: suite, machine, command and ranked rows."""
    root = root or results_dir()
    boards = []
    for path in sorted(root.glob("*/result.json")) if root.is_dir() else []:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or doc.get("format") != "kakehashi.bench/1":
            continue
        groups: dict[tuple[str, float], list[dict[str, Any]]] = defaultdict(list)
        for g in (doc.get("metrics") or {}).get("groups") or []:
            groups[(str(g.get("backend")), float(g.get("budget") or 0))].append(g)
        rows: list[dict[str, Any]] = []
        for (backend, budget), gs in groups.items():
            gaps = [float(g["median_gap"]) for g in gs if g.get("median_gap") is not None]
            succ = [float(g["success_p"]) for g in gs if g.get("success_p") is not None]
            ttt = [float(g["median_ttt"]) for g in gs if g.get("median_ttt") is not None]
            rows.append(
                {
                    "backend": backend,
                    "budget": budget,
                    "instances": len(gs),
                    "runs": sum(int(g.get("runs") or 0) for g in gs),
                    "feasible_runs": sum(int(g.get("feasible_runs") or 0) for g in gs),
                    "gap": _mean(gaps),
                    "success": _mean(succ),
                    "ttt": statistics.median(ttt) if ttt else None,
                }
            )
        rows.sort(key=lambda r: (r["gap"] is None, r["gap"] or 0.0, -(r["success"] or 0.0), r["budget"]))
        manifest = doc.get("manifest") or {}
        machine = manifest.get("machine") or {}
        suite = doc.get("suite") or {}
        boards.append(
            {
                "directory": path.parent.name,
                "suite": suite.get("name", path.parent.name),
                "description": suite.get("description", ""),
                "machine": f"{machine.get('cpu_model', '?')}, {machine.get('cpu_cores', '?')} cores, "
                f"GPU {machine.get('gpu', 'none')}",
                "kind": "gpu" if machine.get("gpu") not in (None, "", "none") else "cpu",
                "command": manifest.get("command", ""),
                "started": manifest.get("started", ""),
                "rows": rows,
                "report_png": (path.parent / "report.png").is_file(),
            }
        )
    return boards
