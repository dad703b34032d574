"""``kakehashi estimate FILE``: expected queue wait, run time and cost per eligible backend.

With a service URL (``--url``/``KAKEHASHI_URL``, plus ``--token``) it asks the service's
``POST /v1/estimate``, which calls :func:`kakehashi.pool.estimate.estimate` with its live queue;
otherwise it works locally from a pool file (``--pool``, or ``KAKEHASHI_POOL``) with an empty queue.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kakehashi.cli.output import emit_json

err = Console(stderr=True)



def estimate(
    file: Annotated[Path, typer.Argument(help="Problem file (LP, MPS, QUBO/Ising JSON, kakehashi JSON, Gset).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    pool: Annotated[
        Path | None, typer.Option("--pool", help="Pool file (TOML/YAML); default $KAKEHASHI_POOL.")
    ] = None,
    project: Annotated[str, typer.Option("--project", help="Project (sets the discount).")] = "default",
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", help="Seconds per backend.")] = 10.0,
    history: Annotated[
        Path | None, typer.Option("--history", help="Router history (JSON lines); default $KAKEHASHI_ROUTER_HISTORY.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", envvar="KAKEHASHI_URL", help="Ask this service (its live queue); default: local."),
    ] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="KAKEHASHI_TOKEN", help="Your API token.")] = None,
) -> None:
    """Expected queue wait, run time and cost of FILE on each eligible backend of the pool.

    With a service URL (``--url`` or ``KAKEHASHI_URL``) the service answers from its live pool and
    queue (``POST /v1/estimate``); otherwise it is computed here from the pool file, queue empty.
    """
    import kakehashi
    from kakehashi.pool.config import LOCAL_MACHINE, load_pool, local_pool
    from kakehashi.pool.estimate import BackendEstimate
    from kakehashi.pool.estimate import estimate as run_estimate

    if url:
        from kakehashi.cli.service import _client

        problem = kakehashi.read(file)
        with _client(url, token) as client:
            raw = client.estimate(problem, time_limit=time_limit)
            project = client.project()["name"]
        rows = [BackendEstimate(**{k: v for k, v in r.items() if k != "total_s"}) for r in raw]
        _show(rows, problem.name, project, time_limit, as_json, pool=url)
        return
    pool_path = pool or (Path(os.environ["KAKEHASHI_POOL"]) if os.environ.get("KAKEHASHI_POOL") else None)
    if pool_path is None:
        config = local_pool()
        machine = config.machines[0]
        err.print(f"pool: local (this machine: {machine.slots} cores, {len(machine.backends)} backends "
                  "available here, price 0; give --pool or KAKEHASHI_POOL for another)")
    else:
        config = load_pool(pool_path)
        err.print(f"pool: {pool_path}")
    problem = kakehashi.read(file)
    hist: Path | None = history
    if hist is None and os.environ.get("KAKEHASHI_ROUTER_HISTORY"):
        hist = Path(os.environ["KAKEHASHI_ROUTER_HISTORY"])
    rows = run_estimate(problem, config, project=project, time_limit=time_limit, history=hist)
    _show(rows, problem.name, project, time_limit, as_json,
          pool=str(pool_path) if pool_path else LOCAL_MACHINE)


def _show(rows: list[Any], name: str, project: str, time_limit: float, as_json: bool, pool: str) -> None:
    if as_json:
        emit_json({"problem": name, "project": project, "time_limit": time_limit, "pool": pool,
                   "currency": "JPY", "estimates": [r.to_dict() for r in rows]})
        return
    table = Table(title=f"estimate for {name} (project {project}, {time_limit:g} s)")
    for col in ("backend", "machine", "wait s", "run s", "cost ¥", "list ¥", "note"):
        table.add_column(col)

    def num(x: float | None, fmt: str = ".3g") -> str:
        return "—" if x is None else format(x, fmt)

    for r in rows:
        table.add_row(
            r.backend,
            r.machine or "—",
            num(r.queue_wait_s),
            num(r.run_time_s),
            num(r.cost_yen, ".2f"),
            num(r.list_cost_yen, ".2f"),
            r.reason if not r.eligible or r.queue_wait_s is None else "",
        )
    Console(soft_wrap=True).print(table)
