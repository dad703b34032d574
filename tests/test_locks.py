"""The committed locks: exact, hashed, and the bench lock free of torch's CUDA stack."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQ = re.compile(r"^([A-Za-z0-9_.-]+)==([^ \\]+)")


def _requirements(path: Path) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) for line in path.read_text().splitlines() if (m := REQ.match(line))}


def test_every_lock_pins_exact_versions_with_hashes() -> None:
    for name in ("run", "test", "bench", "uv"):
        text = (ROOT / "locks" / f"{name}.txt").read_text()
        reqs = _requirements(ROOT / "locks" / f"{name}.txt")
        assert reqs, name
        assert text.count("--hash=sha256:") >= len(reqs), name


def test_bench_lock_has_no_cuda_wheels_and_the_filter_drops_them() -> None:
    reqs = _requirements(ROOT / "locks" / "bench.txt")
    assert "simulated-bifurcation" in reqs
    assert not [r for r in reqs if r.startswith(("nvidia-", "cuda-")) or r in ("torch", "triton")]
    spec = importlib.util.spec_from_file_location("lock_without_gpu", ROOT / "tools" / "lock_without_gpu.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sample = ("numpy==2.0.0 \\\n    --hash=sha256:aa\n    # via x\nnvidia-nvtx==13.0 \\\n    --hash=sha256:bb\n"
              "    # via torch\ntriton==3.7.1 \\\n    --hash=sha256:cc\nzipp==3.0 \\\n    --hash=sha256:dd\n")
    assert mod.strip(sample) == "numpy==2.0.0 \\\n    --hash=sha256:aa\n    # via x\nzipp==3.0 \\\n    --hash=sha256:dd\n"
