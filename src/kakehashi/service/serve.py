"""``kakehashi serve``: migrate, start N worker processes and the API (uvicorn) in this process.

With the Ray executor (``KAKEHASHI_EXECUTOR=ray``) the worker processes are dispatchers: each
runs one job at a time as a Ray task, so ``--workers`` is how many jobs the cluster runs at once.

Shutdown is graceful: SIGINT/SIGTERM stop uvicorn (in-flight requests finish), then each worker
gets SIGTERM, stops claiming, lets its current job run for ``shutdown_grace_seconds`` and gives
it back to the queue if it has not finished. A worker that dies is restarted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from kakehashi.service.config import ServiceConfig, load_config
from kakehashi.service.logs import configure_logging
from kakehashi.service.store.db import Database
from kakehashi.service.store.migrate import upgrade

log = logging.getLogger("kakehashi.serve")


def config_env(config: ServiceConfig) -> dict[str, str]:
    """Environment variables that make :func:`load_config` in a child process return ``config``."""
    env = {
        "KAKEHASHI_DATABASE_URL": config.database_url,
        "KAKEHASHI_LEASE_SECONDS": repr(config.lease_seconds),
        "KAKEHASHI_HEARTBEAT_SECONDS": repr(config.heartbeat_seconds),
        "KAKEHASHI_MAX_ATTEMPTS": str(config.max_attempts),
        "KAKEHASHI_MAX_INFRA_LOSSES": str(config.max_infra_losses),
        "KAKEHASHI_INFRA_DEADLINE_SECONDS": repr(config.infra_deadline_seconds),
        "KAKEHASHI_POISON_WORKERS": str(config.poison_workers),
        "KAKEHASHI_REQUEUE_BACKOFF_SECONDS": repr(config.requeue_backoff_seconds),
        "KAKEHASHI_DB_BACKOFF_CAP_SECONDS": repr(config.db_backoff_cap_seconds),
        "KAKEHASHI_POLL_SECONDS": repr(config.poll_seconds),
        "KAKEHASHI_MAX_BODY_BYTES": str(config.max_body_bytes),
        "KAKEHASHI_MAX_VARIABLES": str(config.max_variables),
        "KAKEHASHI_MAX_CONSTRAINTS": str(config.max_constraints),
        "KAKEHASHI_MAX_PAGE_SIZE": str(config.max_page_size),
        "KAKEHASHI_MAX_TIME_LIMIT": repr(config.max_time_limit),
        "KAKEHASHI_KILL_GRACE_SECONDS": repr(config.kill_grace_seconds),
        "KAKEHASHI_SHUTDOWN_GRACE_SECONDS": repr(config.shutdown_grace_seconds),
        "KAKEHASHI_LOG_LEVEL": config.log_level,
        "KAKEHASHI_EXECUTOR": config.executor,
        "KAKEHASHI_RAY_RESOURCES": json.dumps(config.ray_resources, sort_keys=True),
    }
    if config.slurm:
        env["KAKEHASHI_SLURM"] = json.dumps(config.slurm, sort_keys=True)
    env["KAKEHASHI_PEER_GRACE_SECONDS"] = repr(config.peer_grace_seconds)
    env["KAKEHASHI_PEER_PROBE_SECONDS"] = repr(config.peer_probe_seconds)
    if config.peer_key:
        env["KAKEHASHI_PEER_KEY"] = config.peer_key
    if config.spool_dir:
        env["KAKEHASHI_SPOOL_DIR"] = config.spool_dir
    if config.ray_address:
        env["KAKEHASHI_RAY_ADDRESS"] = config.ray_address
    if config.admin_token:
        env["KAKEHASHI_ADMIN_TOKEN"] = config.admin_token
    if config.runner_command:
        env["KAKEHASHI_RUNNER_COMMAND"] = json.dumps(list(config.runner_command))
    for kind, price in config.prices.items():
        env["KAKEHASHI_PRICE_" + kind.upper().replace("-", "_")] = repr(price)
    return env


def worker_command() -> list[str]:
    return [sys.executable, "-m", "kakehashi.service.worker"]


class WorkerPool:
    """N local worker processes, restarted when they die, stopped with SIGTERM."""

    def __init__(self, config: ServiceConfig, size: int) -> None:
        self.env = {**os.environ, **config_env(config)}
        self.size = size
        self.grace = config.shutdown_grace_seconds
        self.procs: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._supervise, daemon=True)

    def start(self) -> None:
        self.procs = [subprocess.Popen(worker_command(), env=self.env) for _ in range(self.size)]
        self._watch.start()

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            for i, proc in enumerate(self.procs):
                if proc.poll() is not None and not self._stopping.is_set():
                    log.warning("worker %s exited with %s; restarting", proc.pid, proc.returncode)
                    self.procs[i] = subprocess.Popen(worker_command(), env=self.env)

    def stop(self) -> None:
        self._stopping.set()
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace + 10.0
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def serve(
    config: ServiceConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 2,
    demo: bool = False,
) -> None:
    """Run the platform on this machine until interrupted: API on ``host:port`` and ``workers``
    local worker processes (0: API only). ``demo`` submits the bundled examples once it is up."""
    import uvicorn

    from kakehashi.service.api.app import create_app

    config = config or load_config()
    configure_logging(config.log_level)
    db = Database(config.database_url)
    upgrade(db)
    pool = WorkerPool(config, workers)
    pool.start()
    app = create_app(config, db, migrate=False)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=10
        )
    )
    log.info(
        "kakehashi serving on http://%s:%s with %d workers (executor: %s%s)",
        host,
        port,
        workers,
        config.executor,
        f" at {config.ray_address or 'auto'}" if config.executor == "ray" else "",
    )

    def stopping(signum: int, _frame: object) -> None:
        # uvicorn restores this handler after its graceful shutdown and re-raises the signal
        # into it: we log instead of dying, so the workers below are stopped properly.
        log.info("shutting down on signal %s", signum)

    if demo:
        from kakehashi.service.demo import start_demo_thread

        start_demo_thread(f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}", db)
    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    try:
        server.run()
    finally:
        pool.stop()
        db.dispose()


def main(argv: list[str] | None = None) -> None:
    """``python -m kakehashi.service.serve [--host H] [--port P] [--workers N]``."""
    parser = argparse.ArgumentParser(prog="kakehashi-serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    serve(host=args.host, port=args.port, workers=args.workers)


if __name__ == "__main__":
    main()
