"""Reader for Gset / rudy MaxCut graphs: ``N M`` then ``M`` lines ``i j w`` (1-based, undirected).

The problem is a SPIN BQM whose energy *is* the cut value, to be maximised::

    cut(s) = Σ_{(i,j)} w_ij (1 - s_i s_j) / 2   →   offset Σ w_ij / 2,  J_ij = -w_ij / 2

Vertices are relabelled 0..N-1 (``vertex k`` in the file is variable ``k - 1``); isolated vertices
are still variables. ``known_optimum`` comes from ``best_known.csv`` beside the file when it
lists the instance (columns ``instance`` and ``best_known``). Checked: header, vertex range,
self-loops, duplicate edges (either orientation) and the edge count, each with file and line.
"""

from __future__ import annotations

import csv
from pathlib import Path

import dimod
import numpy as np

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem

#: The most vertices a rudy/Gset header may declare (G-set's largest graph has 20,000).
MAX_VERTICES = 1_000_000


def parse_edges(text: str, source: str | None = None) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Parse rudy text into ``(n, i, j, w)`` with 0-based vertex arrays; raises :class:`ModelError`."""
    lines = text.splitlines()
    header_line = 0
    header: list[str] = []
    for k, raw in enumerate(lines, start=1):
        if raw.strip() and not raw.lstrip().startswith(("#", "%", "c ")):
            header, header_line = raw.split(), k
            break
    if len(header) != 2 or not all(h.isdigit() for h in header):
        raise ModelError(
            "expected a header 'N M' (vertex and edge counts)", source=source, line=header_line or 1
        )
    n, m = int(header[0]), int(header[1])
    # declared sizes are budgets: checked against the limit and the lines present before allocating
    if n > MAX_VERTICES:
        raise ModelError(f"{n} vertices exceed the limit of {MAX_VERTICES}", source=source, line=header_line)
    present = sum(1 for raw in lines[header_line:] if raw.strip())
    if m > present:
        raise ModelError(
            f"the header announces {m} edges but the file has {present}", source=source, line=header_line
        )
    ii = np.empty(m, dtype=np.int64)
    jj = np.empty(m, dtype=np.int64)
    ww = np.empty(m, dtype=float)
    seen: dict[tuple[int, int], int] = {}
    count = 0
    for k in range(header_line, len(lines)):
        raw = lines[k]
        if not raw.strip():
            continue
        lineno = k + 1
        parts = raw.split()
        if len(parts) not in (2, 3):
            raise ModelError(f"expected an edge 'i j w', got {raw.strip()!r}", source=source, line=lineno)
        try:
            i, j = int(parts[0]), int(parts[1])
            w = float(parts[2]) if len(parts) == 3 else 1.0
        except ValueError:
            raise ModelError(
                f"expected integers i j and a number w, got {raw.strip()!r}", source=source, line=lineno
            ) from None
        for v in (i, j):
            if not 1 <= v <= n:
                raise ModelError(f"vertex {v} is outside 1..{n}", source=source, line=lineno)
        if i == j:
            raise ModelError(f"self-loop on vertex {i}", source=source, line=lineno)
        key = (min(i, j), max(i, j))
        if key in seen:
            raise ModelError(
                f"duplicate edge {i} {j} (first on line {seen[key]})", source=source, line=lineno
            )
        seen[key] = lineno
        if count >= m:
            raise ModelError(f"more than the {m} edges announced in the header", source=source, line=lineno)
        ii[count], jj[count], ww[count] = i - 1, j - 1, w
        count += 1
    if count != m:
        raise ModelError(
            f"the header announces {m} edges but the file has {count}", source=source, line=header_line
        )
    return n, ii, jj, ww


def maxcut_bqm(n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray) -> dimod.BinaryQuadraticModel:
    """The SPIN BQM whose energy is the cut value: offset Σw/2, J_ij = -w_ij/2."""
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(
        linear=np.zeros(n), quadratic=(i, j, -0.5 * w), offset=0.5 * float(w.sum()), vartype=dimod.SPIN
    )
    return bqm


def best_known(path: Path, instance: str) -> float | None:
    """The ``best_known`` value of ``instance`` in ``path/../best_known.csv``, if listed."""
    table = path.parent / "best_known.csv"
    if not table.is_file():
        return None
    with table.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("instance") == instance and row.get("best_known"):
                try:
                    return float(row["best_known"])
                except ValueError:
                    return None
    return None


def reads(text: str, *, source: str | Path | None = None, name: str = "maxcut") -> Problem:
    """Parse rudy ``text`` into a MaxCut :class:`Problem` (sense ``"max"``)."""
    src = None if source is None else str(source)
    n, i, j, w = parse_edges(text, src)
    metadata: dict[str, object] = {"format": "gset", "instance": name, "n": n, "m": len(w), "kind": "maxcut"}
    if src is not None:
        metadata["source"] = src
    return Problem(maxcut_bqm(n, i, j, w), name=name, sense="max", metadata=metadata)


def read(path: str | Path) -> Problem:
    """Read a Gset/rudy file; ``known_optimum`` from a ``best_known.csv`` beside it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read the file: {exc}", source=p) from exc
    name = p.stem
    problem = reads(text, source=p, name=name)
    problem.known_optimum = best_known(p, name)
    return problem
