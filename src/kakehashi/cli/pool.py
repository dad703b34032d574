"""Pool and quota commands: ``kakehashi pool`` (a client of the service) and the operator's
``kakehashi admin quota|terms|price|machine|audit`` (direct database access, like ``admin project``).

Every admin change is written to the audit trail with ``--reason`` and the ``--actor`` (default:
the login name).
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from kakehashi.cli.output import emit_json
from kakehashi.cli.service import DEFAULT_URL, AsJson, Token, Url, _client, _db, admin_app, out
from kakehashi.exceptions import ModelError

Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")]
Actor = Annotated[str | None, typer.Option("--actor", help="Who (default: your login name).")]


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _records(records: list[Any]) -> None:
    if not records:
        out.print("no change", highlight=False)
    for r in records:
        out.print(f"{r.subject}  {r.field}: {r.old!r} → {r.new!r}", highlight=False)


def pool(url: Url = DEFAULT_URL, token: Token = None, as_json: AsJson = False) -> None:
    """The machine pool now: state, busy/free slots and queued jobs per machine; your queued jobs."""
    with _client(url, token) as client:
        view = client.pool()
    if as_json:
        emit_json(view)
        return
    table = Table("machine", "kind", "state", "busy", "free", "slots", "queued", "yen/s", "backends")
    for m in view["machines"]:
        state = m["state"] + (f" ({m['down_reason']})" if m.get("down_reason") else "")
        if m.get("remote"):
            live = m.get("remote_state") or {}
            ups = sum(1 for r in live.get("machines", []) if r.get("state") == "up")
            state += f" [remote: {m.get('peer')}, {ups} up there]"
        table.add_row(
            m["name"],
            m["kind"],
            state,
            str(m["busy"]),
            str(m["free"]),
            str(m["slots"]),
            str(m["queued"]),
            f"{m['price_yen_per_second']:g}",
            ", ".join(m["backends"][:6]) + (" …" if len(m["backends"]) > 6 else ""),
        )
    out.print(table)
    out.print(f"queued: {view['queued']}  running legs: {view['running_legs']}", highlight=False)
    slurm = view.get("slurm")
    if slurm:
        where = f"slurm partition {slurm.get('partition') or '(default)'}"
        if slurm.get("error"):
            out.print(f"{where}: unreachable ({slurm['error']})", highlight=False)
        else:
            nodes = ", ".join(f"{k} {v}" for k, v in slurm["nodes"].items())
            out.print(
                f"{where}: nodes {nodes}; queue {slurm['pending']} pending, {slurm['running']} running"
                f" (kakehashi {slurm['kakehashi_pending']} pending, {slurm['kakehashi_running']} running)",
                highlight=False,
            )
    for j in view["your_queued_jobs"]:
        out.print(f"  {j['id']}  {j['backend']}  {j['reason']}", highlight=False)


quota_app = typer.Typer(help="Project quotas (hard caps per period).", no_args_is_help=True)
terms_app = typer.Typer(help="Project terms: tier, discount, fair-share weight.", no_args_is_help=True)
price_app = typer.Typer(
    help="Unit prices (yen per machine-second) of machines or hardware kinds.", no_args_is_help=True
)
machine_app = typer.Typer(help="Mark pool machines down or up.", no_args_is_help=True)
admin_app.add_typer(quota_app, name="quota")
admin_app.add_typer(terms_app, name="terms")
admin_app.add_typer(price_app, name="price")
admin_app.add_typer(machine_app, name="machine")


@quota_app.command("set")
def quota_set(
    project: Annotated[str, typer.Argument(help="Project name or id.")],
    yen: Annotated[
        float | None, typer.Option("--yen", help="Budget in yen charged (after discount).")
    ] = None,
    machine_seconds: Annotated[
        float | None, typer.Option("--machine-seconds", help="Budget in machine-seconds.")
    ] = None,
    period: Annotated[str, typer.Option("--period", help="day, week, month or all.")] = "month",
    reason: Reason = "",
    actor: Actor = None,
) -> None:
    """Set a project's hard cap, e.g. ``kakehashi admin quota set lab-a --yen 1000 --period month``."""
    from kakehashi.service import quotas

    if (yen is None) == (machine_seconds is None):
        raise ModelError("give exactly one of --yen or --machine-seconds", field="--yen")
    unit, limit = ("yen", yen) if yen is not None else ("machine-seconds", machine_seconds)
    _records(
        quotas.set_quota(_db(), project, limit, unit=unit, period=period, actor=_actor(actor), reason=reason)
    )


@quota_app.command("clear")
def quota_clear(
    project: Annotated[str, typer.Argument(help="Project name or id.")],
    reason: Reason = "",
    actor: Actor = None,
) -> None:
    """Remove a project's quota."""
    from kakehashi.service import quotas

    _records(quotas.set_quota(_db(), project, None, actor=_actor(actor), reason=reason))


@terms_app.command("set")
def terms_set(
    project: Annotated[str, typer.Argument(help="Project name or id.")],
    tier: Annotated[
        str | None, typer.Option("--tier", help="research, academic, contributor or commercial.")
    ] = None,
    discount: Annotated[
        float | None, typer.Option("--discount", help="Rate in [0, 1), overrides the tier's.")
    ] = None,
    shares: Annotated[float | None, typer.Option("--shares", help="Fair-share weight (> 0).")] = None,
    reason: Reason = "",
    actor: Actor = None,
) -> None:
    """Change a project's tier, discount or fair-share weight."""
    from kakehashi.service import quotas

    changes: dict[str, Any] = {
        k: v for k, v in (("tier", tier), ("discount", discount), ("shares", shares)) if v is not None
    }
    if not changes:
        raise ModelError("give --tier, --discount or --shares", field="--tier")
    _records(quotas.set_terms(_db(), project, actor=_actor(actor), reason=reason, **changes))


@price_app.command("set")
def price_set(
    subject: Annotated[str, typer.Argument(help="A pool machine's name or a hardware kind (cpu, gpu, ...).")],
    yen_per_second: Annotated[float, typer.Argument(help="Unit price, yen per machine-second.")],
    reason: Reason = "",
    actor: Actor = None,
) -> None:
    """Override a unit price (audited)."""
    from kakehashi.service import quotas
    from kakehashi.service.config import load_config

    cfg = load_config()
    _records(
        quotas.set_price(
            _db(), subject, yen_per_second, old=cfg.prices.get(subject), actor=_actor(actor), reason=reason
        )
    )


def _machine(name: str, up: bool, reason: str, actor: str | None) -> None:
    from kakehashi.service import quotas
    from kakehashi.service.config import load_config
    from kakehashi.service.pool_state import PoolSource

    db = _db()
    with db.read() as s:
        pool_cfg = PoolSource.from_config(load_config()).base(s, 0.0)
    _records(quotas.set_machine_state(db, pool_cfg, name, up, actor=_actor(actor), reason=reason))


@machine_app.command("down")
def machine_down(
    name: Annotated[str, typer.Argument(help="Machine name (pool file).")],
    reason: Reason = "",
    actor: Actor = None,
) -> None:
    """Take a machine out of service now: its jobs wait or run on an allowed alternative."""
    _machine(name, False, reason, actor)


@machine_app.command("up")
def machine_up(
    name: Annotated[str, typer.Argument(help="Machine name (pool file).")],
    reason: Reason = "",
    actor: Actor = None,
) -> None:
    """Put a machine back into service."""
    _machine(name, True, reason, actor)


@admin_app.command("audit")
def audit(
    subject: Annotated[
        str | None, typer.Option("--subject", help="e.g. project:NAME, price:cpu, machine:qpu-1.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Newest rows to show.")] = 50,
    as_json: AsJson = False,
) -> None:
    """The audit trail of quota, term, price and machine changes (newest first)."""
    from datetime import UTC, datetime

    from kakehashi.service import quotas

    rows = quotas.audit_log(_db(), subject=subject, limit=limit)
    data = [
        {
            "at": datetime.fromtimestamp(r.at, tz=UTC).isoformat(),
            "actor": r.actor,
            "subject": r.subject,
            "field": r.field,
            "old": json.loads(r.old_json),
            "new": json.loads(r.new_json),
            "reason": r.reason,
        }
        for r in rows
    ]
    if as_json:
        emit_json(data)
        return
    for d in data:
        out.print(
            f"{d['at']}  {d['actor']}  {d['subject']}  {d['field']}: {d['old']!r} → {d['new']!r}  {d['reason']}",
            highlight=False,
        )
