"""Federation commands (operators, on the database directly): ``admin peer add|list|remove|key|grant``,
``admin project residency NAME on|off`` and ``admin settlement PEER --period YYYY-MM``.

See docs/federation.md for the protocol and the trust model.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from kakehashi.cli.output import emit_json
from kakehashi.cli.service import AsJson, _db, admin_app, out, project_app
from kakehashi.exceptions import KakehashiError, ModelError

peer_app = typer.Typer(help="Peer sites: other kakehashi services whose machines are offered here.", no_args_is_help=True)
admin_app.add_typer(peer_app, name="peer")


def _known(db: Any) -> list[Any]:
    from kakehashi.service import peers
    from kakehashi.service.config import load_config
    from kakehashi.service.pool_state import PoolSource

    with db.read() as s:
        return peers.records(s, PoolSource.from_config(load_config()).own(s, time.time()))


@peer_app.command("add")
def peer_add(
    name: Annotated[str, typer.Argument(help="The peer's name here (letters, digits, . _ -).")],
    url: Annotated[str, typer.Argument(help="The peer service's URL, e.g. https://kakehashi.lab-b.example.")],
    token_env: Annotated[
        str | None, typer.Option("--token-env", help="Environment variable of this service that holds the peer token.")
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the token from stdin and store it encrypted with peer_key.")
    ] = False,
    kind: Annotated[str, typer.Option(help="Hardware kind of the offered machines at the peer.")] = "cpu",
    backends: Annotated[str, typer.Option(help="The peer's backends offered here, comma-separated.")] = "",
    price: Annotated[float, typer.Option(help="Price for this site's users (yen per machine-second).")] = 0.0,
    agreed: Annotated[
        float | None, typer.Option(help="What the peer charges this site (yen per machine-second), for settlement.")
    ] = None,
    slots: Annotated[int, typer.Option(help="Jobs forwarded at once.")] = 1,
    offers_json: Annotated[
        str | None, typer.Option("--offers-json", help="Several offers as a JSON list (instead of --kind ...).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Register (or replace) a peer site and what of it is offered here."""
    from kakehashi.service import peers
    from kakehashi.service.config import load_config

    if offers_json is not None:
        try:
            raw = json.loads(offers_json)
        except json.JSONDecodeError as exc:
            raise ModelError(f"--offers-json is not JSON: {exc.msg}", field="offers") from exc
    else:
        if not backends:
            raise ModelError("name the offered backends: --backends highs,scip", field="backends")
        raw = [
            {
                "kind": kind,
                "backends": [b.strip() for b in backends.split(",") if b.strip()],
                "price_yen_per_second": price,
                "agreed_yen_per_second": agreed,
                "slots": slots,
            }
        ]
    offers = peers.parse_offers(raw, "--offers-json" if offers_json is not None else "options")
    token = sys.stdin.readline().strip() if token_stdin else None
    if token_stdin and not token:
        raise ModelError("--token-stdin: no token on stdin", field="token")
    record = peers.add_peer(
        _db(), name, url, offers, token_env=token_env, token=token, peer_key=load_config().peer_key
    )
    if as_json:
        emit_json(record.describe())
        return
    out.print(f"peer {record.name} at {record.url}: {record.describe()['token']}", highlight=False)
    for m in record.machines():
        out.print(f"  machine {m.name}: {m.kind.value}, {', '.join(m.backends)}, {m.price_yen_per_second:g} yen/s", highlight=False)


@peer_app.command("list")
def peer_list(as_json: AsJson = False) -> None:
    """The peers (the admin's and the pool file's) and what each offers; never their tokens."""
    from kakehashi.service import peers

    db = _db()
    known = _known(db)
    with db.read() as s:
        seen = peers.states(s)
    rows = []
    for p in known:
        st = seen.get(p.name)
        rows.append(
            {
                **p.describe(),
                "reachable": None if st is None else st.reachable,
                "error": None if st is None else st.error or None,
            }
        )
    if as_json:
        emit_json(rows)
        return
    table = Table("peer", "url", "source", "token", "state", "machines")
    for r, p in zip(rows, known, strict=True):
        state = "unknown" if r["reachable"] is None else "up" if r["reachable"] else f"down ({r['error']})"
        table.add_row(p.name, p.url, p.source, r["token"], state, ", ".join(m.name for m in p.machines()))
    out.print(table)


@peer_app.command("remove")
def peer_remove(name: Annotated[str, typer.Argument(help="The peer's name.")]) -> None:
    """Remove a peer registered with ``peer add`` (a pool file's peer stays until the file changes)."""
    from kakehashi.service import peers

    peers.remove_peer(_db(), name)
    out.print(f"removed peer {name}", highlight=False)


@peer_app.command("key")
def peer_key() -> None:
    """Print a fresh Fernet key for ``peer_key`` / ``KAKEHASHI_PEER_KEY`` (encrypted peer tokens)."""
    from kakehashi.service import peer_secrets

    out.print(peer_secrets.new_key(), highlight=False)


@peer_app.command("grant")
def peer_grant(
    site: Annotated[str, typer.Argument(help="The project that stands for the peer site here (created if missing).")],
    as_json: AsJson = False,
) -> None:
    """Issue a peer-scoped token for another site: it may submit jobs, read and cancel the jobs it
    submitted, read the pool and its own ledger rows, nothing else. This site's quotas and terms of
    the project apply to the forwarded jobs."""
    from kakehashi.service import tenancy

    db = _db()
    with contextlib.suppress(tenancy.ProjectExistsError):  # the site's project may exist already
        tenancy.create_project(db, site)
    t = tenancy.create_token(db, site, f"peer {site}", scope="peer")
    if as_json:
        emit_json({"id": t.id, "project": t.project_name, "token": t.secret, "scope": "peer"})
    else:
        out.print(
            f"peer token id: {t.id}\nproject:       {t.project_name}\ntoken:         {t.secret}\n"
            "(shown once: give it to the other site's operator)",
            highlight=False,
        )


@project_app.command("residency")
def project_residency(
    name: Annotated[str, typer.Argument(help="Project name or id.")],
    state: Annotated[str, typer.Argument(help="on: the project's data stays on this site; off: may be forwarded.")],
) -> None:
    """Keep a project's problem data on this site (never forwarded to a peer), or allow forwarding."""
    from sqlalchemy import update

    from kakehashi.service import tenancy
    from kakehashi.service.store.models import Project

    if state not in ("on", "off"):
        raise ModelError(f"state must be 'on' or 'off', got {state!r}", field="state")
    db = _db()
    proj = tenancy.find_project(db, name)
    with db.write() as s:
        s.execute(update(Project).where(Project.id == proj.id).values(data_stays=state == "on"))
    out.print(f"project {proj.name}: data {'stays on this site' if state == 'on' else 'may be forwarded to peers'}", highlight=False)


@admin_app.command("settlement")
def settlement_report(
    peer: Annotated[str, typer.Argument(help="The peer's name.")],
    period: Annotated[str, typer.Option("--period", help="A UTC month, YYYY-MM.")],
    as_json: AsJson = False,
) -> None:
    """Reconcile one month with a peer: both sides of every forwarded job, the mismatches, the totals.
    Exits 1 when there are mismatches."""
    from kakehashi.service import peers, settlement
    from kakehashi.service.config import load_config

    db = _db()
    record = peers.find(_known(db), peer)
    report = settlement.settle(db, record, record.token(load_config().peer_key), period)
    body = report.to_dict()
    if as_json:
        emit_json(body)
    else:
        table = Table("job", "attempt", "peer job", "home s", "home yen", "peer s", "peer yen", "agreed yen", "issue")

        def num(v: Any) -> str:
            return "-" if v is None else f"{v:.4f}"

        for line in body["lines"]:
            table.add_row(
                str(line["job_id"] or "-"),
                str(line["attempt"]),
                line["remote_job_id"],
                num(line["home_seconds"]),
                num(line["home_charged_yen"]),
                num(line["peer_seconds"]),
                num(line["peer_charged_yen"]),
                num(line["agreed_yen"]),
                line["issue"] or "ok",
            )
        out.print(table)
        agreed = "-" if body["agreed_yen"] is None else f"{body['agreed_yen']:.4f}"
        out.print(
            f"{peer} {period}: {body['jobs']} jobs; charged here {body['home_charged_yen']:.4f} yen; "
            f"peer charged {body['peer_charged_yen']:.4f} yen (agreed {agreed}); "
            + ("reconciled" if body["reconciled"] else f"{len(body['mismatches'])} mismatches"),
            highlight=False,
        )
    if not body["reconciled"]:
        raise KakehashiError(f"settlement with {peer} for {period}: {len(body['mismatches'])} mismatches")
