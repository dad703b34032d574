"""Reader for the CPLEX LP format (the subset documented in ``docs/formats.md``).

Our own small parser, so that every syntax error names the file, the line and what was
expected. Supported::

    \\ comment (to the end of the line)
    Maximize | Minimize (also max, min, maximise, minimise, maximum, minimum)
     obj: 3 x + 2 y - z + 4 + [ x ^ 2 + 2 x * y ] / 2
    Subject To (also st, s.t., such that)
     c1: x + y + z <= 10          senses <= =< < >= => > = ==
     c2: 2 <= x - y               constants and variables may stand on either side
     r1: -3 <= x + y <= 5         a ranged row: two constraints r1_lo and r1_hi
     q1: x + [ x * y ] >= 1       quadratic terms in brackets (no "/ 2" in constraints)
    Bounds
     0 <= x <= 4    y >= -inf    z free    -inf <= w <= 3    v = 2
    General | Generals | Gen | Integer | Integers
     x
    Binary | Binaries | Bin
     y
    End

Variables are continuous with bounds ``[0, +inf)`` unless a Bounds line says otherwise; see
:mod:`kakehashi.model.readers.spec` for how infinite bounds are stored in dimod.

As HiGHS reads them: a Binary variable is an integer whose upper bound becomes 1 if it is still
``+inf``, other bounds kept (``x = 0`` then ``bin x`` stays fixed); an empty ``semi-continuous``
or ``sos`` section is accepted (highspy writes one into every MIP file); rows without variables
(``c1: = 0``) are kept; sections may repeat. Skipped or reinterpreted input (a free row
``x >= -inf``, a repeated row name, text after ``End``, binaries whose bounds leave [0, 1]) is a
warning in :attr:`Problem.warnings`; a non-empty semi-continuous or SOS section is refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem
from kakehashi.model.readers.spec import ConstraintSense, ConstraintSpec, Expression, ModelSpec, build

_NAME_CHARS = r"A-Za-z_!\"#$%&(),;?@'{}|~"
_TOKEN = re.compile(
    rf"""
    (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<sense><=|=<|>=|=>|==|<|>|=)
  | (?P<op>[-+*^\[\]/:])
  | (?P<name>[{_NAME_CHARS}][{_NAME_CHARS}0-9.]*)
  | (?P<space>\s+)
    """,
    re.VERBOSE,
)

_SENSE_MAP: dict[str, ConstraintSense] = {
    "<=": "<=",
    "=<": "<=",
    "<": "<=",
    ">=": ">=",
    "=>": ">=",
    ">": ">=",
    "=": "==",
    "==": "==",
}
_OBJECTIVE = {
    "minimize": "min",
    "minimise": "min",
    "minimum": "min",
    "min": "min",
    "maximize": "max",
    "maximise": "max",
    "maximum": "max",
    "max": "max",
}
_ONE_WORD = {
    "st": "constraints",
    "s.t.": "constraints",
    "st.": "constraints",
    "subjectto": "constraints",
    "bounds": "bounds",
    "bound": "bounds",
    "general": "general",
    "generals": "general",
    "gen": "general",
    "integer": "general",
    "integers": "general",
    "binary": "binary",
    "binaries": "binary",
    "bin": "binary",
    "end": "end",
}
_TWO_WORDS = {("subject", "to"): "constraints", ("such", "that"): "constraints"}
#: sections read only when empty (HiGHS writes an empty ``semi`` section into every MIP file)
_EMPTY_ONLY = {
    "semi": "semi-continuous variables",
    "semis": "semi-continuous variables",
    "sos": "SOS constraints",
}
_UNSUPPORTED = {"pwlobj", "lazy", "user", "general_constraints", "indicators"}
_INF = {"inf", "infinity"}
#: words that a writer must not use as names (they start sections or mean infinity/free)
KEYWORDS = frozenset(
    {
        *_OBJECTIVE,
        *_ONE_WORD,
        *_EMPTY_ONLY,
        *_UNSUPPORTED,
        *_INF,
        "free",
        "subject",
        "such",
        "semi-continuous",
    }
)


@dataclass(frozen=True)
class Token:
    """A token; ``kind`` is number, sense, op, name, section or eof."""

    kind: str
    text: str
    line: int


def _describe(tok: Token) -> str:
    if tok.kind == "eof":
        return "the end of the file"
    if tok.kind == "section":
        return f"the section keyword {tok.text!r}"
    return repr(tok.text)


def tokenize(text: str, source: str | None) -> list[Token]:
    """Split ``text`` into tokens; section keywords are recognised at the start of a line."""
    tokens: list[Token] = []
    lines = text.splitlines()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.split("\\", 1)[0]
        pos = 0
        line_tokens: list[Token] = []
        while pos < len(line):
            m = _TOKEN.match(line, pos)
            if m is None:
                raise ModelError(f"unexpected character {line[pos]!r}", source=source, line=lineno)
            pos = m.end()
            kind = m.lastgroup
            if kind == "space":
                continue
            line_tokens.append(Token(str(kind), m.group(), lineno))
        _mark_section(line_tokens, source)
        tokens.extend(line_tokens)
        if len(line_tokens) == 1 and line_tokens[0].kind == "section" and line_tokens[0].text == "end":
            for k, rest in enumerate(lines[lineno:], start=lineno + 1):
                if rest.split("\\", 1)[0].strip():
                    tokens.append(Token("trailing", rest.strip(), k))  # reported as a warning
                    break
            break
    last = tokens[-1].line if tokens else 1
    tokens.append(Token("eof", "", last))
    return tokens


def _mark_section(toks: list[Token], source: str | None) -> None:
    if not toks or toks[0].kind != "name":
        return
    first = toks[0].text.lower()
    # "max: ..." or "st: ..." is a row name, not a keyword
    if len(toks) > 1 and toks[1].text == ":":
        return
    if len(toks) > 1 and toks[1].kind == "name" and (first, toks[1].text.lower()) in _TWO_WORDS:
        section = _TWO_WORDS[(first, toks[1].text.lower())]
        toks[0:2] = [Token("section", section, toks[0].line)]
        return
    if first == "semi" and [t.text.lower() for t in toks[1:3]] == ["-", "continuous"]:
        toks[0:3] = [Token("section", "semi", toks[0].line)]
        return
    if first in _OBJECTIVE:
        toks[0] = Token("section", _OBJECTIVE[first], toks[0].line)
    elif first in _ONE_WORD:
        toks[0] = Token("section", _ONE_WORD[first], toks[0].line)
    elif first in _EMPTY_ONLY:
        toks[0] = Token("section", first, toks[0].line)
    elif first in _UNSUPPORTED:
        raise ModelError(
            f"the {toks[0].text!r} section is not supported by kakehashi's LP reader",
            source=source,
            line=toks[0].line,
        )


class _Parser:
    def __init__(self, tokens: list[Token], spec: ModelSpec) -> None:
        self.toks = tokens
        self.i = 0
        self.spec = spec
        self.src = spec.source
        self.binaries: dict[str, int] = {}

    # ----------------------------------------------------------- helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def advance(self) -> Token:
        tok = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return tok

    def error(self, expected: str, tok: Token | None = None) -> ModelError:
        tok = tok or self.tok
        return ModelError(f"expected {expected}, got {_describe(tok)}", source=self.src, line=tok.line)

    def at_stop(self) -> bool:
        return self.tok.kind in ("section", "eof")

    # ----------------------------------------------------------- grammar
    def parse(self) -> None:
        if self.tok.kind != "section" or self.tok.text not in ("min", "max"):
            raise self.error("'Minimize' or 'Maximize' at the start of the model")
        self.spec.sense = "min" if self.advance().text == "min" else "max"
        self.objective()
        while self.tok.kind != "eof":
            tok = self.advance()
            if tok.kind != "section":
                raise self.error("a section keyword", tok)
            if tok.text == "end":
                if self.tok.kind == "trailing":
                    self.spec.warn(f"text after End is ignored: {self.tok.text[:40]!r}", self.tok.line)
                return
            if tok.text in ("min", "max"):
                raise ModelError(
                    "a second objective section: multiple objectives are not supported",
                    source=self.src,
                    line=tok.line,
                )
            if tok.text == "constraints":
                self.constraints()
            elif tok.text == "bounds":
                self.bounds()
            elif tok.text in _EMPTY_ONLY:
                self.empty_section(tok)
            else:
                self.var_list("INTEGER" if tok.text == "general" else "BINARY")

    def empty_section(self, keyword: Token) -> None:
        """A section kakehashi's model cannot hold yet: accepted only when empty."""
        if not self.at_stop():
            raise ModelError(
                f"{_EMPTY_ONLY[keyword.text]} are not supported yet (section on line {keyword.line}, "
                f"first entry {self.tok.text!r})",
                source=self.src,
                line=self.tok.line,
            )

    def finish(self) -> None:
        """Binaries as HiGHS reads them: integers whose upper bound +inf becomes 1, bounds kept."""
        for name, line in self.binaries.items():
            var = self.spec.variables[name]
            if var.ub == math.inf:
                var.ub = 1.0
            if (var.lb, var.ub) == (0.0, 1.0):
                var.kind = "BINARY"
                continue
            var.kind = "INTEGER"
            if var.lb < 0.0 or var.ub > 1.0:
                self.spec.warn(
                    f"{name!r} is declared binary but its bounds [{var.lb:g}, {var.ub:g}] are kept "
                    "(as HiGHS does): read as an integer in that range",
                    line,
                )

    def objective(self) -> None:
        if self.tok.kind == "name" and self.peek().text == ":":
            self.spec.metadata["objective_name"] = self.advance().text
            self.advance()
        expr = self.expression(in_objective=True)
        if not self.at_stop():
            raise self.error("'+', '-' or a section keyword after the objective term")
        self.spec.objective = expr

    def constraints(self) -> None:
        row = 0
        names = self.spec.constraint_names()
        while not self.at_stop():
            row += 1
            line = self.tok.line
            name = None
            if self.tok.kind == "name" and self.peek().text == ":":
                name = self.advance().text
                self.advance()
            lhs = self.expression()
            if self.tok.kind != "sense":
                raise self.error("a sense '<=', '>=' or '=' after the expression")
            sense = _SENSE_MAP[self.advance().text]
            rhs_line = self.tok.line
            if name is None:
                name = f"c{row}"
                while name in names:
                    name = f"c{row}_{len(names)}"
            infinite = self.infinite_rhs(rhs_line)
            if infinite is not None:
                if (sense, infinite) not in (("<=", 1.0), (">=", -1.0)):
                    raise ModelError(
                        f"constraint {name!r} asks for an infinite value ({sense} {infinite * math.inf})",
                        source=self.src,
                        line=line,
                    )
                self.spec.warn(
                    f"constraint {name!r} ({sense} {infinite * math.inf}) is free and is dropped", line
                )
                continue
            rhs = self.expression(same_line=True, what="a number or an expression after the sense")
            if self.tok.kind == "sense" and self.tok.line == rhs_line:
                # ranged row: lo <= expr <= hi
                sense2 = _SENSE_MAP[self.advance().text]
                hi = self.expression(same_line=True, what="a number after the second sense")
                if lhs.has_variables or hi.has_variables or sense != sense2 or sense == "==":
                    raise ModelError(
                        "expected a ranged row of the form 'lo <= expression <= hi'",
                        source=self.src,
                        line=line,
                    )
                lo_side, hi_side = (lhs, hi) if sense == "<=" else (hi, lhs)
                self.add(f"{name}_lo", rhs, ">=", lo_side, line, names)
                self.add(f"{name}_hi", rhs, "<=", hi_side, line, names)
                continue
            self.add(name, lhs, sense, rhs, line, names)

    def infinite_rhs(self, line: int) -> float | None:
        """``+1``/``-1`` when the right-hand side is ``[+-]inf``/``infinity`` alone on its line."""
        k, sign = 0, 1.0
        while self.peek(k).kind == "op" and self.peek(k).text in "+-" and self.peek(k).line == line:
            sign = -sign if self.peek(k).text == "-" else sign
            k += 1
        tok, after = self.peek(k), self.peek(k + 1)
        if tok.kind != "name" or tok.text.lower() not in _INF or tok.line != line:
            return None
        if after.line == line and after.kind not in ("section", "eof"):
            return None  # "x <= inf + y": the expression parser refuses it
        for _ in range(k + 1):
            self.advance()
        return sign

    def add(
        self, name: str, lhs: Expression, sense: ConstraintSense, rhs: Expression, line: int, names: set[str]
    ) -> None:
        if name in names:
            k = 2
            while f"{name}_{k}" in names:
                k += 1
            self.spec.warn(f"a second constraint named {name!r} is read as {name}_{k}", line)
            name = f"{name}_{k}"
        names.add(name)
        if not lhs.has_variables and rhs.has_variables:  # "2 <= x - y" is "x - y >= 2"
            lhs, rhs = rhs, lhs
            sense = {"<=": ">=", ">=": "<=", "==": "=="}[sense]  # type: ignore[assignment]
        body = lhs.merged(rhs.scaled(-1.0))  # a row with no variables is kept: "0 >= 3" is infeasible
        constant = body.constant
        body.constant = 0.0
        self.spec.constraints.append(ConstraintSpec(name, body, sense, -constant, line))

    def expression(
        self, *, in_objective: bool = False, same_line: bool = False, what: str = "a term"
    ) -> Expression:
        expr = Expression()
        first = True
        line = self.tok.line
        while True:
            tok = self.tok
            if same_line and tok.line != line:
                break
            sign = 1.0
            had_sign = False
            while (
                self.tok.kind == "op" and self.tok.text in "+-" and not (same_line and self.tok.line != line)
            ):
                if self.advance().text == "-":
                    sign = -sign
                had_sign = True
            if not first and not had_sign:
                break
            tok = self.tok
            if tok.kind == "op" and tok.text == "[":
                self.quadratic_block(expr, sign, in_objective)
            elif tok.kind == "number":
                coef = sign * float(self.advance().text)
                if self.tok.kind == "op" and self.tok.text == "*":
                    self.advance()
                    if self.tok.kind != "name":
                        raise self.error("a variable name after '*'")
                if self.tok.kind == "name" and not (same_line and self.tok.line != line):
                    self.linear_term(expr, coef)
                else:
                    expr.constant += coef
            elif tok.kind == "name":
                self.linear_term(expr, sign)
            else:
                if first and not had_sign:
                    if same_line:
                        raise self.error(what)
                    return expr
                raise self.error("a number, a variable or '[' after the sign")
            first = False
        return expr

    def linear_term(self, expr: Expression, coef: float) -> None:
        tok = self.advance()
        if self.tok.kind == "op" and self.tok.text in "^*":
            raise ModelError(
                f"quadratic term on {tok.text!r} outside brackets; write it as '[ ... ]'",
                source=self.src,
                line=tok.line,
            )
        if tok.text.lower() in _INF:
            raise ModelError(
                f"expected a variable, got {tok.text!r}: infinity stands only in Bounds or alone on the "
                "right-hand side of a row",
                source=self.src,
                line=tok.line,
            )
        self.spec.var(tok.text, tok.line)
        expr.add_linear(tok.text, coef)

    def quadratic_block(self, expr: Expression, sign: float, in_objective: bool) -> None:
        open_tok = self.advance()
        block = Expression()
        first = True
        while not (self.tok.kind == "op" and self.tok.text == "]"):
            if self.at_stop():
                raise self.error(f"']' to close the quadratic block opened on line {open_tok.line}")
            s = 1.0
            had_sign = False
            while self.tok.kind == "op" and self.tok.text in "+-":
                if self.advance().text == "-":
                    s = -s
                had_sign = True
            if not first and not had_sign:
                raise self.error("'+', '-' or ']' in the quadratic block")
            first = False
            coef = s
            if self.tok.kind == "number":
                coef *= float(self.advance().text)
            if self.tok.kind != "name":
                raise self.error("a variable in a quadratic term 'c x * y' or 'c x ^ 2'")
            u = self.advance()
            self.spec.var(u.text, u.line)
            if self.tok.text == "^":
                self.advance()
                if self.tok.kind != "number" or float(self.tok.text) != 2.0:
                    raise self.error("the exponent 2 after '^'")
                self.advance()
                block.add_quadratic(u.text, u.text, coef, u.line)
            elif self.tok.text == "*":
                self.advance()
                if self.tok.kind != "name":
                    raise self.error("a variable after '*'")
                v = self.advance()
                self.spec.var(v.text, v.line)
                block.add_quadratic(u.text, v.text, coef, u.line)
            else:
                raise self.error("'^ 2' or '* variable' in a quadratic block (linear terms go outside)")
        self.advance()  # ']'
        divisor = 1.0
        if self.tok.kind == "op" and self.tok.text == "/":
            self.advance()
            if self.tok.kind != "number":
                raise self.error("a number after '/'")
            divisor = float(self.advance().text)
            if divisor == 0.0:
                raise ModelError(
                    "division by zero after a quadratic block", source=self.src, line=open_tok.line
                )
        elif in_objective:
            raise self.error("'/ 2' after the quadratic block of the objective")
        for key, bias in block.quadratic.items():
            expr.add_quadratic(key[0], key[1], sign * bias / divisor, block.quad_lines[key])

    def bound_value(self) -> float:
        sign = 1.0
        while self.tok.kind == "op" and self.tok.text in "+-":
            if self.advance().text == "-":
                sign = -sign
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return sign * float(tok.text)
        if tok.kind == "name" and tok.text.lower() in _INF:
            self.advance()
            return sign * math.inf
        raise self.error("a number or 'inf' in the bound")

    def bounds(self) -> None:
        while not self.at_stop():
            line = self.tok.line
            if self.tok.kind == "name" and self.peek().kind == "name" and self.peek().text.lower() == "free":
                var = self.spec.var(self.advance().text, line)
                self.advance()
                var.lb, var.ub, var.bound_line = -math.inf, math.inf, line
                continue
            if self.tok.kind == "name" and self.tok.text.lower() not in _INF:
                var = self.spec.var(self.advance().text, line)
                if self.tok.kind != "sense":
                    raise self.error("'<=', '>=', '=' or 'free' after the variable in Bounds")
                sense = _SENSE_MAP[self.advance().text]
                value = self.bound_value()
                self.set_bound(var.name, sense, value, line, var_on_left=True)
                continue
            value = self.bound_value()
            if self.tok.kind != "sense":
                raise self.error("'<=' or '>=' after the number in Bounds")
            sense = _SENSE_MAP[self.advance().text]
            if self.tok.kind != "name":
                raise self.error("a variable name in Bounds")
            var = self.spec.var(self.advance().text, line)
            self.set_bound(var.name, sense, value, line, var_on_left=False)
            if self.tok.kind == "sense" and self.tok.line == line:
                sense2 = _SENSE_MAP[self.advance().text]
                self.set_bound(var.name, sense2, self.bound_value(), line, var_on_left=True)

    def set_bound(
        self, name: str, sense: ConstraintSense, value: float, line: int, *, var_on_left: bool
    ) -> None:
        var = self.spec.variables[name]
        var.bound_line = line
        if sense == "==":
            if math.isinf(value):
                raise ModelError(f"cannot fix {name!r} at an infinite value", source=self.src, line=line)
            var.lb = var.ub = value
            return
        is_upper = (sense == "<=") == var_on_left
        if is_upper:
            var.ub = value
        else:
            var.lb = value

    def var_list(self, kind: Literal["INTEGER", "BINARY"]) -> None:
        while not self.at_stop():
            tok = self.advance()
            if tok.kind != "name":
                raise self.error(f"a variable name in the {kind.lower()} section", tok)
            var = self.spec.var(tok.text, tok.line)
            if kind == "BINARY":
                self.binaries.setdefault(var.name, tok.line)
            if var.kind == "REAL":
                var.kind = "INTEGER"


def reads(text: str, *, source: str | Path | None = None, name: str | None = None) -> Problem:
    """Parse LP ``text`` into a :class:`Problem`; ``source`` names the file in errors."""
    src = None if source is None else str(source)
    spec = ModelSpec(source=src, name=name or (Path(src).stem if src else "problem"))
    spec.metadata["format"] = "lp"
    parser = _Parser(tokenize(text, src), spec)
    parser.parse()
    parser.finish()
    return build(spec)


def read(path: str | Path) -> Problem:
    """Read a CPLEX LP file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ModelError(f"cannot read the file: {exc.strerror}", source=p) from exc
    return reads(text, source=p)
