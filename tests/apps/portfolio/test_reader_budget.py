"""The OR-Library portfolio reader checks N against the records present before allocating N x N."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


VALID = "3\n0.01 0.05\n0.02 0.06\n0.015 0.04\n1 1 1.0\n1 2 0.3\n1 3 0.1\n2 2 1.0\n2 3 0.2\n3 3 1.0\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.integers(min_value=0, max_value=len(VALID)),
    pos=st.integers(min_value=0, max_value=len(VALID) - 1),
    junk=st.text(alphabet="0123456789 -.\ne+naif", max_size=10),
)
def test_truncations_and_mutations_raise_only_model_errors(
    tmp_path: Path, cut: int, pos: int, junk: str
) -> None:
    path = tmp_path / "port1.txt"
    path.write_text((VALID[:pos] + junk + VALID[pos:])[: max(cut, pos)])
    with contextlib.suppress(ModelError):
        read_orlib(path)
