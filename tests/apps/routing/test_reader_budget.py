"""Declared sizes are budgets: a routing file's DIMENSION is checked against the data present and
the node limit before any matrix is allocated (issue 19)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kakehashi.apps.routing.reader import read_routing, read_tsplib
from kakehashi.exceptions import ModelError

TINY_EXPLICIT = """NAME : bomb
TYPE : TSP
COMMENT : a few bytes that declare a million nodes
DIMENSION : {n}
EDGE_WEIGHT_TYPE : EXPLICIT
EDGE_WEIGHT_FORMAT : {fmt}
EDGE_WEIGHT_SECTION
0 1 2
1 0 3
2 3 0
EOF
"""


@pytest.mark.parametrize("fmt", ["FULL_MATRIX", "UPPER_ROW", "LOWER_DIAG_ROW"])
def test_a_tiny_file_declaring_a_million_nodes_is_refused_before_allocating(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "bomb.tsp"
    path.write_text(TINY_EXPLICIT.format(n=1_000_000, fmt=fmt))
    assert path.stat().st_size < 300
    with pytest.raises(ModelError) as info:
        read_routing(path, max_nodes=10**7)  # the node limit allows it: the data present does not
    err = info.value
    assert err.source == str(path) and err.line == 4 and err.field == "EDGE_WEIGHT_SECTION"
    assert "needs" in str(err)
    with pytest.raises(ModelError) as info:  # and with the default limit, DIMENSION itself is refused
        read_routing(path)
    assert info.value.field == "DIMENSION" and info.value.line == 4


def test_the_matching_data_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "three.tsp"
    path.write_text(TINY_EXPLICIT.format(n=3, fmt="FULL_MATRIX"))
    inst = read_tsplib(path)
    assert inst.explicit_weights == [[0, 1, 2], [1, 0, 3], [2, 3, 0]]


def test_dimension_above_max_nodes_names_the_limit(tmp_path: Path) -> None:
    coords = "\n".join(f"{i} {i} {i * i}" for i in range(1, 6))
    path = tmp_path / "five.tsp"
    path.write_text(
        f"NAME : five\nTYPE : TSP\nDIMENSION : 5\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n{coords}\nEOF\n"
    )
    assert read_routing(path).dimension == 5
    with pytest.raises(ModelError, match="limit of 4 nodes") as info:
        read_routing(path, max_nodes=4)
    assert info.value.field == "DIMENSION"


VALID = """NAME : t5
TYPE : CVRP
DIMENSION : 5
CAPACITY : 10
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 1 5
3 4 2
4 6 6
5 3 8
DEMAND_SECTION
1 0
2 3
3 4
4 2
5 5
DEPOT_SECTION
1
-1
EOF
"""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.integers(min_value=0, max_value=len(VALID)),
    pos=st.integers(min_value=0, max_value=len(VALID) - 1),
    junk=st.text(alphabet="0123456789 -:.\nEDIMNSOXPLICT_e9", max_size=12),
)
def test_truncations_and_mutations_raise_only_model_errors(
    tmp_path: Path, cut: int, pos: int, junk: str
) -> None:
    """Random truncations and insertions into a valid file: an instance or a ModelError, nothing else."""
    text = (VALID[:pos] + junk + VALID[pos:])[: max(cut, pos)]
    path = tmp_path / "m.vrp"
    path.write_text(text)
    with contextlib.suppress(ModelError):
        read_routing(path)
