"""``kakehashi serve`` as an operator runs it, the admin commands, and the operator config."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from kakehashi.client import Client
from kakehashi.exceptions import KakehashiError
from kakehashi.service.config import load_config
from kakehashi.service.testing import free_port
from tests.service.support import brute_force_min, tiny_problem


@pytest.mark.network
def test_serve_command_runs_api_and_workers_and_stops_gracefully(tmp_path: Path) -> None:
    from kakehashi.cli.app import app

    env = {
        **os.environ,
        "KAKEHASHI_DATABASE_URL": f"sqlite:///{tmp_path / 'kh.db'}",
        "KAKEHASHI_POLL_SECONDS": "0.05",
    }
    runner = CliRunner()
    r = runner.invoke(app, ["admin", "project", "create", "ops"], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["admin", "token", "create", "ops", "--json"], env=env)
    assert r.exit_code == 0, r.output
    import json

    token = json.loads(r.output)["token"]
    port = free_port()
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
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        with Client(url, token) as client:
            job = client.submit(tiny_problem(4), backend="exact", time_limit=1.0)
            assert client.result(job.id, timeout=60).objective == pytest.approx(
                brute_force_min(tiny_problem(4))
            )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
        time.sleep(0.5)
        with pytest.raises(ProcessLookupError):  # workers and solver children went with it
            os.killpg(proc.pid, 0)
        assert proc.stderr is not None
        logs = proc.stderr.read().decode()
        assert '"job_id": "' + job.id in logs  # structured JSON logs carry the job id
    finally:
        with contextlib.suppress(ProcessLookupError):  # the whole group: serve and its workers
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    r = runner.invoke(app, ["admin", "token", "list", "ops"], env=env)
    assert "active" in r.output and token not in r.output


def test_config_from_toml_and_env(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text('lease_seconds = 12.0\nmax_attempts = 5\n[prices]\ncpu = 0.5\n"qpu-anneal" = 99.0\n')
    cfg = load_config(
        path,
        env={
            "KAKEHASHI_PRICE_GPU": "2.5",
            "KAKEHASHI_MAX_ATTEMPTS": "7",
            "KAKEHASHI_DATABASE_URL": "sqlite:////x.db",
        },
    )
    assert cfg.lease_seconds == 12.0 and cfg.max_attempts == 7 and cfg.heartbeat_seconds == pytest.approx(4.0)
    assert cfg.price("cpu") == 0.5 and cfg.price("qpu-anneal") == 99.0 and cfg.price("gpu") == 2.5
    assert cfg.database_url == "sqlite:////x.db"
    path.write_text("no_such_key = 1\n")
    with pytest.raises(KakehashiError, match="unknown key"):
        load_config(path, env={})
