"""Issue 7 in the service: pool state, scheduler in the claim path, quotas, discounts, audit, estimates."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from kakehashi.service import lease, quotas
from kakehashi.service.jobs import JobStatus
from kakehashi.service.lease import Outcome
from kakehashi.service.pool_state import PoolSource
from kakehashi.service.store.models import Job, LedgerEntry
from kakehashi.service.testing import LiveService
from tests.service.support import ADMIN, Harness, make_harness, tiny_problem

POOL = """
[[machines]]
name = "cpu-1"
kind = "cpu"
slots = 2
backends = ["exact", "sa"]
price_yen_per_second = 0.02

[[machines]]
name = "qpu-1"
kind = "qpu-anneal"
slots = 1
backends = ["tabu"]
price_yen_per_second = 50.0
"""


@pytest.fixture
def pool_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "pool.toml"
    path.write_text(POOL)
    monkeypatch.setenv("KAKEHASHI_POOL", str(path))  # what workers (lease.claim/finish) read
    return path


@pytest.fixture
def pooled(sqlite_url: str, pool_file: Path) -> Iterator[Harness]:
    h = make_harness(sqlite_url, pool_file=str(pool_file))
    yield h
    h.client.close()
    h.db.dispose()


def _admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


# --------------------------------------------------------------- quota, atomically
@pytest.mark.parametrize("unit", ["yen", "machine-seconds"])
def test_200_concurrent_submissions_against_a_quota_for_10(db_url: str, unit: str) -> None:
    """Real HTTP server, 200 concurrent submissions, room for exactly 10: 10 accepted, 190 refused."""
    with LiveService(db_url, workers=0) as svc:
        token = svc.token("quota-proj")
        # default pool: cpu at 0.01 yen/s; a 1 s job on one leg holds 0.01 yen or 1 machine-second
        limit = 0.1 if unit == "yen" else 10.0
        quotas.set_quota(svc.db, "quota-proj", limit, unit=unit, period="month", reason="test")
        body = {"problem": tiny_problem(1).to_dict(), "backend": "exact", "time_limit": 1.0}
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=svc.url, timeout=120.0, limits=httpx.Limits(max_connections=200)) as c:

            def post(_i: int) -> httpx.Response:
                return c.post("/v1/jobs", json=body, headers=headers)

            with ThreadPoolExecutor(max_workers=100) as ex:
                responses = list(ex.map(post, range(200)))
        codes = [r.status_code for r in responses]
        refused_code = 402 if unit == "yen" else 429
        assert codes.count(201) == 10, sorted(set(codes))
        assert codes.count(refused_code) == 190, sorted(set(codes))
        refused = [r.json() for r in responses if r.status_code == refused_code]
        assert all(
            r["limit"] == pytest.approx(limit) and r["remaining"] == pytest.approx(0.0) for r in refused
        )
        assert all(r["unit"] == unit and r["type"].endswith("quota-exceeded") for r in refused)
        assert (
            responses[codes.index(refused_code)]
            .headers["content-type"]
            .startswith("application/problem+json")
        )
        with svc.db.read() as s:
            assert s.execute(select(func.count()).select_from(Job)).scalar_one() == 10


# ------------------------------------------------------- discounts, usage, audit
def test_discounts_in_ledger_and_usage_and_audit_trail(harness: Harness) -> None:
    h = harness
    c = h.client
    r = c.put("/v1/admin/projects/alpha/terms", json={"tier": "research", "reason": "lab"}, headers=_admin())
    assert r.status_code == 200 and r.json()["tier"] == "research" and r.json()["discount_rate"] == 0.5
    r = c.put(
        "/v1/admin/projects/alpha/quota",
        json={"limit": 1000.0, "unit": "yen", "period": "month", "reason": "grant"},
        headers=_admin(),
    )
    assert r.status_code == 200 and r.json()["quota"]["limit"] == 1000.0
    r = c.put(
        "/v1/admin/prices/cpu", json={"price_yen_per_second": 0.5, "reason": "new tariff"}, headers=_admin()
    )
    assert r.status_code == 200 and r.json()["overrides"] == {"cpu": 0.5}
    assert h.submit(tiny_problem(0)).status_code == 201
    claim = lease.claim(h.db, "w", 30.0)
    assert claim is not None
    assert lease.finish(
        h.db, claim, Outcome(JobStatus.SUCCEEDED, result_json="{}", machine_seconds=10.0, unit_price_yen=0.01)
    )
    with h.db.read() as s:
        e = s.scalars(select(LedgerEntry)).one()
    assert e.unit_price_yen == 0.5 and e.list_yen == pytest.approx(5.0)  # the admin's price, not the worker's
    assert (
        e.discount_rate == 0.5 and e.discount_yen == pytest.approx(2.5) and e.cost_yen == pytest.approx(2.5)
    )
    u = c.get("/v1/usage", params={"period": "all"}, headers=h.h("a")).json()
    assert u["tier"] == "research" and u["discount_rate"] == 0.5
    assert u["total_list_cost_yen"] == pytest.approx(5.0) and u["total_discount_yen"] == pytest.approx(2.5)
    assert u["total_cost_yen"] == pytest.approx(2.5)
    assert u["rows"][0]["list_cost_yen"] == pytest.approx(5.0) and u["rows"][0][
        "discount_yen"
    ] == pytest.approx(2.5)
    assert u["quota"]["used"] == pytest.approx(2.5) and u["quota"]["remaining"] == pytest.approx(997.5)
    # beta pays list price (commercial)
    assert c.get("/v1/usage", headers=h.h("b")).json()["discount_rate"] == 0.0
    audit = c.get("/v1/admin/audit", headers=_admin()).json()
    changes = {(a["subject"], a["field"]): (a["old"], a["new"], a["reason"]) for a in audit}
    assert changes[("project:alpha", "tier")] == ("commercial", "research", "lab")
    assert changes[("project:alpha", "quota.limit")] == (None, 1000.0, "grant")
    assert changes[("price:cpu", "price_yen_per_second")] == (0.01, 0.5, "new tariff")
    assert all(a["actor"] == "admin" for a in audit)
    # project tokens cannot reach the admin routes
    assert c.get("/v1/admin/audit", headers=h.h("a")).status_code == 401
    assert c.put("/v1/admin/projects/beta/quota", json={"limit": 0}, headers=h.h("a")).status_code == 401
    assert c.put("/v1/admin/projects/nope/quota", json={"limit": 1}, headers=_admin()).status_code == 404


def test_quota_hold_released_when_job_ends(harness: Harness) -> None:
    h = harness
    quotas.set_quota(h.db, "alpha", 2.0, unit="machine-seconds", period="day")
    assert h.submit(tiny_problem(0)).status_code == 201
    assert h.submit(tiny_problem(1)).status_code == 201
    refused = h.submit(tiny_problem(2))
    assert refused.status_code == 429 and refused.json()["pending"] == 2.0
    assert h.submit(tiny_problem(2), which="b").status_code == 201  # another project's budget
    c = lease.claim(h.db, "w", 30.0)
    assert c is not None and c.project_id == h.project_a
    lease.finish(h.db, c, Outcome(JobStatus.SUCCEEDED, result_json="{}", machine_seconds=0.25))
    # the 1 s hold became 0.25 s used: 0.75 s free again, not enough for a 1 s job, enough for 0.5 s
    assert h.submit(tiny_problem(3)).status_code == 429
    assert h.submit(tiny_problem(3), time_limit=0.5).status_code == 201


# ------------------------------------------------------------ pool and scheduler
def test_pool_endpoint_down_kind_waits_or_uses_allowed_alternative(pooled: Harness, pool_file: Path) -> None:
    h = pooled
    c = h.client
    view = c.get("/v1/pool", headers=h.h("a")).json()
    assert [m["name"] for m in view["machines"]] == ["cpu-1", "qpu-1"] and not view["default_pool"]
    r = c.post("/v1/admin/machines/qpu-1/down", json={"reason": "calibration"}, headers=_admin())
    assert r.status_code == 200 and r.json()["down"] == ["qpu-1"]
    waiting = h.submit(backend="tabu").json()["id"]
    routed = h.submit(tiny_problem(1), backend="tabu", alternatives=["sa"]).json()["id"]
    other = h.submit(tiny_problem(2), which="b", backend="tabu").json()["id"]
    first = lease.claim(h.db, "w1", 30.0)
    assert first is not None and first.job_id == routed and first.backend == "sa"
    assert lease.claim(h.db, "w2", 30.0) is None  # the qpu jobs wait: their only machine is down
    view = c.get("/v1/pool", headers=h.h("a")).json()
    machines = {m["name"]: m for m in view["machines"]}
    assert machines["qpu-1"]["state"] == "down" and machines["qpu-1"]["down_reason"] == "calibration"
    assert (
        machines["qpu-1"]["queued"] == 2 and machines["cpu-1"]["busy"] == 1 and machines["cpu-1"]["free"] == 1
    )
    assert view["queued"] == 2 and view["running_legs"] == 1
    mine = {j["id"]: j for j in view["your_queued_jobs"]}
    assert set(mine) == {waiting} and other not in mine  # another project's job: counted, not shown
    assert "down" in mine[waiting]["reason"]
    job = c.get(f"/v1/jobs/{routed}", headers=h.h("a")).json()
    assert job["placement"] == [{"leg": 0, "backend": "sa", "machine": "cpu-1"}]
    assert c.get(f"/v1/jobs/{routed}", headers=h.h("b")).status_code == 404
    assert c.post("/v1/admin/machines/nope/down", json={}, headers=_admin()).status_code == 404
    c.post("/v1/admin/machines/qpu-1/up", json={"reason": "done"}, headers=_admin())
    nxt = lease.claim(h.db, "w2", 30.0)
    assert nxt is not None and nxt.job_id == waiting and nxt.backend == "tabu"
    audit = c.get("/v1/admin/audit", params={"subject": "machine:qpu-1"}, headers=_admin()).json()
    assert [(a["old"], a["new"]) for a in audit] == [(False, True), (True, False)]


def test_racing_portfolio_takes_a_slot_per_leg(pooled: Harness) -> None:
    h = pooled
    race = h.submit(backend=["exact", "sa"]).json()["id"]
    single = h.submit(tiny_problem(1), backend="sa").json()["id"]
    c = lease.claim(h.db, "w1", 30.0)
    assert c is not None and c.job_id == race and c.backend == "exact,sa"
    assert lease.claim(h.db, "w2", 30.0) is None  # both cpu-1 slots are held by the race
    lease.finish(h.db, c, Outcome(JobStatus.SUCCEEDED, result_json="{}", machine_seconds=1.0))
    nxt = lease.claim(h.db, "w2", 30.0)
    assert nxt is not None and nxt.job_id == single
    with h.db.read() as s:
        e = s.scalars(select(LedgerEntry).where(LedgerEntry.job_id == race)).one()
    assert e.machine_seconds == 2.0 and e.list_yen == pytest.approx(2.0 * 0.02)  # two slots for 1 s


def test_fair_share_light_project_is_claimed_before_heavy_one(pooled: Harness) -> None:
    h = pooled
    with h.db.write() as s:  # alpha used the pool heavily an hour ago
        s.add(
            LedgerEntry(
                project_id=h.project_a,
                job_id="old",
                attempt=1,
                backend="exact",
                hardware="cpu",
                machine_seconds=3600.0,
                unit_price_yen=0.02,
                cost_yen=72.0,
                list_yen=72.0,
                created_at=time.time() - 3600,
            )
        )
    heavy = h.submit(tiny_problem(0)).json()["id"]  # submitted first, same priority
    light = h.submit(tiny_problem(1), which="b").json()["id"]
    order = []
    for w in ("w1", "w2"):
        c = lease.claim(h.db, w, 30.0)
        assert c is not None
        order.append(c.job_id)
    assert order == [light, heavy]


def test_fcfs_at_equal_usage_and_priority_beats_age(pooled: Harness) -> None:
    h = pooled
    first = h.submit(tiny_problem(0)).json()["id"]
    second = h.submit(tiny_problem(1), which="b").json()["id"]
    urgent = h.submit(tiny_problem(2), which="b", priority=1000).json()["id"]
    got = [lease.claim(h.db, f"w{i}", 30.0) for i in range(2)]
    assert [g.job_id for g in got if g] == [urgent, first]
    lease.finish(h.db, got[0], Outcome(JobStatus.SUCCEEDED, result_json="{}", machine_seconds=0.0))  # type: ignore[arg-type]
    last = lease.claim(h.db, "w3", 30.0)
    assert last is not None and last.job_id == second


def test_impossible_jobs_get_422_at_submission(pooled: Harness) -> None:
    h = pooled
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    r = h.submit(time_limit=60.0, deadline=soon)
    assert r.status_code == 422 and r.json()["field"] == "deadline" and "deadline" in r.json()["detail"]
    r = h.submit(backend="tabu", time_limit=10.0, cost_cap_yen=1.0)  # 10 s × 50 yen/s
    assert r.status_code == 422 and r.json()["field"] == "cost_cap_yen" and "cost cap" in r.json()["detail"]
    r = h.submit(backend="tabu", time_limit=10.0, cost_cap_yen=1.0, alternatives=["sa"])  # sa fits the cap
    assert r.status_code == 201
    r = h.submit(backend="highs")  # registered, but no machine of this pool runs it
    assert r.status_code == 422 and "no machine" in r.json()["detail"]
    r = h.submit(backend=["exact", "sa", "tabu", "exact"])
    assert r.status_code == 422


# --------------------------------------------------------------------- estimates
def test_estimate_endpoint_wait_run_cost_per_backend(pooled: Harness) -> None:
    h = pooled
    h.client.put("/v1/admin/projects/alpha/terms", json={"tier": "contributor"}, headers=_admin())
    body = {"problem": tiny_problem(0).to_dict(), "time_limit": 2.0}
    r = h.client.post("/v1/estimate", json=body, headers=h.h("a"))
    assert r.status_code == 200, r.text
    rows = {e["backend"]: e for e in r.json()["estimates"]}
    assert set(rows) == {"exact", "sa", "tabu"}
    for name, price in (("exact", 0.02), ("sa", 0.02), ("tabu", 50.0)):
        e = rows[name]
        assert e["eligible"] and e["queue_wait_s"] == 0.0 and e["run_time_s"] == 2.0
        assert e["list_cost_yen"] == pytest.approx(2.0 * price) and e["discount_rate"] == 0.3
        assert e["cost_yen"] == pytest.approx(2.0 * price * 0.7)
    # fill cpu-1: the next exact job now waits for a slot
    for i in range(2):
        h.submit(tiny_problem(i), time_limit=5.0)
        assert lease.claim(h.db, f"w{i}", 30.0) is not None
    rows = {
        e["backend"]: e
        for e in h.client.post("/v1/estimate", json=body, headers=h.h("a")).json()["estimates"]
    }
    assert 0.0 < rows["exact"]["queue_wait_s"] <= 5.0 and rows["tabu"]["queue_wait_s"] == 0.0
    assert h.client.post("/v1/estimate", json=body).status_code == 401


def test_default_pool_is_the_local_machine(harness: Harness) -> None:
    view = harness.client.get("/v1/pool", headers=harness.h("a")).json()
    assert view["default_pool"] and len(view["machines"]) == 1
    m = view["machines"][0]
    assert m["name"] == "local" and m["kind"] == "cpu" and "exact" in m["backends"] and m["state"] == "up"
    assert PoolSource().path is None


def test_learned_routing_history_from_finished_auto_jobs(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finished ``auto`` jobs append history; the solver child's router then reads it."""
    from kakehashi.service.runner import handle

    history = tmp_path / "history.jsonl"
    monkeypatch.setenv("KAKEHASHI_ROUTER_HISTORY", str(history))
    h = harness
    for i in range(3):
        h.submit(tiny_problem(i, n=5), backend="auto", time_limit=0.5)
        c = lease.claim(h.db, "w", 30.0)
        assert c is not None and c.backend == "auto"
        answer = handle(
            json.loads(
                json.dumps({"problem": json.loads(c.problem_json), "backend": "auto", "time_limit": 0.5})
            )
        )
        assert answer["type"] == "result", answer
        assert lease.finish(h.db, c, Outcome(JobStatus.SUCCEEDED, result_json=json.dumps(answer["result"])))
    lines = [json.loads(x) for x in history.read_text().splitlines()]
    assert len({x["group"] for x in lines}) == 3 and all(x["extra"]["source"] == "service" for x in lines)
    answer = handle({"problem": tiny_problem(7, n=5).to_dict(), "backend": "auto", "time_limit": 0.5})
    route = answer["result"]["info"]["route"]
    assert route["source"] == "learned" and "history records" in route["reason"], route
    assert set(route["backends"]) <= {x["backend"] for x in lines}


# ---------------------------------------------------------------------- commands
def test_cli_admin_quota_terms_price_machine_and_client_commands(tmp_path: Path, pool_file: Path) -> None:
    from typer.testing import CliRunner

    from kakehashi.cli.app import app
    from kakehashi.service.config import ServiceConfig

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    config = ServiceConfig(database_url=url, lease_seconds=5.0, pool_file=str(pool_file))
    with LiveService(url, workers=0, config=config) as svc:
        token = svc.token("lab")
        env = {"KAKEHASHI_DATABASE_URL": url, "KAKEHASHI_URL": svc.url, "KAKEHASHI_TOKEN": token}
        r = runner.invoke(
            app,
            ["admin", "quota", "set", "lab", "--yen", "1000", "--period", "month", "--reason", "grant"],
            env=env,
        )
        assert r.exit_code == 0, r.output
        assert "quota.limit" in r.output and "1000.0" in r.output
        r = runner.invoke(app, ["admin", "terms", "set", "lab", "--tier", "academic"], env=env)
        assert r.exit_code == 0 and "commercial" in r.output and "academic" in r.output, r.output
        r = runner.invoke(app, ["admin", "machine", "down", "qpu-1", "--reason", "maintenance"], env=env)
        assert r.exit_code == 0, r.output
        r = runner.invoke(app, ["admin", "quota", "set", "lab", "--period", "month"], env=env)
        assert r.exit_code != 0  # neither --yen nor --machine-seconds
        r = runner.invoke(app, ["admin", "audit", "--json"], env=env)
        assert r.exit_code == 0, r.output
        fields = {(a["subject"], a["field"]) for a in json.loads(r.output)}
        assert {("project:lab", "quota.limit"), ("project:lab", "tier"), ("machine:qpu-1", "up")} <= fields
        r = runner.invoke(app, ["pool", "--json"], env=env)
        assert r.exit_code == 0, r.output
        machines = {m["name"]: m for m in json.loads(r.output)["machines"]}
        assert machines["qpu-1"]["state"] == "down" and machines["cpu-1"]["free"] == 2
        problem = tmp_path / "p.json"
        problem.write_text(tiny_problem(0).to_json())
        r = runner.invoke(app, ["estimate", str(problem), "--json", "-t", "1"], env=env)  # via the service
        assert r.exit_code == 0, r.output
        est = json.loads(r.output)
        rows = {e["backend"]: e for e in est["estimates"]}
        assert est["project"] == "lab" and rows["exact"]["discount_rate"] == 0.5
        assert rows["exact"]["cost_yen"] == pytest.approx(0.01) and rows["tabu"]["queue_wait_s"] is None
        r = runner.invoke(app, ["usage"], env=env)
        assert r.exit_code == 0 and "academic" in r.output and "remaining 1000" in r.output, r.output


def test_migration_0002_upgrades_a_0001_database_with_data(db_url: str) -> None:
    from sqlalchemy import text

    from kakehashi.service.store.db import Database
    from kakehashi.service.store.migrate import current_revision, upgrade

    db = Database(db_url)
    try:
        upgrade(db, "0001")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO projects (id, name, created_at) VALUES ('prj_1', 'old', 1.0)"))
            conn.execute(
                text(
                    "INSERT INTO ledger (project_id, job_id, attempt, backend, hardware, machine_seconds, "
                    "unit_price_yen, cost_yen, created_at) VALUES ('prj_1', 'job_1', 1, 'exact', 'cpu', 2.0, 0.5, 1.0, 1.0)"
                )
            )
        upgrade(db)
        from kakehashi.service.store.migrate import head_revision

        assert current_revision(db) == head_revision()
        with db.read() as s:
            e = s.scalars(select(LedgerEntry)).one()
        assert e.list_yen == 1.0 and e.discount_rate == 0.0 and e.cost_yen == 1.0
        from kakehashi.service import tenancy

        assert tenancy.find_project(db, "old").tier is None
        quotas.set_quota(db, "old", 5.0, unit="yen", period="all")
        with db.read() as s:
            assert quotas.quota_status(s, "prj_1") == {
                "unit": "yen",
                "period": "all",
                "limit": 5.0,
                "used": 1.0,
                "pending": 0.0,
                "remaining": 4.0,
            }
    finally:
        db.dispose()


def test_job_whose_deadline_can_no_longer_be_met_fails_with_the_reason(pooled: Harness) -> None:
    h = pooled
    h.client.post("/v1/admin/machines/qpu-1/down", json={"reason": "x"}, headers=_admin())
    deadline = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    job = h.submit(backend="tabu", time_limit=10.0, deadline=deadline).json()["id"]
    assert lease.claim(h.db, "w", 30.0) is None  # waits for the qpu
    assert h.client.get(f"/v1/jobs/{job}", headers=h.h("a")).json()["status"] == "QUEUED"
    assert lease.claim(h.db, "w", 30.0, now=time.time() + 55.0) is None  # 5 s left, 10 s needed
    failed = h.client.get(f"/v1/jobs/{job}", headers=h.h("a")).json()
    assert failed["status"] == "FAILED" and "deadline cannot be met" in failed["error"]
