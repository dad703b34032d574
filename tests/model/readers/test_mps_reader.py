"""The MPS reader against HiGHS reading the same files, conventions, and its error messages."""

from __future__ import annotations

from pathlib import Path

import dimod
import pytest
from tests.model.readers.conformance import Outcome, assert_same_optimum
from tests.model.readers.highs_reference import read_with_highs
from tests.model.readers.test_lp_reader import assert_matches_highs

from kakehashi.exceptions import ModelError
from kakehashi.model.readers import mps, read

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("name", ["mixed.mps", "quadobj.mps", "qmatrix.mps"])
def test_mps_matches_highs(name: str) -> None:
    path = FIXTURES / name
    assert_matches_highs(read(path), read_with_highs(path))


def test_mps_same_model_as_written_by_highs(tmp_path: Path) -> None:
    """HiGHS writes our LP fixture as free MPS; reading that gives the same model as the LP."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(FIXTURES / "mixed.lp"))
    out = tmp_path / "mixed.mps"
    h.writeModel(str(out))
    from_mps, from_lp = read(out), read(FIXTURES / "mixed.lp")
    assert_matches_highs(from_mps, read_with_highs(FIXTURES / "mixed.lp"))
    assert from_mps.cqm.objective.offset == from_lp.cqm.objective.offset == -7.0


def test_mps_kinds_ranges_and_names() -> None:
    p = read(FIXTURES / "mixed.mps")
    assert p.name == "MIXEDMPS" and p.sense == "max" and p.metadata["format"] == "mps"
    assert p.vartype("X6") is dimod.BINARY and p.vartype("X2") is dimod.INTEGER
    assert p.vartype("X7") is dimod.INTEGER and p.bounds("X7") == (-3.0, 3.0)
    cons = p.cqm.constraints
    # E row with R < 0: [rhs + R, rhs]; G row: [rhs, rhs + |R|]; L row: [rhs - |R|, rhs]
    assert (cons["RNGE_lo"].rhs, cons["RNGE_hi"].rhs) == (-1.0, 2.0)
    assert (cons["RNGG_lo"].rhs, cons["RNGG_hi"].rhs) == (1.0, 5.0)
    assert (cons["RNGL_lo"].rhs, cons["RNGL_hi"].rhs) == (3.5, 6.0)
    assert "FREEROW" not in cons and "RNGE" not in cons
    assert p.cqm.objective.offset == 4.5  # RHS -4.5 on the objective row


def test_mps_negative_upper_bound_frees_the_lower_bound() -> None:
    text = "NAME t\nROWS\n N obj\n L c\nCOLUMNS\n x obj 1 c 1\n y obj 1 c 1\nRHS\n r c 3\nBOUNDS\n"
    text += " UP b x -2\n LO b y -5\n UP b y -1\nENDATA\n"
    p = mps.reads(text)
    assert p.bounds("x") == (-1e30, -2.0)  # lower bound 0 -> -inf (CPLEX convention)
    assert p.bounds("y") == (-5.0, -1.0)  # an explicit lower bound is kept


def _fixed(code: str, *fields: str) -> str:
    """One fixed-format MPS line: fields in columns 2-3, 5-12, 15-22, 25-36, 40-47, 50-61."""
    line = f" {code:<2} "
    for pos, field in zip((4, 14, 24, 39, 49), fields, strict=False):
        line = line.ljust(pos) + field
    return line


def test_mps_fixed_format_names_with_blanks() -> None:
    lines = [
        "NAME          FIXED",
        "ROWS",
        _fixed("N", "COST"),
        _fixed("L", "MY ROW"),
        "COLUMNS",
        _fixed("", "X ONE", "COST", "1.0", "MY ROW", "2.0"),
        _fixed("", "X TWO", "COST", "-1.0", "MY ROW", "1.0"),
        "RHS",
        _fixed("", "RHS", "MY ROW", "8.0"),
        "BOUNDS",
        _fixed("UP", "BND", "X ONE", "3.0"),
        "ENDATA",
    ]
    p = mps.reads("\n".join(lines) + "\n")
    assert set(p.variables) == {"X ONE", "X TWO"} and p.bounds("X ONE") == (0.0, 3.0)
    assert p.cqm.constraints["MY ROW"].lhs.energy({"X ONE": 1, "X TWO": 2}) == 4.0
    assert p.cqm.constraints["MY ROW"].rhs == 8.0


def test_mps_qcmatrix_quadratic_constraint() -> None:
    text = "NAME q\nROWS\n N obj\n L qc\nCOLUMNS\n MARKER 'MARKER' 'INTORG'\n x obj 1 qc 1\n y obj 1\n"
    text += " MARKER 'MARKER' 'INTEND'\nRHS\n r qc 5\nBOUNDS\n UP b x 4\n UP b y 4\n"
    text += "QCMATRIX qc\n x y 1.5\n y x 1.5\n y y 2\nENDATA\n"
    p = mps.reads(text)
    assert p.cqm.constraints["qc"].lhs.energy({"x": 2, "y": 3}) == 2 + 3.0 * 6 + 2 * 9


MALFORMED = [
    ("NAME t\nROWS\n N obj\n X c\nENDATA\n", 4, "expected a row type N, L, G or E, got 'X'"),
    ("NAME t\nROWS\n N obj\nCOLUMNS\n x obj one\nENDATA\n", 5, "expected a number for the coefficient"),
    ("NAME t\nROWS\n N obj\nCOLUMNS\n x cost 1\nENDATA\n", 5, "expected a row declared in ROWS, got 'cost'"),
    ("NAME t\nROWS\n N obj\nCOLUMNS\n x obj 1\nBOUNDS\n XX b x 1\nENDATA\n", 7, "expected a bound type"),
    ("NAME t\nROWS\n N obj\nCOLUMNS\n x obj 1\nBOUNDS\n UP b z 1\nENDATA\n", 7, "got 'z'"),
    ("NAME t\nROWS\n N obj\nCOLUMNS\n x obj 1\n", 5, "expected ENDATA"),
    ("NAME t\nROWZ\n", 2, "expected a section name"),
    ("NAME t\nROWS\n N obj\n L c\n L c\nENDATA\n", 5, "duplicate row name 'c'"),
    ("NAME t\nROWS\n N obj\nCOLUMNS\n x obj 1 obj\nENDATA\n", 5, "expected 3 or 5 fields"),
    ("NAME t\nROWS\n N obj\nCOLUMNS\n x obj 1\nBOUNDS\n LO b x 3\n UP b x 2\nENDATA\n", 8, "exceeds"),
    ("NAME t\nROWS\n N obj\nCOLUMNS\n x obj 1\nQUADOBJ\n x x 1\nENDATA\n", 7, "continuous variable 'x'"),
    ("NAME t\nOBJSENSE\n UP\nENDATA\n", 3, "expected MIN or MAX"),
    (
        "NAME t\nROWS\n N obj\nCOLUMNS\n MARKER 'MARKER' 'INTORG'\n x obj 1\nBOUNDS\n FX b x 1.5\nENDATA\n",
        8,
        "integer variable 'x' has no integer value within its bounds [1.5, 1.5]",
    ),
    ("NAME t\nROWS\n N obj\nSOS\nENDATA\n", 4, "SOS constraints (the SOS section) are not supported yet"),
]


@pytest.mark.parametrize(("text", "line", "message"), MALFORMED)
def test_mps_malformed_names_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.mps"
    path.write_text(text)
    with pytest.raises(ModelError) as info:
        read(path)
    assert info.value.line == line, str(info.value)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: ")


STAR_NAMES = """NAME          STARNAME
ROWS
 N  COST
 G  LIM1
 L  LIM2
COLUMNS
    X1        COST         1.0   LIM1         1.0
    X1        LIM2         1.0
    X2        COST         2.0   LIM1         1.0
RHS
    *RHS*     LIM1         5.0   LIM2         4.0
* a comment: '*' in column 1
BOUNDS
 UP *BND*     X1           3.0
ENDATA
"""


@pytest.mark.parametrize("layout", ["fixed", "free"])
def test_mps_names_may_begin_with_a_star(tmp_path: Path, layout: str) -> None:
    """Only a '*' in column 1 starts a comment; '*RHS*' is a set name (the RHS is not lost)."""
    lines = STAR_NAMES.splitlines()
    if layout == "free":  # one blank between fields, data lines indented by one blank
        lines = [" " + " ".join(ln.split()) if ln.startswith(" ") else ln for ln in lines]
    text = "\n".join(lines) + "\n"
    path = tmp_path / f"star_{layout}.mps"
    path.write_text(text)
    p = read(path)
    assert p.cqm.constraints["LIM1"].rhs == 5.0 and p.cqm.constraints["LIM2"].rhs == 4.0
    assert p.bounds("X1") == (0.0, 3.0)
    assert assert_same_optimum(path) == Outcome("optimal", 7.0)
