"""Shared fixtures: the benchmark data directory and small seeded problems."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _data_dir() -> Path | None:
    env = os.environ.get("KAKEHASHI_DATA_DIR")
    if env:
        return Path(env)
    default = REPO.parent / "shared" / "data"
    return default if default.is_dir() else None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``KAKEHASHI_DATA_DIR`` (default ``../shared/data``); skips when no data is present."""
    path = _data_dir()
    if path is None or not path.is_dir():
        pytest.skip("benchmark data not found: set KAKEHASHI_DATA_DIR")
    return path
