"""Cross-project matrix: for every route that takes an id, project A's token on project B's ids → 404."""

from __future__ import annotations

import pytest

from kakehashi.service import lease
from kakehashi.service.jobs import JobStatus
from kakehashi.service.lease import Outcome
from tests.service.support import Harness, tiny_problem

ID_ROUTES = [
    ("GET", "/v1/jobs/{id}"),
    ("GET", "/v1/jobs/{id}/result"),
    ("GET", "/v1/jobs/{id}/answer"),
    ("POST", "/v1/jobs/{id}/cancel"),
    ("GET", "/v1/jobs/{id}/events"),
]


@pytest.mark.parametrize("state", ["QUEUED", "RUNNING", "SUCCEEDED"])
def test_other_projects_jobs_are_not_found(any_harness: Harness, state: str) -> None:
    h = any_harness
    b_job = h.submit(tiny_problem(1), which="b").json()["id"]
    if state != "QUEUED":
        c = lease.claim(h.db, "w", 30.0)
        assert c is not None and c.job_id == b_job
        if state == "SUCCEEDED":
            lease.finish(h.db, c, Outcome(JobStatus.SUCCEEDED, result_json="{}", machine_seconds=1.0))
    a_job = h.submit(tiny_problem(2), which="a").json()["id"]
    for method, template in ID_ROUTES:
        r = h.client.request(method, template.format(id=b_job), headers=h.h("a"))
        assert r.status_code == 404, (method, template, r.status_code)
        assert r.json()["detail"] == f"no job {b_job!r} in this project"  # same as a non-existent id
        missing = h.client.request(method, template.format(id="job_doesnotexist"), headers=h.h("a"))
        assert missing.status_code == 404 and missing.json()["detail"].startswith("no job")
    # B's job is untouched (the cancel above did nothing) and A's list/usage never show it
    assert h.client.get(f"/v1/jobs/{b_job}", headers=h.h("b")).json()["status"] == state
    listed = [j["id"] for j in h.client.get("/v1/jobs", headers=h.h("a")).json()["jobs"]]
    assert listed == [a_job]
    assert h.client.get("/v1/usage", headers=h.h("a")).json()["total_runs"] == 0
    # and the owner sees its own job on every route (not 404)
    for method, template in ID_ROUTES[:1]:
        assert h.client.request(method, template.format(id=b_job), headers=h.h("b")).status_code == 200
