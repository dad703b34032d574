"""Fixtures for the dashboard tests: a real ``kakehashi serve`` (SQLite, one local worker) with two
projects, and a real Chromium driven by Playwright (skipped with one line when either is missing).

Screenshots go to ``$KAKEHASHI_SCREENSHOTS`` when set (to refresh ``docs/``), else the test's
temporary directory (kept by pytest as an artifact).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kakehashi.service import tenancy
from kakehashi.service.store.db import Database
from kakehashi.service.store.migrate import upgrade
from kakehashi.service.testing import free_port

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
ADMIN = "admin-web-secret"


def chromium_path() -> str | None:
    """The system Chromium (Debian's ``chromium`` package), or None. ``KAKEHASHI_CHROMIUM`` names
    another binary; ``KAKEHASHI_CHROMIUM=none`` turns the browser tests off."""
    chosen = os.environ.get("KAKEHASHI_CHROMIUM")
    if chosen:
        return chosen if chosen != "none" and Path(chosen).exists() else None
    return next((p for p in CHROMIUM_PATHS if Path(p).exists()), None) or shutil.which("chromium")


@dataclass
class Served:
    """A running ``kakehashi serve``: its URL, tokens of projects alpha and beta, its log file."""

    url: str
    token_a: str
    token_b: str
    admin: str
    log: Path
    db: Database


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("web-serve")
    url = f"sqlite:///{tmp / 'kh.db'}"
    db = Database(url)
    upgrade(db)
    tenancy.create_project(db, "alpha")
    tenancy.create_project(db, "beta")
    token_a = tenancy.create_token(db, "alpha", label="browser").secret
    token_b = tenancy.create_token(db, "beta", label="browser").secret
    port = free_port()
    env = {
        **os.environ,
        "KAKEHASHI_DATABASE_URL": url,
        "KAKEHASHI_ADMIN_TOKEN": ADMIN,
        "KAKEHASHI_POLL_SECONDS": "0.05",
        "KAKEHASHI_HOME": str(tmp),
        "KAKEHASHI_LOG_LEVEL": "INFO",
    }
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from kakehashi.cli.app import main; main()",
                "serve",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "kakehashi serve did not become ready in 60 s"
            time.sleep(0.1)
        # the service's first estimate imports every backend's SDK (tens of seconds on a loaded
        # machine); pay it here, outside the browser's timeouts
        from kakehashi.examples import path as example
        from kakehashi.model.readers import read

        problem = read(example("knapsack50.lp")).to_dict()
        warm = httpx.post(
            base + "/v1/estimate",
            json={"problem": problem, "time_limit": 1.0},
            headers={"Authorization": f"Bearer {token_a}"},
            timeout=180,
        )
        assert warm.status_code == 200, warm.text
        yield Served(base, token_a, token_b, ADMIN, log, db)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)
        db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (the system's), or a skip naming what is missing."""
    exe = chromium_path()
    if exe is None:
        pytest.skip("no Chromium: apt-get install -y chromium chromium-driver")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (the dev extra has it)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go."""
    target = Path(os.environ.get("KAKEHASHI_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target
