"""Infrastructure faults at the issue's full sizes, on SQLite and on PostgreSQL.

Runs the suite's kill tests with their sizes raised through ``KAKEHASHI_FAULT_*``
(tests/service/support.py: ``scaled``) and collects the ``FAULTS`` line each prints:

- service kills: 300 jobs, 8 SIGKILLs of the whole service (API and workers) timed to hit
  running jobs, on SQLite and on a PostgreSQL cluster of the run's own → every job SUCCEEDED
  exactly once;
- database crashes: 200 jobs submitted through the SDK across two SIGKILLs of PostgreSQL →
  0 responses 500, every error a 503 with Retry-After, drain time after the database returns;
- two instances on one PostgreSQL, one killed 4 times → re-claim time of every interrupted job.

Usage: python benchmarks/faults.py [--out benchmarks/results/faults.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = [
    ("service kills (SQLite and PostgreSQL)", "tests/service/test_service_kills.py",
     {"KAKEHASHI_FAULT_JOBS": "300", "KAKEHASHI_FAULT_KILLS": "8"}),
    ("database crashes (PostgreSQL)", "tests/service/test_db_outage.py", {"KAKEHASHI_FAULT_JOBS": "200"}),
    ("two instances, one killed 4 times (PostgreSQL)", "tests/service/test_two_instances.py",
     {"KAKEHASHI_FAULT_TWO_INSTANCE_JOBS": "40", "KAKEHASHI_FAULT_TWO_INSTANCE_KILLS": "4"}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "faults.md"))
    args = ap.parse_args()
    rows: list[str] = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = os.getloadavg()
    for title, path, env in RUNS:
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "-s", path],
            cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT / "src")}, capture_output=True, text=True,
        )
        wall = time.monotonic() - t0
        lines = [ln for ln in proc.stdout.splitlines() if "FAULTS " in ln]
        tail = [ln for ln in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
        outcome = tail[-1].strip() if tail else f"exit {proc.returncode}"
        print(f"{title}: {outcome} in {wall:.0f} s", flush=True)
        for ln in lines:
            print("   ", ln[ln.index("FAULTS "):], flush=True)
        rows.append(f"### {title}\n\n`{path}` with {', '.join(f'{k}={v}' for k, v in env.items())}: "
                    f"**{outcome}** in {wall:.0f} s, load {os.getloadavg()[0]:.1f} at the end\n\n"
                    + "".join(f"    {ln[ln.index('FAULTS '):]}\n" for ln in lines)
                    + ("" if proc.returncode == 0 else "\n```\n" + "\n".join(proc.stdout.splitlines()[-30:]) + "\n```\n"))
    text = (f"# Infrastructure faults at full size\n\nCommand: `python benchmarks/faults.py`. Run {started} on "
            f"{platform.node()} ({os.cpu_count()} cores, {platform.processor() or platform.machine()}), load "
            f"{load_before[0]:.1f} at the start (other work shared the machine). Each FAULTS line is printed by "
            "the test after its assertions ran; a failed test shows its last output lines.\n\n" + "\n".join(rows))
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
