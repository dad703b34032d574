"""Service commands: ``submit``, ``status``, ``result``, ``cancel``, ``jobs``, ``usage`` (clients of a
running service), ``serve`` and ``worker`` (run it), and the ``admin`` sub-app (operators, direct
database access: ``admin project create NAME``, ``admin token create PROJECT``, ``admin token revoke ID``).

Client commands read ``--url``/``KAKEHASHI_URL`` (default ``http://127.0.0.1:8000``) and
``--token``/``KAKEHASHI_TOKEN``. Mounted into ``kakehashi`` by :mod:`kakehashi.cli.app`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kakehashi.cli.output import emit_json
from kakehashi.exceptions import AuthError, KakehashiError, ModelError

out = Console(soft_wrap=True)

Url = Annotated[str, typer.Option("--url", envvar="KAKEHASHI_URL", help="The service's URL.")]
Token = Annotated[str | None, typer.Option("--token", envvar="KAKEHASHI_TOKEN", help="Your API token.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DEFAULT_URL = "http://127.0.0.1:8000"


def _client(url: str, token: str | None) -> Any:
    from kakehashi.client import Client

    if not token:
        raise AuthError(
            "no API token: pass --token or set KAKEHASHI_TOKEN (an operator creates one with "
            "'kakehashi admin token create PROJECT')"
        )
    return Client(url, token)


def _print_job(job: Any, as_json: bool) -> None:
    if as_json:
        emit_json(job.raw)
        return
    line = f"{job.id}  {job.status}  backend={job.backend}  attempt={job.attempt}"
    if job.result_status:
        line += f"  result={job.result_status} objective={job.objective}"
    if job.error:
        line += f"  error={job.error}"
    out.print(line, highlight=False)


def submit(
    file: Annotated[
        Path,
        typer.Argument(help="LP, MPS, kakehashi JSON, QUBO JSON or Gset file; with --app, the app's input file."),
    ],
    app: Annotated[
        str | None,
        typer.Option("--app", help="The file is this app's input: routing, portfolio or unit-commitment."),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="An app option KEY=VALUE (e.g. capacity=60, k=4, lambda=0.5); repeatable."),
    ] = None,
    backend: Annotated[
        str, typer.Option("--backend", "-b", help="Backend, comma-separated race, or 'auto'.")
    ] = "auto",
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", help="Seconds per backend.")] = 10.0,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    priority: Annotated[int, typer.Option(help="Higher runs first.")] = 0,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key", help="Retry-safe key.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the result and print it.")] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Submit a problem file as a job; prints the job id (and the result with --wait).

    With ``--app`` the file is the app's domain input (TSPLIB/CVRPLIB/CSV for routing, OR-Library or
    CSV for portfolio, UC JSON for unit-commitment); ``kakehashi answer JOB_ID`` prints the domain answer.
    """
    with _client(url, token) as client:
        names: str | list[str] = backend.split(",") if "," in backend else backend
        if app is not None:
            job = client.submit_app(
                app,
                file,
                options=_app_options(option or []),
                backend=names,
                time_limit=time_limit,
                seed=seed,
                priority=priority,
                idempotency_key=idempotency_key,
            )
        else:
            if option:
                raise ModelError("--option needs --app (options belong to an app's input)", field="option")
            job = client.submit(
                file,
                backend=names,
                time_limit=time_limit,
                seed=seed,
                priority=priority,
                idempotency_key=idempotency_key,
            )
        if not wait:
            _print_job(job, as_json)
            return
        if app is not None:
            _print_answer(client.answer(job.id, wait=True), as_json)
            return
        result = client.result(job.id, wait=True)
        if as_json:
            emit_json(result.to_json())
        else:
            out.print(f"{job.id}  {result.summary()}", highlight=False)


def _app_options(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a dict; values that parse as JSON (numbers, true, null) are typed."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ModelError(f"expected KEY=VALUE, got {pair!r}", field="option")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def _print_answer(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(body)
        return
    verdict = "valid" if body.get("valid") else "INVALID: " + "; ".join(body.get("violations") or [])
    out.print(
        f"{body.get('app')}: cost {body.get('cost')} ({body.get('unit')})  {verdict}  "
        f"status={body.get('status')} backend={body.get('backend')}",
        highlight=False,
    )
    answer = body.get("answer") or {}
    for route in answer.get("routes") or []:
        out.print(f"  route {route.get('nodes')}  load={route.get('load')} length={route.get('length')}", highlight=False)
    for asset, weight in (answer.get("weights") or {}).items():
        out.print(f"  {asset}: {weight:.4f}", highlight=False)
    for unit, hours in (answer.get("on") or {}).items():
        out.print(f"  {unit}: on {sum(hours)} h", highlight=False)


def answer(
    job_id: Annotated[str, typer.Argument(help="The job id (submitted with --app).")],
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the job finishes.")] = True,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Print a domain job's answer (routes / weights / schedule, cost, and the app's validation)."""
    with _client(url, token) as client:
        _print_answer(client.answer(job_id, wait=wait, timeout=timeout), as_json)


def status(
    job_id: Annotated[str, typer.Argument(help="The job id.")],
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Show a job's state."""
    with _client(url, token) as client:
        _print_job(client.status(job_id), as_json)


def result(
    job_id: Annotated[str, typer.Argument(help="The job id.")],
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the job finishes.")] = True,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Print a job's result (waits for it by default)."""
    with _client(url, token) as client:
        res = client.result(job_id, wait=wait, timeout=timeout)
    if as_json:
        emit_json(res.to_json())
    else:
        out.print(res.summary(), highlight=False)


def cancel(
    job_id: Annotated[str, typer.Argument(help="The job id.")],
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Cancel a job (a running one stops within seconds)."""
    with _client(url, token) as client:
        _print_job(client.cancel(job_id), as_json)


def jobs(
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help="Filter by state; repeatable.")
    ] = None,
    backend: Annotated[str | None, typer.Option(help="Filter by backend.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Created at or after (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(help="How many jobs at most.")] = 20,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """List your project's jobs, newest first."""
    with _client(url, token) as client:
        rows = client.jobs(
            status=[s.upper() for s in status or []], backend=backend, created_after=since, limit=limit
        )
    if as_json:
        emit_json([j.raw for j in rows])
        return
    table = Table("id", "status", "backend", "result", "objective", "created")
    for j in rows:
        table.add_row(
            j.id,
            j.status,
            j.backend,
            j.result_status or "",
            "" if j.objective is None else f"{j.objective:.6g}",
            j.created_at.isoformat(timespec="seconds") if j.created_at else "",
        )
    out.print(table)


def usage(
    period: Annotated[str, typer.Option(help="day, month or all.")] = "day",
    start: Annotated[datetime | None, typer.Option(help="From (ISO 8601).")] = None,
    end: Annotated[datetime | None, typer.Option(help="Until (ISO 8601).")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Your project's machine-seconds and cost (yen), by period and backend."""
    with _client(url, token) as client:
        report = client.usage(start=start, end=end, period=period)
    if as_json:
        emit_json(report)
        return
    table = Table(
        "period", "backend", "hardware", "runs", "machine-s", "list (yen)", "discount (yen)", "cost (yen)"
    )
    for r in report["rows"]:
        table.add_row(
            r["period"],
            r["backend"],
            r["hardware"],
            str(r["runs"]),
            f"{r['machine_seconds']:.3f}",
            f"{r.get('list_cost_yen', r['cost_yen']):.2f}",
            f"{r.get('discount_yen', 0.0):.2f}",
            f"{r['cost_yen']:.2f}",
        )
    table.add_row(
        "total",
        "",
        "",
        str(report["total_runs"]),
        f"{report['total_machine_seconds']:.3f}",
        f"{report.get('total_list_cost_yen', report['total_cost_yen']):.2f}",
        f"{report.get('total_discount_yen', 0.0):.2f}",
        f"{report['total_cost_yen']:.2f}",
    )
    out.print(table)
    if report.get("tier"):
        out.print(
            f"tier: {report['tier']}  discount: {100 * (report.get('discount_rate') or 0.0):g}%",
            highlight=False,
        )
    quota = report.get("quota")
    if quota:
        out.print(
            f"quota: {quota['limit']:g} {quota['unit']} per {quota['period']}; used {quota['used']:g}, "
            f"held by unfinished jobs {quota['pending']:g}, remaining {quota['remaining']:g}",
            highlight=False,
        )


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Local worker processes (0: API only).")] = 2,
    config: Annotated[
        Path | None, typer.Option(help="Operator config (TOML).", envvar="KAKEHASHI_CONFIG")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Submit the bundled examples once up (make run).")
    ] = False,
) -> None:
    """Run the platform: the HTTP API plus local workers, on embedded SQLite unless
    KAKEHASHI_DATABASE_URL points elsewhere."""
    from kakehashi.service.config import load_config
    from kakehashi.service.pool_state import export_to_env
    from kakehashi.service.serve import serve as run

    cfg = load_config(config)
    export_to_env(cfg)  # the workers it starts use the same pool file and routing history
    run(cfg, host=host, port=port, workers=workers, demo=demo)


def worker(
    backend: Annotated[
        list[str] | None, typer.Option("--backend", "-b", help="Only jobs for these backends.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Operator config (TOML).", envvar="KAKEHASHI_CONFIG")
    ] = None,
) -> None:
    """Run one worker: claim jobs from the database and solve them until SIGTERM."""
    from kakehashi.service.config import load_config
    from kakehashi.service.logs import configure_logging
    from kakehashi.service.pool_state import export_to_env
    from kakehashi.service.store.db import Database
    from kakehashi.service.store.migrate import upgrade
    from kakehashi.service.worker import Worker

    cfg = load_config(config)
    export_to_env(cfg)  # claims and metering read the pool from the environment
    configure_logging(cfg.log_level)
    db = Database(cfg.database_url)
    upgrade(db)
    w = Worker(cfg, db, backends=backend or None)
    w.install_signal_handlers()
    w.run()


# ------------------------------------------------------------------------ admin
admin_app = typer.Typer(
    help="Projects, tokens, prices, quotas, terms, machines and the audit trail (operators; works on the "
    "database directly).",
    no_args_is_help=True,
)
project_app = typer.Typer(help="Projects.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
admin_app.add_typer(project_app, name="project")
admin_app.add_typer(token_app, name="token")


def _db() -> Any:
    from kakehashi.service.config import load_config
    from kakehashi.service.store.db import Database
    from kakehashi.service.store.migrate import upgrade

    db = Database(load_config().database_url)
    upgrade(db)
    return db


@project_app.command("create")
def project_create(
    name: Annotated[str, typer.Argument(help="Project name.")], as_json: AsJson = False
) -> None:
    """Create a project."""
    from kakehashi.service import tenancy

    p = tenancy.create_project(_db(), name)
    emit_json({"id": p.id, "name": p.name}) if as_json else out.print(f"{p.id}  {p.name}")


@project_app.command("list")
def project_list() -> None:
    """List projects."""
    from kakehashi.service import tenancy

    for p in tenancy.list_projects(_db()):
        out.print(f"{p.id}  {p.name}", highlight=False)


@token_app.command("create")
def token_create(
    project: Annotated[str, typer.Argument(help="Project name or id.")],
    label: Annotated[str, typer.Option(help="A note to recognise the token by.")] = "",
    as_json: AsJson = False,
) -> None:
    """Issue an API token. It is printed once; only its hash is stored."""
    from kakehashi.service import tenancy

    t = tenancy.create_token(_db(), project, label)
    if as_json:
        emit_json({"id": t.id, "project": t.project_name, "token": t.secret})
    else:
        out.print(
            f"token id: {t.id}\nproject:  {t.project_name}\ntoken:    {t.secret}\n(shown once: store it now)",
            highlight=False,
        )


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token id (tok_...).")]) -> None:
    """Revoke a token; requests with it get 401 at once."""
    from kakehashi.service import tenancy

    tenancy.revoke_token(_db(), token_id)
    out.print(f"revoked {token_id}", highlight=False)


@token_app.command("list")
def token_list(project: Annotated[str, typer.Argument(help="Project name or id.")]) -> None:
    """List a project's tokens (ids and prefixes, never secrets)."""
    from kakehashi.service import tenancy

    for t in tenancy.list_tokens(_db(), project):
        state = "revoked" if t.revoked_at else "active"
        out.print(f"{t.id}  {t.prefix}…  {state}  {t.label}", highlight=False)


@admin_app.command("prices")
def prices() -> None:
    """Show the unit prices (yen per machine-second) per hardware kind."""
    from kakehashi.service.config import load_config

    for kind, price in sorted(load_config().prices.items()):
        out.print(f"{kind:12s} {price:g} yen/s", highlight=False)


@admin_app.command("usage")
def admin_usage(
    reconcile_slurm: Annotated[
        bool,
        typer.Option("--reconcile-slurm", help="Compare ledger rows of Slurm attempts with Slurm's records."),
    ] = False,
    since: Annotated[float, typer.Option(help="Only ledger rows from this UNIX time on.")] = 0.0,
    as_json: AsJson = False,
) -> None:
    """Machine-seconds and yen per project from the ledger; with --reconcile-slurm, the rows that
    disagree with Slurm's own record of their batch job (exit code 1 when any does)."""
    from kakehashi.service.config import load_config

    db = _db()
    if reconcile_slurm:
        from kakehashi.service.executors.slurm import from_table
        from kakehashi.service.executors.slurm.reconcile import ControllerError, reconcile

        try:
            found = reconcile(db, from_table(load_config().slurm), since=since)
        except ControllerError as exc:  # one line, not a traceback
            raise KakehashiError(f"cannot read Slurm's records: {exc}") from exc
        if as_json:
            emit_json({"checked": found.checked, "differences": [vars(d) for d in found.differences]})
        else:
            out.print(f"{found.checked} ledger rows of Slurm attempts checked", highlight=False)
            for d in found.differences:
                slurm = "none" if d.slurm_seconds is None else f"{d.slurm_seconds:g}"
                out.print(
                    f"{d.job_id}  attempt {d.attempt}  slurm job {d.slurm_job_id}  ledger {d.ledger_seconds:g} s"
                    f"  slurm {slurm} s  ({d.note})",
                    highlight=False,
                )
        if found.differences:
            raise typer.Exit(1)
        return
    from sqlalchemy import func, select

    from kakehashi.service.store.models import LedgerEntry, Project

    with db.read() as s:
        totals = s.execute(
            select(
                Project.name,
                func.count(),
                func.sum(LedgerEntry.machine_seconds),
                func.sum(LedgerEntry.cost_yen),
            )
            .join(Project, Project.id == LedgerEntry.project_id)
            .where(LedgerEntry.created_at >= since)
            .group_by(Project.name)
            .order_by(Project.name)
        ).all()
    if as_json:
        emit_json([{"project": p, "runs": n, "machine_seconds": ms, "cost_yen": y} for p, n, ms, y in totals])
        return
    for project, runs, seconds, yen in totals:
        out.print(
            f"{project:20s} {runs:6d} runs  {seconds:12.1f} machine-s  {yen:12.2f} yen", highlight=False
        )


def register(app: typer.Typer) -> None:
    """Mount every service command and the ``admin`` sub-app on ``app``."""
    from kakehashi.cli.pool import pool

    for fn in (submit, status, result, cancel, jobs, usage, serve, worker, pool):
        app.command(name=fn.__name__)(fn)
    app.add_typer(admin_app, name="admin")


# the admin quota/terms/price/machine/audit commands live in kakehashi.cli.pool (they add
# themselves to admin_app); imported last because that module imports this one
from kakehashi.cli import federation as _federation_commands  # noqa: E402,F401
from kakehashi.cli import pool as _pool_commands  # noqa: E402,F401
