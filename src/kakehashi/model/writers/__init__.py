"""File writers: :func:`write` picks LP, MPS or kakehashi JSON by the file's extension.

=====================  ==============================  =====================================
format                 extensions                      writer
=====================  ==============================  =====================================
``lp``                 ``.lp``                         :mod:`~kakehashi.model.writers.lp`
``mps``                ``.mps``, ``.qps``, ``.fmps``   :mod:`~kakehashi.model.writers.mps`
``kakehashi.problem``  ``.json``                       :meth:`Problem.to_json`
=====================  ==============================  =====================================

A trailing ``.gz`` compresses the file. What is written reads back with
:func:`kakehashi.read` (and, for LP and MPS, with HiGHS) to the same model: same variables,
kinds, bounds, objective and constraints. Labels that are not valid LP/MPS names (integers,
tuples, names with blanks) are renamed ``x<i>``/``c<i>`` and listed in a comment at the top of
the file; :func:`renamed` says which.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem

__all__ = ["WRITE_FORMATS", "renamed", "write", "writes"]

#: Accepted values of ``format``.
WRITE_FORMATS = ("lp", "mps", "kakehashi.problem")

_EXTENSIONS = {".lp": "lp", ".mps": "mps", ".qps": "mps", ".fmps": "mps", ".json": "kakehashi.problem"}


def writes(problem: Problem, format: str) -> str:
    """``problem`` as text in ``format`` (one of :data:`WRITE_FORMATS`)."""
    if format == "lp":
        from kakehashi.model.writers import lp

        return lp.dumps(problem)
    if format == "mps":
        from kakehashi.model.writers import mps

        return mps.dumps(problem)
    if format == "kakehashi.problem":
        return problem.to_json() + "\n"
    raise ModelError(f"expected a format among {', '.join(WRITE_FORMATS)}, got {format!r}", field="format")


def format_of(path: str | Path) -> str | None:
    """The format a path's extension names (``None`` if none does); ``.gz`` is looked through."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return _EXTENSIONS.get(suffixes[-1]) if suffixes else None


def write(problem: Problem, path: str | Path, *, format: str | None = None) -> Path:
    """Write ``problem`` to ``path`` in ``format`` (default: from the extension); returns the path.

    Raises:
        ModelError: unknown format, a model the format cannot hold (spin variables), or a file
            that cannot be written.
    """
    p = Path(path)
    fmt = format or format_of(p)
    if fmt is None:
        raise ModelError(
            "cannot tell the format from the extension; expected .lp, .mps or .json, or pass format=...",
            source=p,
        )
    text = writes(problem, fmt)
    data = text.encode("utf-8")
    try:
        p.write_bytes(gzip.compress(data) if p.suffix.lower() == ".gz" else data)
    except OSError as exc:
        raise ModelError(f"cannot write the file: {exc.strerror}", source=p) from exc
    return p


def renamed(problem: Problem) -> dict[str, str]:
    """Labels of ``problem`` that LP/MPS writers rename: ``{repr(label): written name}``."""
    from kakehashi.model.writers.flat import flatten

    return flatten(problem).renamed
