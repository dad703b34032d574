"""Reader for fixed and free MPS files (the subset documented in ``docs/formats.md``).

Sections: ``NAME``, ``OBJSENSE`` (``MIN``/``MAX``, on the same or the next line), ``OBJSENSE``
aliases ``MAXIMIZE``/``MINIMIZE``, ``ROWS`` (``N``, ``L``, ``G``, ``E``; the first ``N`` row is
the objective, later ones are free rows and are dropped), ``COLUMNS`` with ``'MARKER'``
``'INTORG'``/``'INTEND'`` integer blocks, ``RHS`` (an RHS on the objective row is the negated
objective constant, as in CPLEX and HiGHS), ``RANGES`` (a ranged row becomes two constraints,
``<row>_lo`` and ``<row>_hi``), ``BOUNDS`` (``UP LO FX FR MI PL BV LI UI``), ``QUADOBJ``
(lower triangle) / ``QMATRIX`` / ``QSECTION`` (full matrix) for ``0.5 x'Qx`` in the objective,
``QCMATRIX <row>`` for quadratic constraint terms (full matrix, no 0.5), and ``ENDATA``.

Fields are split on white space (free MPS); a line whose field count does not fit is read again
by the fixed-format columns (2-3, 5-12, 15-22, 25-36, 40-47, 50-61), so fixed files whose names
contain blanks are read too. A line with ``*`` in column 1 is a comment; an indented ``*`` is
data (a name such as ``*RHS*``), in fixed and free files alike, as HiGHS reads them.

Conventions: variables in an ``INTORG`` block that get no bound at all are integers in
``[0, 1]`` (the MPSX convention; HiGHS and CPLEX read them so too). An ``UP`` bound below zero
on a variable whose lower bound is still the default 0 sets the lower bound to ``-inf`` (the
CPLEX, Gurobi and lp_solve convention; HiGHS 1.16 keeps 0, which makes the model infeasible).
A second value for an entry already given (a (column, row) pair, a row's RHS or range, a side
of a column's bounds) is ignored and the first kept, as HiGHS does. Numbers may carry a Fortran
``D`` exponent. Rows with no entries are kept.

No silent loss: everything skipped or reinterpreted (free rows, text after ``ENDATA``, a
duplicate, a negative ``UP``, ``OBJSENCE``) is a warning in :attr:`Problem.warnings`; what the
model cannot hold yet (``SC``/``SI`` bounds, ``SOS``, continuous quadratic terms) is a
:class:`ModelError` naming the feature, the file and the line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem
from kakehashi.model.readers.spec import (
    ConstraintSense,
    ConstraintSpec,
    Expression,
    ModelSpec,
    VarSpec,
    build,
)

_SECTIONS = {
    "NAME",
    "OBJSENSE",
    "OBJSENS",
    "OBJSENCE",
    "OBJNAME",
    "ROWS",
    "COLUMNS",
    "RHS",
    "RANGES",
    "BOUNDS",
    "QUADOBJ",
    "QMATRIX",
    "QSECTION",
    "QCMATRIX",
    "ENDATA",
}
_UNSUPPORTED = {
    "SOS": "SOS constraints",
    "INDICATORS": "indicator constraints",
    "CSECTION": "conic constraints",
    "GENCONS": "general constraints",
    "PWLOBJ": "piecewise-linear objectives",
    "SCENARIOS": "stochastic scenarios",
}
_ROW_SENSES: dict[str, ConstraintSense | None] = {"N": None, "L": "<=", "G": ">=", "E": "=="}
_BOUND_TYPES = {"UP", "LO", "FX", "FR", "MI", "PL", "BV", "LI", "UI", "SC", "SI"}
#: which sides of a column's domain each bound type sets (HiGHS keeps the first of each side)
_BOUND_SIDES = {
    "UP": "u",
    "UI": "u",
    "PL": "u",
    "LO": "l",
    "LI": "l",
    "MI": "l",
    "FX": "lu",
    "FR": "lu",
    "BV": "lu",
}
#: a Fortran double-precision literal: 1.0D3, -2d-1
_FORTRAN_D = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)[dD][+-]?\d+")
_FIXED_COLUMNS = ((1, 3), (4, 12), (14, 22), (24, 36), (39, 47), (49, 61))


def _fixed_fields(line: str) -> list[str]:
    fields = [line[a:b].strip() for a, b in _FIXED_COLUMNS]
    while fields and not fields[-1]:
        fields.pop()
    if fields and not fields[0]:
        fields.pop(0)  # COLUMNS, RHS and RANGES lines leave field 1 blank
    return fields


class _Reader:
    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.src = spec.source
        self.rows: dict[str, ConstraintSense | None] = {}
        self.row_line: dict[str, int] = {}
        self.objective_row: str | None = None
        self.bodies: dict[str, Expression] = {}
        self.rhs: dict[str, float] = {}
        self.ranges: dict[str, float] = {}
        self.bounded: set[str] = set()
        self.bound_sides: dict[str, str] = {}
        self.objname: str | None = None
        self.objname_line = 0
        self.integer_block = False
        self.marker_integers: set[str] = set()
        self.q_row: str | None = None
        self.line = 0

    def error(self, message: str) -> ModelError:
        return ModelError(message, source=self.src, line=self.line)

    def number(self, text: str, what: str) -> float:
        if _FORTRAN_D.fullmatch(text):
            text = text.replace("D", "E").replace("d", "e")  # Fortran exponent, as HiGHS reads it
        try:
            value = float(text)
        except ValueError:
            raise self.error(f"expected a number for {what}, got {text!r}") from None
        if math.isnan(value):
            raise self.error(f"expected a number for {what}, got {text!r}")
        return value

    def fields(
        self,
        line: str,
        allowed: tuple[int, ...],
        what: str,
        plausible: Callable[[list[str]], bool] | None = None,
    ) -> list[str]:
        """Free-format fields if they fit (and look ``plausible``), else the fixed-format columns."""
        fields = line.split()
        fixed = _fixed_fields(line)
        fixed_ok = len(fixed) in allowed and all(fixed)
        if len(fields) in allowed and (plausible is None or plausible(fields) or not fixed_ok):
            return fields
        if fixed_ok:
            return fixed
        counts = " or ".join(str(n) for n in allowed)
        raise self.error(f"expected {counts} fields in {what}, got {len(fields)}: {line.strip()!r}")

    # ---------------------------------------------------------------- parse
    def parse(self, text: str) -> None:
        section: str | None = None
        ended = False
        for self.line, raw in enumerate(text.splitlines(), start=1):
            line = raw.rstrip()
            if not line.strip() or line.startswith("*"):
                continue  # only a '*' in column 1 starts a comment: names may begin with '*'
            if ended:
                self.spec.warn(f"text after ENDATA is ignored: {line.strip()[:40]!r}", self.line)
                break
            if not line[0].isspace():
                head = line.split()
                keyword = head[0].upper()
                if keyword in _UNSUPPORTED:
                    raise self.error(f"{_UNSUPPORTED[keyword]} (the {keyword} section) are not supported yet")
                if keyword not in _SECTIONS:
                    raise self.error(f"expected a section name (NAME, ROWS, COLUMNS, ...), got {head[0]!r}")
                if keyword == "OBJSENCE":
                    self.spec.warn(
                        "the OBJSENCE section is read as OBJSENSE (HiGHS 1.16 ignores it)", self.line
                    )
                    keyword = "OBJSENSE"
                section = keyword
                self.start_section(keyword, head[1:])
                ended = keyword == "ENDATA"
                continue
            if section is None:
                raise self.error("expected a section name such as NAME or ROWS before data lines")
            self.data(section, line)
        if not ended:
            raise ModelError("expected ENDATA at the end of the file", source=self.src, line=self.line)
        if self.objective_row is None and not self.rows:
            raise ModelError("expected a ROWS section", source=self.src)
        if self.objname is not None and self.objective_row is None:
            raise ModelError(
                f"OBJNAME names {self.objname!r}, which is not an N row",
                source=self.src,
                line=self.objname_line,
            )

    def start_section(self, keyword: str, rest: list[str]) -> None:
        if keyword == "NAME":
            if rest:
                self.spec.name = " ".join(rest)
        elif keyword in ("OBJSENSE", "OBJSENS") and rest:
            self.objsense(rest[0])
        elif keyword == "OBJNAME" and rest:
            self.set_objname(rest[0])
        elif keyword == "QCMATRIX":
            if not rest:
                raise self.error("expected a row name after QCMATRIX")
            self.q_row = rest[0]
            if self.rows.get(self.q_row, "N") is None or self.q_row not in self.rows:
                raise self.error(f"expected a constraint row after QCMATRIX, got {self.q_row!r}")
        elif keyword == "RHS" and rest:
            raise self.error("expected the RHS keyword alone on its line")

    def set_objname(self, name: str) -> None:
        if self.rows:
            raise self.error("expected OBJNAME before ROWS")
        self.objname, self.objname_line = name, self.line
        self.spec.warn(
            f"the objective is the N row {name!r} named by OBJNAME (HiGHS 1.16 ignores OBJNAME "
            "and takes the first N row)",
            self.line,
        )

    def objsense(self, word: str) -> None:
        w = word.upper()
        if w in ("MAX", "MAXIMIZE", "MAXIMISE"):
            self.spec.sense = "max"
        elif w in ("MIN", "MINIMIZE", "MINIMISE"):
            self.spec.sense = "min"
        else:
            raise self.error(f"expected MIN or MAX in OBJSENSE, got {word!r}")

    def data(self, section: str, line: str) -> None:
        if section in ("OBJSENSE", "OBJSENS"):
            self.objsense(line.split()[0])
        elif section == "OBJNAME":
            self.set_objname(line.split()[0])
        elif section == "NAME":
            raise self.error(f"expected a section name after NAME, got {line.strip()!r}")
        elif section == "ROWS":
            self.row(line)
        elif section == "COLUMNS":
            self.column(line)
        elif section in ("RHS", "RANGES"):
            self.rhs_or_range(line, self.rhs if section == "RHS" else self.ranges, section)
        elif section == "BOUNDS":
            self.bound(line)
        elif section in ("QUADOBJ", "QMATRIX", "QSECTION", "QCMATRIX"):
            self.quadratic(section, line)
        else:  # ENDATA handled by parse
            raise self.error(f"unexpected data line in {section}")

    def row(self, line: str) -> None:
        kind, name = self.fields(line, (2,), "a ROWS line (type, name)")
        kind = kind.upper()
        if kind not in _ROW_SENSES:
            raise self.error(f"expected a row type N, L, G or E, got {kind!r}")
        if name in self.rows:
            raise self.error(f"duplicate row name {name!r}")
        self.rows[name] = _ROW_SENSES[kind]
        self.row_line[name] = self.line
        if kind == "N" and self.objective_row is None and self.objname in (None, name):
            self.objective_row = name
        self.bodies[name] = Expression()

    def column(self, line: str) -> None:
        fields = line.split()
        if len(fields) >= 3 and fields[1].strip("'\"").upper() == "MARKER":
            marker = fields[2].strip("'\"").upper()
            if marker == "INTORG":
                self.integer_block = True
            elif marker == "INTEND":
                self.integer_block = False
            else:
                raise self.error(f"expected 'INTORG' or 'INTEND' after 'MARKER', got {fields[2]!r}")
            return
        fields = self.fields(
            line,
            (3, 5),
            "a COLUMNS line (column, row, value[, row, value])",
            lambda f: all(r in self.rows for r in f[1::2]),
        )
        col = fields[0]
        var = self.variable(col)
        if self.integer_block and var.kind == "REAL":
            var.kind = "INTEGER"
            self.marker_integers.add(col)
        for row, value in zip(fields[1::2], fields[2::2], strict=True):
            if row not in self.rows:
                raise self.error(f"expected a row declared in ROWS, got {row!r}")
            coef = self.number(value, f"the coefficient of {col!r} in row {row!r}")
            if self.rows[row] is None and row != self.objective_row:
                continue  # a free row: dropped (with a warning in finish)
            if col in self.bodies[row].linear:
                self.spec.warn(
                    f"a second entry for column {col!r} in row {row!r} is ignored (the first is kept, as HiGHS does)",
                    self.line,
                )
                continue
            self.bodies[row].add_linear(col, coef)

    def variable(self, name: str) -> VarSpec:
        return self.spec.var(name, self.line)

    def rhs_or_range(self, line: str, target: dict[str, float], section: str) -> None:
        fields = self.fields(
            line,
            (2, 3, 4, 5),
            f"an {section} line ([set,] row, value[, row, value])",
            lambda f: all(r in self.rows for r in f[len(f) % 2 :: 2]),
        )
        if len(fields) % 2 == 1:
            fields = fields[1:]  # drop the set name
        for row, value in zip(fields[0::2], fields[1::2], strict=True):
            if row not in self.rows:
                raise self.error(f"expected a row declared in ROWS, got {row!r}")
            number = self.number(value, f"the {section} of row {row!r}")
            if section == "RANGES" and self.rows[row] is None:
                self.spec.warn(f"a RANGES entry on the free row {row!r} is ignored", self.line)
                continue
            if row in target:
                self.spec.warn(
                    f"a second {section} value for row {row!r} is ignored (the first is kept, as HiGHS does)",
                    self.line,
                )
                continue
            target[row] = number

    def bound(self, line: str) -> None:
        fields = line.split()
        if not fields:
            return
        kind = fields[0].upper()
        if kind not in _BOUND_TYPES:
            raise self.error(f"expected a bound type (UP, LO, FX, FR, MI, PL, BV, LI, UI), got {fields[0]!r}")
        if kind in ("SC", "SI"):
            feature = "semi-continuous" if kind == "SC" else "semi-integer"
            raise self.error(f"{feature} variables ({kind} bounds) are not supported yet")
        needs_value = kind not in ("FR", "MI", "PL", "BV")
        fields = self.fields(
            line,
            (3, 4) if needs_value else (2, 3, 4),
            f"a {kind} bound line",
            lambda f: any(c in self.spec.variables for c in f[1:]),
        )
        if needs_value:
            col, raw = (fields[1], fields[2]) if len(fields) == 3 else (fields[2], fields[3])
        elif len(fields) == 2:
            col, raw = fields[1], None
        elif len(fields) == 3:
            # "BV set col" or "BV col value": the column is whichever name is known
            col, raw = (fields[2], None) if fields[2] in self.spec.variables else (fields[1], fields[2])
        else:
            col, raw = fields[2], fields[3]
        if col not in self.spec.variables:
            raise self.error(f"expected a column declared in COLUMNS, got {col!r}")
        var = self.spec.variables[col]
        value = self.number(raw, f"the {kind} bound of {col!r}") if raw is not None and needs_value else 0.0
        sides = _BOUND_SIDES[kind]
        already = self.bound_sides.get(col, "")
        if any(side in already for side in sides):
            which = " and ".join({"l": "lower", "u": "upper"}[side] for side in sides if side in already)
            self.spec.warn(
                f"the {kind} bound of {col!r} is ignored: its {which} bound is already set "
                "(the first is kept, as HiGHS does)",
                self.line,
            )
            return
        self.bound_sides[col] = already + sides
        var.bound_line = self.line
        self.bounded.add(col)
        if kind in ("UP", "UI"):
            if value < 0 and "l" not in already and var.lb == 0.0:
                var.lb = -math.inf
                self.spec.warn(
                    f"the negative UP bound {value:g} of {col!r} sets its lower bound to -inf "
                    "(the MPS rule, as CPLEX reads it; HiGHS 1.16 keeps 0 and finds the model infeasible)",
                    self.line,
                )
            var.ub = value
        elif kind in ("LO", "LI"):
            var.lb = value
        elif kind == "FX":
            var.lb = var.ub = value
        elif kind == "FR":
            var.lb, var.ub = -math.inf, math.inf
        elif kind == "MI":
            var.lb = -math.inf
        elif kind == "PL":
            var.ub = math.inf
        if kind == "BV":
            var.kind, var.lb, var.ub = "BINARY", 0.0, 1.0
        elif kind in ("LI", "UI") and var.kind == "REAL":
            var.kind = "INTEGER"

    def quadratic(self, section: str, line: str) -> None:
        a, b, value = self.fields(
            line,
            (3,),
            f"a {section} line (column, column, value)",
            lambda f: f[0] in self.spec.variables and f[1] in self.spec.variables,
        )
        for col in (a, b):
            if col not in self.spec.variables:
                raise self.error(f"expected a column declared in COLUMNS, got {col!r}")
        q = self.number(value, f"the {section} entry ({a}, {b})")
        if section == "QCMATRIX":
            assert self.q_row is not None
            self.bodies[self.q_row].add_quadratic(a, b, q, self.line)
            return
        if self.objective_row is None:
            raise self.error("expected an objective row (type N) in ROWS before the quadratic objective")
        obj = self.bodies[self.objective_row]
        if a == b:
            obj.add_quadratic(a, a, 0.5 * q, self.line)
        elif section == "QUADOBJ":
            obj.add_quadratic(a, b, q, self.line)  # one triangle: 0.5 (q_ab + q_ba) = q
        else:
            obj.add_quadratic(a, b, 0.5 * q, self.line)  # full matrix: each entry once

    # ------------------------------------------------------------ to spec
    def finish(self) -> None:
        spec = self.spec
        for col in self.marker_integers - self.bounded:
            spec.variables[col].ub = 1.0
        if self.objective_row is not None:
            spec.objective = self.bodies[self.objective_row]
            spec.objective.constant = -self.rhs.get(self.objective_row, 0.0)
        for row, sense in self.rows.items():
            if sense is None:
                if row != self.objective_row:
                    self.spec.warn(
                        f"the free row {row!r} (type N, not the objective) is dropped", self.row_line[row]
                    )
                continue
            body, line = self.bodies[row], self.row_line[row]
            rhs = self.rhs.get(row, 0.0)
            if row not in self.ranges:
                spec.constraints.append(ConstraintSpec(row, body, sense, rhs, line))
                continue
            r = self.ranges[row]
            if sense == "==":
                lo, hi = (rhs, rhs + r) if r >= 0 else (rhs + r, rhs)
            elif sense == "<=":
                lo, hi = rhs - abs(r), rhs
            else:
                lo, hi = rhs, rhs + abs(r)
            pair: list[tuple[str, Literal[">=", "<="], float]] = [
                (f"{row}_lo", ">=", lo),
                (f"{row}_hi", "<=", hi),
            ]
            for name, s, value in pair:
                if name in self.rows:
                    raise ModelError(
                        f"the ranged row {row!r} would create {name!r}, which is already a row name",
                        source=self.src,
                        line=line,
                    )
                spec.constraints.append(ConstraintSpec(name, body, s, value, line))


def reads(text: str, *, source: str | Path | None = None, name: str | None = None) -> Problem:
    """Parse MPS ``text`` (fixed or free) into a :class:`Problem`."""
    src = None if source is None else str(source)
    spec = ModelSpec(source=src, name=name or (Path(src).stem if src else "problem"))
    reader = _Reader(spec)
    reader.parse(text)
    reader.finish()
    spec.metadata["format"] = "mps"
    return build(spec)


def read(path: str | Path) -> Problem:
    """Read an MPS file (fixed or free format)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ModelError(f"cannot read the file: {exc.strerror}", source=p) from exc
    return reads(text, source=p)
