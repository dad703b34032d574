"""The HTTP API in process (TestClient): submission formats, limits, errors, listing, usage."""

from __future__ import annotations

import base64
import json
import pickle

import dimod
import pytest
from sqlalchemy import func, select

from kakehashi.model.problem import Problem
from kakehashi.service import lease, tenancy
from kakehashi.service.jobs import JobStatus
from kakehashi.service.lease import Outcome
from kakehashi.service.store.models import Job
from tests.service.support import ADMIN, Harness, make_harness, tiny_problem

LP = "Maximize\n obj: 3 x + 2 y\nSubject To\n c1: x + y <= 1\nBinary\n x y\nEnd\n"
PROBLEM_JSON = "application/problem+json"


def _job_count(h: Harness) -> int:
    with h.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Job)) or 0)


def test_submit_json_is_committed_before_201(any_harness: Harness) -> None:
    h = any_harness
    r = h.submit(tiny_problem(3), seed=7, priority=2)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "QUEUED" and body["backend"] == "exact" and body["seed"] == 7
    assert r.headers["location"] == f"/v1/jobs/{body['id']}"
    # durable: a brand-new engine (another process, in effect) sees the job
    from kakehashi.service.store.db import Database

    other = Database(h.config.database_url)
    try:
        with other.read() as s:
            job = s.scalars(select(Job).where(Job.id == body["id"])).one()
        assert Problem.from_json(job.problem_json).model == tiny_problem(3).model
    finally:
        other.dispose()
    got = h.client.get(f"/v1/jobs/{body['id']}", headers=h.h()).json()
    assert got["id"] == body["id"] and got["priority"] == 2


def test_submit_lp_as_text_and_multipart(harness: Harness) -> None:
    h = harness
    r = h.client.post(
        "/v1/jobs?backend=exact&time_limit=2",
        content=LP,
        headers={**h.h(), "content-type": "text/plain; format=lp"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["num_variables"] == 2 and r.json()["num_constraints"] == 1
    assert r.json()["time_limit"] == 2.0
    r = h.client.post(
        "/v1/jobs",
        files={"file": ("knap.lp", LP.encode(), "text/plain")},
        data={"backend": "exact", "format": "lp", "seed": "3"},
        headers=h.h(),
    )
    assert r.status_code == 201, r.text
    assert r.json()["problem_name"] == "knap" and r.json()["seed"] == 3


def test_unsupported_and_pickle_are_415(harness: Harness) -> None:
    h = harness
    blob = pickle.dumps({"problem": 1})
    for ctype in ("application/python-pickle", "application/octet-stream", "application/xml"):
        r = h.client.post("/v1/jobs", content=blob, headers={**h.h(), "content-type": ctype})
        assert r.status_code == 415 and r.headers["content-type"].startswith(PROBLEM_JSON)
    assert _job_count(h) == 0


def test_limits_413_and_422(sqlite_url: str) -> None:
    h = make_harness(sqlite_url, max_body_bytes=20_000, max_variables=10, max_constraints=2, max_page_size=5)
    try:
        big = Problem(dimod.BinaryQuadraticModel({i: 1.0 for i in range(11)}, {}, 0.0, "BINARY"))
        r = h.submit(big)
        assert r.status_code == 413 and r.json()["limit"] == 10
        r = h.client.post(
            "/v1/jobs",
            content=b"{" + b" " * 30_000 + b"}",
            headers={**h.h(), "content-type": "application/json"},
        )
        assert r.status_code == 413
        lp3 = "Minimize\n obj: x\nSubject To\n a: x <= 1\n b: x >= 0\n c: x <= 2\nBinary\n x\nEnd\n"
        r = h.client.post("/v1/jobs", content=lp3, headers={**h.h(), "content-type": "text/plain; format=lp"})
        assert r.status_code == 413
        assert h.client.get("/v1/jobs?limit=6", headers=h.h()).status_code == 422
        assert h.client.get("/v1/jobs?limit=5", headers=h.h()).status_code == 200
        assert _job_count(h) == 0
    finally:
        h.client.close()
        h.db.dispose()


@pytest.mark.parametrize(
    "body",
    [
        {"problem": {"format": "kakehashi.problem", "version": 1, "variables": "nope"}},
        {"problem": tiny_problem().to_dict(), "backend": "no-such-backend"},
        {"problem": tiny_problem().to_dict(), "time_limit": -1},
        {"problem": tiny_problem().to_dict(), "unexpected": 1},
        {"backend": "exact"},
        [1, 2, 3],
    ],
)
def test_bad_submissions_are_422_problem_json(harness: Harness, body: object) -> None:
    r = harness.client.post("/v1/jobs", json=body, headers=harness.h())
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert r.json()["status"] == 422 and r.json()["detail"]


def test_bad_lp_names_the_line(harness: Harness) -> None:
    r = harness.client.post(
        "/v1/jobs",
        content="Minimize\n obj: x +* y\nEnd\n",
        headers={**harness.h(), "content-type": "text/plain; format=lp"},
    )
    assert r.status_code == 422 and r.json()["kind"] == "ModelError"


def test_auth_missing_unknown_revoked(harness: Harness) -> None:
    h = harness
    assert h.client.get("/v1/jobs").status_code == 401
    r = h.client.get("/v1/jobs", headers={"Authorization": "Bearer kh_nope"})
    assert r.status_code == 401 and r.json()["kind"] == "AuthError"
    issued = tenancy.create_token(h.db, "alpha")
    auth = {"Authorization": f"Bearer {issued.secret}"}
    assert h.client.get("/v1/jobs", headers=auth).status_code == 200
    tenancy.revoke_token(h.db, issued.id)
    assert h.client.get("/v1/jobs", headers=auth).status_code == 401
    with h.db.read() as s:  # only the hash is stored
        from kakehashi.service.store.models import ApiToken

        hashes = [t.token_hash for t in s.scalars(select(ApiToken))]
    assert issued.secret not in hashes and tenancy.hash_token(issued.secret) in hashes


def test_list_filters_and_cursor_pagination(any_harness: Harness) -> None:
    h = any_harness
    ids = [h.submit(tiny_problem(i)).json()["id"] for i in range(7)]
    h.submit(tiny_problem(0), which="b")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = h.client.get("/v1/jobs", params=params, headers=h.h()).json()
        seen += [j["id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids[::-1]  # newest first, every job once, none of project B's
    h.client.post(f"/v1/jobs/{ids[0]}/cancel", headers=h.h())
    cancelled = h.client.get("/v1/jobs", params={"status": "CANCELLED"}, headers=h.h()).json()["jobs"]
    assert [j["id"] for j in cancelled] == [ids[0]]
    assert h.client.get("/v1/jobs", params={"backend": "sa"}, headers=h.h()).json()["jobs"] == []
    future = h.client.get("/v1/jobs", params={"created_after": "2999-01-01T00:00:00Z"}, headers=h.h())
    assert future.json()["jobs"] == []
    assert h.client.get("/v1/jobs", params={"cursor": "!!"}, headers=h.h()).status_code == 422
    assert h.client.get("/v1/jobs", params={"status": "BOGUS"}, headers=h.h()).status_code == 422
    forged = base64.urlsafe_b64encode(b"x1").decode()
    assert h.client.get("/v1/jobs", params={"cursor": forged}, headers=h.h()).status_code == 422


def test_result_states_and_usage(any_harness: Harness) -> None:
    h = any_harness
    job_id = h.submit().json()["id"]
    r = h.client.get(f"/v1/jobs/{job_id}/result", headers=h.h())
    assert r.status_code == 409 and r.json()["job_status"] == "QUEUED"
    c = lease.claim(h.db, "w", 30.0)
    assert c is not None
    result = {"status": "OPTIMAL", "objective": -3.0, "sample": [[0, 1]]}
    lease.finish(
        h.db,
        c,
        Outcome(
            JobStatus.SUCCEEDED,
            result_json=json.dumps(result),
            backend="exact",
            hardware="cpu",
            machine_seconds=4.0,
            unit_price_yen=h.config.price("cpu"),
        ),
    )
    assert h.client.get(f"/v1/jobs/{job_id}/result", headers=h.h()).json() == result
    usage = h.client.get("/v1/usage", params={"period": "all"}, headers=h.h()).json()
    assert usage["total_runs"] == 1 and usage["total_machine_seconds"] == pytest.approx(4.0)
    assert usage["total_cost_yen"] == pytest.approx(4.0 * h.config.price("cpu"))
    assert usage["rows"][0]["backend"] == "exact" and usage["rows"][0]["hardware"] == "cpu"
    other = h.client.get("/v1/usage", headers=h.h("b")).json()
    assert other["total_runs"] == 0
    assert h.client.post(f"/v1/jobs/{job_id}/cancel", headers=h.h()).status_code == 409
    failed_id = h.submit(tiny_problem(1)).json()["id"]
    c = lease.claim(h.db, "w", 30.0)
    assert c is not None
    lease.finish(h.db, c, Outcome(JobStatus.FAILED, error="BackendUnavailable: nope", bill=False))
    r = h.client.get(f"/v1/jobs/{failed_id}/result", headers=h.h())
    assert r.status_code == 409 and r.json()["job_error"] == "BackendUnavailable: nope"


def test_events_stream_ends_at_terminal_state(harness: Harness) -> None:
    h = harness
    job_id = h.submit().json()["id"]
    h.client.post(f"/v1/jobs/{job_id}/cancel", headers=h.h())
    with h.client.stream("GET", f"/v1/jobs/{job_id}/events", headers=h.h()) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    kinds = [line[7:] for line in text.splitlines() if line.startswith("event: ")]
    assert kinds == ["queued", "cancelled"]


def test_health_ready_metrics_and_admin(harness: Harness) -> None:
    h = harness
    assert h.client.get("/healthz").json() == {"status": "ok", "revision": None}
    assert h.client.get("/readyz").json()["status"] == "ready"
    h.submit()
    h.submit(tiny_problem(1))
    text = h.client.get("/metrics").text
    assert 'kakehashi_jobs{status="QUEUED"} 2.0' in text and "kakehashi_queue_length 2.0" in text
    admin = {"Authorization": f"Bearer {ADMIN}"}
    assert h.client.post("/v1/admin/projects", json={"name": "gamma"}, headers=h.h()).status_code == 401
    assert h.client.post("/v1/admin/projects", json={"name": "gamma"}, headers=admin).status_code == 201
    assert h.client.post("/v1/admin/projects", json={"name": "gamma"}, headers=admin).status_code == 409
    tok = h.client.post("/v1/admin/projects/gamma/tokens", json={}, headers=admin).json()
    who = h.client.get("/v1/project", headers={"Authorization": f"Bearer {tok['token']}"}).json()
    assert who["name"] == "gamma"
    assert h.client.delete(f"/v1/admin/tokens/{tok['id']}", headers=admin).status_code == 204
    assert h.client.get("/v1/project", headers={"Authorization": f"Bearer {tok['token']}"}).status_code == 401
    assert h.client.get("/v1/admin/prices", headers=admin).json()["prices"]["cpu"] == h.config.price("cpu")
