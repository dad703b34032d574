"""``kakehashi bench``: run a suite, report it, compare two results, rerun one, export to QOBLIB.

::

    kakehashi bench suites
    kakehashi bench run SUITE [--backends a,b] [--budget 1,3] [--seeds N] [--instances G27,G28] [--out DIR]
                              [--url URL --token T]   (every run a job of that service)
    kakehashi bench publish RESULT.json --url URL --token T
    kakehashi bench report RESULT.json [--out DIR]
    kakehashi bench compare A.json B.json
    kakehashi bench rerun RESULT.json [--out DIR]
    kakehashi bench export --qoblib DIR RESULT.json
    kakehashi bench check SUBMISSION_DIR RESULT.json
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(no_args_is_help=True, help="Standard benchmarks: run suites, report, compare, export.")
err = Console(stderr=True)
out = Console(soft_wrap=True)
if not out.is_terminal:  # a pipe or a file gets full-width tables, not truncated ids
    out = Console(soft_wrap=True, width=200)


def _csv(text: str | None, kind: type, name: str) -> list[Any] | None:
    from kakehashi.exceptions import ModelError

    if text is None:
        return None
    try:
        items = [kind(x.strip()) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise ModelError(f"expected a comma-separated list of {kind.__name__}, got {text!r}", field=name) from exc
    if not items:
        raise ModelError("expected at least one value", field=name)
    return items


def _token(token: str | None) -> str:
    from kakehashi.exceptions import AuthError

    if not token:
        raise AuthError("--url needs an API token: --token T or KAKEHASHI_TOKEN")
    return token


def _run(suite_name: str, *, backends: list[str] | None, budgets: list[float] | None,
         seeds: list[int] | None, instances: list[str] | None, out_dir: Path, command: list[str],
         url: str | None = None, token: str | None = None) -> dict[str, Any]:
    from kakehashi.bench.suite import load_suite

    suite = load_suite(suite_name)
    if url:
        from kakehashi.bench.remote import ServiceSolve
        from kakehashi.client import Client

        with Client(url, _token(token)) as client:
            return _run_with(suite, out_dir, backends, budgets, seeds, instances, command,
                             solve=ServiceSolve(client), service=url)
    return _run_with(suite, out_dir, backends, budgets, seeds, instances, command)


def _run_with(suite: Any, out_dir: Path, backends: list[str] | None, budgets: list[float] | None,
              seeds: list[int] | None, instances: list[str] | None, command: list[str], *,
              solve: Any = None, service: str | None = None) -> dict[str, Any]:
    from kakehashi.bench.runner import run_suite

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=False) as bar:
        task = bar.add_task(suite.name, total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{suite.name}: {what}")

        doc = run_suite(suite, out_dir, backends=backends, budgets=budgets, seeds=seeds, instances=instances,
                        command=command, progress=progress, solve=solve, service=service)
    return doc


def _print_summary(doc: dict[str, Any], out_dir: Path) -> None:
    from rich.table import Table

    table = Table(title=f"{doc['suite']['name']} (ε = {doc['metrics']['epsilon']:g})")
    for col in ("instance", "backend", "budget s", "runs", "feasible", "median", "gap", "P(success)", "TTS99 s"):
        table.add_column(col)
    for g in doc["metrics"]["groups"]:
        tts = g.get("tts99")
        table.add_row(g["instance"], g["backend"], f"{g['budget']:g}", str(g["runs"]), str(g["feasible_runs"]),
                      "—" if g.get("median") is None else f"{g['median']:g}",
                      "—" if g.get("median_gap") is None else f"{100 * g['median_gap']:.2f}%",
                      "—" if g.get("success_p") is None else f"{g['success_p']:.2f}",
                      "∞" if tts is None else f"{tts:.3g}")
    out.print(table)
    out.print(f"wrote {out_dir / 'result.json'} and {out_dir / 'runs.jsonl'}")


@app.command("suites")
def suites() -> None:
    """List the built-in suites."""
    from kakehashi.bench.suite import builtin_suites, load_suite

    for name in builtin_suites():
        s = load_suite(name)
        out.print(f"{name:<20} {len(s.instances):>3} instances  {s.description}")


@app.command("run")
def run(
    suite: Annotated[str, typer.Argument(help="Built-in suite name (see 'kakehashi bench suites') or a .toml path.")],
    backends: Annotated[str | None, typer.Option("--backends", help="Comma-separated backends (default: the suite's).")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="Comma-separated seconds per run (default: the suite's).")] = None,
    seeds: Annotated[int | None, typer.Option("--seeds", help="Use seeds 0..N-1 (default: the suite's seeds).")] = None,
    instances: Annotated[str | None, typer.Option("--instances", help="Comma-separated subset of instance ids.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output directory (default bench-results/SUITE).")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Run every cell as a job of this service.")] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="KAKEHASHI_TOKEN", help="API token for --url.")] = None,
) -> None:
    """Run SUITE: every instance × backend × budget × seed through kakehashi.solve() (or, with --url,
    as jobs of that service: queued, placed and metered like any job); resumable."""
    from kakehashi.bench.suite import load_suite
    from kakehashi.exceptions import ModelError

    if seeds is not None and seeds < 1:
        raise ModelError("expected at least one seed", field="--seeds")
    target = out_dir or Path("bench-results") / load_suite(suite).name
    doc = _run(suite, backends=_csv(backends, str, "--backends"), budgets=_csv(budget, float, "--budget"),
               seeds=None if seeds is None else list(range(seeds)), instances=_csv(instances, str, "--instances"),
               out_dir=target, command=["kakehashi", *sys.argv[1:]], url=url, token=token)
    _print_summary(doc, target)


@app.command("publish")
def publish(
    result: Annotated[Path, typer.Argument(help="A result.json (or its directory) of 'kakehashi bench run'.")],
    url: Annotated[str, typer.Option("--url", envvar="KAKEHASHI_URL", help="The service to store it in.")],
    token: Annotated[str | None, typer.Option("--token", envvar="KAKEHASHI_TOKEN", help="Your API token.")] = None,
) -> None:
    """Store RESULT in your project on the service (POST /v1/benchmarks); prints its id and entries."""
    from kakehashi.bench.runner import load_result
    from kakehashi.client import Client

    doc = load_result(result)
    with Client(url, _token(token)) as client:
        stored = client.publish_benchmark(doc)
    out.print(f"stored {stored['id']} ({stored['suite']}, {stored['runs']} runs)")
    for e in stored.get("entries") or []:
        gap = "—" if e["median_gap"] is None else f"{100 * e['median_gap']:.2f}%"
        ok = "—" if e["success_rate"] is None else f"{e['success_rate']:.2f}"
        out.print(f"  {e['backend']:<12} {e['machine_kind']:<10} runs {e['runs']:>4}  success {ok}  median gap {gap}")


@app.command("rerun")
def rerun(
    result: Annotated[Path, typer.Argument(help="A result.json (or its directory) to repeat.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output directory (default RESULT_DIR-rerun).")] = None,
) -> None:
    """Repeat the benchmark a result file records (same suite, backends, budgets, seeds, instances)."""
    from kakehashi.bench.compare import compare, render_comparison
    from kakehashi.bench.runner import load_result

    old = load_result(result)
    inv = old["invocation"]
    base = result if result.is_dir() else result.parent
    target = out_dir or base.with_name(base.name + "-rerun")
    doc = _run(inv["suite"], backends=inv["backends"], budgets=inv["budgets"], seeds=inv["seeds"],
               instances=inv["instances"], out_dir=target, command=["kakehashi", *sys.argv[1:]])
    _print_summary(doc, target)
    out.print(render_comparison(compare(old, doc)))


@app.command("compare")
def compare_cmd(
    a: Annotated[Path, typer.Argument(help="First result.json.")],
    b: Annotated[Path, typer.Argument(help="Second result.json.")],
    alpha: Annotated[float, typer.Option(help="Significance level of the Mann–Whitney U test.")] = 0.05,
) -> None:
    """Per instance, backend and budget: which result is better, and is the difference significant?"""
    from kakehashi.bench.compare import compare, render_comparison
    from kakehashi.bench.runner import load_result

    out.print(render_comparison(compare(load_result(a), load_result(b), alpha=alpha)))


@app.command("report")
def report(
    result: Annotated[Path, typer.Argument(help="A result.json (or its directory).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Directory for report.html and CSVs (default: beside the result).")] = None,
    pool: Annotated[Path | None, typer.Option("--pool", help="Pool file whose prices give the cost in yen.")] = None,
) -> None:
    """Write a self-contained HTML report (plots, sortable tables) and CSV tables."""
    from kakehashi.bench.metrics import summarize
    from kakehashi.bench.report import write_report
    from kakehashi.bench.runner import load_result

    doc = load_result(result)
    doc["metrics"] = summarize(doc, pool=None if pool is None else str(pool))
    target = out_dir or (result if result.is_dir() else result.parent)
    paths = write_report(doc, target)
    for p in paths:
        out.print(f"wrote {p}")


@app.command("export")
def export(
    result: Annotated[Path, typer.Argument(help="A result.json (or its directory).")],
    qoblib: Annotated[Path, typer.Option("--qoblib", help="Directory to write the QOBLIB submission into.")],
    submitter: Annotated[str, typer.Option(help="Submitter name(s) and affiliation(s).")] = "kakehashi bench",
    reference: Annotated[str, typer.Option(help="Reference (paper / repository) for the submission.")] = (
        "kakehashi bench result.json (manifest: versions, machine, command)"),
) -> None:
    """Write a QOBLIB-format submission: per instance and backend, summary CSV, solution, time series."""
    from kakehashi.bench.qoblib import export_qoblib
    from kakehashi.bench.runner import load_result

    written = export_qoblib(load_result(result), qoblib, submitter=submitter, reference=reference)
    for p in written:
        out.print(f"wrote {p}")


@app.command("check")
def check(
    submission: Annotated[Path, typer.Argument(help="A submission directory written by 'bench export'.")],
    result: Annotated[Path, typer.Argument(help="The result.json it was exported from (for the suite).")],
) -> None:
    """kakehashi's own checks of a QOBLIB export: feasibility recomputed, monotone series, counts."""
    from kakehashi.bench.qoblib import check_submission
    from kakehashi.bench.runner import load_result
    from kakehashi.exceptions import ModelError

    if not submission.is_dir():
        raise ModelError("submission directory not found", source=str(submission))
    problems = check_submission(submission, load_result(result)["suite"])
    for p in problems:
        err.print(f"problem: {p}")
    if problems:
        raise ModelError(f"{len(problems)} problems in the submission", source=str(submission))
    out.print(f"{submission}: OK")
