"""Conformance: small generated LP and MPS files for each feature and pitfall, against HiGHS.

Each case is written to a file, read by kakehashi and solved on its ``highs`` backend, and read
and solved by highspy from the very same file: both infeasible, or both optimal within 1e-6
relative. Where HiGHS 1.16 reads a file differently from the format (it rejects or misreads
some valid input), the case names a ``reference``: the same model written the way HiGHS reads
it, and the deviation is documented in ``docs/formats.md``. Every case that makes the reader
skip or reinterpret something also checks the warning the Problem carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.model.readers.conformance import assert_same_optimum, highs_outcome, our_outcome, same

from kakehashi.exceptions import ModelError
from kakehashi.model.readers import read


@dataclass(frozen=True)
class Case:
    name: str
    ext: str
    text: str
    warning: str | None = None  # a substring of the warning the reader must give
    reference: str | None = None  # the same model as HiGHS reads it, where HiGHS deviates
    expect: str | None = None  # "infeasible" when the model must be infeasible

    def __str__(self) -> str:
        return self.name


def _fixed(code: str, *fields: str) -> str:
    """One fixed-format MPS line: fields in columns 2-3, 5-12, 15-22, 25-36, 40-47, 50-61."""
    line = f" {code:<2} "
    for pos, field in zip((4, 14, 24, 39, 49), fields, strict=False):
        line = line.ljust(pos) + field
    return line


def _mps(rows: str, columns: str, rhs: str = "", *, bounds: str = "", extra: str = "", head: str = "") -> str:
    text = f"NAME t\n{head}ROWS\n N obj\n{rows}COLUMNS\n{columns}RHS\n{rhs}"
    if bounds:
        text += f"BOUNDS\n{bounds}"
    return text + extra + "ENDATA\n"


def _ranged(kind: str, r: float, sense: str) -> Case:
    """min or max x on one ranged row: the optimum is an end of the range."""
    head = "OBJSENSE\n    MAX\n" if sense == "max" else ""
    text = _mps(f" {kind} c\n", " x obj 1 c 1\n", " rhs c 3\n", bounds=" FR b x\n", head=head)
    text = text.replace("ENDATA", f"RANGES\n rng c {r:g}\nENDATA")
    return Case(f"mps-ranges-{kind}{r:+g}-{sense}", "mps", text)


FIXED_BLANKS = (
    "\n".join(
        [
            "NAME          FIXED",
            "ROWS",
            _fixed("N", "COST"),
            _fixed("G", "MY ROW"),
            "COLUMNS",
            _fixed("", "X ONE", "COST", "1.0", "MY ROW", "2.0"),
            _fixed("", "X TWO", "COST", "3.0", "MY ROW", "1.0"),
            "RHS",
            _fixed("", "RHS", "MY ROW", "8.0"),
            "BOUNDS",
            _fixed("UP", "BND", "X ONE", "3.0"),
            "ENDATA",
        ]
    )
    + "\n"
)
FIXED_STARS = (
    "\n".join(
        [
            "* '*' in column 1: a comment",
            "NAME          STAR",
            "ROWS",
            _fixed("N", "COST"),
            _fixed("G", "LIM1"),
            _fixed("L", "LIM2"),
            "COLUMNS",
            _fixed("", "X1", "COST", "1.0", "LIM1", "1.0"),
            _fixed("", "X1", "LIM2", "1.0"),
            _fixed("", "X2", "COST", "-2.0", "LIM1", "1.0"),
            "RHS",
            _fixed("", "*RHS*", "LIM1", "5.0", "LIM2", "4.0"),
            "BOUNDS",
            _fixed("UP", "*BND*", "X1", "3.0"),
            _fixed("UP", "*BND*", "X2", "4.75"),
            "ENDATA",
        ]
    )
    + "\n"
)

MARKERS = _mps(
    " L c\n",
    " M1 'MARKER' 'INTORG'\n x obj -1 c 1\n y obj -1 c 1\n z obj -1 c 1\n M2 'MARKER' 'INTEND'\n w obj -1 c 1\n",
    " rhs c 30.5\n",
    bounds=" LO b y 0\n UP b z 7\n UP b w 0.25\n",
)

MPS_CASES = [
    Case("mps-fixed-names-with-blanks", "mps", FIXED_BLANKS),
    Case("mps-fixed-names-beginning-with-star", "mps", FIXED_STARS),
    *[_ranged(k, r, s) for k in "ELG" for r in (2.0, -2.0) for s in ("min", "max")],
    _ranged("E", 0.0, "max"),
    Case(
        "mps-negative-upper-bound",
        "mps",
        _mps(" G c\n", " x obj 1 c 1\n", " rhs c -5\n", bounds=" UP b x -2\n"),
        warning="sets its lower bound to -inf",
        reference=_mps(" G c\n", " x obj 1 c 1\n", " rhs c -5\n", bounds=" MI b x\n UP b x -2\n"),
    ),
    Case(
        "mps-negative-upper-bound-after-lower",
        "mps",
        _mps(" G c\n", " x obj 1 c 1\n", " rhs c -5\n", bounds=" LO b x -3\n UP b x -2\n"),
    ),
    Case("mps-marker-integers", "mps", MARKERS),
    Case(
        "mps-objsense-next-line",
        "mps",
        _mps(" L c\n", " x obj 1 c 1\n", " r c 3\n", head="OBJSENSE\n    MAX\n"),
    ),
    Case(
        "mps-objsense-same-line", "mps", _mps(" L c\n", " x obj 1 c 1\n", " r c 3\n", head="OBJSENSE MAX\n")
    ),
    Case(
        "mps-objsense-maximize-same-line",  # HiGHS 1.16 reads this one as MIN
        "mps",
        _mps(" L c\n", " x obj 1 c 1\n", " r c 3\n", head="OBJSENSE MAXIMIZE\n"),
        reference=_mps(" L c\n", " x obj 1 c 1\n", " r c 3\n", head="OBJSENSE\n    MAX\n"),
    ),
    Case(
        "mps-objsense-maximise-next-line",
        "mps",
        _mps(" L c\n", " x obj 1 c 1\n", " r c 3\n", head="OBJSENSE\n    MAXIMISE\n"),
    ),
    Case(
        "mps-objsence",  # HiGHS 1.16 ignores the OBJSENCE spelling
        "mps",
        _mps(" L c\n", " x obj 1 c 1\n", " r c 3\n", head="OBJSENCE\n    MAX\n"),
        warning="OBJSENCE section is read as OBJSENSE",
        reference=_mps(" L c\n", " x obj 1 c 1\n", " r c 3\n", head="OBJSENSE\n    MAX\n"),
    ),
    Case(
        "mps-objname",  # HiGHS 1.16 ignores OBJNAME and takes the first N row
        "mps",
        "NAME t\nOBJNAME\n obj\nROWS\n N first\n N obj\n L c\nCOLUMNS\n x first 1 c 1\n x obj -1\n"
        "RHS\n r c 3\nENDATA\n",
        warning="named by OBJNAME",
        reference=_mps(" L c\n", " x obj -1 c 1\n", " r c 3\n"),
    ),
    Case(
        "mps-text-after-endata",
        "mps",
        _mps(" G c\n", " x obj 1 c 1\n", " r c 3\n") + "this is not MPS\n 1 2 3\n",
        warning="text after ENDATA is ignored",
    ),
    Case(
        "mps-fortran-d-exponents",
        "mps",
        _mps(
            " G c\n", " x obj 1.5D0 c 1d0\n y obj 2.5d-1 c 1.0D+0\n", " r c 3.0D1\n", bounds=" UP b x 1D1\n"
        ),
    ),
    Case(
        "mps-rows-without-variables",
        "mps",
        _mps(" G c\n E e\n G g\n L l\n", " x obj 1 c 1\n", " r c 3 g -1\n r l 2\n"),
    ),
    Case(
        "mps-row-without-variables-infeasible",
        "mps",
        _mps(" G c\n G g\n", " x obj 1 c 1\n", " r c 3 g 1\n"),
        expect="infeasible",
    ),
    Case(
        "mps-objective-constant-and-free-row",
        "mps",
        _mps(" G c\n N spare\n", " x obj 1 c 1\n x spare 7\n", " r c 3 obj -4.5\n"),
        warning="the free row 'spare'",
    ),
    Case(
        "mps-duplicate-entries-keep-the-first",
        "mps",
        _mps(" G c\n", " x obj 1 c 1\n x obj 5\n", " r c 3\n r c 9\n", bounds=" UP b x 10\n UP b x 1\n"),
        warning="the first is kept",
    ),
    Case(
        "mps-ranges-on-the-objective-row",
        "mps",
        _mps(" G c\n", " x obj 1 c 1\n", " r c 3\n", extra="RANGES\n r obj 2\n"),
        warning="RANGES entry on the free row 'obj' is ignored",
    ),
    Case(
        "mps-every-bound-type",
        "mps",
        _mps(
            " G c\n L d\n",
            " a obj -1 c 1\n k obj 1 c 1\n e obj 1 c 1\n e d 1\n f obj -2 c 1\n f d 1\n g obj -1 d 1\n"
            " h obj -1 c 1\n i obj 1 c 1\n",
            " r c -20 d 30\n",
            bounds=" MI b a\n UP b a 4\n LO b k 1\n PL b k\n FX b e 2.5\n FR b f\n"
            " BV b g\n LI b h -2\n UI b h 5\n LO b i -1.5\n",
        ),
    ),
    Case(
        "mps-second-bound-on-a-side-is-ignored",
        "mps",
        _mps(
            " L d\n",
            " k obj -1 d 1\n f obj -2 d 1\n",
            " r d 30\n",
            bounds=" UP b k 3\n PL b k\n FR b f\n UP b f 4\n LO b f -3\n UP b k 2\n",
        ),
        warning="its upper bound is already set",
    ),
]


LP_KEYWORDS = [
    ("Minimize", "Subject To"),
    ("minimise", "such that"),
    ("MINIMUM", "st"),
    ("min", "s.t."),
    ("Maximize", "ST."),
    ("maximise", "subject to"),
    ("Maximum", "st"),
    ("MAX", "SUCH THAT"),
]


def _lp_keywords(sense: str, st: str, k: int) -> Case:
    bounds = ["Bounds", "bound", "BOUNDS", "Bound"][k % 4]
    gen = ["General", "Generals", "Gen", "Integer", "Integers", "GENERAL", "gen", "integers"][k]
    binary = ["Binary", "Binaries", "Bin", "BINARY", "bin", "binaries", "Binary", "BIN"][k]
    sign = "-" if sense.lower().startswith("max") else ""
    text = (
        f"{sense}\n obj: {sign}3 x + {sign}2 y + {sign}z\n{st}\n c1: x + y + z <= 7.5\n c2: x - y >= -2\n"
        f"{bounds}\n x <= 4\n y <= 3.5\n{gen}\n x\n{binary}\n z\nEnd\n"
    )
    return Case(f"lp-keywords-{sense}-{st}", "lp", text)


def _lp_bin(bounds: str, obj: str = "- x - y") -> str:
    return f"Minimize\n obj: {obj}\nSubject To\n c: x + y <= 5\nBounds\n{bounds}Binary\n x\nEnd\n"


LP_CASES = [
    *[_lp_keywords(s, t, k) for k, (s, t) in enumerate(LP_KEYWORDS)],
    Case(
        "lp-empty-semi-continuous-section",
        "lp",
        "max\n obj: x + 2 y\nst\n c: x + y <= 3.5\nbounds\n x <= 4\nbin\n y\ngen\n x\nsemi\nend\n",
    ),
    Case(
        "lp-empty-semi-continuous-long-keyword",
        "lp",
        "max\n obj: x + 2 y\nst\n c: x + y <= 3.5\nbounds\n x <= 4\ngen\n x\nsemi-continuous\nend\n",
    ),
    Case("lp-binary-after-fixing-bound", "lp", _lp_bin(" x = 0\n")),
    Case("lp-binary-after-fixing-bound-at-one", "lp", _lp_bin(" x = 1\n", obj="x + y")),
    Case("lp-binary-after-upper-bound", "lp", _lp_bin(" x <= 3\n"), warning="declared binary but its bounds"),
    Case("lp-binary-after-lower-bound", "lp", _lp_bin(" x >= -2\n", obj="x + y"), warning="[-2, 1]"),
    Case(
        "lp-binary-before-bounds",
        "lp",
        "min\n obj: -x\nst\n c: x <= 5\nbin\n x\nbounds\n x <= 3\nend\n",
        warning="bounds [0, 3] are kept",
    ),
    Case(
        "lp-general-after-bounds",
        "lp",
        "min\n obj: -x - y\nst\n c: x + y <= 5.5\nbounds\n x <= 2.5\ngen\n x\nend\n",
    ),
    Case(
        "lp-constant-on-the-left",  # HiGHS 1.16 drops it: x + y >= 5
        "lp",
        "min\n obj: x + 2 y\nst\n c: x + y + 3 >= 5\nend\n",
        reference="min\n obj: x + 2 y\nst\n c: x + y >= 2\nend\n",
    ),
    Case(
        "lp-constants-on-both-sides",  # HiGHS 1.16 rejects these forms
        "lp",
        "min\n obj: x + 2 y + 1\nst\n c1: 2 <= x - y\n c2: x - 2 + y - 1 <= 4 - y\n c3: 3 x + 1 >= 7 - x + 2\nend\n",
        reference="min\n obj: x + 2 y + 1\nst\n c1: x - y >= 2\n c2: x + 2 y <= 7\n c3: 4 x >= 8\nend\n",
    ),
    Case(
        "lp-ranged-rows",
        "lp",
        "max\n obj: x + y\nst\n r1: -3 <= x - y <= 5\n r2: 6 >= x + y >= 1\nbounds\n x free\nend\n",
        reference="max\n obj: x + y\nst\n a: x - y >= -3\n b: x - y <= 5\n c: x + y <= 6\n d: x + y >= 1\n"
        "bounds\n x free\nend\n",
    ),
    Case(
        "lp-infinite-bounds",
        "lp",
        "min\n obj: x - y\nst\n c: x >= -5\n d: y <= 3\nbounds\n x >= -inf\n -infinity <= y <= +INF\nend\n",
    ),
    Case(
        "lp-row-with-infinite-rhs",
        "lp",
        "min\n obj: x + y\nst\n c: x + y >= 1\n d: x - y >= -inf\n e: x <= +infinity\nend\n",
        warning="constraint 'd' (>= -inf) is free and is dropped",
    ),
    Case("lp-empty-row", "lp", "min\n obj: x + y\nst\n c: x + y >= 1\n c1: = +0\n c2: >= -3\nend\n"),
    Case(
        "lp-empty-row-infeasible",
        "lp",
        "min\n obj: x + y\nst\n c: x + y >= 1\n c1: >= 3\nend\n",
        expect="infeasible",
    ),
    Case(
        "lp-zero-coefficient-row-infeasible",
        "lp",
        "min\n obj: x\nst\n c1: 0 x >= 3\nend\n",
        expect="infeasible",
    ),
    Case(
        "lp-text-after-end",  # HiGHS 1.16 rejects the file
        "lp",
        "min\n obj: x\nst\n c: x >= 2\nend\nnot LP $ at all\n",
        warning="text after End is ignored",
        reference="min\n obj: x\nst\n c: x >= 2\nend\n",
    ),
    Case(
        "lp-duplicate-row-names",
        "lp",
        "min\n obj: x + y\nst\n r: x >= 1\n r: y >= 2\nend\n",
        warning="a second constraint named 'r' is read as r_2",
    ),
    Case(
        "lp-repeated-sections",
        "lp",
        "max\n obj: x + y\nst\n c: x <= 3\nbounds\n x <= 2\nst\n d: y <= 4\nbounds\n y <= 3\nend\n",
    ),
    Case("lp-objective-constant-only", "lp", "min\n obj: 3\nst\n c: x >= -5\nend\n"),
    Case("lp-empty-objective", "lp", "min\n obj:\nst\n c: x + y >= 1\nend\n"),
    Case(
        "lp-bounds-every-form",
        "lp",
        "max\n obj: x + y + z + w\nst\n c: x + y + z + w <= 100\nbounds\n 1 <= x <= 3\n 2 >= y\n z = 4\n -3 <= w\n w <= 5\nend\n",
    ),
]


@pytest.mark.parametrize("case", MPS_CASES + LP_CASES, ids=str)
def test_reads_as_highs_does(tmp_path: Path, case: Case) -> None:
    path = tmp_path / f"case.{case.ext}"
    path.write_text(case.text)
    problem = read(path)
    if case.warning is None:
        assert problem.warnings == [], problem.warnings
    else:
        assert any(case.warning in w for w in problem.warnings), problem.warnings
        assert all(w.startswith(f"{path}:") for w in problem.warnings)
    if case.reference is None:
        outcome = assert_same_optimum(path)
    else:
        ref = tmp_path / f"reference.{case.ext}"
        ref.write_text(case.reference)
        ours, outcome = our_outcome(problem), highs_outcome(ref)
        assert same(ours, outcome), f"kakehashi {ours} vs HiGHS on the reference {outcome}"
    assert outcome.status == (case.expect or "optimal")


REFUSED = [
    (
        "mps",
        _mps(" G c\n", " x obj 1 c 1\n", " r c 1\n", extra="QUADOBJ\n x x 2\n"),
        10,
        "continuous quadratic objective",
    ),
    (
        "mps",
        _mps(" G c\n", " x obj 1 c 1\n", " r c 1\n", extra="QMATRIX\n x x 2\n"),
        10,
        "continuous quadratic objective",
    ),
    (
        "mps",
        _mps(" G c\n", " x obj 1 c 1\n", " r c 1\n", bounds=" SC b x 4\n"),
        10,
        "semi-continuous variables (SC bounds)",
    ),
    (
        "mps",
        _mps(" G c\n", " x obj 1 c 1\n", " r c 1\n", bounds=" SI b x 4\n"),
        10,
        "semi-integer variables (SI bounds)",
    ),
    (
        "mps",
        _mps(" G c\n", " x obj 1 c 1\n", " r c 1\n", extra="SOS\n S1 SOS\n    s1 1\n"),
        9,
        "SOS constraints (the SOS section) are not supported yet",
    ),
    ("lp", "min\n obj: x + [ x ^ 2 ] / 2\nst\n c: x >= 1\nend\n", 2, "continuous quadratic objective"),
    ("lp", "min\n obj: x\nst\n q: [ x * y ] <= 1\nend\n", 4, "continuous quadratic constraint 'q'"),
    (
        "lp",
        "min\n obj: x\nst\n c: x >= 1\nbounds\n x <= 4\nsemi-continuous\n x\nend\n",
        8,
        "semi-continuous variables are not supported yet",
    ),
    ("lp", "min\n obj: x\nst\n c: x >= 1\nsemis\n x\nend\n", 6, "semi-continuous variables"),
    (
        "lp",
        "min\n obj: x + y\nst\n c: x + y >= 1\nsos\n s1: S1:: x:1 y:2\nend\n",
        6,
        "SOS constraints are not supported yet",
    ),
]


@pytest.mark.parametrize(("ext", "text", "line", "message"), REFUSED)
def test_features_the_model_cannot_hold_are_refused(
    tmp_path: Path, ext: str, text: str, line: int, message: str
) -> None:
    """Never read approximately: a ModelError naming the feature, the file and the line."""
    path = tmp_path / f"case.{ext}"
    path.write_text(text)
    with pytest.raises(ModelError) as info:
        read(path)
    assert message in str(info.value)
    assert (info.value.source, info.value.line) == (str(path), line), str(info.value)
