"""``/v1/benchmarks``: store, list and get benchmark results of the caller's project, and a leaderboard.

The body of ``POST /v1/benchmarks`` is a ``result.json`` of ``kakehashi bench run``; it is
bounded by ``max_body_bytes`` and parsed by :mod:`kakehashi.safejson` in
:class:`~kakehashi.service.api.body.BoundedBody` (413 / 422 before this route runs), then
validated field by field (422 naming the field).
"""

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from kakehashi.exceptions import ModelError
from kakehashi.service.api.body import PARSED_JSON
from kakehashi.service.api.deps import ProjectDep, StateDep
from kakehashi.service.store import benchmarks
from kakehashi.service.store.models import BenchmarkEntry, BenchmarkResult

_NAME = r"^[A-Za-z0-9_.:+-]+$"
#: The request body's schema (the fields :func:`kakehashi.bench.record.validate_result` requires).
RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "result.json of 'kakehashi bench run' (docs/benchmarking.md)",
    "required": ["format", "suite", "manifest", "runs"],
    "properties": {
        "format": {"type": "string", "enum": ["kakehashi.bench/1"]},
        "suite": {"type": "object", "required": ["name", "sense", "protocol", "instances"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "sense": {"type": "string", "enum": ["min", "max"]},
            "protocol": {"type": "object", "required": ["epsilon"], "properties": {"epsilon": {"type": "number"}}},
            "instances": {"type": "array", "items": {"type": "object", "required": ["id", "sha256"], "properties": {
                "id": {"type": "string"}, "sha256": {"type": "string"},
                "best_known": {"type": ["number", "null"]}}}}}},
        "manifest": {"type": "object"},
        "runs": {"type": "array", "items": {"type": "object",
                                            "required": ["instance", "backend", "budget", "seed", "status", "feasible"],
                                            "properties": {
            "instance": {"type": "string"}, "backend": {"type": "string"}, "budget": {"type": "number"},
            "seed": {"type": "integer"}, "feasible": {"type": "boolean"},
            "status": {"type": "string", "enum": ["OPTIMAL", "FEASIBLE", "INFEASIBLE", "NO_SOLUTION", "TIMEOUT", "ERROR"]},
            "objective": {"type": ["number", "null"]}, "wall_s": {"type": "number", "minimum": 0}}}},
    },
}


class BenchmarkEntryOut(BaseModel):
    """One (backend, machine kind) row of a result; rates are fractions in [0, 1], gaps relative."""

    result_id: str
    suite: str
    backend: str
    machine_kind: str
    runs: int
    instances: int
    feasible_rate: float
    success_rate: float | None
    median_gap: float | None
    machine_seconds: float
    cost_yen: float | None
    created_at: datetime

    @classmethod
    def of(cls, e: BenchmarkEntry) -> "BenchmarkEntryOut":
        return cls(result_id=e.result_id, suite=e.suite, backend=e.backend, machine_kind=e.machine_kind,
                   runs=e.runs, instances=e.instances, feasible_rate=e.feasible_rate,
                   success_rate=e.success_rate, median_gap=e.median_gap, machine_seconds=e.machine_seconds,
                   cost_yen=e.cost_yen, created_at=datetime.fromtimestamp(e.created_at, tz=UTC))


class BenchmarkOut(BaseModel):
    """A stored result's summary; ``result`` (the document) only from ``GET /v1/benchmarks/{id}``."""

    id: str
    suite: str
    problem_class: str
    sense: str
    kakehashi_version: str
    git_commit: str
    machine_kinds: list[str]
    via_service: bool
    runs: int
    created_at: datetime
    entries: list[BenchmarkEntryOut] | None = None
    result: dict[str, Any] | None = None

    @classmethod
    def of(cls, r: BenchmarkResult, ents: list[BenchmarkEntry] | None = None,
           doc: dict[str, Any] | None = None) -> "BenchmarkOut":
        return cls(id=r.id, suite=r.suite, problem_class=r.problem_class, sense=r.sense,
                   kakehashi_version=r.kakehashi_version, git_commit=r.git_commit,
                   machine_kinds=[k for k in r.machine_kinds.split(",") if k], via_service=r.via_service,
                   runs=r.runs, created_at=datetime.fromtimestamp(r.created_at, tz=UTC),
                   entries=None if ents is None else [BenchmarkEntryOut.of(e) for e in ents], result=doc)


class BenchmarkPage(BaseModel):
    """One page of results, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    benchmarks: list[BenchmarkOut]
    next_cursor: str | None


class LeaderboardOut(BaseModel):
    """Per (backend, machine kind) the project's best entry for ``suite``, best first
    (success rate, then median gap, then feasible rate, then the most recent)."""

    suite: str
    machine_kind: str | None
    rows: list[BenchmarkEntryOut]


def _encode(seq: int) -> str:
    return base64.urlsafe_b64encode(f"b{seq}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("b") or not raw[1:].isdigit() or len(raw) > 19:
            raise ValueError(raw)
        return int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ModelError("invalid cursor; pass next_cursor from the previous page", field="cursor") from exc


def build_router(max_page_size: int = 200) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["benchmarks"])

    @router.post("/benchmarks", response_model=BenchmarkOut, status_code=201, summary="Store a benchmark result",
                 openapi_extra={"requestBody": {"required": True,
                                                "content": {"application/json": {"schema": RESULT_SCHEMA}}}})
    async def post_benchmark(request: Request, state: StateDep, project: ProjectDep) -> BenchmarkOut:
        """Store a ``kakehashi bench run`` result for this project (validated; 422 names a bad field)."""
        mtype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if mtype not in ("", "application/json"):
            raise ModelError(f"expected an application/json body, got {mtype!r}", field="content-type")
        doc = request.scope.get(PARSED_JSON)
        if doc is None:
            raise ModelError("empty body: send the result.json of 'kakehashi bench run'", field="body")
        row, ents = await run_in_threadpool(benchmarks.store, state.db, project.id, doc)
        return BenchmarkOut.of(row, ents)

    @router.get("/benchmarks", response_model=BenchmarkPage, summary="List benchmark results")
    async def list_benchmarks(
        state: StateDep,
        project: ProjectDep,
        suite: Annotated[str | None, Query(max_length=100, pattern=_NAME)] = None,
        machine_kind: Annotated[str | None, Query(max_length=40, pattern=_NAME)] = None,
        cursor: Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")] = None,
        limit: Annotated[int, Query(ge=1, le=max_page_size)] = 50,
    ) -> BenchmarkPage:
        """The project's results, newest first, filtered by suite and by a machine kind they ran on."""
        before = _decode(cursor) if cursor else None
        rows = await run_in_threadpool(lambda: benchmarks.list_results(
            state.db, project.id, suite=suite, machine_kind=machine_kind, before_seq=before, limit=limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return BenchmarkPage(benchmarks=[BenchmarkOut.of(r) for r in rows],
                             next_cursor=_encode(rows[-1].seq) if more and rows else None)

    @router.get("/benchmarks/leaderboard", response_model=LeaderboardOut, summary="Best per backend and machine kind")
    async def leaderboard(
        state: StateDep,
        project: ProjectDep,
        suite: Annotated[str, Query(max_length=100, pattern=_NAME)],
        machine_kind: Annotated[str | None, Query(max_length=40, pattern=_NAME)] = None,
    ) -> LeaderboardOut:
        """For ``suite``: per (backend, machine kind) the project's best stored entry."""
        rows = await run_in_threadpool(benchmarks.leaderboard, state.db, project.id, suite,
                                       machine_kind=machine_kind)
        return LeaderboardOut(suite=suite, machine_kind=machine_kind, rows=[BenchmarkEntryOut.of(e) for e in rows])

    @router.get("/benchmarks/{result_id}", response_model=BenchmarkOut, summary="Get a benchmark result")
    async def get_benchmark(result_id: str, state: StateDep, project: ProjectDep) -> BenchmarkOut:
        """A stored result with its entries and the document as submitted (404 outside the project)."""
        row, ents = await run_in_threadpool(benchmarks.get, state.db, project.id, result_id)
        return BenchmarkOut.of(row, ents, json.loads(row.result_json))

    return router
