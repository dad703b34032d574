"""The solver child process: reads jobs as JSON lines on stdin, answers JSON lines on stdout.

Run as ``python -m kakehashi.service.runner``. A worker keeps one such child warm and sends it
one job at a time::

    → {"job_id": "job_...", "problem": {kakehashi.problem document}, "backend": "auto",
       "time_limit": 1.0, "seed": 7, "params": {}}
    ← {"type": "result", "job_id": "job_...", "result": {Result.to_dict()}, "seconds": 0.12}
    ← {"type": "error", "job_id": "job_...", "kind": "ModelError", "error": "...", "seconds": 0.01}

One file, one job (the Slurm executor's batch jobs, :mod:`kakehashi.service.executors.slurm`)::

    python -m kakehashi.service.runner --request job.json --messages messages.jsonl

reads the same request from ``job.json`` and appends the same messages (progress, then the one
answer) to ``messages.jsonl``, one JSON line each, opening and closing the file per line so that
a reader on another host of a shared (NFS) filesystem sees every complete line.

The child calls :func:`kakehashi.solve`, the same façade library users call. Only JSON crosses
the pipe, never pickle. Anything a solver prints goes to stderr (stdout is reserved for the
protocol). The child exits when stdin closes or, on Linux, when its worker dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import IO, Any


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent (the worker) dies."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _protocol_stream() -> IO[str]:
    """Keep the real stdout for the protocol and point fd 1 at stderr for everything else."""
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(fd, "w", buffering=1)


def _jsonable(obj: Any) -> Any:
    """JSON fallback for numpy scalars and arrays in results; anything else as its string."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def handle(request: dict[str, Any], emit: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Solve one request and return the answer message (never raises).

    ``emit`` receives ``solve()``'s progress events (``started``/``finished`` per backend).
    """
    t0 = time.perf_counter()
    job_id = request.get("job_id")
    try:
        from kakehashi.model.problem import Problem
        from kakehashi.solver import solve

        problem = Problem.from_dict(request["problem"])
        backend = str(request.get("backend", "auto"))
        if backend == "auto":
            from kakehashi.service.history import use_service_history

            use_service_history()  # the learned router reads the platform's own history
        result = solve(
            problem,
            # a race is stored as "a,b" (jobs.backend); solve() takes the list of names
            backend=backend.split(",") if "," in backend else backend,
            time_limit=float(request.get("time_limit", 10.0)),
            seed=request.get("seed"),
            params=request.get("params") or None,
            on_event=None if emit is None else (lambda ev: emit(dict(ev))),
        )
        return {
            "type": "result",
            "job_id": job_id,
            "result": result.to_dict(),
            "seconds": time.perf_counter() - t0,
        }
    except Exception as exc:  # every failure becomes a message; the worker decides the state
        return {
            "type": "error",
            "job_id": job_id,
            "kind": type(exc).__name__,
            "error": str(exc) or repr(exc),
            "seconds": time.perf_counter() - t0,
        }


def _append_line(path: str, message: dict[str, Any]) -> None:
    """Append one JSON line to ``path`` (opened and closed per line: close-to-open on NFS)."""
    line = json.dumps(message, default=_jsonable) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def run_file(request_path: str, messages_path: str) -> int:
    """Solve the request in ``request_path``; append the messages to ``messages_path``. Exit code 0
    whenever an answer was written (a solver's error is an answer), 2 when the request is unreadable
    (the error is written as the answer too)."""
    sys.stdout = sys.stderr  # solver chatter goes to the batch job's output file, never the messages
    try:
        with open(request_path, encoding="utf-8") as fh:
            request = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        _append_line(
            messages_path,
            {"type": "error", "kind": "ProtocolError", "error": f"{request_path}: {exc}", "seconds": 0.0},
        )
        return 2
    job_id = request.get("job_id")
    _append_line(messages_path, {"type": "running", "job_id": job_id, "pid": os.getpid()})

    def emit(event: dict[str, Any]) -> None:
        _append_line(messages_path, {"type": "progress", "job_id": job_id, "data": event})

    _append_line(messages_path, handle(request, emit))
    return 0


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args:
        import argparse

        parser = argparse.ArgumentParser(prog="python -m kakehashi.service.runner")
        parser.add_argument("--request", required=True, help="the job's request (JSON file)")
        parser.add_argument("--messages", required=True, help="where the messages go (JSON lines)")
        ns = parser.parse_args(args)
        raise SystemExit(run_file(ns.request, ns.messages))
    _die_with_parent()
    out = _protocol_stream()
    out.write(json.dumps({"type": "ready", "pid": os.getpid()}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as exc:
            answer: dict[str, Any] = {
                "type": "error",
                "kind": "ProtocolError",
                "error": str(exc),
                "seconds": 0.0,
            }
        else:
            job_id = request.get("job_id")

            def emit(event: dict[str, Any], job_id: Any = job_id) -> None:
                out.write(
                    json.dumps({"type": "progress", "job_id": job_id, "data": event}, default=_jsonable)
                    + "\n"
                )

            answer = handle(request, emit)
        out.write(json.dumps(answer, default=_jsonable) + "\n")


if __name__ == "__main__":
    main()
