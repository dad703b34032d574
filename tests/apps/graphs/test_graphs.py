"""MaxCut / partitioning apps: the recomputed cut equals the model's objective."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import kakehashi
from kakehashi.apps.graphs import cut_value, interpret_cut, partition_problem, read_graph


def test_partition_objective_is_cut(tmp_path: Path) -> None:
    f = tmp_path / "g.txt"
    f.write_text("6 7\n1 2 1\n2 3 1\n3 1 1\n4 5 1\n5 6 1\n6 4 1\n1 4 1\n")
    graph = read_graph(f)
    problem = partition_problem(graph)
    result = kakehashi.solve(problem, "exact", time_limit=5)
    answer = interpret_cut(result, graph)
    assert answer.balanced and answer.cut == 1.0 == result.objective
    side = np.array([0, 1, 0, 1, 0, 1])
    assert cut_value(graph, side) == 5.0
