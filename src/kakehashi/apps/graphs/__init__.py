"""Graph problems over the Gset/rudy reader: MaxCut and balanced graph partitioning."""

from kakehashi.apps.graphs.maxcut import (
    CutAnswer,
    cut_value,
    interpret_cut,
    maxcut_problem,
    partition_problem,
    read_graph,
    validate_partition,
)

__all__ = [
    "CutAnswer",
    "cut_value",
    "interpret_cut",
    "maxcut_problem",
    "partition_problem",
    "read_graph",
    "validate_partition",
]
