"""``LiveService``: the real service (uvicorn + worker processes) on a free local port.

For end-to-end tests and benchmarks: every process can be killed with SIGKILL and restarted,
which is how the crash test exercises durability::

    with LiveService("sqlite:////tmp/kh.db", workers=2) as svc:
        token = svc.token("demo")
        client = kakehashi.Client(svc.url, token)
        svc.kill_api(); svc.start_api()
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from types import TracebackType

import httpx

from kakehashi.exceptions import KakehashiError
from kakehashi.service import tenancy
from kakehashi.service.config import ServiceConfig
from kakehashi.service.serve import config_env, worker_command
from kakehashi.service.store.db import Database
from kakehashi.service.store.migrate import upgrade


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveService:
    """API and workers as separate OS processes sharing one database.

    Args:
        database_url: the database (SQLite file or PostgreSQL).
        workers: how many worker processes to start.
        config: further settings (its ``database_url`` is replaced by ``database_url``).
        log_path: where the processes' stderr goes (default: discarded).
    """

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 1,
        config: ServiceConfig | None = None,
        log_path: str | None = None,
    ) -> None:
        base = config or ServiceConfig(database_url=database_url, lease_seconds=5.0, poll_seconds=0.05)
        self.config = base.with_overrides(database_url=database_url)
        self.db = Database(database_url)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.num_workers = workers
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes] | None] = [None] * workers
        self._log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        self.env = {**os.environ, **config_env(self.config)}

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> LiveService:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        upgrade(self.db)
        self.start_api()
        for i in range(self.num_workers):
            self.start_worker(i)

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv, env=self.env, stdout=self._log, stderr=self._log, start_new_session=True
        )

    def start_api(self, wait: bool = True) -> None:
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "kakehashi.service.api.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.api = self._spawn(argv)
        if wait:
            self.wait_ready()

    def start_worker(self, i: int) -> None:
        self.workers[i] = self._spawn(worker_command())

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.api is not None and self.api.poll() is not None:
                raise KakehashiError(f"the API process exited with {self.api.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=2.0).status_code == 200:
                    return
            time.sleep(0.05)
        raise KakehashiError(f"the API at {self.url} was not ready within {timeout} s")

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGKILL, group: bool = False) -> None:
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)

    def kill_api(self) -> None:
        """SIGKILL the API process (no graceful anything)."""
        self._kill(self.api)

    def kill_worker(self, i: int) -> None:
        """SIGKILL worker ``i`` (its solver child dies with it)."""
        self._kill(self.workers[i])

    def stop(self) -> None:
        """SIGTERM everything, then SIGKILL the process groups of whatever is left."""
        procs = [self.api, *self.workers]
        for p in procs:
            if p is not None and p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15.0
        for p in procs:
            if p is None:
                continue
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._kill(p, group=True)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
        if self._log is not subprocess.DEVNULL:
            self._log.close()  # type: ignore[union-attr]
        self.db.dispose()

    # ----------------------------------------------------------------- tenants
    def token(self, project: str) -> str:
        """A fresh API token for ``project`` (created when missing)."""
        with contextlib.suppress(tenancy.ProjectExistsError):
            tenancy.create_project(self.db, project)
        return tenancy.create_token(self.db, project).secret
