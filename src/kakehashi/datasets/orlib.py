"""OR-Library portfolio instances (Chang, Meade, Beasley & Sharaiha 2000) and their frontiers.

``port<k>.txt``: ``N``, then ``N`` lines ``mean_return std_dev``, then ``N(N+1)/2`` lines
``i j correlation`` (1-based, ``i <= j``). Returns are per period (weekly) as fractions.
``portef<k>.txt``: the unconstrained efficient frontier, lines ``mean_return variance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kakehashi.datasets.location import dataset_file
from kakehashi.exceptions import ModelError

#: Instance number -> market, as in the OR-Library description.
MARKETS = {1: "Hang Seng", 2: "DAX 100", 3: "FTSE 100", 4: "S&P 100", 5: "Nikkei 225"}


@dataclass
class PortfolioInstance:
    """Asset statistics: ``mean`` and ``std`` (n,), ``correlation`` (n, n) symmetric, unit diagonal."""

    name: str
    mean: np.ndarray
    std: np.ndarray
    correlation: np.ndarray

    @property
    def n(self) -> int:
        return len(self.mean)

    @property
    def covariance(self) -> np.ndarray:
        """``sigma_ij = rho_ij * sigma_i * sigma_j`` (n, n)."""
        return self.correlation * np.outer(self.std, self.std)


@dataclass
class Frontier:
    """The unconstrained efficient frontier: ``mean_return`` and ``variance`` per point."""

    mean_return: np.ndarray
    variance: np.ndarray


def _numbers(path: Path) -> list[tuple[int, list[str]]]:
    return [
        (k, line.split())
        for k, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1)
        if line.strip()
    ]


def read_portfolio(path: str | Path) -> PortfolioInstance:
    """Read ``port<k>.txt``; raises :class:`ModelError` naming the file and line."""
    p = Path(path)
    rows = _numbers(p)
    if not rows:
        raise ModelError("empty file", source=p)
    try:
        n = int(rows[0][1][0])
        if n < 1 or 1 + n + n * (n + 1) // 2 > len(rows):  # checked before allocating N x N
            raise ModelError(f"N = {n} assets need {1 + n + n * (n + 1) // 2} records, got {len(rows)}", source=p)
        mean = np.empty(n)
        std = np.empty(n)
        for a in range(n):
            lineno, fields = rows[1 + a]
            mean[a], std[a] = float(fields[0]), float(fields[1])
        corr = np.full((n, n), np.nan)
        expected = n * (n + 1) // 2
        pairs = rows[1 + n :]
        if len(pairs) != expected:
            raise ModelError(f"expected {expected} correlation lines, got {len(pairs)}", source=p)
        for lineno, fields in pairs:
            i, j, rho = int(fields[0]) - 1, int(fields[1]) - 1, float(fields[2])
            if not (0 <= i < n and 0 <= j < n):
                raise ModelError(f"asset index outside 1..{n}", source=p, line=lineno)
            corr[i, j] = corr[j, i] = rho
    except (IndexError, ValueError):
        raise ModelError(
            "expected numbers in the OR-Library portfolio layout", source=p, line=lineno
        ) from None
    if np.isnan(corr).any():
        raise ModelError("some asset pairs have no correlation line", source=p)
    return PortfolioInstance(name=p.stem, mean=mean, std=std, correlation=corr)


def read_frontier(path: str | Path) -> Frontier:
    """Read ``portef<k>.txt`` (lines ``mean_return variance``)."""
    p = Path(path)
    data = np.array([[float(x) for x in f[:2]] for _, f in _numbers(p)])
    return Frontier(mean_return=data[:, 0], variance=data[:, 1])


def load(k: int | str, *, root: Path | None = None) -> PortfolioInstance:
    """Instance ``port<k>`` (``k`` = 1, 3 or 5 in the shared data, or the name ``"port1"``)."""
    name = k if isinstance(k, str) else f"port{k}"
    return read_portfolio(dataset_file("portfolio", f"{name}.txt", root=root))


def load_frontier(k: int | str, *, root: Path | None = None) -> Frontier:
    """The efficient frontier ``portef<k>``."""
    name = k if isinstance(k, str) else f"portef{k}"
    return read_frontier(dataset_file("portfolio", f"{name}.txt", root=root))
