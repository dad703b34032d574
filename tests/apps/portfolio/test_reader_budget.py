"""The OR-Library portfolio reader checks N against the records present before allocating N x N."""

from __future__ import annotations

from pathlib import Path

import pytest

from kakehashi.apps.portfolio.instance import read_orlib
from kakehashi.exceptions import ModelError


def test_a_huge_declared_n_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "port1.txt"
    path.write_text("1000000000\n0.1 0.2\n1 1 1.0\n")
    with pytest.raises(ModelError, match="N = 1000000000") as info:
        read_orlib(path)
    assert info.value.line == 1 and info.value.field == "N"
    path.write_text("2\n0.1 0.2\n0.05 0.1\n1 1 1.0\n1 2 0.5\n2 2 1.0\n")
    assert read_orlib(path).n == 2
