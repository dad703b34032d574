"""The OpenAPI document and the handlers agree (issue 19, item 5)."""

from __future__ import annotations

import pytest

from kakehashi.service.problems import PROBLEM_JSON
from tests.service.support import ADMIN, Harness

ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}


def test_405_allow_lists_every_method_of_the_path(harness: Harness) -> None:
    h = harness
    doc = h.client.get("/openapi.json").json()
    for method, path, probe in (
        ("DELETE", "/v1/jobs", "/v1/jobs"),
        ("PUT", "/v1/jobs/{job_id}", "/v1/jobs/x"),
    ):
        r = h.client.request(method, probe, headers=h.h())
        assert r.status_code == 405 and r.headers["content-type"].startswith(PROBLEM_JSON)
        documented = {m.upper() for m in doc["paths"][path]}
        assert set(r.headers["allow"].split(", ")) == documented


def test_sse_is_documented_as_text_event_stream(harness: Harness) -> None:
    doc = harness.client.get("/openapi.json").json()
    content = doc["paths"]["/v1/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["text/event-stream"]


def test_every_body_route_documents_413_and_estimate_answers_it(harness: Harness) -> None:
    h = harness
    doc = h.client.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method in ("post", "put", "patch"):
                assert "413" in op["responses"], (method, path)
    big = b'{"problem": {"pad": "' + b"x" * (h.config.max_body_bytes + 1) + b'"}}'
    r = h.client.post("/v1/estimate", content=big, headers={**h.h(), "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["limit_name"] == "max_body_bytes"


@pytest.mark.parametrize("limit", [False, True, "5", "1e3"])
def test_quota_limit_must_be_a_number(harness: Harness, limit: object) -> None:
    h = harness
    r = h.client.put("/v1/admin/projects/alpha/quota", json={"limit": limit}, headers=ADMIN_H)
    assert r.status_code == 422, r.text
    terms = h.client.get("/v1/admin/projects/alpha/terms", headers=ADMIN_H).json()
    assert terms["quota"] is None  # nothing was set
    assert (
        h.client.put("/v1/admin/projects/alpha/quota", json={"limit": 5}, headers=ADMIN_H).status_code == 200
    )


@pytest.mark.parametrize("value", ["0.5", "1700000000", "yesterday", "2026-13-01T00:00:00Z"])
def test_date_time_queries_take_only_iso_8601(harness: Harness, value: str) -> None:
    h = harness
    assert h.client.get("/v1/usage", params={"start": value}, headers=h.h()).status_code == 422
    assert h.client.get("/v1/jobs", params={"created_after": value}, headers=h.h()).status_code == 422
    assert (
        h.client.get("/v1/usage", params={"start": "2026-01-01T00:00:00Z"}, headers=h.h()).status_code == 200
    )


@pytest.mark.parametrize(("field", "value"), [("seed", True), ("time_limit", "5"), ("priority", 1.5)])
def test_job_numbers_are_not_coerced_from_bools_or_strings(
    harness: Harness, field: str, value: object
) -> None:
    assert harness.submit(**{field: value}).status_code == 422


@pytest.mark.parametrize("seed", ["١٢", "²", "9" * 5000])
def test_form_numbers_are_ascii_digits(harness: Harness, seed: str) -> None:
    lp = "Minimize\n obj: x\nSubject To\n a: x <= 1\nBinary\n x\nEnd\n"
    h = harness
    r = h.client.post(
        "/v1/jobs",
        files={"file": ("k.lp", lp.encode(), "text/plain")},
        data={"format": "lp", "backend": "exact", "seed": seed},
        headers=h.h(),
    )
    assert r.status_code == 422 and r.json()["field"] == "seed"
