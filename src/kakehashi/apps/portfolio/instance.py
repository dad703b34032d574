"""The portfolio input (pydantic) and its readers: OR-Library ``port*.txt`` and CSV.

Returns and risks are per period (OR-Library: weekly). The covariance must be symmetric and
positive semi-definite; a matrix that is not is rejected with :class:`ModelError` naming the
file and the rule, before any solve.

CSV formats (header required):

* mean/covariance: ``asset,mean,<asset 1>,<asset 2>,...`` one row per asset, the trailing
  columns are that asset's covariance row;
* returns: one column per asset, one row per period (the mean and the sample covariance are
  estimated from it).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kakehashi.exceptions import ModelError

#: Relative tolerance of the PSD check: λ_min >= -PSD_TOL · max(1, |λ_max|).
PSD_TOL = 1e-9


class PortfolioInstance(BaseModel):
    """Assets with expected returns ``mean`` and covariance ``covariance`` (per period).

    Attributes:
        name: instance name.
        assets: asset names.
        mean: expected return per asset (fraction per period).
        covariance: (n, n) covariance of returns.
        known_frontier: the unconstrained efficient frontier as (return, variance) pairs, if known.
        source: file the data came from (for error messages).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    assets: list[str]
    mean: list[float]
    covariance: list[list[float]]
    known_frontier: list[tuple[float, float]] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _check(self) -> PortfolioInstance:
        n = len(self.mean)
        if len(self.assets) != n:
            raise ModelError(f"{len(self.assets)} asset names for {n} means", source=self.source, field="assets")
        cov = np.asarray(self.covariance, dtype=float)
        if cov.shape != (n, n):
            raise ModelError(f"covariance has shape {cov.shape}, expected ({n}, {n})", source=self.source,
                             field="covariance")
        if not np.all(np.isfinite(cov)) or not np.all(np.isfinite(self.mean)):
            raise ModelError("means and covariances must be finite numbers", source=self.source, field="covariance")
        asym = np.abs(cov - cov.T)
        if asym.max() > 1e-9 * max(1.0, float(np.abs(cov).max())):
            i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
            raise ModelError(f"covariance is not symmetric: entry ({i + 1}, {j + 1}) is {cov[i, j]} but "
                             f"({j + 1}, {i + 1}) is {cov[j, i]} (rule: Σ = Σᵀ)", source=self.source,
                             field="covariance")
        eig = np.linalg.eigvalsh(cov)
        if eig[0] < -PSD_TOL * max(1.0, abs(float(eig[-1]))):
            worst = np.linalg.eigh(cov)[1][:, 0]
            k = int(np.argmax(np.abs(worst)))
            raise ModelError(
                f"covariance is not positive semi-definite: smallest eigenvalue {eig[0]:.3g} "
                f"(its eigenvector weighs most on asset {k + 1} {self.assets[k]!r}); rule: Σ ⪰ 0",
                source=self.source, field="covariance")
        return self

    @property
    def n(self) -> int:
        return len(self.mean)

    @property
    def mu(self) -> np.ndarray:
        return np.asarray(self.mean, dtype=np.float64)

    @property
    def sigma(self) -> np.ndarray:
        return np.asarray(self.covariance, dtype=np.float64)


class PortfolioSettings(BaseModel):
    """Chang et al. (2000) constraints: exactly ``k`` assets, each weight in [min_weight, max_weight]."""

    k: int = Field(10, ge=1)
    min_weight: float = Field(0.01, ge=0.0, le=1.0)
    max_weight: float = Field(1.0, gt=0.0, le=1.0)

    def check(self, n: int, source: str | None = None) -> None:
        """Reject settings that no portfolio can satisfy (infeasible by construction)."""
        if self.k > n:
            raise ModelError(f"cardinality K = {self.k} exceeds the {n} assets", source=source, field="k")
        if self.k * self.min_weight > 1.0 + 1e-12:
            raise ModelError(f"K x min_weight = {self.k * self.min_weight:g} > 1: no portfolio sums to 1",
                             source=source, field="min_weight")
        if self.k * self.max_weight < 1.0 - 1e-12:
            raise ModelError(f"K x max_weight = {self.k * self.max_weight:g} < 1: no portfolio sums to 1",
                             source=source, field="max_weight")
        if self.min_weight > self.max_weight:
            raise ModelError("min_weight exceeds max_weight", source=source, field="min_weight")


def read_orlib(path: str | Path) -> PortfolioInstance:
    """Read an OR-Library ``port<k>.txt`` (and ``portef<k>.txt`` beside it, when present)."""
    p = Path(path)
    src = str(p)
    if not p.exists():
        raise ModelError("file not found", source=p)
    lines = [ln for ln in p.read_text().splitlines()]
    it = ((i + 1, ln.split()) for i, ln in enumerate(lines) if ln.strip())
    try:
        line_no, parts = next(it)
        n = int(parts[0])
    except (StopIteration, ValueError, IndexError):
        raise ModelError("the first line must be the number of assets N", source=src, line=1) from None
    records = sum(1 for ln in lines if ln.strip()) - 1
    if n < 1 or n + n * (n + 1) // 2 > records:  # checked before the N x N matrix is allocated
        raise ModelError(f"N = {n} assets need {n} 'mean std' and {n * (n + 1) // 2} correlation records; "
                         f"the file has {records} records", source=src, line=line_no, field="N")
    mean = np.zeros(n)
    std = np.zeros(n)
    for a in range(n):
        try:
            line_no, parts = next(it)
            mean[a], std[a] = float(parts[0]), float(parts[1])
        except StopIteration:
            raise ModelError(f"expected {n} 'mean std' records, found {a}", source=src) from None
        except (ValueError, IndexError):
            raise ModelError(f"asset {a + 1}: expected 'mean std', got {' '.join(parts)!r}", source=src,
                             line=line_no) from None
        if std[a] < 0:
            raise ModelError(f"asset {a + 1}: negative standard deviation {std[a]}", source=src, line=line_no)
    corr = np.full((n, n), np.nan)
    for line_no, parts in it:
        try:
            i, j, rho = int(parts[0]) - 1, int(parts[1]) - 1, float(parts[2])
        except (ValueError, IndexError):
            raise ModelError(f"expected 'i j correlation', got {' '.join(parts)!r}", source=src, line=line_no) from None
        if not (0 <= i < n and 0 <= j < n):
            raise ModelError(f"asset index out of 1..{n}", source=src, line=line_no)
        if abs(rho) > 1 + 1e-9:
            raise ModelError(f"correlation {rho} outside [-1, 1] (rule: |ρ| <= 1)", source=src, line=line_no)
        corr[i, j] = corr[j, i] = rho
    if np.isnan(corr).any():
        i, j = np.argwhere(np.isnan(corr))[0]
        raise ModelError(f"missing correlation for assets ({i + 1}, {j + 1}); N(N+1)/2 records expected",
                         source=src)
    cov = corr * np.outer(std, std)
    frontier = None
    ef = p.with_name(p.name.replace("port", "portef"))
    if ef.exists() and ef != p:
        pts = [tuple(map(float, ln.split()[:2])) for ln in ef.read_text().splitlines() if ln.strip()]
        frontier = [(r, v) for r, v in pts]
    return PortfolioInstance(name=p.stem, assets=[f"asset{a + 1}" for a in range(n)], mean=mean.tolist(),
                             covariance=cov.tolist(), known_frontier=frontier, source=src)


def read_csv(path: str | Path) -> PortfolioInstance:
    """Read a mean/covariance CSV or a returns CSV (see the module docstring)."""
    p = Path(path)
    src = str(p)
    with p.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise ModelError("empty CSV", source=src)
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    if len(header) >= 2 and header[0].lower() == "asset" and header[1].lower() == "mean":
        names = header[2:]
        n = len(names)
        mean, cov, assets = [], [], []
        for k, r in enumerate(body):
            if len(r) != n + 2:
                raise ModelError(f"expected {n + 2} columns, got {len(r)}", source=src, line=k + 2)
            try:
                assets.append(r[0].strip())
                mean.append(float(r[1]))
                cov.append([float(x) for x in r[2:]])
            except ValueError:
                raise ModelError(f"non-numeric value in {r!r}", source=src, line=k + 2) from None
        if len(body) != n:
            raise ModelError(f"{len(body)} asset rows for {n} covariance columns", source=src)
        return PortfolioInstance(name=p.stem, assets=assets, mean=mean, covariance=cov, source=src)
    try:
        data = np.asarray([[float(x) for x in r] for r in body], dtype=float)
    except ValueError as exc:
        raise ModelError(f"returns CSV must be numeric: {exc}", source=src) from None
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] != len(header):
        raise ModelError("a returns CSV needs at least 2 rows with one column per asset", source=src)
    sample_cov = np.atleast_2d(np.cov(data, rowvar=False))
    return PortfolioInstance(name=p.stem, assets=header, mean=data.mean(axis=0).tolist(),
                             covariance=sample_cov.tolist(), source=src)


def read_portfolio(path: str | Path) -> PortfolioInstance:
    """Read ``.csv`` or an OR-Library text file."""
    p = Path(path)
    if not p.exists():
        raise ModelError("file not found", source=p)
    return read_csv(p) if p.suffix.lower() == ".csv" else read_orlib(p)
