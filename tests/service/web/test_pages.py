"""The dashboard's pages in process (no browser): sessions, CSRF, tenancy, admin, escaping, errors."""

from __future__ import annotations

import html
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from kakehashi.examples import path as example
from kakehashi.service import jobs
from kakehashi.service.store.models import AuditEntry, WebSession
from kakehashi.service.web import bench_view
from tests.service.support import ADMIN, Harness, make_harness


@pytest.fixture
def h(sqlite_url: str) -> Iterator[Harness]:
    harness = make_harness(sqlite_url)
    yield harness
    harness.client.close()
    harness.db.dispose()


def _csrf(text: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', text)
    assert m, "no CSRF field on the page"
    return m.group(1)


def sign_in(h: Harness, token: str) -> str:
    """Sign the harness's client in; returns the session's CSRF token."""
    page = h.client.get("/signin")
    r = h.client.post("/signin", data={"token": token, "csrf": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return _csrf(h.client.get("/pool").text)


def _upload(h: Harness, csrf: str, filename: str, data: bytes, **fields: str) -> Any:
    body = {"csrf": csrf, "backend": "exact", "time_limit": "1", **fields}
    return h.client.post("/submit", data=body, files={"file": (filename, io.BytesIO(data))})


def _confirm(h: Harness, estimate_page: str) -> Any:
    fields = {
        k: html.unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', estimate_page)
    }
    m = re.search(r'<textarea id="source" name="source" hidden>(.*?)</textarea>', estimate_page, re.S)
    assert m
    fields["source"] = html.unescape(m.group(1))
    return h.client.post("/submit/confirm", data=fields, follow_redirects=False)


def test_pages_need_a_session_and_the_session_cookie_is_strict(h: Harness) -> None:
    for page in ("/jobs", "/submit", "/usage", "/pool", "/admin", "/benchmarks", "/jobs/job_x"):
        r = h.client.get(page, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin", page
    page = h.client.get("/signin")
    r = h.client.post("/signin", data={"token": h.token_a, "csrf": _csrf(page.text)}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and h.token_a not in cookie
    with h.db.read() as s:
        row = s.scalars(select(WebSession)).one()
    assert h.token_a not in json.dumps([row.id_hash, row.csrf_token])  # the token is never stored


def test_sign_in_refuses_a_wrong_token_and_a_missing_csrf(h: Harness) -> None:
    page = h.client.get("/signin")
    r = h.client.post("/signin", data={"token": "kh_wrong", "csrf": _csrf(page.text)})
    assert r.status_code == 401 and "unknown or revoked" in r.text and "kh_wrong" not in r.text
    r = h.client.post("/signin", data={"token": h.token_a})
    assert r.status_code == 403 and "CSRF" in r.text
    assert "kh_session" not in h.client.cookies


def test_sign_out_and_expiry_end_the_session(any_harness: Harness) -> None:
    h = any_harness  # SQLite and PostgreSQL: the sessions table lives in the service's database
    csrf = sign_in(h, h.token_a)
    assert h.client.get("/jobs").status_code == 200
    with h.db.write() as s:
        s.execute(update(WebSession).values(expires_at=time.time() - 1))
    assert h.client.get("/jobs", follow_redirects=False).status_code == 303  # expired
    csrf = sign_in(h, h.token_a)
    cookie = h.client.cookies.get("kh_session")
    assert h.client.post("/signout", data={"csrf": "nope"}).status_code == 403
    assert h.client.post("/signout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    h.client.cookies.set("kh_session", str(cookie))  # a copied cookie no longer works
    assert h.client.get("/jobs", follow_redirects=False).status_code == 303


def test_submit_shows_the_estimate_then_creates_the_job(h: Harness) -> None:
    csrf = sign_in(h, h.token_a)
    r = _upload(h, csrf, "knap.lp", Path(example("knapsack50.lp")).read_bytes(), name="<b>knap</b>")
    assert r.status_code == 200
    assert "&lt;b&gt;knap&lt;/b&gt;" in r.text and "<b>knap</b>" not in r.text
    assert "Estimate" in r.text and 'class="estimates"' in r.text
    assert jobs.list_jobs(h.db, h.project_a) == []  # nothing submitted before the confirmation
    r = _confirm(h, r.text)
    assert r.status_code == 303
    job_id = r.headers["location"].rsplit("/", 1)[-1]
    job = jobs.get(h.db, h.project_a, job_id)
    assert job.problem_name == "<b>knap</b>" and job.num_variables == 50 and job.backend == "exact"
    page = h.client.get(f"/jobs/{job_id}").text
    assert "QUEUED" in page and "&lt;b&gt;knap&lt;/b&gt;" in page
    listed = h.client.get("/jobs/states.json", params={"id": job_id}).json()["jobs"]
    assert [j["id"] for j in listed] == [job_id]
    # cancel needs the CSRF token; with it the queued job is cancelled at once
    assert h.client.post(f"/jobs/{job_id}/cancel", data={}).status_code == 403
    assert (
        h.client.post(f"/jobs/{job_id}/cancel", data={"csrf": csrf}, follow_redirects=False).status_code
        == 303
    )
    assert jobs.get(h.db, h.project_a, job_id).status == "CANCELLED"


def test_bad_uploads_are_problem_pages_naming_the_problem(h: Harness) -> None:
    csrf = sign_in(h, h.token_a)
    r = _upload(h, csrf, "bad.lp", b"Maximize\n obj: 3 x +\nSubject To\n c1: x <= \nEnd\n")
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    assert "Traceback" not in r.text and "422" in r.text
    r = _upload(h, csrf, "x.lp", b"\xff\xfe")
    assert r.status_code == 422 and "UTF-8" in r.text
    r = _upload(h, csrf, "k.lp", Path(example("knapsack50.lp")).read_bytes(), backend="nosuch")
    assert r.status_code == 422 and "nosuch" in r.text
    assert h.client.get("/jobs", params={"since": "yesterday"}).status_code == 422
    assert h.client.get("/usage", params={"period": "<x>"}).status_code == 422
    assert h.client.get("/no/such/page").status_code == 404
    # the API keeps its problem+json
    r = h.client.get("/v1/jobs/job_x", headers=h.h())
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_another_projects_job_is_404(h: Harness) -> None:
    job_id = h.submit(which="b").json()["id"]
    csrf = sign_in(h, h.token_a)
    for method, url in (("GET", f"/jobs/{job_id}"), ("GET", f"/jobs/{job_id}/events")):
        assert h.client.request(method, url).status_code == 404
    assert h.client.post(f"/jobs/{job_id}/cancel", data={"csrf": csrf}).status_code == 404
    assert h.client.get("/jobs/states.json", params={"id": job_id}).json() == {"jobs": []}
    assert jobs.get(h.db, h.project_b, job_id).status == "QUEUED"


def test_admin_pages_are_for_admin_sessions_and_audit_their_changes(h: Harness) -> None:
    sign_in(h, h.token_a)
    assert h.client.get("/admin").status_code == 403
    assert h.client.post("/admin/machine-down", data={"machine": "local"}).status_code == 403
    h.client.cookies.clear()
    csrf = sign_in(h, ADMIN)
    page = h.client.get("/admin")
    assert page.status_code == 200 and "alpha" in page.text and ADMIN not in page.text
    r = h.client.post(
        "/admin/machine-down",
        data={"csrf": csrf, "machine": "local", "reason": "<i>fan</i>"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    pool = h.client.get("/pool").text
    assert "m-down" in pool and "&lt;i&gt;fan&lt;/i&gt;" in pool
    h.client.post("/admin/machine-up", data={"csrf": csrf, "machine": "local", "reason": "fixed"})
    h.client.post(
        "/admin/quota",
        data={
            "csrf": csrf,
            "project": "alpha",
            "limit": "100",
            "unit": "yen",
            "period": "month",
            "reason": "pilot",
        },
    )
    h.client.post(
        "/admin/terms", data={"csrf": csrf, "project": "alpha", "tier": "academic", "reason": "uni"}
    )
    h.client.post(
        "/admin/price", data={"csrf": csrf, "subject": "cpu", "price": "0.02", "reason": "new rate"}
    )
    with h.db.read() as s:
        fields = {(a.subject, a.field) for a in s.scalars(select(AuditEntry))}
    assert {("machine:local", "up"), ("price:cpu", "price_yen_per_second")} <= fields
    assert any(sub == "project:alpha" and f == "tier" for sub, f in fields)
    assert any(sub == "project:alpha" and f.startswith("quota") for sub, f in fields)
    assert "pilot" in h.client.get("/admin").text  # the audit log is on the page
    # a new token is shown once and works; revoking it stops it
    issued = h.client.post("/admin/token-create", data={"csrf": csrf, "project": "beta", "label": "ci"})
    secret = re.search(r'id="issued-secret" readonly value="([^"]+)"', issued.text)
    assert (
        secret and h.client.get("/v1/jobs", headers={"Authorization": f"Bearer {secret.group(1)}"}).is_success
    )
    assert secret.group(1) not in h.client.get("/admin").text
    token_id = re.findall(r'name="token_id" value="([^"]+)"', issued.text)[-1]
    h.client.post("/admin/token-revoke", data={"csrf": csrf, "token_id": token_id})
    assert h.client.get("/v1/jobs", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code == 401
    assert h.client.post("/admin/nonsense", data={"csrf": csrf}).status_code == 404
    assert (
        h.client.post("/admin/price", data={"csrf": csrf, "subject": "cpu", "price": "cheap"}).status_code
        == 422
    )


def test_usage_page_shows_charts_tier_and_quota(h: Harness) -> None:
    from kakehashi.service import quotas

    quotas.set_quota(h.db, "alpha", 50.0, unit="yen", period="month", reason="t")
    sign_in(h, h.token_a)
    page = h.client.get("/usage").text
    assert page.count('<svg class="chart"') + page.count("Nothing metered yet") == 4
    assert "commercial" in page and "50 yen per month" in page


def test_benchmarks_page_ranks_stored_results(
    h: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "suite-a"
    run.mkdir()
    groups = [
        {
            "instance": "i1",
            "backend": "good",
            "budget": 1.0,
            "median_gap": 0.01,
            "success_p": 1.0,
            "runs": 3,
            "feasible_runs": 3,
            "median_ttt": 0.5,
        },
        {
            "instance": "i1",
            "backend": "bad",
            "budget": 1.0,
            "median_gap": 0.2,
            "success_p": 0.0,
            "runs": 3,
            "feasible_runs": 3,
            "median_ttt": None,
        },
        {
            "instance": "i1",
            "backend": "<none>",
            "budget": 1.0,
            "median_gap": None,
            "success_p": 0.0,
            "runs": 3,
            "feasible_runs": 0,
        },
    ]
    doc = {
        "format": "kakehashi.bench/1",
        "suite": {"name": "toy"},
        "manifest": {"machine": {"gpu": "none"}},
        "metrics": {"groups": groups},
    }
    (run / "result.json").write_text(json.dumps(doc))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "result.json").write_text("{not json")
    monkeypatch.setenv(bench_view.RESULTS_ENV, str(tmp_path))
    boards = bench_view.leaderboards()
    assert [b["suite"] for b in boards] == ["toy"]
    assert [r["backend"] for r in boards[0]["rows"]] == ["good", "bad", "<none>"]
    sign_in(h, h.token_a)
    page = h.client.get("/benchmarks").text
    assert "toy" in page and "&lt;none&gt;" in page and "no answer" in page


def test_the_stored_bench_results_make_leaderboards() -> None:
    boards = bench_view.leaderboards(Path(__file__).parents[3] / "benchmarks" / "results" / "bench")
    assert {"maxcut-gset-test", "qoblib-mis"} <= {b["suite"] for b in boards}
    assert all(b["rows"] for b in boards)


def test_a_routing_job_is_drawn_as_its_routes(h: Harness) -> None:
    """The domain picture: one polyline per route of the app's own answer, every customer a dot."""
    from kakehashi.apps.examples import examples_dir
    from kakehashi.model.problem import Problem
    from kakehashi.service.web import views
    from kakehashi.solver import solve

    depot = examples_dir() / "routing" / "depot.csv"
    r = h.client.post(
        "/v1/jobs",
        json={
            "app": "routing",
            "input": depot.read_text(),
            "format": "csv",
            "options": {"capacity": 60},
            "backend": "pyvrp",
            "time_limit": 1,
        },
        headers=h.h(),
    )
    assert r.status_code == 201, r.text
    job = jobs.get(h.db, h.project_a, r.json()["id"])
    result = solve(Problem.from_dict(json.loads(job.problem_json)), backend="pyvrp", time_limit=1, seed=0)
    picture = views._domain(job, result)
    assert picture is not None and picture["valid"] is True, picture
    svg = str(picture["picture"])
    routes = picture["answer"]["routes"]
    assert svg.count("<polyline") == len(routes) >= 1
    customers = sum(len(route["nodes"]) for route in routes)
    assert (
        svg.count("<circle") == customers == len(depot.read_text().strip().splitlines()) - 2
    )  # header, depot


def test_benchmark_report_charts_are_served_only_for_stored_results(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        bench_view.RESULTS_ENV, str(Path(__file__).parents[3] / "benchmarks" / "results" / "bench")
    )
    sign_in(h, h.token_a)
    page = h.client.get("/benchmarks").text
    assert "/benchmarks/maxcut-gset-test-G27-G28/report.png" in page
    r = h.client.get("/benchmarks/maxcut-gset-test-G27-G28/report.png")
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    assert h.client.get("/benchmarks/..%2F..%2Fsrc/report.png").status_code == 404
    assert h.client.get("/benchmarks/qoblib-mis-subset/report.png").status_code == 404  # it has none
