"""Comparing two result files: per (instance, backend, budget), which is better and is it significant.

Quality is compared on the feasible runs' objectives with the two-sided Mann–Whitney U test
(:func:`scipy.stats.mannwhitneyu`); "better" is the higher (max) or lower (min) median. With
few runs the test cannot reach significance (with 2 + 2 runs the smallest two-sided p is 0.33),
and the verdict says so rather than guessing. Cells present in only one file are listed.
``b_within_a_ci`` says whether B's median lies in A's bootstrap CI of the median (the check that a
rerun reproduces a result).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from kakehashi.bench.metrics import bootstrap


def _objectives(doc: dict[str, Any]) -> dict[tuple[str, str, float], list[float]]:
    cells: dict[tuple[str, str, float], list[float]] = defaultdict(list)
    for r in doc["runs"]:
        key = (r["instance"], r["backend"], float(r["budget"]))
        cells.setdefault(key, [])
        if r.get("feasible") and r.get("objective") is not None:
            cells[key].append(float(r["objective"]))
    return cells


def compare(a: dict[str, Any], b: dict[str, Any], *, alpha: float = 0.05) -> list[dict[str, Any]]:
    """One row per cell group: medians, the better side (``A``/``B``/``tie``), p-value, significance."""
    from scipy.stats import mannwhitneyu

    sense = a["suite"]["sense"]
    ca, cb = _objectives(a), _objectives(b)
    rows = []
    for key in sorted(set(ca) | set(cb)):
        inst, backend, budget = key
        xa, xb = ca.get(key), cb.get(key)
        row: dict[str, Any] = {"instance": inst, "backend": backend, "budget": budget,
                               "runs_a": None if xa is None else len(xa), "runs_b": None if xb is None else len(xb)}
        if not xa or not xb:
            row.update({"better": "n/a", "p_value": None, "significant": False,
                        "note": "only in A" if xb is None else "only in B" if xa is None else "no feasible runs"})
            rows.append(row)
            continue
        ma, mb = float(np.median(xa)), float(np.median(xb))
        lo, hi = bootstrap(np.array(xa), lambda v: float(np.median(v)))
        row.update({"median_a": ma, "median_b": mb, "median_a_ci": [lo, hi], "b_within_a_ci": lo <= mb <= hi})
        better = "tie" if ma == mb else "A" if (ma > mb) == (sense == "max") else "B"
        if len(set(xa) | set(xb)) == 1:
            p = 1.0
        else:
            p = float(mannwhitneyu(xa, xb, alternative="two-sided").pvalue)
        row.update({"better": better, "p_value": p, "significant": bool(p < alpha and better != "tie"),
                    "note": "" if min(len(xa), len(xb)) >= 4 else "too few runs for significance"})
        rows.append(row)
    return rows


def render_comparison(rows: list[dict[str, Any]]) -> Any:
    """A Rich table of :func:`compare`'s rows."""
    from rich.table import Table

    table = Table(title="A vs B (Mann–Whitney U, two-sided)")
    for col in ("instance", "backend", "budget s", "median A", "A's 95% CI", "median B", "B in A's CI", "better", "p",
                "significant", "note"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["instance"], r["backend"], f"{r['budget']:g}",
                      "—" if r.get("median_a") is None else f"{r['median_a']:g}",
                      "—" if r.get("median_a_ci") is None else f"[{r['median_a_ci'][0]:g}, {r['median_a_ci'][1]:g}]",
                      "—" if r.get("median_b") is None else f"{r['median_b']:g}",
                      "—" if r.get("b_within_a_ci") is None else ("yes" if r["b_within_a_ci"] else "no"),
                      r["better"], "—" if r["p_value"] is None else f"{r['p_value']:.3g}",
                      "yes" if r["significant"] else "no", r.get("note", ""))
    return table
