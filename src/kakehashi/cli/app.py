"""The ``kakehashi`` command line (Typer + Rich).

Core commands live here; domain, dataset and service commands are mounted from their own
modules when their extras are installed. Every error becomes one line on stderr and a
documented exit code (see :mod:`kakehashi.cli.errors`).
"""

from __future__ import annotations

import json
import sys
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kakehashi.cli.errors import run_cli
from kakehashi.cli.output import emit_json

app = typer.Typer(
    name="kakehashi",
    help="Write a problem once; solve it on every kind of machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True)


def _version(value: bool) -> None:
    if not value:
        return
    from kakehashi.cli.about import version_text

    print(version_text())
    raise typer.Exit(0)


@app.callback()
def _main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True,
                     help="Print the version, the installed extras and which backends can run here."),
    ] = False,
) -> None:
    """Write a problem once; solve it on every kind of machine."""


def _parse_params(items: list[str]) -> dict[str, Any]:
    from kakehashi.exceptions import ModelError

    params: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ModelError(f"expected KEY=VALUE, got {item!r}", field="--param")
        key, raw = item.split("=", 1)
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


@app.command()
def solve(
    file: Annotated[Path, typer.Argument(help="LP, MPS, QUBO/Ising JSON, kakehashi JSON or Gset file.")],
    backend: Annotated[
        list[str] | None,
        typer.Option("--backend", "-b", help="Backend name; repeat to race several; 'auto'."),
    ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", help="Seconds per backend.")] = 10.0,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Backend parameter KEY=VALUE (JSON values).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Result as JSON.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Draw best-so-far against seconds for every leg into this PNG/SVG."),
    ] = None,
) -> None:
    """Solve FILE and print the evaluated result."""
    import kakehashi
    from kakehashi.cli.convert import read_problem
    from kakehashi.cli.progress import SolveProgress
    from kakehashi.cli.render import result_table

    names = backend or ["auto"]
    if len(names) > 1:  # a race: the leg server warms up while the file is read
        from kakehashi.legs import start_server

        start_server()
    problem = read_problem(file)  # prints the reader's warnings on stderr
    choice: str | list[str] = names[0] if len(names) == 1 else names
    params = _parse_params(param or [])
    if isinstance(choice, list) and params:
        params = {name: params for name in choice}
    with SolveProgress(err, f"solving {problem.name}") as progress:
        result = kakehashi.solve(
            problem, choice, time_limit=time_limit, seed=seed, params=params, on_event=progress.on_event
        )
    if as_json:
        emit_json(result.to_json())
    else:
        out.print(result_table(result))
    if plot is not None:  # after the answer is out: a chart that cannot be drawn loses nothing
        from kakehashi.convergence import plot_convergence

        unconstrained = problem.num_constraints == 0
        written = plot_convergence(result, plot, unconstrained=unconstrained, time_limit=time_limit)
        err.print(f"convergence chart: {written}")


@app.command()
def backends(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List registered backends: capabilities and availability (with the reason when not)."""
    from kakehashi.backends.registry import all_backends
    from kakehashi.exceptions import KakehashiError

    rows: dict[str, Any] = {}
    for name, backend in all_backends().items():
        if isinstance(backend, KakehashiError):
            rows[name] = {"available": False, "reason": str(backend)}
            continue
        availability = backend.available()
        rows[name] = {
            "available": availability.ok,
            "reason": availability.reason,
            **backend.capabilities().to_dict(),
        }
    if as_json:
        emit_json(rows)
        return
    table = Table(title="kakehashi backends")
    for col in (
        "backend",
        "available",
        "targets",
        "hardware",
        "max vars",
        "proves opt.",
        "time limit",
        "seed",
        "reason",
    ):
        table.add_column(col)

    def yes(flag: object) -> str:
        return "yes" if flag else "no"

    for name, row in rows.items():
        table.add_row(
            name,
            yes(row["available"]),
            ", ".join(row.get("targets", [])),
            row.get("hardware", ""),
            str(row.get("max_variables") or "—"),
            yes(row.get("proves_optimality")),
            yes(row.get("honours_time_limit")),
            yes(row.get("honours_seed")),
            row.get("reason", ""),
        )
    out.print(table)


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="Problem file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Size, density and constraint kinds of FILE; which targets and backends fit it."""
    from kakehashi.auto import choose
    from kakehashi.cli.convert import read_problem
    from kakehashi.exceptions import KakehashiError
    from kakehashi.inspection import features, fits

    problem = read_problem(file)  # prints the reader's warnings on stderr
    info: dict[str, Any] = {"features": features(problem), **fits(problem)}
    try:
        choice = choose(problem)
        info["auto"] = {"backends": list(choice.backends), "reason": choice.reason}
    except KakehashiError as exc:
        info["auto"] = {"backends": [], "reason": str(exc)}
    if as_json:
        emit_json(info)
        return
    f = info["features"]
    table = Table(title=f"{f['name']} ({f['sense']})", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("variables", f"{f['num_variables']} " + str(f["vartypes"]))
    table.add_row("constraints", f"{f['num_constraints']} " + str(f["constraint_kinds"] or ""))
    table.add_row("density", f"{f['density']:.4g} ({f['objective_interactions']} interactions)")
    for kind, t in info["targets"].items():
        table.add_row(f"target {kind}", f"{t['num_variables']} variables" if t["ok"] else f"no: {t['error']}")
    for name, b in info["backends"].items():
        table.add_row(f"backend {name}", f"yes ({b['target']})" if b["ok"] else f"no: {b['reason']}")
    table.add_row("auto", f"{', '.join(info['auto']['backends']) or '—'}: {info['auto']['reason']}")
    out.print(table)


@app.command()
def demo(
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", help="Seconds per example.")] = 5.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    domains: Annotated[bool, typer.Option(help="Also solve one example per application domain.")] = True,
    ising_backend: Annotated[
        str, typer.Option(help="Ising backend for the domains' QUBO routes.")
    ] = "anneal",
) -> None:
    """Solve the bundled examples and print a results table (what ``make run`` does).

    First the problem files (LP, Gset, MPS), then one example per domain (routing, portfolio,
    unit commitment) on its classical baseline and on the Ising route (``--ising-backend``).
    """
    from kakehashi.apps.examples import run_domain_examples
    from kakehashi.cli.render import domain_summary, results_summary
    from kakehashi.examples import run_examples

    rows = run_examples(time_limit=time_limit, seed=seed, console=err)
    out.print(results_summary(rows))
    if domains:
        err.print("solving the domain examples ...")
        domain_rows = run_domain_examples(
            time_limit=time_limit, seed=seed, include_ising=True, ising_backend=ising_backend
        )
        out.print(domain_summary(domain_rows))


# Commands owned by other modules, mounted when their module (and its extra) is importable.
_SUBAPPS = {
    "datasets": ("kakehashi.datasets.cli", "app", "Benchmark datasets: list and download."),
    "admin": ("kakehashi.cli.service", "admin_app", "Projects, tokens, prices and quotas (operators)."),
    "bench": ("kakehashi.cli.bench", "app", "Standard benchmarks: run suites, report, compare, export."),
}
_COMMANDS = {
    "route": ("kakehashi.cli.apps", "route"),
    "portfolio": ("kakehashi.cli.apps", "portfolio"),
    "unit-commitment": ("kakehashi.cli.apps", "unit_commitment"),
    "maxcut": ("kakehashi.cli.apps", "maxcut"),
    "molecule": ("kakehashi.cli.molecule", "molecule"),
    "estimate": ("kakehashi.cli.estimate", "estimate"),
    "serve": ("kakehashi.cli.service", "serve"),
    "worker": ("kakehashi.cli.service", "worker"),
    "submit": ("kakehashi.cli.service", "submit"),
    "status": ("kakehashi.cli.service", "status"),
    "result": ("kakehashi.cli.service", "result"),
    "answer": ("kakehashi.cli.service", "answer"),
    "cancel": ("kakehashi.cli.service", "cancel"),
    "jobs": ("kakehashi.cli.service", "jobs"),
    "usage": ("kakehashi.cli.service", "usage"),
    "pool": ("kakehashi.cli.pool", "pool"),
    "convert": ("kakehashi.cli.convert", "convert"),
    "fba": ("kakehashi.cli.bio", "fba"),
    "strain-design": ("kakehashi.cli.bio", "strain_design"),
    "dbtl": ("kakehashi.cli.bio", "dbtl"),
}


def _mount() -> None:
    for name, (module, attr, help_text) in _SUBAPPS.items():
        try:
            sub = getattr(import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        app.add_typer(sub, name=name, help=help_text)
    for name, (module, attr) in _COMMANDS.items():
        try:
            fn = getattr(import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        app.command(name=name)(fn)


_mount()


def main() -> None:
    """Entry point of the ``kakehashi`` script."""
    from kakehashi.cli.output import reserve_stdout, wants_json

    if wants_json(sys.argv[1:]):
        reserve_stdout()
    sys.exit(run_cli(app, prog_name="kakehashi"))
