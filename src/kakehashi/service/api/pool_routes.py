"""``/v1/pool`` (the pool's live state) and ``/v1/estimate`` (wait, run time and cost per backend)."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from kakehashi.model.problem import Problem
from kakehashi.service import peers, pool_state, scheduling
from kakehashi.service.api import submission
from kakehashi.service.api.deps import ProjectDep, State, StateDep
from kakehashi.service.api.schemas import EstimateOut, EstimateRequest, PoolOut
from kakehashi.service.history import history_path


def estimate_rows(state: State, problem: Problem, project: str, time_limit: float) -> list[dict[str, Any]]:
    """Wait, run time and cost (yen, after ``project``'s discount) of ``problem`` on each backend
    of the live pool, as JSON-ready dicts (see :func:`kakehashi.pool.estimate.estimate`)."""
    from kakehashi.pool.estimate import estimate as run_estimate

    with state.db.read() as s:
        snap = pool_state.snapshot(s, state.pool, time.time())
    hist = history_path()
    rows = run_estimate(
        problem,
        snap.config,
        project=project,
        time_limit=time_limit,
        now=snap.now,
        queue=snap.queue,
        running=snap.running,
        down=sorted(snap.down),
        usage=snap.usage,
        history=hist if hist.exists() else None,
    )
    return [json.loads(json.dumps(r.to_dict(), default=str)) for r in rows]


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["pool"])

    @router.get("/pool", response_model=PoolOut, summary="The machine pool now")
    async def pool(state: StateDep, project: ProjectDep) -> dict[str, Any]:
        """Every machine: up, down or in maintenance, slots busy and free, queued jobs that could
        run on it; and your own queued jobs with why they wait (other projects': counts only).
        With the ``slurm`` executor, ``slurm`` is the partition's live state: nodes idle,
        allocated, mixed and down, and its queue (everyone's and kakehashi's batch jobs)."""

        def view() -> dict[str, Any]:
            with state.db.read() as s:
                known = peers.records(s, state.pool.own(s, time.time()))
            # live state of the peers' machines (their /v1/pool), at most a few seconds old
            peers.refresh(state.db, known, state.config.peer_key, max_age=state.config.peer_probe_seconds)
            with state.db.read() as s:
                snap = pool_state.snapshot(s, state.pool)
                seen = peers.states(s)
            remote = {
                o.machine_name(p.name): peers.remote_view(p, o, seen.get(p.name)) for p in known for o in p.offers
            }
            out = scheduling.pool_view(snap, scheduling.run_pass(snap, full=True), project.id, remote)
            if state.config.executor == "slurm":  # the centre's partition, live (sinfo/squeue or REST)
                from kakehashi.service.executors.slurm import from_table
                from kakehashi.service.executors.slurm.executor import cluster_view

                out["slurm"] = cluster_view(from_table(state.config.slurm))
            return out

        return await run_in_threadpool(view)

    @router.post("/estimate", response_model=EstimateOut, summary="Estimate wait, run time and cost")
    async def estimate(body: EstimateRequest, state: StateDep, project: ProjectDep) -> dict[str, Any]:
        """Expected queue wait and run time (seconds) and cost (yen, after your discount) of the
        problem on each backend of the pool, from the live queue and pool state (an upper bound:
        running and queued jobs are taken to use their full time limits). Ineligible backends
        come last with the reason."""

        # the body's size and JSON limits are enforced by BoundedBody (413/422) before this runs
        def run() -> dict[str, Any]:
            variables = body.problem.get("variables")
            constraints = body.problem.get("constraints")
            submission._check_size(
                state.config,
                len(variables) if isinstance(variables, list) else 0,
                len(constraints) if isinstance(constraints, list) else 0,
            )
            problem: Problem = submission._problem(
                lambda: Problem.from_dict(body.problem, source="request"), "problem document"
            )
            submission._check_size(state.config, problem.num_variables, problem.num_constraints)
            out = estimate_rows(state, problem, project.name, body.time_limit)
            return {
                "problem": problem.name,
                "project": project.name,
                "time_limit": body.time_limit,
                "currency": "JPY",
                "estimates": out,
            }

        return await run_in_threadpool(run)

    return router
