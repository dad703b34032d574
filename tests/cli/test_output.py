"""``--json`` stdout is exactly one JSON document, whatever solvers print; usage errors are one line.

The noisy backend writes to file descriptor 1 from C (libc ``write`` and buffered ``printf``),
with ``os.write`` and with ``print``: all of it must land on stderr, never in the document.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.cli.test_app import example, run

NOISY = textwrap.dedent(
    """
    import ctypes, os, sys
    import numpy as np
    from kakehashi.backends.base import Availability, BackendOutput, Capabilities, Termination
    from kakehashi.backends.registry import register
    from kakehashi.compile.targets import TargetKind

    libc = ctypes.CDLL(None)

    class Noisy:
        name = "noisy"
        def capabilities(self):
            return Capabilities(targets=(TargetKind.BQM,))
        def available(self):
            return Availability.yes()
        def solve(self, compiled, *, time_limit, seed, params):
            libc.printf(b"printf chatter from C\\n")          # buffered in libc's stdout
            libc.write(1, b"write(2) chatter from C\\n", 24)    # straight to fd 1
            os.write(1, b"os.write chatter\\n")
            print("print chatter")
            n = compiled.num_variables
            return BackendOutput(samples=np.zeros((1, n)), termination=Termination.COMPLETED,
                                 solve_seconds=0.0)

    register("noisy", Noisy)
    from kakehashi.cli.app import main
    sys.argv = ["kakehashi", *sys.argv[1:]]
    main()
    """
)


def _noisy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", NOISY, *args], capture_output=True, text=True, timeout=300)


def test_json_stdout_survives_a_backend_printing_to_fd1_from_c(tmp_path: Path) -> None:
    qubo = tmp_path / "q.json"
    qubo.write_text(json.dumps({"type": "qubo", "linear": {"a": -1, "b": 1}, "quadratic": {"a,b": 2}}))
    proc = _noisy("solve", str(qubo), "--backend", "noisy", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # the whole of stdout is one document
    assert data["backend"] == "noisy" and data["objective"] == 0
    for chatter in ("printf chatter from C", "write(2) chatter from C", "os.write chatter", "print chatter"):
        assert chatter in proc.stderr
        assert chatter not in proc.stdout


def test_highs_banner_stays_out_of_json() -> None:
    proc = run("solve", str(example("knapsack50.lp")), "--backend", "highs", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["objective"] == 804
    assert not proc.stdout.lstrip().startswith("Running HiGHS")


@pytest.mark.parametrize(
    "command",
    [
        ("backends", "--json"),
        ("inspect", str(example("knapsack50.lp")), "--json"),
        ("estimate", str(example("knapsack50.lp")), "--json", "--time-limit", "1"),
        ("solve", str(example("knapsack50.lp")), "-b", "highs", "-b", "scip", "-t", "5", "--json"),
    ],
    ids=["backends", "inspect", "estimate", "race"],
)
def test_every_json_command_prints_one_document(command: tuple[str, ...]) -> None:
    proc = run(*command)
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (("solve", "--bogus"), "No such option: --bogus"),
        (("nosuchcmd",), "No such command 'nosuchcmd'"),
        (("route",), "Missing argument"),
        (("solve", str(example("knapsack50.lp")), "--time-limit", "soon"), "--time-limit"),
    ],
)
def test_usage_errors_are_one_line_with_a_hint_and_exit_2(args: tuple[str, ...], expect: str) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0] and "--help" in lines[0], proc.stderr


def test_version_names_extras_and_backends() -> None:
    proc = run("--version")
    assert proc.returncode == 0, proc.stderr
    first, extras, backends, *_ = proc.stdout.splitlines()
    from kakehashi import __version__

    assert first.startswith(f"kakehashi {__version__} ")
    assert "service yes" in extras and "routing yes" in extras  # the test venv installs both
    assert "highs" in backends and "anneal" in backends
