"""Fixtures of the HPC tests: one real single-node Slurm for the whole session (see :mod:`.cluster`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hpc.cluster import Cluster, Unavailable, start


@pytest.fixture(scope="session")
def slurm() -> Iterator[Cluster]:
    """A running Slurm (munge, slurmctld, slurmd, slurmrestd) in a temporary directory; skips
    with the reason when Slurm cannot be had; stops every daemon it started afterwards.
    ``SLURM_CONF`` points at its configuration meanwhile."""
    root = Path(tempfile.mkdtemp(prefix="kakehashi-slurm-"))
    try:
        cluster = start(root)
    except Unavailable as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"no test Slurm: {exc}")
    saved = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)  # the executor's sbatch/squeue/scontrol read it
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
        if saved is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = saved
