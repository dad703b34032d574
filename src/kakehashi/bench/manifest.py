"""The manifest every result file carries: software, machine, load, instances, seeds, command.

Everything needed to say what was measured and to repeat it: kakehashi's version and git
commit, the SHA-256 of ``locks/test.txt`` (the locked test environment), the versions of the
solver packages (from the runs' provenance and :mod:`importlib.metadata`), CPU model and cores,
GPU (``none`` when ``nvidia-smi`` lists none), OS, Python, the 1-minute load average sampled
during the run, the instances' hashes, the seeds and the exact command line.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

#: Packages whose versions are recorded when installed (solver engines and the numeric stack).
PACKAGES = ("kakehashi", "dimod", "dwave-neal", "dwave-samplers", "dwave-system", "numpy", "scipy",
            "highspy", "pyscipopt", "ortools", "pyvrp", "lkh", "qiskit", "qiskit-aer", "amazon-braket-sdk",
            "numba", "torch", "cupy")

_REPO = Path(__file__).resolve().parents[3]


def git_commit(repo: Path = _REPO) -> str | None:
    """The checkout's HEAD commit (with ``+dirty`` when the tree has changes), or None."""
    if shutil.which("git") is None or not (repo / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def lock_hash(repo: Path = _REPO) -> str | None:
    """SHA-256 of ``locks/test.txt`` beside the sources, or None in an installed package."""
    lock = repo / "locks" / "test.txt"
    return hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (else :func:`platform.processor`)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def gpus() -> list[str]:
    """GPUs listed by ``nvidia-smi -L`` (empty when there is none or no driver)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`PACKAGES` (missing ones left out)."""
    found: dict[str, str] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


class LoadSampler:
    """Samples ``os.getloadavg()`` (1, 5, 15 min) every ``interval`` seconds in a daemon thread."""

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self.samples: list[list[float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kakehashi-bench-load", daemon=True)
        self._t0 = time.monotonic()

    def _sample(self) -> None:
        one, five, fifteen = os.getloadavg()
        self.samples.append([round(time.monotonic() - self._t0, 1), one, five, fifteen])

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> LoadSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 1)
        self._sample()

    def summary(self) -> dict[str, Any]:
        """Min/mean/max of the 1-minute load and the samples ``[seconds, 1m, 5m, 15m]``."""
        ones = [s[1] for s in self.samples] or [0.0]
        return {"load1_min": min(ones), "load1_mean": sum(ones) / len(ones), "load1_max": max(ones),
                "interval_s": self.interval, "samples": self.samples}


def machine() -> dict[str, Any]:
    """CPU, cores, GPU, OS, Python and host of this machine."""
    return {
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "gpu": gpus() or "none",
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "host": socket.gethostname(),
    }


def build_manifest(*, command: list[str], load: dict[str, Any], instances: dict[str, str],
                   seeds: list[int], run_versions: dict[str, str], started: str, finished: str) -> dict[str, Any]:
    """The manifest dict stored under ``"manifest"`` in a result file."""
    import kakehashi

    return {
        "kakehashi_version": kakehashi.__version__,
        "git_commit": git_commit(),
        "lock_sha256": lock_hash(),
        "lock_file": "locks/test.txt",
        "solver_versions": {**package_versions(), **run_versions},
        "machine": machine(),
        "load_average": load,
        "instances": instances,
        "seeds": seeds,
        "command": shlex.join(command),
        "started": started,
        "finished": finished,
    }
