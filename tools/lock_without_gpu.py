"""Drop torch's CUDA stack from a hashed lock (``uv pip compile`` output), in place.

The ``bench`` extra pulls in torch through simulated-bifurcation; its PyPI metadata names the
CUDA wheels (nvidia-*, cuda-*, triton: several GB). The Makefile installs torch itself as the
CPU build (``TORCH_WHEEL``), then this lock with ``--no-deps``, so those entries must not be in
it. uv's ``--no-emit-package`` needs every name in advance and they change with each torch
release; this filter drops whole requirement blocks by name pattern instead.

Usage: python tools/lock_without_gpu.py locks/bench.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DROP = re.compile(r"^(torch|triton|nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+)==")


def strip(text: str) -> str:
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if line[:1] not in (" ", "\t", "#", "\n", "") or line.startswith("--"):
            skipping = bool(DROP.match(line))
        elif line.startswith("#"):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


def main(path: str) -> None:
    p = Path(path)
    p.write_text(strip(p.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
