"""The dataset registry: each dataset's files, their SHA-256 checksums and original URLs.

The table lives in ``registry.json`` beside this module. Checksums were computed from the
reference copies the project tests against (``../shared/data``); each file records the URL it
is published under at its original site (Gset files have no extension there, TSPLIB files are
gzip-compressed; the checksum is of the uncompressed file). Files with ``url: null`` (the
tables of optima compiled from the literature, licence files) are not published at the original
sites and are fetched only from a mirror (``base_url``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from kakehashi.exceptions import KakehashiError


@dataclass(frozen=True)
class DatasetFile:
    """One file: ``path`` relative to the data directory (e.g. ``gset/G1.txt``)."""

    path: str
    sha256: str
    size: int
    url: str | None = None
    compression: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A named collection of files (``gset``, ``tsplib``, ``cvrplib``, ``portfolio``)."""

    name: str
    description: str
    home: str
    files: tuple[DatasetFile, ...]

    @property
    def size(self) -> int:
        """Total size of the (uncompressed) files in bytes."""
        return sum(f.size for f in self.files)


@cache
def registry() -> dict[str, Dataset]:
    """All registered datasets by name."""
    raw = json.loads(resources.files("kakehashi.datasets").joinpath("registry.json").read_text("utf-8"))
    return {
        name: Dataset(
            name=name,
            description=entry["description"],
            home=entry["home"],
            files=tuple(DatasetFile(**f) for f in entry["files"]),
        )
        for name, entry in raw.items()
    }


def get_dataset(name: str) -> Dataset:
    """The dataset called ``name``; raises :class:`KakehashiError` listing the known names."""
    datasets = registry()
    if name not in datasets:
        raise KakehashiError(f"unknown dataset {name!r}; expected one of {', '.join(sorted(datasets))}")
    return datasets[name]


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
