"""TSPLIB95 distance functions (Reinelt 1995, section 2), exactly as the library defines them.

All functions return integer matrices (numpy int64) of the TSPLIB edge weights between the rows
of ``coords``:

* ``EUC_2D``: ``nint(sqrt(dx² + dy²))`` with nint = round half up (``int(x + 0.5)``).
* ``CEIL_2D``: ``ceil(sqrt(dx² + dy²))``.
* ``ATT``: pseudo-Euclidean ``r = sqrt((dx² + dy²) / 10)``, ``t = nint(r)``, ``t + 1 if t < r``.
* ``GEO``: coordinates are DDD.MM (degrees and minutes); distance on an idealised sphere of
  radius 6378.388 km, truncated to an integer after adding 1.
"""

from __future__ import annotations

import math

import numpy as np

SUPPORTED = ("EUC_2D", "CEIL_2D", "ATT", "GEO", "EXPLICIT")
#: TSPLIB95 fixes PI to six decimals for GEO; using math.pi changes some rounded distances.
_PI = 3.141592


def euc_2d(coords: np.ndarray) -> np.ndarray:
    """TSPLIB EUC_2D: Euclidean distance rounded to the nearest integer (half up)."""
    d = _euclid(coords)
    return np.floor(d + 0.5).astype(np.int64)


def ceil_2d(coords: np.ndarray) -> np.ndarray:
    """TSPLIB CEIL_2D: Euclidean distance rounded up."""
    return np.ceil(_euclid(coords) - 1e-9).astype(np.int64)


def att(coords: np.ndarray) -> np.ndarray:
    """TSPLIB ATT pseudo-Euclidean distance (att48, att532)."""
    c = np.asarray(coords, dtype=np.float64)
    diff = c[:, None, :] - c[None, :, :]
    r = np.sqrt((diff**2).sum(axis=2) / 10.0)
    t = np.floor(r + 0.5)
    return np.asarray(np.where(t < r, t + 1, t), dtype=np.int64)


def _geo_radians(x: float) -> float:
    deg = math.trunc(x)
    minutes = x - deg
    return _PI * (deg + 5.0 * minutes / 3.0) / 180.0


def geo(coords: np.ndarray) -> np.ndarray:
    """TSPLIB GEO distance in km (coordinates as DDD.MM latitude/longitude)."""
    c = np.asarray(coords, dtype=np.float64)
    n = c.shape[0]
    lat = np.array([_geo_radians(float(v)) for v in c[:, 0]])
    lon = np.array([_geo_radians(float(v)) for v in c[:, 1]])
    rrr = 6378.388
    out = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        q1 = np.cos(lon[i] - lon)
        q2 = np.cos(lat[i] - lat)
        q3 = np.cos(lat[i] + lat)
        arg = 0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)
        d = (rrr * np.arccos(np.clip(arg, -1.0, 1.0)) + 1.0).astype(np.int64)
        out[i] = d
    np.fill_diagonal(out, 0)
    return out


def _euclid(coords: np.ndarray) -> np.ndarray:
    c = np.asarray(coords, dtype=np.float64)
    diff = c[:, None, :] - c[None, :, :]
    return np.asarray(np.sqrt((diff**2).sum(axis=2)))


def distance_matrix(coords: np.ndarray, edge_weight_type: str) -> np.ndarray:
    """The TSPLIB distance matrix of ``coords`` under ``edge_weight_type`` (int64)."""
    kind = edge_weight_type.upper()
    if kind == "EUC_2D":
        return euc_2d(coords)
    if kind == "CEIL_2D":
        return ceil_2d(coords)
    if kind == "ATT":
        return att(coords)
    if kind == "GEO":
        return geo(coords)
    raise ValueError(f"unsupported EDGE_WEIGHT_TYPE {edge_weight_type!r}; supported: {', '.join(SUPPORTED)}")
