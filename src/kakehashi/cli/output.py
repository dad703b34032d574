"""Standard output as a document: with ``--json``, stdout carries exactly one JSON document.

Solvers and native libraries print (HiGHS 1.16 writes a banner to file descriptor 1 from C when
a ``Highs`` object is made). When a command is asked for ``--json``, :func:`reserve_stdout` moves
file descriptor 1 onto stderr for the rest of the process (child processes inherit it), points
``sys.stdout`` at stderr too, and keeps the original stdout for :func:`emit_json` alone. Tables,
progress and chatter then land on stderr, and a pipe into a JSON parser gets one document.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

_document: TextIO | None = None


def reserve_stdout() -> None:
    """Keep the real stdout for :func:`emit_json`; send fd 1 and ``sys.stdout`` to stderr."""
    global _document
    if _document is not None:
        return
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)
    _document = os.fdopen(fd, "w", encoding="utf-8")
    sys.stdout = sys.stderr


def release_stdout() -> None:
    """Undo :func:`reserve_stdout` (tests that run several commands in one process)."""
    global _document
    if _document is None:
        return
    _document.flush()
    os.dup2(_document.fileno(), 1)
    _document.close()
    _document = None
    sys.stdout = sys.__stdout__


def wants_json(argv: list[str]) -> bool:
    """True when the command line asks for ``--json`` (before the ``--`` separator, if any)."""
    args = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in args


def emit_json(document: Any) -> None:
    """Write one JSON document (a str already serialised, or any JSON-able value) to the real stdout."""
    text = document if isinstance(document, str) else json.dumps(document, indent=2, default=str)
    stream = _document if _document is not None else sys.stdout
    if stream.isatty():
        from rich.console import Console

        Console(file=stream, soft_wrap=True).print_json(text)
    else:
        stream.write(text.rstrip("\n") + "\n")
    stream.flush()
