"""Solve the bundled example of each domain (``examples/`` in the repository): what ``make run`` shows.

:func:`run_domain_examples` returns, per example, a label and a JSON-compatible summary: the
backend, the cost in the domain's units, the status and the outcome of the domain's own
``validate()`` (``valid`` and the ``violations``). The examples are synthetic and documented in
``examples/README.md``:

* routing — ``routing/depot.csv``: 20 customers, capacity 60, 5 vehicles (PyVRP);
* portfolio — ``portfolio/assets.csv``: 8 assets, K = 4, λ = 0.5 (SCIP MIQP, weights re-optimised);
* energy — ``energy/regional_day.json``: a regional grid's day, 7 units, solar and a battery
  (HiGHS MILP; cost in yen).

With ``include_ising=True`` each domain's Ising route (backend ``ising_backend``) is added after
its classical baseline, so the two can be compared.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kakehashi.exceptions import ModelError

#: Where the examples live when no directory is given (``KAKEHASHI_EXAMPLES_DIR`` overrides).
DEFAULT_EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"


def examples_dir(path: str | Path | None = None) -> Path:
    """The examples directory: ``path``, else ``$KAKEHASHI_EXAMPLES_DIR``, else the repository's ``examples/``."""
    p = Path(path or os.environ.get("KAKEHASHI_EXAMPLES_DIR") or DEFAULT_EXAMPLES_DIR)
    if not (p / "routing" / "depot.csv").exists():
        raise ModelError("the bundled examples were not found (set KAKEHASHI_EXAMPLES_DIR to the repository's "
                         "examples/ directory)", source=p)
    return p


def _routing(root: Path, backend: str, time_limit: float, seed: int | None) -> dict[str, Any]:
    from kakehashi.apps.routing import read_routing, solve_routing

    inst = read_routing(root / "routing" / "depot.csv", capacity=60, num_vehicles=5)
    sol = solve_routing(inst, backend, time_limit=time_limit, seed=seed)
    return {"file": "routing/depot.csv", "backend": sol.backend, "status": sol.status, "cost": float(sol.total_cost),
            "unit": "distance", "valid": bool(sol.validation and sol.validation.ok),
            "violations": list(sol.validation.violations) if sol.validation else ["no validation"],
            "detail": {"routes": len(sol.routes), "loads": [r.load for r in sol.routes]}}


def _portfolio(root: Path, backend: str, time_limit: float, seed: int | None) -> dict[str, Any]:
    from kakehashi.apps.portfolio import PortfolioSettings, read_portfolio, solve_portfolio

    inst = read_portfolio(root / "portfolio" / "assets.csv")
    sol = solve_portfolio(inst, PortfolioSettings(k=4, min_weight=0.01, max_weight=1.0), 0.5, backend=backend, time_limit=time_limit, seed=seed)
    return {"file": "portfolio/assets.csv", "backend": sol.backend, "status": sol.status, "cost": sol.objective,
            "unit": "λ·variance − (1−λ)·return, λ = 0.5", "valid": sol.ok, "violations": list(sol.violations),
            "detail": {"weights": sol.weights, "expected_return": sol.expected_return, "variance": sol.variance}}


def _energy(root: Path, backend: str, time_limit: float, seed: int | None) -> dict[str, Any]:
    from kakehashi.apps.energy import read_unit_commitment, solve_unit_commitment

    inst = read_unit_commitment(root / "energy" / "regional_day.json")
    sch = solve_unit_commitment(inst, backend, time_limit=time_limit, seed=seed)
    return {"file": "energy/regional_day.json", "backend": sch.backend, "status": sch.status, "cost": sch.cost,
            "unit": "yen", "valid": bool(sch.on) and not sch.violations, "violations": list(sch.violations),
            "detail": {"on_hours": {k: sum(v) for k, v in sch.on.items()}}}


def run_domain_examples(time_limit: float = 10.0, seed: int | None = 0, *, include_ising: bool = False,
                        ising_backend: str = "tabu", path: str | Path | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Solve each bundled domain example; ``[(label, summary), ...]`` (see the module docstring).

    Args:
        time_limit: seconds per solve.
        seed: random seed for the backends that take one.
        include_ising: also run each domain's Ising route on ``ising_backend``.
        path: the examples directory (default: see :func:`examples_dir`).
    """
    root = examples_dir(path)
    plan = [("routing", _routing, "pyvrp"), ("portfolio", _portfolio, "scip"), ("energy", _energy, "highs")]
    out: list[tuple[str, dict[str, Any]]] = []
    for label, run, classical in plan:
        for backend in [classical, *([ising_backend] if include_ising else [])]:
            out.append((f"{label} ({backend})", run(root, backend, time_limit, seed)))
    return out
