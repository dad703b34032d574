"""Round trips: what HiGHS writes kakehashi reads, what kakehashi writes HiGHS (and kakehashi) reads.

The instances are the conformance cases of ``tests/model/readers/test_conformance.py`` that HiGHS
reads as the format says, plus the reader fixtures. Each must solve to the same optimum whoever
wrote the file and whoever reads it (objective within 1e-6 relative, or infeasible for both).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import dimod
import pytest
from tests.model.readers.conformance import highs_outcome, our_outcome, same
from tests.model.readers.test_conformance import LP_CASES, MPS_CASES, Case

import kakehashi
from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem
from kakehashi.model.readers import read
from kakehashi.model.writers import renamed, write, writes

FIXTURES = Path(__file__).parents[1] / "readers" / "fixtures"
#: cases HiGHS reads as written (no reference), each solved to optimality or infeasibility
CASES = [c for c in MPS_CASES + LP_CASES if c.reference is None]


def _file(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / f"source.{case.ext}"
    path.write_text(case.text)
    return path


def _highs_writes(source: Path, target: Path) -> None:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(source)) != highspy.HighsStatus.kError
    assert h.writeModel(str(target)) != highspy.HighsStatus.kError


@pytest.mark.parametrize("ext", ["lp", "mps"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_what_highs_writes_kakehashi_reads(tmp_path: Path, case: Case, ext: str) -> None:
    source = _file(tmp_path, case)
    written = tmp_path / f"by_highs.{ext}"
    _highs_writes(source, written)
    ours, theirs = our_outcome(read(written)), highs_outcome(source)
    assert same(ours, theirs), f"kakehashi on HiGHS's {ext}: {ours}; HiGHS on the source: {theirs}"


def test_highs_lp_of_a_mip_with_its_empty_semi_section_reads_back(tmp_path: Path) -> None:
    """highspy's writeModel puts an empty ``semi`` section into every MIP LP file."""
    written = tmp_path / "mixed.lp"
    _highs_writes(FIXTURES / "mixed.lp", written)
    assert "\nsemi\n" in written.read_text()
    ours, theirs = our_outcome(read(written)), highs_outcome(FIXTURES / "mixed.lp")
    assert same(ours, theirs) and theirs.status == "optimal"


@pytest.mark.parametrize("ext", ["lp", "mps"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_what_kakehashi_writes_highs_reads(tmp_path: Path, case: Case, ext: str) -> None:
    problem = read(_file(tmp_path, case))
    written = write(problem, tmp_path / f"by_kakehashi.{ext}")
    ours, theirs = our_outcome(problem), highs_outcome(written)
    assert same(ours, theirs), f"kakehashi on the source: {ours}; HiGHS on kakehashi's {ext}: {theirs}"
    assert same(our_outcome(read(written)), ours)


def _canonical(problem: Problem) -> dict[str, Any]:
    """The model without names, metadata or order: what a round trip must keep."""
    data = problem.to_dict()
    return {
        "sense": data["sense"],
        "variables": sorted((v["name"], v["type"], v.get("lb"), v.get("ub")) for v in data["variables"]),
        "objective": (
            sorted((v, b) for v, b in data["objective"]["linear"] if b != 0),
            sorted((*sorted(q[:2]), q[2]) for q in data["objective"]["quadratic"]),
            data["objective"]["offset"],
        ),
        "constraints": sorted(
            (
                c["name"],
                c["sense"],
                c["rhs"],
                tuple(sorted((v, b) for v, b in c["linear"] if b != 0)),
                tuple(sorted((*sorted(q[:2]), q[2]) for q in c["quadratic"])),
            )
            for c in data.get("constraints", [])
        ),
    }


@pytest.mark.parametrize("ext", ["lp", "mps", "json", "lp.gz"])
@pytest.mark.parametrize(
    "name", ["mixed.lp", "mixed.mps", "quadratic.lp", "qconstraint.lp", "quadobj.mps", "ranges.lp"]
)
def test_kakehashi_reads_back_exactly_what_it_wrote(tmp_path: Path, name: str, ext: str) -> None:
    problem = read(FIXTURES / name)
    back = read(write(problem, tmp_path / f"out.{ext}"))
    assert _canonical(back) == _canonical(problem)
    # JSON keeps the reader's warnings with the problem; LP and MPS hold the model as read
    assert back.warnings == (problem.warnings if ext == "json" else [])


def test_writer_keeps_infinite_bounds_empty_rows_and_constants(tmp_path: Path) -> None:
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.add_variable("REAL", "x", lower_bound=-1e30, upper_bound=1e30)
    cqm.add_variable("INTEGER", "n", lower_bound=-(2**53 - 1), upper_bound=4)
    cqm.add_variable("REAL", "unused", lower_bound=-2, upper_bound=5)
    cqm.set_objective([("x", 1.0), ("n", -1.0)])
    cqm.objective.offset = 2.5
    cqm.add_constraint_from_iterable([("x", 1.0), ("n", 1.0)], ">=", rhs=-3.0, label="c")
    cqm.add_constraint_from_iterable([], "<=", rhs=1.0, label="empty")
    problem = Problem(cqm, name="edge")
    for ext in ("lp", "mps"):
        path = write(problem, tmp_path / f"edge.{ext}")
        back = read(path)
        assert _canonical(back) == _canonical(problem), ext
        assert same(highs_outcome(path), our_outcome(problem)), ext
    assert our_outcome(problem).objective == pytest.approx(2.5 - 3 - 4 - 4)


def test_labels_that_are_not_names_are_renamed_and_said(tmp_path: Path) -> None:
    cqm = dimod.ConstrainedQuadraticModel()
    for v in (0, ("x", 1), "has space", "st", "integer", "free"):
        cqm.add_variable("INTEGER", v, lower_bound=0, upper_bound=3)
    cqm.set_objective([(0, -1.0), (("x", 1), -2.0), ("has space", -3.0), ("st", 1.0), ("integer", 1.0)])
    cqm.add_constraint_from_iterable([(0, 1.0), (("x", 1), 1.0), ("has space", 1.0)], "<=", rhs=4, label=7)
    cqm.add_constraint_from_iterable([("st", 1.0), ("integer", 1.0), ("free", 1.0)], ">=", rhs=2, label="end")
    problem = Problem(cqm)
    names = renamed(problem)
    assert set(names) == {"0", "('x', 1)", "'has space'", "'st'", "'integer'", "'free'", "7", "'end'"}
    text = writes(problem, "lp")
    assert all(f"renamed: {label} -> {name}" in text for label, name in names.items())
    for ext in ("lp", "mps"):
        path = write(problem, tmp_path / f"renamed.{ext}")
        assert same(highs_outcome(path), our_outcome(problem)), ext
        assert same(our_outcome(read(path)), our_outcome(problem)), ext
    assert our_outcome(problem).objective == -3 * 3 - 2 * 1


def test_writers_refuse_spins_and_unknown_formats(tmp_path: Path) -> None:
    problem = Problem(dimod.BinaryQuadraticModel({"s": 1.0}, {}, 0.0, "SPIN"))
    with pytest.raises(ModelError, match="spin"):
        writes(problem, "lp")
    with pytest.raises(ModelError, match="cannot tell the format"):
        write(read(FIXTURES / "mixed.lp"), tmp_path / "out.txt")
    with pytest.raises(ModelError, match="expected a format among"):
        writes(problem, "csv")


def test_public_write_and_gzip(tmp_path: Path) -> None:
    path = kakehashi.write(read(FIXTURES / "mixed.mps"), tmp_path / "m.mps.gz")
    assert gzip.decompress(path.read_bytes()).startswith(b"* MIXEDMPS")
    assert same(our_outcome(read(path)), highs_outcome(FIXTURES / "mixed.mps"))
