"""The local executor: one warm solver child process per worker, on the worker's machine.

The child is ``python -m kakehashi.service.runner`` (or the configured ``runner_command``); it
speaks JSON lines on stdin/stdout and calls :func:`kakehashi.solve`. It stays warm between jobs;
cancelling a run kills it (SIGKILL to its process group, so race legs go with it) and the next
job gets a fresh child.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Sequence
from typing import IO, Any

from kakehashi.service.executors.base import ExecutionDied
from kakehashi.service.lease import Claim


class SolverDiedError(ExecutionDied):
    """The solver child process exited while a job was running."""


#: Longest solver output line kept in the log (characters); the rest is cut with a mark.
MAX_OUTPUT_LINE = 2000
_solver_log = logging.getLogger("kakehashi.solver")


class SolverProcess:
    """A warm solver child speaking JSON lines over its stdin/stdout.

    Whatever the solvers in the child print (native libraries write to file descriptor 1 and 2;
    the child points fd 1 at stderr) is read from its stderr line by line and logged on the
    ``kakehashi.solver`` logger with the id of the job it was running, so solver chatter lands in
    the service's structured log, never raw.
    """

    def __init__(self, command: list[str]) -> None:
        self.job_id: str | None = None
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self._log_output, args=(self.proc.stderr,), daemon=True).start()
        ready = self.recv(60.0)
        if ready is None or ready.get("type") != "ready":
            self.kill()
            raise SolverDiedError(f"solver process did not start (got {ready!r})")

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def _log_output(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            text = line.rstrip("\n")
            if not text.strip():
                continue
            if len(text) > MAX_OUTPUT_LINE:
                text = text[:MAX_OUTPUT_LINE] + " …[cut]"
            _solver_log.info(text, extra={"job_id": self.job_id, "pid": self.proc.pid})

    def send(self, message: dict[str, Any]) -> None:
        self.job_id = message.get("job_id")
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise SolverDiedError(f"solver process gone: {exc}") from exc

    def recv(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or None after ``timeout`` seconds. Raises :class:`SolverDiedError`."""
        try:
            line = self._lines.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if line is None:
            code = self.proc.wait()
            raise SolverDiedError(f"solver process exited with code {code}")
        return dict(json.loads(line))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        # the child leads its own process group: race legs and the forkserver go with it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()


class LocalRun:
    """A job sent to the warm solver child; it runs at once (``started`` is True)."""

    def __init__(self, executor: LocalExecutor, solver: SolverProcess) -> None:
        self.started = True
        self._executor = executor
        self._solver = solver

    def poll(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self._solver.recv(timeout)
        except SolverDiedError:
            self._executor.kill()
            raise

    def cancel(self) -> None:
        self._executor.kill()


class LocalExecutor:
    """Runs jobs in one warm solver child process started with ``command`` (argv)."""

    name = "local"

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)
        self.solver: SolverProcess | None = None

    def ready(self) -> bool:
        return True

    def start(self, claim: Claim) -> LocalRun:
        try:
            if self.solver is None or not self.solver.alive():
                self.solver = SolverProcess(self.command)
            self.solver.send(
                {
                    "job_id": claim.job_id,
                    "problem": json.loads(claim.problem_json),
                    "backend": claim.backend,
                    "time_limit": claim.time_limit,
                    "seed": claim.seed,
                    "params": claim.params,
                }
            )
        except SolverDiedError:
            self.kill()
            raise
        return LocalRun(self, self.solver)

    def kill(self) -> None:
        """Kill the solver child (if any); the next job starts a fresh one."""
        if self.solver is not None:
            self.solver.kill()
            self.solver = None

    def shutdown(self) -> None:
        self.kill()
