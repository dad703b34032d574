"""Gset reader: G1 against a direct numpy cut computation, and file/line errors."""

from __future__ import annotations

from pathlib import Path

import dimod
import numpy as np
import pytest

from kakehashi.exceptions import ModelError
from kakehashi.model.readers import gset, read


def test_g1_cut_equals_direct_numpy_computation(data_dir: Path) -> None:
    path = data_dir / "gset" / "G1.txt"
    p = read(path)
    assert p.sense == "max" and p.is_bqm and p.model.vartype is dimod.SPIN
    assert p.metadata["n"] == 800 and p.metadata["m"] == 19176 and p.metadata["instance"] == "G1"
    assert p.num_variables == 800 and p.variables == list(range(800))
    assert p.known_optimum == 11624.0
    edges = np.loadtxt(path, skiprows=1)
    i, j, w = edges[:, 0].astype(int) - 1, edges[:, 1].astype(int) - 1, edges[:, 2]
    rng = np.random.default_rng(3)
    spins = rng.choice([-1, 1], size=(5, 800))
    energies, _ = p.evaluate_many(spins, range(800))
    for s, energy in zip(spins, energies, strict=True):
        cut = float(np.sum(w * (1 - s[i] * s[j]) / 2))
        assert energy == pytest.approx(cut, abs=1e-9)
        assert cut == float(np.sum(w[s[i] != s[j]]))  # the same cut, counted edge by edge
    assert p.objective_value(dict.fromkeys(range(800), 1)) == 0.0


def test_mixed_sign_graph_and_isolated_vertex() -> None:
    p = gset.reads("4 3\n1 2 1\n2 3 -1\n1 3 1\n", name="tiny")
    assert p.num_variables == 4 and p.name == "tiny"
    assert p.objective_value({0: 1, 1: -1, 2: -1, 3: 1}) == 1 + 1  # edges 1-2 and 1-3 cut


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("3\n1 2 1\n", 1, "expected a header 'N M'"),
        ("3 2\n1 2 1\n2 4 1\n", 3, "vertex 4 is outside 1..3"),
        ("3 2\n1 2 1\n2 1 1\n", 3, "duplicate edge 2 1 (first on line 2)"),
        ("3 3\n1 2 1\n2 3 1\n", 1, "the header announces 3 edges but the file has 2"),
        ("3 1\n1 2 1\n2 3 1\n", 3, "more than the 1 edges"),
        ("3 1\n1 x 1\n", 2, "expected integers i j and a number w"),
        ("3 1\n2 2 1\n", 2, "self-loop on vertex 2"),
    ],
)
def test_gset_errors(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.gset"
    path.write_text(text)
    with pytest.raises(ModelError) as info:
        read(path)
    assert info.value.line == line and message in str(info.value) and info.value.source == str(path)
