"""File readers: :func:`read` picks one by the file's extension or, failing that, by its content.

=====================  ==============================  =====================================
format                 extensions                      reader
=====================  ==============================  =====================================
``lp``                 ``.lp``                         :mod:`~kakehashi.model.readers.lp`
``mps``                ``.mps``, ``.qps``, ``.fmps``   :mod:`~kakehashi.model.readers.mps`
``qubo`` / ``ising``   ``.json``                       :mod:`~kakehashi.model.readers.qubo_json`
``kakehashi.problem``  ``.json``                       :meth:`Problem.from_dict`
``gset``               ``.gset``, ``.rud``, ``.txt``   :mod:`~kakehashi.model.readers.gset`
=====================  ==============================  =====================================

A trailing ``.gz`` is decompressed first. Every syntax error is a :class:`ModelError` naming the
file and the line. Schemas and the supported subsets are in ``docs/formats.md``.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem

__all__ = ["FORMATS", "detect_format", "read", "reads"]

#: Accepted values of ``format``.
FORMATS = ("lp", "mps", "json", "qubo", "ising", "kakehashi.problem", "gset")

_EXTENSIONS = {
    ".lp": "lp",
    ".mps": "mps",
    ".qps": "mps",
    ".fmps": "mps",
    ".json": "json",
    ".gset": "gset",
    ".rud": "gset",
}
_LP_START = re.compile(r"\s*(minimi[sz]e|maximi[sz]e|minimum|maximum|min|max)\b", re.IGNORECASE)
_MPS_START = re.compile(r"(NAME|ROWS|OBJSENSE|OBJSENS|OBJSENCE|OBJNAME)\b")
_GSET_START = re.compile(r"\s*\d+\s+\d+\s*$")


def detect_format(text: str) -> str | None:
    """Guess the format of ``text`` from its first meaningful line (``None`` if unknown)."""
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith(("\\", "*")):
            continue
        if stripped.startswith(("{", "[")):
            return "json"
        if _MPS_START.match(line):
            return "mps"
        if _LP_START.match(line):
            return "lp"
        if _GSET_START.match(line):
            return "gset"
        return None
    return None


def _check_format(format: str | None, source: str | None) -> None:
    if format is not None and format not in FORMATS:
        raise ModelError(f"expected a format among {', '.join(FORMATS)}, got {format!r}", source=source)


def reads(
    text: str, *, format: str | None = None, source: str | Path | None = None, name: str | None = None
) -> Problem:
    """Parse ``text`` in ``format`` (detected from the content when ``None``)."""
    src = None if source is None else str(source)
    _check_format(format, src)
    fmt = format or detect_format(text)
    if fmt is None:
        raise ModelError(
            "cannot tell the file format from its content; expected LP ('Minimize'/'Maximize'), "
            "MPS ('NAME'/'ROWS'), JSON ('{') or Gset ('N M'); pass format=...",
            source=src,
            line=1,
        )
    if fmt == "lp":
        from kakehashi.model.readers import lp

        return lp.reads(text, source=src, name=name)
    if fmt == "mps":
        from kakehashi.model.readers import mps

        return mps.reads(text, source=src, name=name)
    if fmt == "gset":
        from kakehashi.model.readers import gset

        return gset.reads(text, source=src, name=name or (Path(src).stem if src else "maxcut"))
    from kakehashi.model.readers import qubo_json

    return qubo_json.reads(text, source=src, format=None if fmt == "json" else fmt)


def read(path: str | Path, *, format: str | None = None) -> Problem:
    """Read a problem file: LP, MPS, QUBO/Ising JSON, ``kakehashi.problem`` JSON or Gset.

    Args:
        path: the file; a ``.gz`` suffix is decompressed.
        format: one of :data:`FORMATS`; by default taken from the extension, then the content.
    Raises:
        ModelError: unreadable file, unknown format, or a syntax error (with file and line).
    """
    p = Path(path)
    _check_format(format, str(p))
    suffixes = [s.lower() for s in p.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    ext = suffixes[-2] if compressed and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    try:
        raw = gzip.decompress(p.read_bytes()) if compressed else p.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ModelError(f"cannot read the file: {exc}", source=p) from exc
    text = raw.decode("utf-8", errors="replace")
    fmt = format or _EXTENSIONS.get(ext) or detect_format(text)
    if fmt is None:
        raise ModelError(
            "cannot tell the file format from its extension or content; expected .lp, .mps, .json "
            "or a Gset graph; pass format=...",
            source=p,
        )
    stem = p.name.split(".")[0] if compressed else p.stem
    if fmt == "gset":
        from kakehashi.model.readers import gset

        problem = gset.reads(text, source=p, name=stem)
        problem.known_optimum = gset.best_known(p, stem)
        return problem
    return reads(text, format=fmt, source=p, name=None if fmt in ("json", "qubo", "ising") else stem)
