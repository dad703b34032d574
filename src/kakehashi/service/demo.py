"""``kakehashi serve --demo`` (what ``make run`` does): once the API answers, create a ``demo``
project and token, print the dashboard's URL and the token, submit the bundled examples over HTTP
(one of them as a race of two backends, so the dashboard has a convergence chart with two legs)
and print their results. The service keeps running afterwards."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import httpx

from kakehashi.service import tenancy
from kakehashi.service.store.db import Database

log = logging.getLogger("kakehashi.demo")

#: (bundled file, backend) pairs submitted by the demo.
EXAMPLES: list[tuple[str, str | list[str]]] = [
    ("knapsack50.lp", "auto"),
    ("maxcut40.txt", "auto"),
    ("production.mps", "auto"),
    ("maxcut40.txt", ["sa", "tabu"]),
]


def run_demo(url: str, db: Database, *, time_limit: float = 5.0, ready_timeout: float = 60.0) -> None:
    """Wait for ``url`` to be ready, then submit the examples and print each result (stdout)."""
    from kakehashi.client import Client
    from kakehashi.examples import path

    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/readyz", timeout=2.0).status_code == 200:
                break
        time.sleep(0.2)
    with contextlib.suppress(tenancy.ProjectExistsError):
        tenancy.create_project(db, "demo")
    token = tenancy.create_token(db, "demo", label="make run").secret
    print(f"kakehashi is serving at {url}  (OpenAPI docs: {url}/docs)", flush=True)
    print(f"dashboard: {url}/  (sign in with the demo token below)", flush=True)
    print(f"demo project token (shown once): {token}", flush=True)
    print(f"try: KAKEHASHI_URL={url} KAKEHASHI_TOKEN={token} kakehashi jobs", flush=True)
    with Client(url, token) as client:
        jobs = [
            (name, client.submit(path(name), backend=backend, time_limit=time_limit, seed=1))
            for name, backend in EXAMPLES
        ]
        for name, job in jobs:
            try:
                result = client.result(job.id, timeout=10 * time_limit + 60)
                print(f"{name:16s} {job.id}  {result.summary()}", flush=True)
            except Exception as exc:  # the demo reports and carries on
                print(f"{name:16s} {job.id}  failed: {exc}", flush=True)


def start_demo_thread(url: str, db: Database, time_limit: float = 5.0) -> threading.Thread:
    thread = threading.Thread(target=run_demo, args=(url, db), kwargs={"time_limit": time_limit}, daemon=True)
    thread.start()
    return thread
