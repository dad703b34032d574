"""``kakehashi convert A B``: read a problem file and write it in another format.

Also home of :func:`read_problem`, the CLI's way to read a file: it prints every reader
warning (what the reader skipped or reinterpreted) on stderr, so that no change to the model
goes unsaid.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kakehashi.model.problem import Problem


def print_warnings(problem: Problem) -> None:
    """One ``warning: file:line: message`` line on stderr per reader warning of ``problem``."""
    for warning in problem.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def read_problem(path: Path, format: str | None = None) -> Problem:
    """:func:`kakehashi.read` plus its warnings on stderr."""
    from kakehashi.model.readers import read

    problem = read(path, format=format)
    print_warnings(problem)
    return problem


def convert(
    source: Annotated[Path, typer.Argument(help="Problem file to read (LP, MPS, JSON, Gset; .gz too).")],
    target: Annotated[
        Path, typer.Argument(help="File to write: .lp, .mps or .json (kakehashi.problem); .gz too.")
    ],
    from_format: Annotated[
        str | None, typer.Option("--from", help="Format of SOURCE when its extension does not say.")
    ] = None,
    to_format: Annotated[
        str | None, typer.Option("--to", help="Format of TARGET: lp, mps or kakehashi.problem.")
    ] = None,
) -> None:
    """Read SOURCE and write the same model to TARGET (format from the extension or --to).

    Reader warnings and renamed labels are printed on stderr; the written file reads back
    (with kakehashi, and with HiGHS for LP and MPS) to the same model.
    """
    from kakehashi.model.writers import format_of, renamed, write

    problem = read_problem(source, from_format)
    fmt = to_format or format_of(target)
    if fmt in ("lp", "mps"):
        for label, name in renamed(problem).items():
            print(
                f"warning: label {label} is not a valid {fmt.upper()} name: written as {name}",
                file=sys.stderr,
            )
    write(problem, target, format=fmt)
    print(
        f"wrote {target} ({problem.num_variables} variables, {problem.num_constraints} constraints)",
        file=sys.stderr,
    )
