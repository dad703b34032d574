"""Rich rendering of results, backends and problem summaries for the terminal."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from kakehashi.result import Result


def _fmt(x: float | None, spec: str = ".6g") -> str:
    return "—" if x is None else format(x, spec)


def result_table(result: Result) -> Table:
    """One result: status, objective, gap, provenance and timings; legs below."""
    table = Table(title=f"{result.problem}: {result.status.value}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("objective", f"{_fmt(result.objective)} ({result.sense})")
    if result.known_optimum is not None:
        table.add_row("known optimum", _fmt(result.known_optimum))
        table.add_row("gap", "—" if result.gap is None else f"{result.gap:.4%}")
    if result.bound is not None:
        table.add_row("bound", _fmt(result.bound))
    table.add_row("feasible", "yes" if result.feasible else "no")
    if result.violations:
        worst = sorted(result.violations.items(), key=lambda kv: -kv[1])[:5]
        table.add_row("violations", ", ".join(f"{k}={v:.3g}" for k, v in worst))
    table.add_row(
        "backend", f"{result.backend} ({result.provenance.hardware}, target {result.provenance.target})"
    )
    t = result.timings
    table.add_row("time (s)", f"compile {t.compile:.3f}  solve {t.solve:.3f}  total {t.total:.3f}")
    if result.error:
        table.add_row("error", result.error)
    if len(result.legs) > 1:
        legs = "\n".join(
            f"{leg.backend}: {leg.status.value} {_fmt(leg.objective)} in {leg.solve_seconds:.2f} s"
            + (f" ({leg.error})" if leg.error else "")
            for leg in result.legs
        )
        table.add_row("race", legs)
    return table


def results_summary(rows: list[tuple[str, Result]]) -> Table:
    """Many results in one table (used by ``kakehashi demo``)."""
    table = Table(title="kakehashi results")
    for col in ("example", "backend", "status", "objective", "known optimum", "gap", "total s"):
        table.add_column(
            col, justify="right" if col in ("objective", "known optimum", "gap", "total s") else "left"
        )
    for name, r in rows:
        table.add_row(
            name,
            r.backend,
            r.status.value,
            _fmt(r.objective),
            _fmt(r.known_optimum),
            "—" if r.gap is None else f"{r.gap:.3%}",
            f"{r.timings.total:.2f}",
        )
    return table


def domain_summary(rows: list[tuple[str, dict[str, Any]]]) -> Table:
    """Domain examples: backend, status, cost with its unit, and the outcome of ``validate()``."""
    table = Table(title="kakehashi domain examples")
    for col in ("example", "backend", "status", "cost", "unit", "valid"):
        table.add_column(col, justify="right" if col == "cost" else "left")
    for label, row in rows:
        cost = row.get("cost")
        table.add_row(
            label,
            str(row.get("backend", "")),
            str(row.get("status", "")),
            "—" if cost is None else f"{cost:.6g}",
            str(row.get("unit", "")),
            "yes" if row.get("valid") else "no: " + "; ".join(map(str, row.get("violations", [])))[:80],
        )
    return table
