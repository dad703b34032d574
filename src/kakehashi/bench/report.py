"""Reports: a self-contained HTML page (inline SVG plots, sortable tables) and CSV tables.

``report.html`` needs nothing but a browser: no network, no scripts beyond a few lines that sort
a table when its header is clicked. Every piece of text from the result file is HTML-escaped.
``metrics.csv`` holds one row per (instance, backend, budget); ``runs.csv`` one row per run.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

from kakehashi.bench.svg import Series, plot

#: At most this many per-instance panels are drawn (tables always list every instance).
MAX_PANELS = 12

METRIC_COLUMNS = ("instance", "backend", "budget", "instance_specific", "runs", "feasible_runs", "errors",
                  "best_known", "best", "median", "median_ci", "median_gap", "median_gap_ci", "median_ratio",
                  "target", "successes", "success_p", "success_p_ci", "tts99", "tts99_ci", "median_ttt",
                  "median_ttt_ci", "mean_wall_s", "max_wall_s", "machine_seconds", "mean_cost_yen")
RUN_COLUMNS = ("instance", "backend", "budget", "seed", "status", "solver_status", "domain_ok", "objective",
               "feasible", "wall_s",
               "backend_used", "instance_specific", "trajectory_source", "trajectory_points", "error")

_JS = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var asc = th.dataset.dir !== 'asc'; th.dataset.dir = asc ? 'asc' : 'desc';
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1500px}
h1{font-size:22px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:right} th{background:#f4f4f4;cursor:pointer}
td:first-child,th:first-child{text-align:left} .grid{display:flex;flex-wrap:wrap;gap:8px}
.note{color:#555;font-size:13px} .warn{color:#a40000;font-weight:bold}
"""


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def _sort_key(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return repr(float(value))
    if value is None:
        return "inf"
    if isinstance(value, list) and value and isinstance(value[0], int | float):
        return repr(float(value[0]))
    return str(value)


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for r in rows:
        cells = "".join(f'<td data-v="{escape(_sort_key(r.get(c)))}">{escape(_cell(r.get(c)))}</td>' for c in columns)
        body.append(f"<tr>{cells}</tr>")
    return (f'<div style="overflow-x:auto"><table class="sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _kv(items: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td style='text-align:left'>{escape(_cell(v))}</td></tr>"
                   for k, v in items)
    return f"<table>{rows}</table>"


def _run_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**r, "trajectory_points": len(r.get("trajectory") or []),
             "domain_ok": (r.get("domain_check") or {}).get("ok")} for r in doc["runs"]]


def quality_plots(doc: dict[str, Any]) -> list[str]:
    """Per instance: median gap (%) against budget per backend, with bootstrap CIs."""
    groups = doc["metrics"]["groups"]
    by_inst: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for g in groups:
        by_inst[g["instance"]][g["backend"]].append(g)
    logx = len({g["budget"] for g in groups}) > 1
    out = []
    for inst in list(by_inst)[:MAX_PANELS]:
        series = []
        for backend, gs in sorted(by_inst[inst].items()):
            gs = sorted((g for g in gs if g.get("median_gap") is not None), key=lambda g: g["budget"])
            series.append(Series(backend, [(g["budget"], 100 * g["median_gap"]) for g in gs],
                                 [(100 * g["median_gap_ci"][0], 100 * g["median_gap_ci"][1]) for g in gs]))
        out.append(plot(series, title=f"{inst}: gap to best known", xlabel="budget per run (s)",
                        ylabel="median gap (%)", logx=logx))
    return out


def trajectory_plots(doc: dict[str, Any]) -> list[str]:
    """Per instance, at the largest budget: every run's incumbent series (objective vs seconds)."""
    runs = doc["runs"]
    if not runs:
        return []
    top = max(float(r["budget"]) for r in runs)
    best = {i["id"]: i.get("best_known") for i in doc["suite"]["instances"]}
    by_inst: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        if float(r["budget"]) == top and r.get("trajectory"):
            by_inst[r["instance"]].append(r)
    backends = sorted({r["backend"] for r in runs})
    out = []
    for inst in list(by_inst)[:MAX_PANELS]:
        series = []
        t_max = max(p[0] for r in by_inst[inst] for p in r["trajectory"])
        for k, backend in enumerate(backends):
            from kakehashi.bench.svg import PALETTE

            for j, r in enumerate(x for x in by_inst[inst] if x["backend"] == backend):
                pts = [(float(t), float(v)) for t, v in r["trajectory"]]
                pts.append((max(t_max, pts[-1][0]), pts[-1][1]))
                series.append(Series(backend if j == 0 else "", pts, step=True, color=PALETTE[k % len(PALETTE)]))
        bk = best.get(inst)
        if bk is not None:
            series.append(Series("best known", [(0.0, bk), (t_max, bk)], dashed=True, color="#444"))
        out.append(plot([s for s in series if s.points], title=f"{inst}: incumbent vs time ({top:g} s budget)",
                        xlabel="seconds", ylabel="objective"))
    return out


def tts_plots(doc: dict[str, Any]) -> list[str]:
    """Per instance: TTS(99%) against budget per backend (log y), with bootstrap CIs."""
    groups = doc["metrics"]["groups"]
    by_inst: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for g in groups:
        by_inst[g["instance"]][g["backend"]].append(g)
    logx = len({g["budget"] for g in groups}) > 1
    out = []
    for inst in list(by_inst)[:MAX_PANELS]:
        series = []
        for backend, gs in sorted(by_inst[inst].items()):
            gs = sorted((g for g in gs if g.get("tts99") is not None), key=lambda g: g["budget"])
            errs: list[tuple[float, float] | None] = [
                (g["tts99_ci"][0] or math.inf, g["tts99_ci"][1] if g["tts99_ci"][1] is not None else math.inf)
                for g in gs]
            series.append(Series(backend, [(g["budget"], g["tts99"]) for g in gs], errs))
        out.append(plot(series, title=f"{inst}: TTS(99%) (missing = never reached target)",
                        xlabel="budget per run (s)", ylabel="TTS99 (s)", logx=logx, logy=True))
    return out


def profile_plots(doc: dict[str, Any]) -> list[str]:
    """Dolan–Moré profiles (TTS99 and quality) per budget."""
    out = []
    names = {"tts99": "TTS(99%)", "quality": "1 + median gap"}
    for kind, per_budget in doc["metrics"]["profiles"].items():
        for budget, prof in per_budget.items():
            series = [Series(b, list(zip(prof["taus"], rho, strict=True)), step=True)
                      for b, rho in sorted(prof["rho"].items())]
            out.append(plot(series, title=f"Performance profile: {names.get(kind, kind)}, {budget} s",
                            xlabel="τ (ratio to the best backend)", ylabel="fraction of instances ρ(τ)",
                            logx=True, ylim=(0.0, 1.0)))
    return out


def render_html(doc: dict[str, Any]) -> str:
    """The whole report page."""
    suite, man, metrics = doc["suite"], doc["manifest"], doc["metrics"]
    proto, tuning = suite["protocol"], suite["tuning"]
    machine = man["machine"]
    load = man["load_average"]
    specific = doc.get("instance_specific_runs", 0)
    warn = (f'<p class="warn">{specific} runs used instance-specific parameters (marked in the tables).</p>'
            if specific else '<p class="note">No run used instance-specific parameters.</p>')
    overruns = [g for g in metrics["groups"] if (g.get("max_wall_s") or 0) > 1.5 * g["budget"] + 1.0]
    over = (f'<p class="warn">{len(overruns)} (instance, backend, budget) groups ran past 1.5 × budget + 1 s: '
            + escape(", ".join(f"{g['instance']}/{g['backend']}/{g['budget']:g}s ({g['max_wall_s']:.1f} s)"
                               for g in overruns[:12])) + "</p>") if overruns else ""
    sections = [
        f"<h1>kakehashi bench: {escape(suite['name'])}</h1>",
        f"<p>{escape(suite['description'])}</p>",
        _kv([("problem class", suite["problem_class"]), ("sense", suite["sense"]),
             ("budgets (s per run)", doc["invocation"]["budgets"]),
             ("backends", ", ".join(doc["invocation"]["backends"])),
             ("suite defaults", f"budgets {proto['budgets']}, seeds {proto['seeds']}, backends {proto['backends']}"), ("seeds", man["seeds"]), ("stop rule", proto["stop"]),
             ("success threshold ε", proto["epsilon"]), ("tuning policy", tuning["policy"]),
             ("training instances", ", ".join(tuning["training"]) or "none"),
             ("TTS target", metrics["tts_target"]),
             ("prices", f"{metrics.get('price_source', '')}: {json.dumps(metrics.get('prices_yen_per_second', {}))}"),
             ("bootstrap", f"{metrics['bootstrap']} resamples, {metrics['confidence']:.0%} percentile CI, seed {metrics['seed']}")]),
        warn, over,
        "<h2>Quality against time</h2><div class='grid'>" + "".join(quality_plots(doc)) + "</div>",
        "<h2>Incumbent time series</h2><p class='note'>Each line is one run (best-so-far objective). "
        "Runs whose solver reports no trajectory show one point at the end of the run.</p>"
        "<div class='grid'>" + "".join(trajectory_plots(doc)) + "</div>",
        "<h2>Time to solution, 99%</h2><div class='grid'>" + "".join(tts_plots(doc)) + "</div>",
        "<h2>Performance profiles (Dolan–Moré)</h2><div class='grid'>" + "".join(profile_plots(doc)) + "</div>",
        "<h2>Metrics</h2><p class='note'>Click a column header to sort. CIs are bootstrap percentile intervals; "
        "— means undefined (TTS99 — : target never reached).</p>" + _table(metrics["groups"], METRIC_COLUMNS),
        "<h2>Runs</h2>" + _table(_run_rows(doc), RUN_COLUMNS),
        "<h2>Manifest</h2>" + _kv([
            ("command", man["command"]), ("kakehashi", man["kakehashi_version"]), ("git commit", man["git_commit"]),
            ("lock sha256 (locks/test.txt)", man["lock_sha256"]), ("CPU", machine["cpu_model"]),
            ("cores", machine["cpu_cores"]), ("GPU", machine["gpu"]), ("OS", machine["os"]),
            ("Python", machine["python"]), ("host", machine["host"]),
            ("load average (1 min) during run", f"min {load['load1_min']:.2f}, mean {load['load1_mean']:.2f}, "
                                                f"max {load['load1_max']:.2f}"),
            ("started / finished", f"{man['started']} / {man['finished']}"),
            ("solver versions", json.dumps(man["solver_versions"])),
            ("instances (sha256)", json.dumps(man["instances"]))]),
    ]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>kakehashi bench: {escape(suite['name'])}</title><style>{_CSS}</style></head><body>"
            + "".join(sections) + f"<script>{_JS}</script></body></html>")


def _csv_value(v: Any) -> Any:
    if isinstance(v, list | dict):
        return json.dumps(v)
    return "" if v is None else v


def write_csv(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    """Write ``rows`` (lists and dicts as JSON) to ``path``."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow([_csv_value(r.get(c)) for c in columns])


def write_report(doc: dict[str, Any], out: Path) -> list[Path]:
    """Write ``report.html``, ``metrics.csv`` and ``runs.csv`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    html_path, metrics_path, runs_path = out / "report.html", out / "metrics.csv", out / "runs.csv"
    html_path.write_text(render_html(doc), encoding="utf-8")
    write_csv(metrics_path, doc["metrics"]["groups"], METRIC_COLUMNS)
    write_csv(runs_path, _run_rows(doc), RUN_COLUMNS)
    return [html_path, metrics_path, runs_path]
