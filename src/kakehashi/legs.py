"""Race legs: one process per backend, forked from a warm leg server, talking JSON to the parent.

Start-up is paid once per calling process: legs are forked from a ``forkserver`` that preloads
:mod:`kakehashi.warmup` (imports the engines and runs each once on tiny problems, so numba's
compiled kernels, loaded from its on-disk cache, are already in memory when a leg starts).

A leg sends, over one pipe, JSON messages (never pickles):

``{"kind": "setup", "setup": LegSetup}``
    once compiled: what the parent needs to invert and evaluate the leg's samples itself;
``{"kind": "incumbent", "seconds", "energy", "sample", "points"}``
    the latest incumbent (target order), at most every :data:`STREAM_INTERVAL` seconds (the
    latest is always sent, at most that much later), with the trajectory points since the last;
``{"kind": "result", "ok": true, "result": Result}`` or ``{"kind": "result", "ok": false, "error"}``.

A leg leads its own process group, so killing the group also ends anything it started (LKH's
binary, say); a watchdog ends it when the race's process is gone, or shortly after the call's
hard stop.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from kakehashi.budget import Budget
from kakehashi.exceptions import KakehashiError

#: Modules the leg server imports before it forks its first leg.
PRELOAD = ["kakehashi.warmup"]
#: Least seconds between two incumbent messages of one leg.
STREAM_INTERVAL = 0.15
#: Seconds past the call's hard stop after which a leg ends itself.
WATCHDOG_SECONDS = 2.0


def context() -> Any:
    """The multiprocessing context of race legs (a forkserver preloading the engines)."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


_warm_pid: int | None = None


def _ready() -> None:
    """A leg that does nothing: its start proves the leg server has finished warming up."""


def _server_pid() -> int | None:
    """The pid of this process's forkserver while it runs (multiprocessing restarts a dead one)."""
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if pid is None:
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return int(pid)


def ensure_warm() -> float:
    """Start the leg server if needed and wait until it forks; the seconds waited (0 once warm).

    Warm means: the server that finished warming up is the one running now. A server that died
    (killed with its process group, say) is restarted by multiprocessing, cold, and is waited for
    again here rather than inside a race's budget.
    """
    global _warm_pid
    if _warm_pid is not None and _server_pid() == _warm_pid:
        return 0.0
    started = time.monotonic()
    proc = context().Process(target=_ready, daemon=True)
    proc.start()
    proc.join()
    _warm_pid = _server_pid()
    return time.monotonic() - started


def start_server() -> None:
    """Start the leg server now (it warms up in the background), e.g. when a service starts,
    so that the first race of this process does not wait for it."""
    from multiprocessing import forkserver

    context()
    forkserver.ensure_running()


def kill(proc: Any, wait: bool = True) -> None:
    """SIGKILL a leg and its process group (a leg leads its own group); reap it when ``wait``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:  # not yet its own group leader, or already gone
        proc.kill()
    if wait:
        proc.join(timeout=2)


class Starter:
    """Starts race legs from a background thread.

    Forking from the leg server waits for its warm-up on the first race of a process; from a
    thread, that wait never keeps the race from answering at its hard stop. ``spec(name)``
    gives each leg's JSON spec at the moment it is started.
    """

    def __init__(self, names: list[str], problem_json: str, spec: Any) -> None:
        self._ctx = context()
        self._names = list(names)
        self._problem_json = problem_json
        self._spec = spec
        self._queue: queue.Queue[tuple[str, Connection, Any]] = queue.Queue()
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._unstarted = list(names)
        self._thread = threading.Thread(target=self._run, name="kakehashi-legs", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for name in self._names:
            if self._cancelled.is_set():
                return
            parent, child = self._ctx.Pipe(duplex=False)
            proc = self._ctx.Process(target=leg_main, args=(child, self._problem_json, self._spec(name)),
                                     daemon=True)
            try:
                proc.start()
            finally:
                child.close()
            with self._lock:
                self._unstarted.remove(name)
                late = self._cancelled.is_set()
            if late:
                kill(proc)
                parent.close()
            else:
                self._queue.put((name, parent, proc))

    @property
    def busy(self) -> bool:
        """True while legs are still being started or wait to be taken with :meth:`started`."""
        return self._thread.is_alive() or not self._queue.empty()

    def started(self) -> list[tuple[str, Connection, Any]]:
        """The legs started since the last call: (name, parent end of its pipe, process)."""
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def cancel(self) -> tuple[list[str], list[tuple[str, Connection, Any]]]:
        """Start no more legs: the names never started, and legs started but not yet taken."""
        with self._lock:
            self._cancelled.set()
            unstarted = list(self._unstarted)
        return unstarted, self.started()


def runtime_spec(name: str) -> dict[str, Any]:
    """How a leg finds a backend registered at run time: the import path of its factory.

    Entry-point backends need nothing. A backend registered with
    :func:`kakehashi.backends.registry.register` exists only in the calling process; when its
    factory is a module-level callable, the leg imports and registers it too.
    """
    from kakehashi.backends.registry import runtime_factory

    factory = runtime_factory(name)
    if factory is None:
        return {}
    module, qualname = getattr(factory, "__module__", None), getattr(factory, "__qualname__", "")
    if not module or "<" in qualname:
        return {}
    return {"factory": f"{module}:{qualname}"}


def _import_factory(path: str) -> Any:
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class _Channel:
    """The leg's end of the pipe: one JSON message at a time, from any thread."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self.open = True

    def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        with self._lock:
            if not self.open:
                return
            try:
                self._conn.send(text)
            except OSError:  # the parent is gone or stopped listening
                self.open = False


def _row(sample: np.ndarray) -> list[Any]:
    row = np.asarray(sample, dtype=np.float64).reshape(-1)
    if np.all(row == np.round(row)):
        return row.astype(np.int64).tolist()  # type: ignore[no-any-return]
    return row.tolist()  # type: ignore[no-any-return]


class Forwarder:
    """Forwards a leg's latest incumbent to the parent from a background thread, throttled.

    Called from the backend's thread (through :class:`kakehashi.solver.Recorder`): it only
    copies the sample; the thread encodes and sends, so a slow pipe never stalls the engine.
    """

    def __init__(self, channel: _Channel, interval: float = STREAM_INTERVAL) -> None:
        self._channel = channel
        self._interval = interval
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: tuple[float, float, np.ndarray] | None = None
        self._points: list[list[float]] = []
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="kakehashi-incumbents", daemon=True)
        self._thread.start()

    def __call__(self, sample: np.ndarray, energy: float, seconds: float) -> None:
        with self._lock:
            self._pending = (seconds, energy, np.array(sample, copy=True))
            self._points.append([round(seconds, 6), energy])
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                pending, points = self._pending, self._points
                self._pending, self._points = None, []
                closed = self._closed
            if pending is not None:
                seconds, energy, sample = pending
                self._channel.send(
                    {"kind": "incumbent", "seconds": seconds, "energy": energy, "sample": _row(sample),
                     "points": points}
                )
            if closed:
                return
            time.sleep(self._interval)

    def close(self) -> None:
        """Stop the thread (what is pending is dropped: the leg's Result follows)."""
        with self._lock:
            self._closed = True
            self._pending = None
        self._wake.set()
        self._thread.join(timeout=1.0)


def _gone(pid: int) -> bool:
    """True when process ``pid`` has exited (a zombie, exited but not yet reaped, counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but not ours to signal
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return False


def _watchdog(budget: Budget, parent: int) -> None:
    """End this leg when the race's process ``parent`` is gone (a leg leads its own process
    group, so killing the parent's group does not reach it) or the leg server that forked it
    is (it exits with the race's process), or 2 s after the hard stop."""
    hard = budget.hard_stop
    server = os.getppid()

    def watch() -> None:
        while hard is None or time.monotonic() < hard + WATCHDOG_SECONDS:
            if os.getppid() != server or _gone(parent):
                os._exit(71)
            time.sleep(0.25)
        os._exit(70)

    threading.Thread(target=watch, name="kakehashi-watchdog", daemon=True).start()


def leg_main(conn: Connection, problem_json: str, spec_json: str) -> None:
    """Leg process: compile and solve one backend, streaming incumbents, then send the Result."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    spec = json.loads(spec_json)
    budget = Budget.from_dict(spec["budget"])
    _watchdog(budget, int(spec["parent"]))
    channel = _Channel(conn)
    name = spec["name"]
    try:
        from kakehashi.backends.registry import register
        from kakehashi.model.problem import Problem
        from kakehashi.solver import Recorder, build_result, execute, prepare

        if "factory" in spec:
            register(name, _import_factory(spec["factory"]))
        problem = Problem.from_json(problem_json)
        startup = time.monotonic() - float(spec["spawned"])
        prep = prepare(problem, name, spec["params"], spec["compile_options"], startup_seconds=startup)
        channel.send({"kind": "setup", "setup": prep.setup.to_dict()})
        forwarder = Forwarder(channel)
        try:
            out, wall, trajectory = execute(problem, prep, budget, spec["seed"], Recorder(budget, forwarder))
        finally:
            forwarder.close()
        result = build_result(
            problem, prep.setup, out, seed=spec["seed"], budget=budget, solve_wall=wall, trajectory=trajectory
        )
        channel.send({"kind": "result", "ok": True, "result": result.to_dict()})
    except KakehashiError as exc:
        channel.send({"kind": "result", "ok": False, "error": f"{type(exc).__name__}: {exc}"})
    except Exception as exc:  # a backend bug must not take the race down
        channel.send({"kind": "result", "ok": False, "error": f"internal error: {type(exc).__name__}: {exc}"})
    finally:
        conn.close()
