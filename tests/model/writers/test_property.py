"""Property: a random small MILP written by kakehashi, read back by kakehashi and read by highspy
solves to the same optimum (objective within 1e-6 relative, or infeasible for all three)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import dimod
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.model.readers.conformance import highs_outcome, our_outcome, same

from kakehashi.model.problem import Problem
from kakehashi.model.readers import read
from kakehashi.model.writers import write

_COEF = st.sampled_from([-5.0, -3.0, -2.0, -1.0, -0.5, 0.25, 1.0, 1.5, 2.0, 4.0])


@st.composite
def milps(draw: st.DrawFn) -> Problem:
    """1-5 variables of any kind with finite bounds, 0-4 rows, min or max: always bounded."""
    n = draw(st.integers(1, 5))
    cqm = dimod.ConstrainedQuadraticModel()
    names = [f"x{i}" for i in range(n)]
    for v in names:
        kind = draw(st.sampled_from(["BINARY", "INTEGER", "REAL"]))
        if kind == "BINARY":
            cqm.add_variable("BINARY", v)
            continue
        lb = draw(
            st.sampled_from([-4.0, -1.0, 0.0, 0.0, 2.0] if kind == "INTEGER" else [-4.0, -1.5, 0.0, 2.0])
        )
        ub = lb + draw(st.sampled_from([0.0, 1.0, 3.0, 6.0] if kind == "INTEGER" else [0.0, 1.0, 2.5, 6.0]))
        cqm.add_variable(kind, v, lower_bound=lb, upper_bound=ub)
    objective = [(v, draw(_COEF)) for v in names if draw(st.booleans())]
    cqm.set_objective(objective)
    cqm.objective.offset = draw(st.sampled_from([0.0, 0.0, -7.0, 2.5]))
    for r in range(draw(st.integers(0, 4))):
        terms = [(v, draw(_COEF)) for v in names if draw(st.booleans())]
        sense = draw(st.sampled_from(["<=", ">=", "=="]))
        rhs = draw(st.sampled_from([-6.0, -1.0, 0.0, 1.0, 3.5, 8.0]))
        cqm.add_constraint_from_iterable(terms, sense, rhs=rhs, label=f"r{r}")
    return Problem(cqm, name="random", sense=draw(st.sampled_from(["min", "max"])))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(milps())
def test_random_milp_written_read_back_and_read_by_highs_agree(problem: Problem) -> None:
    expected = our_outcome(problem)
    assert expected.status in ("optimal", "infeasible"), expected
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("lp", "mps"):
            path = write(problem, Path(tmp) / f"random.{ext}")
            back = read(path)
            assert back.warnings == []
            assert same(our_outcome(back), expected), (ext, path.read_text())
            assert same(highs_outcome(path), expected), (ext, path.read_text())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(milps())
def test_random_milp_as_highs_writes_it_reads_to_the_same_optimum(problem: Problem) -> None:
    """HiGHS's own LP and MPS output (empty ``semi`` section, its bound forms) reads back right."""
    import highspy

    expected = our_outcome(problem)
    with tempfile.TemporaryDirectory() as tmp:
        source = write(problem, Path(tmp) / "random.mps")
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        assert h.readModel(str(source)) != highspy.HighsStatus.kError
        for ext in ("lp", "mps"):
            by_highs = Path(tmp) / f"by_highs.{ext}"
            assert h.writeModel(str(by_highs)) != highspy.HighsStatus.kError
            assert same(our_outcome(read(by_highs)), expected), (ext, by_highs.read_text())
