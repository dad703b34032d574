"""The API when its database cannot be reached: 503 problem+json with Retry-After, no traceback."""

from __future__ import annotations

import logging
import socket
import warnings

import pytest

from kakehashi.service.api import create_app
from kakehashi.service.config import ServiceConfig
from kakehashi.service.store.db import Database, is_outage
from tests.service.support import tiny_problem

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.postgres
def test_every_route_answers_503_with_retry_after_when_the_database_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none"
    config = ServiceConfig(database_url=url, admin_token="adm")
    app = create_app(config, Database(url), migrate=False)
    h = {"Authorization": "Bearer kh_whatever"}
    body = {"problem": tiny_problem().to_dict(), "backend": "exact", "time_limit": 1.0}
    with caplog.at_level(logging.WARNING), TestClient(app, raise_server_exceptions=False) as client:
        answers = [
            client.post("/v1/jobs", json=body, headers={**h, "Idempotency-Key": "k1"}),
            client.get("/v1/jobs/job_x", headers=h),
            client.get("/v1/jobs", headers=h),
            client.get("/v1/jobs/job_x/result", headers=h),
            client.post("/v1/jobs/job_x/cancel", headers=h),
            client.get("/v1/usage", headers=h),
            client.get("/v1/admin/projects", headers={"Authorization": "Bearer adm"}),
        ]
    for r in answers:
        assert r.status_code == 503, (r.request.url, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert int(r.headers["Retry-After"]) > 0
        assert r.json()["type"].endswith("/database-unavailable")
    assert not [rec for rec in caplog.records if rec.exc_info], "a traceback was logged for an outage"
    assert any("database unavailable" in rec.getMessage() for rec in caplog.records)


def test_sqlite_lock_timeout_counts_as_an_outage() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    assert is_outage(OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked")))
    assert not is_outage(IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")))
