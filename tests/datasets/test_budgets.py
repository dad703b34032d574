"""Dataset readers check declared sizes against the data present before allocating."""

from __future__ import annotations

from pathlib import Path

import pytest

from kakehashi.datasets import orlib, tsplib
from kakehashi.exceptions import ModelError

BOMB = (
    "NAME : bomb\nTYPE : TSP\nDIMENSION : {n}\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
    "EDGE_WEIGHT_FORMAT : {fmt}\nEDGE_WEIGHT_SECTION\n0 1 2\n1 0 3\n2 3 0\nEOF\n"
)


@pytest.mark.parametrize("fmt", ["FULL_MATRIX", "UPPER_ROW", "LOWER_DIAG_ROW"])
def test_tsplib_explicit_counts_are_checked_before_the_matrix(fmt: str) -> None:
    with pytest.raises(ModelError, match="expected"):
        tsplib.parse_instance(BOMB.format(n=90_000, fmt=fmt), source="bomb.tsp")
    with pytest.raises(ModelError, match="DIMENSION"):
        tsplib.parse_instance(BOMB.format(n=10**9, fmt=fmt), source="bomb.tsp")
    assert tsplib.parse_instance(BOMB.format(n=3, fmt="FULL_MATRIX")).distance_matrix()[1, 2] == 3


def test_orlib_asset_count_is_checked_against_the_records(tmp_path: Path) -> None:
    path = tmp_path / "port9.txt"
    path.write_text("1000000000\n0.1 0.2\n1 1 1.0\n")
    with pytest.raises(ModelError, match="records"):
        orlib.read_portfolio(path)
