"""The bundled examples, one per domain, solve and pass their domain's validate() (what `make run` shows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kakehashi.apps.examples import examples_dir, run_domain_examples
from kakehashi.exceptions import ModelError


def test_run_domain_examples_solves_each_domain() -> None:
    out = run_domain_examples(time_limit=4, seed=0)
    assert [label for label, _ in out] == ["routing (pyvrp)", "portfolio (scip)", "energy (highs)"]
    for label, summary in out:
        assert summary["valid"] and summary["violations"] == [], label
        assert summary["cost"] == summary["cost"] and summary["backend"], label  # a number, not NaN
    routing = dict(out)["routing (pyvrp)"]
    assert all(load <= 60 for load in routing["detail"]["loads"]) and routing["detail"]["routes"] <= 5
    assert len(dict(out)["portfolio (scip)"]["detail"]["weights"]) == 4


def test_missing_examples_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="KAKEHASHI_EXAMPLES_DIR"):
        examples_dir(tmp_path)
