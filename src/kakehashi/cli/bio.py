"""Bio-manufacturing commands: ``kakehashi fba MODEL``, ``strain-design MODEL``, ``dbtl MODEL``.

MODEL is an SBML/JSON/.mat file or a bundled name (``textbook``: E. coli core). ``--json`` prints
exactly one JSON document on stdout. Bad models and unknown reaction ids exit with code 2 and one
line naming the reaction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kakehashi.cli.output import emit_json

ModelArg = Annotated[str, typer.Argument(help="SBML (.xml/.xml.gz), COBRA JSON, .mat, or 'textbook' (E. coli core)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON document")]
AnaerobicOpt = Annotated[bool, typer.Option("--anaerobic", help="no oxygen uptake (EX_o2_e lower bound 0)")]
BoundOpt = Annotated[list[str] | None, typer.Option("--bound", help="REACTION=LOWER:UPPER (repeatable)")]


def _network(model: str, anaerobic: bool, bound: list[str] | None) -> Any:
    from kakehashi.apps.bio.network import read_model
    from kakehashi.apps.bio.strain import conditions, parse_bounds

    return conditions(read_model(model), anaerobic=anaerobic, bounds=parse_bounds(bound or []))


def fba(
    model: ModelArg,
    anaerobic: AnaerobicOpt = False,
    bound: BoundOpt = None,
    parsimonious: Annotated[bool, typer.Option("--pfba", help="also the least total flux at the optimum")] = False,
    variability: Annotated[list[str] | None, typer.Option("--fva", help="flux range of REACTION at the optimum")] = None,
    top: Annotated[int, typer.Option(help="largest fluxes to print")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Flux balance analysis: maximal objective (growth, h⁻¹) and its fluxes, via HiGHS."""
    from kakehashi.apps.bio.fba import fba as run_fba
    from kakehashi.apps.bio.fba import fva, pfba, raise_infeasible

    net = _network(model, anaerobic, bound)
    sol = run_fba(net)
    if sol.objective is None:
        raise_infeasible(net)
    doc: dict[str, Any] = {"model": net.name, "objective_reaction": net.objective_reaction,
                           "objective": sol.objective, "status": sol.status, "fluxes": sol.fluxes,
                           "warnings": list(net.warnings)}
    if parsimonious:
        p = pfba(net)
        doc["pfba"] = {"total_flux": p.objective, "fluxes": p.fluxes}
    if variability:
        doc["fva"] = {r: list(v) for r, v in fva(net, variability).items()}
    if as_json:
        emit_json(doc)
        return
    typer.echo(f"{net.name}: {net.objective_reaction} = {sol.objective:.6f} ({sol.status}, highs)")
    for rid, v in sorted(sol.fluxes.items(), key=lambda kv: -abs(kv[1]))[:top]:
        typer.echo(f"  {rid:<14} {v:12.6f}")
    if parsimonious:
        typer.echo(f"  pFBA total flux: {doc['pfba']['total_flux']:.6f}")
    for rid, (lo, hi) in (doc.get("fva") or {}).items():
        typer.echo(f"  FVA {rid}: [{lo:.6f}, {hi:.6f}]")


def strain_design(
    model: ModelArg,
    product: Annotated[str, typer.Option("--product", help="exchange reaction of the product, e.g. EX_succ_e")],
    knockouts: Annotated[int, typer.Option("--knockouts", "-k", help="knockout budget k")] = 3,
    route: Annotated[list[str] | None, typer.Option("--route", help="milp and/or qubo (repeatable)")] = None,
    designs: Annotated[int, typer.Option(help="MILP designs (integer cuts between them)")] = 3,
    min_growth: Annotated[float | None, typer.Option(help="growth floor, h⁻¹ (default 10% of wild type)")] = None,
    anaerobic: AnaerobicOpt = False,
    bound: BoundOpt = None,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", help="seconds per route")] = 60.0,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    as_json: JsonOpt = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="bar chart of the designs (.png)")] = None,
) -> None:
    """Growth-coupled knockouts (OptKnock MILP and/or QUBO), each validated by FBA (worst case)."""
    from kakehashi.apps.bio.plot import plot_designs
    from kakehashi.apps.bio.strain import strain_design as run

    net = _network(model, anaerobic, bound)
    result = run(net, product, knockouts, routes=route or ["milp"], min_growth=min_growth, designs=designs,
                 time_limit=time_limit, seed=seed)
    if plot is not None:
        plot_designs(result.designs, result.wild_type, plot, title=f"{net.name}: {product}, k ≤ {knockouts}")
    if as_json:
        emit_json(result.to_dict())
        return
    wt = result.wild_type
    typer.echo(f"{net.name}: {product}, k <= {knockouts}, growth floor {result.min_growth:.4f} h^-1, "
               f"{len(result.candidates)} candidates; wild type growth {wt.growth or 0:.4f}, "
               f"guaranteed {wt.guaranteed:.4f}")
    for r in result.routes:
        typer.echo(f"  route {r.route}: {len(r.designs)} design(s) in {r.seconds:.2f} s")
    for d in result.designs:
        status = "valid" if d.valid else "INVALID: " + "; ".join(d.violations)
        typer.echo(f"  {' '.join(d.knockouts) or '-':<36} growth {d.growth or 0:.4f}  guaranteed "
                   f"{d.production or 0:.4f}  (most {d.production_max or 0:.4f})  {d.route}  {status}")


def dbtl(
    model: ModelArg,
    product: Annotated[str, typer.Option("--product", help="exchange reaction of the product")],
    knockouts: Annotated[int, typer.Option("--knockouts", "-k", help="knockout budget k")] = 4,
    rounds: Annotated[int, typer.Option(help="most rounds")] = 8,
    batch: Annotated[int, typer.Option(help="strains built and tested per round")] = 2,
    patience: Annotated[int, typer.Option(help="stop after this many rounds without improvement")] = 3,
    measurements: Annotated[Path | None, typer.Option(
        help="your lab's CSV (knockouts,measured): propose the next strains instead of simulating")] = None,
    min_growth: Annotated[float | None, typer.Option(help="growth floor, h⁻¹ (default 10% of wild type)")] = None,
    anaerobic: AnaerobicOpt = False,
    bound: BoundOpt = None,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", help="seconds for the design MILP")] = 60.0,
    seed: Annotated[int, typer.Option(help="seed (simulated lab and surrogate)")] = 0,
    out: Annotated[Path | None, typer.Option("--out", help="write every round here (.json; a .csv beside it)")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="production per round (.png)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Design–Build–Test–Learn rounds on the simulated lab (or one step on your measurements)."""
    from kakehashi.apps.bio.dbtl import propose, read_measurements, run_dbtl, write_rounds_csv
    from kakehashi.apps.bio.plot import plot_rounds
    from kakehashi.apps.bio.strain import strain_design as run

    net = _network(model, anaerobic, bound)
    design = run(net, product, knockouts, routes=["milp"], min_growth=min_growth, designs=1, time_limit=time_limit,
                 seed=seed)
    if measurements is not None:
        doc = propose(net, product, read_measurements(measurements), design.candidates, knockouts,
                      min_growth=design.min_growth, batch=batch, seed=seed)
        if out is not None:
            out.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        if as_json:
            emit_json(doc)
            return
        typer.echo(f"best measured {doc['best_measured']:.4f}; next strains by expected improvement:")
        for p in doc["proposals"]:
            typer.echo(f"  {' '.join(p['knockouts']):<36} FBA {p['predicted']:.4f}  surrogate "
                       f"{p['surrogate_mean']:.4f} ± {p['surrogate_sd']:.4f}  EI {p['expected_improvement']:.4f}")
        return
    result = run_dbtl(net, product, [d.knockouts for d in design.designs], design.candidates, knockouts,
                      min_growth=design.min_growth, rounds=rounds, batch=batch, patience=patience, seed=seed)
    if out is not None:
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
        write_rounds_csv(result, out.with_suffix(".csv"))
    if plot is not None:
        plot_rounds(result["rounds"], plot, title=f"DBTL on the simulated lab: {product}, k ≤ {knockouts}")
    if as_json:
        emit_json(result)
        return
    for r in result["rounds"]:
        flag = "improved" if r["improved"] else "no improvement"
        typer.echo(f"round {r['round']} ({r['selection']}): best so far {r['best_so_far']:.4f} "
                   f"[{' '.join(r['best_knockouts'])}] {flag}")
    typer.echo(f"improved in {result['improvements']} round(s) after round 0; last improvement in round "
               f"{result['stopped_improving']}")
