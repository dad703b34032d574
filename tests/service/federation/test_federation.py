"""Federation end to end: site A forwards jobs to site B (two real services, two databases).

Order matters where noted: the tests share the two sites (starting them is most of the cost).
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import kakehashi
from kakehashi.client import Client
from kakehashi.model.problem import Problem
from kakehashi.service import lease, quotas
from kakehashi.service.pool_state import PoolSource
from kakehashi.service.store.models import Forward, Job, JobEvent, JobResult, LedgerEntry
from kakehashi.service.worker import Worker
from tests.service.federation.conftest import Sites

pytestmark = pytest.mark.network

LP = """\\ a small knapsack-like integer program
Maximize
 obj: 5 x + 4 y + 3 z + 2 w
Subject To
 c1: 2 x + 3 y + z + 4 w <= 15
 c2: 4 x + y + 2 z + w <= 21
 c3: 3 x + 4 y + 2 z + 3 w <= 18
Bounds
 0 <= x <= 6
 0 <= y <= 6
 0 <= z <= 6
 0 <= w <= 6
General
 x y z w
End
"""


@pytest.fixture(scope="module")
def milp(tmp_path_factory: pytest.TempPathFactory) -> tuple[Problem, float]:
    """The integer program and its optimum by HiGHS in this process (the independent check)."""
    path = tmp_path_factory.mktemp("lp") / "knap.lp"
    path.write_text(LP)
    problem = kakehashi.read(path)
    local = kakehashi.solve(problem, backend="highs", time_limit=10.0)
    assert local.status.value == "OPTIMAL"
    return problem, float(local.objective)  # type: ignore[arg-type]


def _period() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def _wait(pred: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _job(db: Any, job_id: str) -> Job:
    with db.read() as s:
        job = s.scalars(select(Job).where(Job.id == job_id)).one()
        s.expunge(job)
        return job


def _forwards(db: Any, job_id: str) -> list[Forward]:
    with db.read() as s:
        rows = list(s.scalars(select(Forward).where(Forward.job_id == job_id).order_by(Forward.attempt)))
        for r in rows:
            s.expunge(r)
        return rows


def _ledger(db: Any, job_id: str) -> list[LedgerEntry]:
    with db.read() as s:
        rows = list(s.scalars(select(LedgerEntry).where(LedgerEntry.job_id == job_id).order_by(LedgerEntry.attempt)))
        for r in rows:
            s.expunge(r)
        return rows


def _settle(sites: Sites) -> dict[str, Any]:
    """``kakehashi admin settlement site-b --period YYYY-MM --json`` as site A's operator runs it."""
    code, stdout, stderr = _cli(sites, "admin", "settlement", "site-b", "--period", _period(), "--json")
    assert code in (0, 1), stderr
    body: dict[str, Any] = json.loads(stdout)
    assert body["reconciled"] is (code == 0)
    assert code == 0 or "mismatches" in stderr
    return body


def _cli(sites: Sites, *args: str) -> tuple[int, str, str]:
    """The real ``kakehashi`` command line (in this process, with site A's operator environment)."""
    import contextlib
    import io

    from kakehashi.cli.app import app
    from kakehashi.cli.errors import run_cli

    env = {k: v for k, v in sites.a.env.items() if k.startswith("KAKEHASHI_")}
    saved = {k: os.environ.get(k) for k in env}
    out, err = io.StringIO(), io.StringIO()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run_cli(app, list(args), prog_name="kakehashi")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue(), err.getvalue()


def _line(report: dict[str, Any], job_id: str, attempt: int) -> dict[str, Any]:
    return next(x for x in report["lines"] if x["job_id"] == job_id and x["attempt"] == attempt)


# ----------------------------------------------------------------------------------- tests
def test_a_job_submitted_at_a_runs_at_b_and_both_ledgers_agree(sites: Sites, milp: tuple[Problem, float]) -> None:
    problem, optimum = milp
    token = sites.token_a("alpha")
    with Client(sites.a.url, token) as client:
        pool = client.pool()
        remote = next(m for m in pool["machines"] if m["name"] == "site-b-cpu")
        assert remote["remote"] is True and remote["peer"] == "site-b" and remote["state"] == "up"
        assert remote["remote_state"]["reachable"] is True
        assert [m["name"] for m in remote["remote_state"]["machines"]] == ["local"]  # B's own machine
        local = next(m for m in pool["machines"] if m["name"] == "a-local")
        assert local["remote"] is False
        job = client.submit(problem, backend="highs", time_limit=10.0)
        result = client.result(job.id, timeout=60)
    assert result.objective == pytest.approx(optimum)
    assert result.provenance.backend == "highs"
    # the same Result as a local run: every constraint holds on the original model
    assert problem.evaluate(result.sample).feasible
    (fwd,) = _forwards(sites.a.db, job.id)
    assert fwd.peer == "site-b" and fwd.attempt == 1 and fwd.idempotency_key == f"fwd-{job.id}-a1"
    remote_job = _job(sites.b.db, fwd.remote_job_id)
    assert remote_job.status == "SUCCEEDED" and remote_job.objective == pytest.approx(optimum)
    assert remote_job.idempotency_key == fwd.idempotency_key
    (home,) = _ledger(sites.a.db, job.id)
    (theirs,) = _ledger(sites.b.db, fwd.remote_job_id)
    assert home.machine == "site-b-cpu" and home.unit_price_yen == pytest.approx(0.02)
    assert theirs.unit_price_yen == pytest.approx(0.01)  # B's price to the project site-a
    assert home.machine_seconds == pytest.approx(theirs.machine_seconds) and home.machine_seconds > 0
    report = _settle(sites)
    line = _line(report, job.id, 1)
    assert line["issue"] is None
    assert line["peer_charged_yen"] == pytest.approx(theirs.cost_yen)
    assert line["home_charged_yen"] == pytest.approx(home.cost_yen)
    assert line["agreed_yen"] == pytest.approx(0.01 * theirs.machine_seconds)
    assert report["reconciled"], report["mismatches"]


def test_the_peer_token_sees_only_the_jobs_it_submitted(sites: Sites, milp: tuple[Problem, float]) -> None:
    problem, _ = milp
    peer = {"Authorization": f"Bearer {sites.peer_token}"}
    with Client(sites.b.url, sites.b.token("beta")) as client:  # one of B's own projects
        other = client.submit(problem, backend="exact", time_limit=5.0)
    with Client(sites.b.url, sites.b.token("site-a")) as client:  # site-a's project, another token
        sibling = client.submit(problem, backend="exact", time_limit=5.0)
    with httpx.Client(base_url=sites.b.url, headers=peer, timeout=10) as http:
        for job_id in (other.id, sibling.id):
            for path in ("", "/result", "/events"):
                r = http.get(f"/v1/jobs/{job_id}{path}")
                assert r.status_code == 404, (path, r.text)
            assert http.post(f"/v1/jobs/{job_id}/cancel").status_code == 404
        for path in ("/v1/jobs", "/v1/usage"):
            r = http.get(path)
            assert r.status_code == 403 and "peer token" in r.json()["detail"]
        mine = http.post(
            "/v1/jobs", json={"problem": problem.to_dict(), "backend": "exact", "time_limit": 5.0}
        ).json()
        assert http.get(f"/v1/jobs/{mine['id']}").status_code == 200
        rows = http.get("/v1/ledger", params={"period": _period()}).json()["rows"]
        assert sibling.id not in {r["job_id"] for r in rows}  # not even the ledger of its sibling


def test_data_that_stays_on_site_a_never_goes_to_b(sites: Sites, milp: tuple[Problem, float]) -> None:
    problem, optimum = milp
    token = sites.token_a("resident")
    code, _, stderr = _cli(sites, "admin", "project", "residency", "resident", "on")
    assert code == 0, stderr
    with Client(sites.a.url, token) as client:
        job = client.submit(problem, backend="highs", time_limit=10.0)  # the peer is cheaper, yet
        assert client.result(job.id, timeout=60).objective == pytest.approx(optimum)
        with pytest.raises(kakehashi.exceptions.ModelError, match="tabu"):  # only B runs tabu
            client.submit(problem, backend="tabu", time_limit=1.0)
    assert _forwards(sites.a.db, job.id) == []
    (home,) = _ledger(sites.a.db, job.id)
    assert home.machine == "a-local"
    with sites.b.db.read() as s:
        assert s.scalars(select(Job.id).where(Job.idempotency_key.like(f"fwd-{job.id}-%"))).first() is None


def test_cancel_at_a_reaches_b(sites: Sites) -> None:
    with Client(sites.a.url, sites.token_a("alpha")) as client:
        from tests.service.support import tiny_problem

        job = client.submit(tiny_problem(3, n=30), backend="tabu", time_limit=30.0)
        fwd = _wait(lambda: _forwards(sites.a.db, job.id), what="the forward")[0]
        _wait(lambda: _job(sites.b.db, fwd.remote_job_id).status == "RUNNING", what="B running it")
        client.cancel(job.id)
        _wait(lambda: _job(sites.a.db, job.id).status == "CANCELLED", what="A cancelled")
    _wait(lambda: _job(sites.b.db, fwd.remote_job_id).status == "CANCELLED", timeout=15, what="B cancelled")


def test_the_peers_quota_applies_to_forwarded_jobs(sites: Sites) -> None:
    from tests.service.support import tiny_problem

    quotas.set_quota(sites.b.db, "site-a", 0.0, unit="yen", period="month", reason="test: A's budget is spent")
    try:
        with Client(sites.a.url, sites.token_a("alpha")) as client:
            job = client.submit(tiny_problem(5, n=8), backend="tabu", time_limit=1.0)  # only B runs tabu
            with pytest.raises(kakehashi.exceptions.JobError, match=r"refused the job.*quota"):
                client.result(job.id, timeout=60)
    finally:
        quotas.set_quota(sites.b.db, "site-a", None, reason="test: budget back")
    assert _ledger(sites.a.db, job.id) == []  # refused at the peer: nothing billed at home
    assert _forwards(sites.a.db, job.id) == []


def test_a_late_answer_of_the_peer_after_a_failover_is_fenced(sites: Sites, milp: tuple[Problem, float]) -> None:
    """Attempt 1 runs at B; A's view of it is lost (lease reaped), attempt 2 runs at home; B's
    answer to attempt 1 then arrives and cannot be written: one result, one home charge."""
    problem, optimum = milp
    sites.a.kill_worker(0)  # this test drives site A's workers itself
    try:
        with Client(sites.a.url, sites.token_a("alpha")) as client:
            job = client.submit(problem, backend="highs", time_limit=10.0)
        config = sites.config_a.with_overrides(heartbeat_seconds=60.0)  # no beat sees the loss
        late = Worker(config, sites.a.db, worker_id="late-worker")
        c1 = _wait(lambda: lease.claim(sites.a.db, "late-worker", 5.0, pool=PoolSource(str(sites.pool_a))), what="claim")
        assert c1.job_id == job.id and c1.peer == "site-b" and c1.machine == "site-b-cpu"
        outcome = late.execute(c1)  # runs at B to its answer
        assert outcome is not None and outcome.objective == pytest.approx(optimum)
        # meanwhile site A judged attempt 1 lost and fails over to its own machine
        assert lease.reap_expired(sites.a.db, now=time.time() + 60, policy=config.loss_policy()) == {"QUEUED": 1}
        pool = PoolSource(str(sites.pool_a))
        with sites.a.db.read() as s:
            cfg = pool.base(s, time.time())
        quotas.set_machine_state(sites.a.db, cfg, "site-b-cpu", False, reason="test: fail over")
        sites.a.start_worker(0)
        _wait(lambda: _job(sites.a.db, job.id).status == "SUCCEEDED", timeout=60, what="attempt 2")
        assert late._write(c1, outcome) is False  # the late answer is discarded
    finally:
        with sites.a.db.read() as s:
            cfg = PoolSource(str(sites.pool_a)).base(s, time.time())
        quotas.set_machine_state(sites.a.db, cfg, "site-b-cpu", True, reason="test: back")
        if sites.a.workers[0] is None or sites.a.workers[0].poll() is not None:
            sites.a.start_worker(0)
    with sites.a.db.read() as s:
        (res,) = s.scalars(select(JobResult).where(JobResult.job_id == job.id)).all()
    assert res.attempt == 2
    (home,) = _ledger(sites.a.db, job.id)
    assert home.attempt == 2 and home.machine == "a-local"
    (fwd,) = _forwards(sites.a.db, job.id)
    assert fwd.attempt == 1
    report = _settle(sites)  # B billed attempt 1, which A never billed its user: a mismatch to settle
    assert _line(report, job.id, 1)["issue"] == "not billed at home"
    assert not report["reconciled"]


def test_peer_down_the_job_fails_over_to_site_a(sites: Sites, milp: tuple[Problem, float]) -> None:
    problem, optimum = milp
    from tests.service.support import tiny_problem

    sites.b.kill_api()  # a partition: B's listener is gone
    client = Client(sites.a.url, sites.token_a("alpha"))
    try:
        with client:
            waiting = client.submit(tiny_problem(6, n=8), backend="tabu", time_limit=0.5)  # only B runs tabu
            job = client.submit(problem, backend="highs", time_limit=10.0)
            result = client.result(job.id, timeout=60)
            assert result.objective == pytest.approx(optimum)
            view = client.pool()
        remote = next(m for m in view["machines"] if m["name"] == "site-b-cpu")
        assert remote["state"] == "down" and "unreachable" in remote["down_reason"]
        (home,) = _ledger(sites.a.db, job.id)
        assert home.machine == "a-local"
        with sites.a.db.read() as s:
            events = [(e.kind, json.loads(e.data_json)) for e in s.scalars(select(JobEvent).where(JobEvent.job_id == job.id))]
            results = s.scalars(select(JobResult).where(JobResult.job_id == job.id)).all()
        assert len(results) == 1
        # placed on the peer first only while A did not know yet that B was down: then lost, re-placed
        placed = [[p["machine"] for p in d["placement"]] for k, d in events if k == "running"]
        assert placed[-1] == ["a-local"] and all(p == ["site-b-cpu"] for p in placed[:-1])
        assert sum(1 for k, _ in events if k == "lost") == len(placed) - 1
        assert _job(sites.a.db, waiting.id).status == "QUEUED"  # waits for the peer, not failed
    finally:
        sites.b.start_api()
    with Client(sites.a.url, sites.token_a("alpha")) as client:  # B is back: the waiting job runs there
        assert client.result(waiting.id, timeout=60).provenance.backend == "tabu"
    assert _forwards(sites.a.db, waiting.id)[-1].peer == "site-b"


def test_a_peer_token_in_the_database_is_never_in_clear(sites: Sites, tmp_path: Path) -> None:
    from kakehashi.pool.config import PeerOffer
    from kakehashi.service import peer_secrets, peers

    key = peer_secrets.new_key()
    offer = PeerOffer(kind="cpu", backends=("exact",), price_yen_per_second=0.0)  # type: ignore[arg-type]
    peers.add_peer(sites.a.db, "site-c", "http://127.0.0.1:9", [offer], token="kh_secret-token-xyz", peer_key=key)
    try:
        raw = Path(sites.a.db.engine.url.database or "").read_bytes()
        assert b"kh_secret-token-xyz" not in raw
        with sites.a.db.read() as s:
            (rec,) = [p for p in peers.records(s, PoolSource(str(sites.pool_a)).own(s, 0.0)) if p.name == "site-c"]
        assert rec.token(key) == "kh_secret-token-xyz"
        with pytest.raises(kakehashi.exceptions.AuthError):
            rec.token(peer_secrets.new_key())
    finally:
        peers.remove_peer(sites.a.db, "site-c")
    assert os.environ.get("KH_TEST_PEER_TOKEN_SITE_B")
