"""Gset MaxCut instances (Helmberg & Rendl): ``load("G1")`` and the best-known cuts."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from kakehashi.datasets.location import data_dir, dataset_file
from kakehashi.model.problem import Problem


@dataclass(frozen=True)
class BestKnown:
    """One row of ``gset/best_known.csv``: size, weight kind and the best-known cut."""

    instance: str
    n: int
    m: int
    weights: str
    best_known: float
    source: str


def load(name: str, *, root: Path | None = None) -> Problem:
    """The MaxCut :class:`Problem` of Gset instance ``name`` (e.g. ``"G1"``), sense ``"max"``."""
    from kakehashi.model.readers import gset as reader

    return reader.read(dataset_file("gset", f"{name}.txt", root=root))


def instances(*, root: Path | None = None) -> list[str]:
    """Names of the Gset graphs present, in numeric order (``G1, G2, ..., G81``)."""
    folder = (root if root is not None else data_dir()) / "gset"
    names = [p.stem for p in folder.glob("G*.txt")]
    return sorted(names, key=lambda s: int(s[1:]) if s[1:].isdigit() else 1 << 30)


def best_known(*, root: Path | None = None) -> dict[str, BestKnown]:
    """The table ``gset/best_known.csv`` by instance name."""
    path = dataset_file("gset", "best_known.csv", root=root)
    out: dict[str, BestKnown] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["instance"]] = BestKnown(
                instance=row["instance"],
                n=int(row["n"]),
                m=int(row["m"]),
                weights=row["weights"],
                best_known=float(row["best_known"]),
                source=row.get("best_known_source", ""),
            )
    return out
