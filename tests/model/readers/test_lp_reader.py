"""The LP reader against HiGHS reading the same files, and its error messages."""

from __future__ import annotations

import math
from pathlib import Path

import dimod
import numpy as np
import pytest
from tests.model.readers.highs_reference import HighsModel, read_with_highs

from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem
from kakehashi.model.readers import lp, read

FIXTURES = Path(__file__).parent / "fixtures"


def _random_points(problem: Problem, names: list[str], rng: np.random.Generator, k: int) -> np.ndarray:
    """``k`` points within the bounds (infinite bounds clipped to +-10), integral where needed."""
    pts = np.empty((k, len(names)))
    for col, v in enumerate(names):
        lo, hi = problem.bounds(v)
        lo, hi = max(lo, -10.0), min(hi, 10.0)
        vals = rng.uniform(lo, hi, size=k)
        if problem.vartype(v) in (dimod.INTEGER, dimod.BINARY):
            vals = np.round(vals)
        pts[:, col] = vals
    return pts


def assert_matches_highs(problem: Problem, ref: HighsModel) -> None:
    """Same variables, kinds, bounds, objective and rows as HiGHS, checked on random points."""
    assert sorted(problem.variables) == sorted(ref.names)
    assert (problem.sense == "max") == ref.maximize
    for col, v in enumerate(ref.names):
        lo, hi = problem.bounds(v)
        is_int = problem.vartype(v) in (dimod.INTEGER, dimod.BINARY)
        assert is_int == bool(ref.integer[col]), v
        inf = float(2**53 - 1) if is_int else 1e30
        assert lo == (ref.col_lower[col] if math.isfinite(ref.col_lower[col]) else -inf), v
        assert hi == (ref.col_upper[col] if math.isfinite(ref.col_upper[col]) else inf), v
    rng = np.random.default_rng(7)
    pts = _random_points(problem, ref.names, rng, 50)
    ours = problem.cqm.objective.energies((pts, ref.names))
    theirs = np.array([ref.objective(x) for x in pts])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-9)
    cons = problem.cqm.constraints
    expected: set[str] = set()
    for r, name in enumerate(ref.row_names):
        lo, hi = ref.row_lower[r], ref.row_upper[r]
        rows: list[tuple[str, str, float]]
        if lo == hi:
            rows = [(name, "==", lo)]
        elif math.isinf(lo):
            rows = [(name, "<=", hi)]
        elif math.isinf(hi):
            rows = [(name, ">=", lo)]
        else:
            rows = [(f"{name}_lo", ">=", lo), (f"{name}_hi", "<=", hi)]
        for label, sense, rhs in rows:
            expected.add(label)
            comp = cons[label]
            assert comp.sense.value == sense, label
            lhs = np.asarray(comp.lhs.energies((pts, ref.names))) - comp.rhs + rhs
            np.testing.assert_allclose(lhs, pts @ ref.A[r], rtol=1e-12, atol=1e-9)
    assert set(cons) == expected


@pytest.mark.parametrize("name", ["mixed.lp", "quadratic.lp", "ranges_equiv.lp"])
def test_lp_matches_highs(name: str) -> None:
    path = FIXTURES / name
    assert_matches_highs(read(path), read_with_highs(path))


def test_lp_reads_ranges_and_constants_on_the_left_like_the_plain_form() -> None:
    ours = read(FIXTURES / "ranges.lp").to_dict()
    plain = read(FIXTURES / "ranges_equiv.lp").to_dict()
    # the unnamed row of ranges.lp is row 2 -> "c2", as named in the plain file
    assert ours["constraints"] == plain["constraints"]
    assert ours["objective"] == plain["objective"]


def test_lp_kinds_bounds_and_sense() -> None:
    p = read(FIXTURES / "mixed.lp")
    assert p.sense == "max" and p.name == "mixed" and p.metadata["format"] == "lp"
    assert p.vartype("y1") is dimod.BINARY and p.vartype("y2") is dimod.INTEGER
    assert p.vartype("x1") is dimod.REAL and p.bounds("x3") == (-2.0, 8.0)
    assert p.bounds("z") == (-1.0, 3.0) and p.bounds("y2") == (0.0, 7.0)
    assert p.cqm.objective.offset == -7.0


def test_lp_quadratic_constraint() -> None:
    p = read(FIXTURES / "qconstraint.lp")
    comp = p.cqm.constraints["quad"]
    sample = {"a": 1, "b": 1, "c": -2}
    # a + a*c + 2 b*c - c^2 = 1 - 2 - 4 - 4
    assert comp.lhs.energy(sample) == -9.0 and comp.rhs == 4.0 and comp.sense.value == "<="
    assert p.bounds("c") == (-2.0, 3.0)


def test_lp_free_infinite_and_default_integer_bounds() -> None:
    p = lp.reads(
        "\\ free and infinite bounds\nMINIMISE\n cost: x - y + z + n\nST\n c: x + y + z + n >= -5\n"
        "BOUNDS\n x free\n -inf <= y <= 3\n z >= -INF\n z <= +infinity\nINTEGERS\n n\nEND\n"
    )
    assert p.bounds("x") == (-1e30, 1e30)
    assert p.bounds("y") == (-1e30, 3.0)
    assert p.bounds("z") == (-1e30, 1e30)
    assert p.vartype("n") is dimod.INTEGER and p.bounds("n") == (0.0, float(2**53 - 1))


def test_lp_binary_square_is_linear_and_fixed_bound() -> None:
    p = lp.reads(
        "Minimize\n obj: [ 4 x ^ 2 ] / 2 + y\nSubject To\n c: x + y >= 1\nBounds\n y = 2\nBinary\n x\nEnd"
    )
    assert p.cqm.objective.linear["x"] == 2.0 and p.cqm.objective.num_interactions == 0
    assert p.bounds("y") == (2.0, 2.0)


def test_lp_without_constraint_section() -> None:
    p = lp.reads("max\n 2 a + 3 b\nbin\n a b\nend")
    assert p.sense == "max" and p.num_constraints == 0
    assert p.objective_value({"a": 1, "b": 1}) == 5.0


MALFORMED = [
    (
        "Maximize\n obj: x1 + x2\nSubject To\n c1: x1 + x2 x3 <= 4\nEnd\n",
        4,
        "expected a sense '<=', '>=' or '=' after the expression, got 'x3'",
    ),
    ("Subject To\n c1: x <= 1\nEnd\n", 1, "expected 'Minimize' or 'Maximize'"),
    (
        "Minimize\n obj: x\nSubject To\n c1: x <=\nBounds\n x <= 3\nEnd\n",
        5,
        "expected a number or an expression after the sense, got the section keyword 'bounds'",
    ),
    ("Minimize\n obj: x + [ x ^ 2 ]\nEnd\n", 3, "expected '/ 2' after the quadratic block"),
    ("Minimize\n obj: x + [ x ^ 3 ] / 2\nEnd\n", 2, "expected the exponent 2"),
    ("Minimize\n obj: x + [ x * y\nEnd\n", 3, "expected ']' to close the quadratic block opened on line 2"),
    ("Minimize\n obj: x\nBounds\n x <= -2\nEnd\n", 4, "lower bound 0 of 'x' exceeds its upper bound -2"),
    ("Minimize\n obj: x\nSubject To\n c: [ x * y ] <= 1\nEnd\n", 4, "continuous variable 'x'"),
    ("Minimize\n obj: x ^ 2\nEnd\n", 2, "outside brackets"),
    ("Minimize\n obj: 2 x\nBounds\n x <= abc\nEnd\n", 4, "expected a number or 'inf' in the bound"),
    ("Minimize\n obj: x\nGeneral\n x 3\nEnd\n", 4, "expected a variable name in the integer section"),
    ("Minimize\n obj: x\nSemi-continuous\n x\nEnd\n", 4, "semi-continuous variables are not supported yet"),
    ("Minimize\n obj: x\nSOS\n s1: S1:: x:1\nEnd\n", 4, "SOS constraints are not supported yet"),
    ("Minimize\n obj: x\nSubject To\n c: x >= 1\nMaximize\n x\nEnd\n", 5, "multiple objectives"),
    ("Minimize\n obj: x $ y\nEnd\n", 2, "expected '+', '-' or a section keyword after the objective term"),
    ("Minimize\n obj: x\nSubject To\n c: x + y ≤ 1\nEnd\n", 4, "unexpected character"),
    ("Minimize\n obj: x\nSubject To\n c: -inf <= x\nEnd\n", 4, "expected a variable, got 'inf'"),
    ("Minimize\n obj: x\nSubject To\n c: x <= inf + y\nEnd\n", 4, "expected a variable, got 'inf'"),
]


@pytest.mark.parametrize(("text", "line", "message"), MALFORMED)
def test_lp_malformed_names_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.lp"
    path.write_text(text)
    with pytest.raises(ModelError) as info:
        read(path)
    err = info.value
    assert err.line == line, str(err)
    assert err.source == str(path)
    assert message in str(err)
    assert str(err).startswith(f"{path}:{line}: ")
