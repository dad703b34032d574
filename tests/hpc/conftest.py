"""Fixtures of the HPC tests: one real single-node Slurm for the whole session (see :mod:`.cluster`)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hpc.cluster import Cluster, Unavailable, start


@pytest.fixture(scope="session")
def slurm() -> Iterator[Cluster]:
    """A running Slurm (munge, slurmctld, slurmd, slurmrestd) in a temporary directory; skips
    with the reason when Slurm cannot be had; stops every daemon it started afterwards."""
    root = Path(tempfile.mkdtemp(prefix="kakehashi-slurm-"))
    try:
        cluster = start(root)
    except Unavailable as exc:
        pytest.skip(f"no test Slurm: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()
