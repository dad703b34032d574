"""Where benchmark instance files live: the data directory and the download cache.

``data_dir()`` is, in order: ``$KAKEHASHI_DATA_DIR``; ``../shared/data`` beside a source
checkout of kakehashi (the layout of the development tree); the download cache
``cache_dir()`` (``$KAKEHASHI_CACHE_DIR`` or ``~/.cache/kakehashi/data``), which is what
``kakehashi datasets download NAME`` fills. Each dataset sits in a subdirectory named after it
(``gset/``, ``tsplib/``, ``cvrplib/``, ``portfolio/``).
"""

from __future__ import annotations

import os
from pathlib import Path

from kakehashi.exceptions import ModelError

#: The checkout's root when kakehashi runs from ``src/`` (``src/kakehashi/datasets/location.py``).
_REPO = Path(__file__).resolve().parents[3]


def cache_dir() -> Path:
    """The download cache: ``$KAKEHASHI_CACHE_DIR`` or ``~/.cache/kakehashi/data``."""
    env = os.environ.get("KAKEHASHI_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "kakehashi" / "data"


def data_dir() -> Path:
    """The directory holding the datasets (see the module docstring for the search order)."""
    env = os.environ.get("KAKEHASHI_DATA_DIR")
    if env:
        return Path(env).expanduser()
    beside = _REPO.parent / "shared" / "data"
    if (_REPO / "pyproject.toml").is_file() and beside.is_dir():
        return beside
    return cache_dir()


def dataset_file(dataset: str, *parts: str, root: Path | None = None) -> Path:
    """The path of a dataset file; raises :class:`ModelError` with a download hint if missing."""
    base = root if root is not None else data_dir()
    path = base.joinpath(dataset, *parts)
    if not path.is_file():
        raise ModelError(
            f"dataset file not found (looked in {base}); set KAKEHASHI_DATA_DIR or run "
            f"'kakehashi datasets download {dataset}'",
            source=path,
        )
    return path
