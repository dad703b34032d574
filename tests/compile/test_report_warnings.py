"""Reader warnings travel with the Problem (JSON included) into every compile report and Result."""

from __future__ import annotations

import kakehashi
from kakehashi.compile import compile_for
from kakehashi.compile.targets import CompileReport
from kakehashi.model.problem import Problem
from kakehashi.model.readers import mps

TEXT = "NAME w\nROWS\n N obj\n G c\n N spare\nCOLUMNS\n x obj 1 c 1\n x spare 2\nRHS\n r c 3\nENDATA\n"


def test_warnings_reach_the_compile_report_of_every_target_and_the_result() -> None:
    problem = mps.reads(TEXT, source="w.mps")
    expected = ["w.mps:5: the free row 'spare' (type N, not the objective) is dropped"]
    assert problem.warnings == expected
    assert compile_for(problem, "milp").report.to_dict()["warnings"] == expected
    assert compile_for(problem, "cqm").report.warnings == expected
    back = Problem.from_json(problem.to_json())  # racing legs get the problem as JSON
    assert back.warnings == expected
    result = kakehashi.solve(back, "highs", time_limit=10, seed=1)
    assert result.objective == 3 and result.report["warnings"] == expected
    assert CompileReport.from_dict(result.report).warnings == expected


def test_no_warnings_no_key() -> None:
    problem = mps.reads(TEXT.replace(" N spare\n", "").replace(" x spare 2\n", ""))
    assert problem.warnings == []
    assert "warnings" not in compile_for(problem, "milp").report.to_dict()
