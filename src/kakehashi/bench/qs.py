"""Reader for QOBLIB's ``.qs`` QUBO files (ZIMPL output), plain or ``.xz``/``.gz`` compressed.

Layout: comment lines start with ``#`` (``# ObjectiveOffset C`` gives the constant), then a
line ``N NNZ`` and ``NNZ`` lines ``i j c`` with 1-based variable indices and ``i <= j``: the
objective is ``C + Σ c_ij x_i x_j`` over binary ``x`` (``i == j`` is the linear term), to be
minimised. Variables are named ``x1 .. xN`` in file order, so a sample maps back to QOBLIB's
variable numbering.
"""

from __future__ import annotations

import gzip
import lzma
from pathlib import Path

import dimod

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem


def open_text(path: Path) -> str:
    """The text of ``path``, decompressing ``.xz`` (lzma) and ``.gz`` by suffix."""
    try:
        if path.suffix == ".xz":
            with lzma.open(path, "rt", encoding="utf-8") as fh:
                return fh.read()
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                return fh.read()
        return path.read_text(encoding="utf-8")
    except (OSError, lzma.LZMAError, EOFError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read the file: {exc}", source=str(path)) from exc


def parses(text: str, *, name: str = "qubo", source: str | None = None) -> Problem:
    """Parse ``.qs`` text into a BINARY BQM :class:`Problem` (sense ``"min"``)."""
    offset = 0.0
    header: tuple[int, int] | None = None
    bqm = dimod.BinaryQuadraticModel(dimod.BINARY)
    seen = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            words = line[1:].split()
            if len(words) == 2 and words[0] == "ObjectiveOffset":
                try:
                    offset = float(words[1])
                except ValueError as exc:
                    raise ModelError("expected a number after ObjectiveOffset", source=source,
                                     line=lineno) from exc
            continue
        parts = line.split()
        if header is None:
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                raise ModelError("expected a header 'N NNZ'", source=source, line=lineno)
            header = (int(parts[0]), int(parts[1]))
            bqm.add_variables_from((f"x{k}", 0.0) for k in range(1, header[0] + 1))
            continue
        if len(parts) != 3:
            raise ModelError("expected 'i j coefficient'", source=source, line=lineno)
        try:
            i, j, c = int(parts[0]), int(parts[1]), float(parts[2])
        except ValueError as exc:
            raise ModelError("expected integers i, j and a number", source=source, line=lineno) from exc
        if not (1 <= i <= header[0] and 1 <= j <= header[0]):
            raise ModelError(f"variable index out of 1..{header[0]}", source=source, line=lineno)
        if i == j:
            bqm.add_linear(f"x{i}", c)
        else:
            bqm.add_quadratic(f"x{i}", f"x{j}", c)
        seen += 1
    if header is None:
        raise ModelError("expected a header 'N NNZ'; the file has none", source=source)
    if seen != header[1]:
        raise ModelError(f"header says {header[1]} coefficients, found {seen}", source=source)
    bqm.offset = offset
    return Problem(bqm, name=name, sense="min", metadata={"format": "qs", "source": source or ""})


def read(path: Path, *, name: str | None = None) -> Problem:
    """Read a ``.qs`` / ``.qs.xz`` file."""
    stem = path.name.split(".")[0]
    return parses(open_text(path), name=name or stem, source=str(path))
