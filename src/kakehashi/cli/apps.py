"""Domain commands: ``kakehashi route FILE``, ``portfolio FILE -k 10``, ``unit-commitment FILE``, ``maxcut FILE``.

Each prints a short summary (or with ``--json`` the domain answer, its cost and the outcome of
``validate()``) and optionally writes a plot (``--plot out.png`` or, for routes, ``out.html``).
Bad input raises :class:`~kakehashi.exceptions.ModelError` (exit code 2) before any solve.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kakehashi.cli.output import emit_json

BackendOpt = Annotated[str, typer.Option("--backend", "-b", help="backend name, or auto")]
TimeOpt = Annotated[float, typer.Option("--time-limit", "-t", help="seconds")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the answer, cost and validation as JSON")]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="write a plot (.png, or .html for routes)")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="random seed")]


def _emit(data: dict[str, Any]) -> None:
    emit_json(data)


def route(
    file: Annotated[Path, typer.Argument(help="TSPLIB .tsp, CVRPLIB .vrp, or CSV id,x,y,demand (depot first)")],
    backend: BackendOpt = "auto",
    time_limit: TimeOpt = 10.0,
    capacity: Annotated[int | None, typer.Option(help="vehicle capacity (CSV input: makes it a CVRP)")] = None,
    vehicles: Annotated[int | None, typer.Option(help="fleet size k")] = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Solve a TSP or CVRP; routes with load and length per vehicle, total cost, gap to the optimum."""
    from kakehashi.apps.routing import read_routing, solve_routing
    from kakehashi.apps.routing.plot import plot_routes

    inst = read_routing(file, capacity=capacity, num_vehicles=vehicles)
    sol = solve_routing(inst, backend, time_limit=time_limit, seed=seed)
    if plot is not None and sol.routes:
        plot_routes(inst, sol, plot)
    if as_json:
        _emit(sol.to_summary())
        return
    gap = f", gap {100 * sol.gap:.2f}% to {sol.known_optimum:g}" if sol.gap is not None else ""
    typer.echo(f"{sol.instance}: {sol.status}, cost {sol.total_cost}{gap} ({sol.backend}, {len(sol.routes)} routes)")
    for k, r in enumerate(sol.routes, 1):
        typer.echo(f"  route {k}: load {r.load}, length {r.length}: 0 {' '.join(map(str, r.nodes))} 0")
    for v in sol.validation.violations if sol.validation else []:
        typer.echo(f"  violation: {v}")


def portfolio(
    file: Annotated[Path, typer.Argument(help="OR-Library port*.txt, or CSV (asset,mean,cov... or returns)")],
    k: Annotated[int, typer.Option("-k", "--k", help="number of assets held (cardinality K)")] = 10,
    lam: Annotated[float, typer.Option("--lambda", help="risk weight λ in [0, 1] (1: minimum risk)")] = 0.5,
    min_weight: Annotated[float, typer.Option(help="minimum weight of a held asset")] = 0.01,
    max_weight: Annotated[float, typer.Option(help="maximum weight of a held asset")] = 1.0,
    frontier_points: Annotated[int, typer.Option("--frontier", help="sweep λ over this many points (0: one λ)")] = 0,
    backend: BackendOpt = "scip",
    time_limit: TimeOpt = 10.0,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Cardinality-constrained mean–variance portfolio (Chang et al. 2000), or its frontier."""
    import numpy as np

    from kakehashi.apps.portfolio import PortfolioSettings, frontier, mean_percentage_error, read_portfolio
    from kakehashi.apps.portfolio.plot import plot_frontier

    inst = read_portfolio(file)
    settings = PortfolioSettings(k=k, min_weight=min_weight, max_weight=max_weight)
    lams = list(np.linspace(0.0, 1.0, frontier_points)) if frontier_points > 1 else [lam]
    sols = frontier(inst, settings, lams, backend=backend, time_limit=time_limit, seed=seed)
    mpe = None
    if inst.known_frontier and len(sols) > 1:
        mpe = mean_percentage_error([(s.expected_return, s.variance) for s in sols], inst.known_frontier)
    if plot is not None:
        plot_frontier(inst, sols, plot)
    if as_json:
        _emit({"portfolios": [s.model_dump() for s in sols], "mean_percentage_error": mpe})
        return
    for s in sols:
        ok = "valid" if s.ok else "; ".join(s.violations)
        typer.echo(f"λ={s.lam:.3f}: return {s.expected_return:.6f}, variance {s.variance:.3g}, "
                   f"{len(s.weights)} assets, {s.status} ({s.backend}), {ok}")
    if len(sols) == 1:
        for name, w in sorted(sols[0].weights.items(), key=lambda kv: -kv[1]):
            typer.echo(f"  {name}: {w:.4f}")
    if mpe is not None:
        typer.echo(f"mean percentage error to the unconstrained frontier: {mpe:.3f}%")


def unit_commitment(
    file: Annotated[Path, typer.Argument(help="unit-commitment JSON (see examples/energy)")],
    backend: BackendOpt = "highs",
    time_limit: TimeOpt = 30.0,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Day-ahead unit commitment: on/off schedule, dispatch, cost, and the validation outcome."""
    from kakehashi.apps.energy import read_unit_commitment, solve_unit_commitment
    from kakehashi.apps.energy.plot import plot_schedule

    inst = read_unit_commitment(file)
    sch = solve_unit_commitment(inst, backend, time_limit=time_limit, seed=seed)
    if plot is not None and sch.on:
        plot_schedule(inst, sch, plot)
    if as_json:
        _emit({**sch.model_dump(), "valid": not sch.violations})
        return
    typer.echo(f"{inst.name}: {sch.status}, cost {sch.cost:,.0f} ({sch.backend})")
    for name, on in sch.on.items():
        typer.echo(f"  {name:>12}: {''.join('#' if x else '.' for x in on)}")
    for v in sch.violations:
        typer.echo(f"  violation: {v}")


def maxcut(
    file: Annotated[Path, typer.Argument(help="Gset/rudy graph file")],
    backend: BackendOpt = "auto",
    time_limit: TimeOpt = 10.0,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """MaxCut of a Gset graph: the two sides and the cut recomputed from the edge list."""
    from kakehashi.apps.graphs import interpret_cut, maxcut_problem, read_graph
    from kakehashi.solver import solve

    problem = maxcut_problem(file)
    result = solve(problem, backend, time_limit=time_limit, seed=seed)
    answer = interpret_cut(result, read_graph(file))
    if as_json:
        _emit({"cut": answer.cut, "side_a": answer.side_a, "side_b": answer.side_b,
               "known_optimum": problem.known_optimum, "backend": result.backend})
        return
    best = f" (best known {problem.known_optimum:g})" if problem.known_optimum else ""
    typer.echo(f"{problem.name}: cut {answer.cut:g}{best}, |A|={len(answer.side_a)}, |B|={len(answer.side_b)} "
               f"({result.backend})")
