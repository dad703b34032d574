"""QUBO/Ising JSON reader: the documented schema, kakehashi.problem JSON, and errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import dimod
import pytest

from kakehashi.exceptions import ModelError
from kakehashi.model.readers import qubo_json, read


def test_qubo_energy_matches_the_formula(tmp_path: Path) -> None:
    doc = {
        "type": "qubo",
        "name": "tiny",
        "linear": {"0": 1.5, "a": -2},
        "quadratic": [[0, "a", 3.0], ["a", 2, -1.0], [2, 2, 0.5], [0, "a", 1.0]],
        "offset": 4.0,
        "sense": "max",
        "known_optimum": 6.0,
    }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(doc))
    p = read(path)
    assert p.name == "tiny" and p.sense == "max" and p.known_optimum == 6.0 and p.is_bqm
    assert p.model.vartype is dimod.BINARY and set(p.variables) == {0, "a", 2}
    for x0, xa, x2 in itertools.product((0, 1), repeat=3):
        expected = 4.0 + 1.5 * x0 - 2 * xa + 4.0 * x0 * xa - xa * x2 + 0.5 * x2
        assert p.objective_value({0: x0, "a": xa, 2: x2}) == expected


def test_ising_pairs_and_self_terms() -> None:
    text = json.dumps(
        {"type": "ising", "linear": [[0, 1.0], [1, -0.5]], "quadratic": {"0,1": -1.0, "1,1": 2.0}}
    )
    p = qubo_json.reads(text)
    assert p.model.vartype is dimod.SPIN
    for s0, s1 in itertools.product((-1, 1), repeat=2):
        assert p.objective_value({0: s0, 1: s1}) == s0 - 0.5 * s1 - s0 * s1 + 2.0  # s1*s1 == 1


def test_kakehashi_problem_json_round_trip(tmp_path: Path) -> None:
    original = read(Path(__file__).parent / "fixtures" / "quadratic.lp")
    path = tmp_path / "p.json"
    path.write_text(original.to_json())
    back = read(path)
    assert back.to_dict()["constraints"] == original.to_dict()["constraints"]
    again = read(path, format="kakehashi.problem")
    assert again.cqm.objective.energy({"a": 1, "b": 0, "c": 3}) == original.cqm.objective.energy(
        {"a": 1, "b": 0, "c": 3}
    )


@pytest.mark.parametrize(
    ("text", "field", "line", "message"),
    [
        ('{"type": "qubits"}', "type", None, 'expected "type": "qubo" or "ising"'),
        ('{"type": "qubo", "linear": [[0]]}', "linear[0]", None, "expected [variable, bias]"),
        ('{"type": "qubo", "quadratic": [[0, 1, "x"]]}', "quadratic[0]", None, "expected a number"),
        ('{"type": "qubo", "quadratic": [[0, 1.5, 2]]}', "quadratic[0]", None, "expected a variable label"),
        ('{"type": "qubo", "sense": "maximise"}', "sense", None, 'expected "min" or "max"'),
        ('{"type": "qubo",\n "linear": {"0": 1,}\n}', None, 2, "invalid JSON"),
    ],
)
def test_qubo_json_errors(
    tmp_path: Path, text: str, field: str | None, line: int | None, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ModelError) as info:
        read(path)
    assert info.value.field == field and info.value.line == line
    assert info.value.source == str(path) and message in str(info.value)
