"""Solver chatter in the service goes to the structured log with the job id, never raw or into the protocol."""

from __future__ import annotations

import logging
import sys
import time

import pytest

from kakehashi.examples import path as example
from kakehashi.model.readers import read
from kakehashi.service.executors.local import SolverProcess


def _banner(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "kakehashi.solver" and "HiGHS" in r.getMessage()]


def test_highs_banner_is_logged_with_the_job_id(caplog: pytest.LogCaptureFixture) -> None:
    problem = read(example("knapsack50.lp"))
    solver = SolverProcess([sys.executable, "-m", "kakehashi.service.runner"])
    try:
        with caplog.at_level(logging.INFO, logger="kakehashi.solver"):
            solver.send({"job_id": "job_chatty", "problem": problem.to_dict(), "backend": "highs",
                         "time_limit": 10.0, "seed": 1, "params": {}})
            answer = None
            while answer is None or answer.get("type") not in ("result", "error"):
                answer = solver.recv(60.0)
                assert answer is not None, "no answer from the solver child within 60 s"
            assert answer["type"] == "result" and answer["result"]["objective"] == 804
            deadline = time.monotonic() + 10.0  # the stderr reader thread may lag the result
            while not _banner(caplog) and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        solver.kill()
    banner = _banner(caplog)
    assert banner, [r.getMessage() for r in caplog.records]
    assert all(getattr(r, "job_id", None) == "job_chatty" for r in banner)
