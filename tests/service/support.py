"""Helpers shared by the service and client tests: small problems and an in-process app harness."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import dimod

from kakehashi.model.problem import Problem
from kakehashi.service import tenancy
from kakehashi.service.config import ServiceConfig
from kakehashi.service.store.db import Database
from kakehashi.service.store.migrate import upgrade

with warnings.catch_warnings():  # starlette warns once at import that httpx2 is preferred
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ADMIN = "admin-secret"


def tiny_problem(seed: int = 0, n: int = 4) -> Problem:
    """A small BQM whose optimum brute force finds: objective minimised over n binaries."""
    import numpy as np

    rng = np.random.default_rng(seed)
    linear = {i: float(rng.integers(-5, 6)) for i in range(n)}
    quadratic = {(i, j): float(rng.integers(-5, 6)) for i in range(n) for j in range(i + 1, n)}
    return Problem(dimod.BinaryQuadraticModel(linear, quadratic, 0.0, "BINARY"), name=f"tiny{seed}")


def brute_force_min(problem: Problem) -> float:
    return float(dimod.ExactSolver().sample(problem.model).first.energy)


@dataclass
class Harness:
    """An in-process app with two projects (A and B) and a token each."""

    config: ServiceConfig
    db: Database
    client: TestClient
    token_a: str
    token_b: str
    project_a: str
    project_b: str

    def h(self, which: str = "a") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_a if which == 'a' else self.token_b}"}

    def submit(self, problem: Problem | None = None, which: str = "a", **body: Any) -> Any:
        payload = {
            "problem": (problem or tiny_problem()).to_dict(),
            "backend": "exact",
            "time_limit": 1.0,
            **body,
        }
        return self.client.post("/v1/jobs", json=payload, headers=self.h(which))


def make_harness(url: str, **overrides: Any) -> Harness:
    from kakehashi.service.api import create_app

    config = ServiceConfig(database_url=url, admin_token=ADMIN, **overrides)
    db = Database(url)
    upgrade(db)
    app = create_app(config, db, migrate=False)
    a = tenancy.create_project(db, "alpha")
    b = tenancy.create_project(db, "beta")
    return Harness(
        config=config,
        db=db,
        client=TestClient(app),
        token_a=tenancy.create_token(db, "alpha").secret,
        token_b=tenancy.create_token(db, "beta").secret,
        project_a=a.id,
        project_b=b.id,
    )


def scaled(name: str, default: int) -> int:
    """A fault test's size: ``default`` in the suite; ``KAKEHASHI_FAULT_<NAME>`` for the full-size
    runs of ``benchmarks/faults.py`` (the issue's done-means sizes)."""
    import os

    value = os.environ.get(f"KAKEHASHI_FAULT_{name.upper()}", "").strip()
    return int(value) if value else default
