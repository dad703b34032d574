"""kakehashi.read: choice of reader by extension, by content, gzip, and unknown formats."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import kakehashi
from kakehashi.exceptions import ModelError
from kakehashi.model.readers import detect_format, read

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("fixture", "fmt"), [("mixed.lp", "lp"), ("mixed.mps", "mps"), ("quadobj.mps", "mps")]
)
def test_content_sniffing_without_extension(tmp_path: Path, fixture: str, fmt: str) -> None:
    text = (FIXTURES / fixture).read_text()
    assert detect_format(text) == fmt
    path = tmp_path / "model.txt"
    path.write_text(text)
    assert read(path).to_dict()["constraints"] == read(FIXTURES / fixture).to_dict()["constraints"]


def test_gzip_and_json_and_gset_sniffing(tmp_path: Path) -> None:
    gz = tmp_path / "mixed.lp.gz"
    gz.write_bytes(gzip.compress((FIXTURES / "mixed.lp").read_bytes()))
    p = kakehashi.read(gz)
    assert p.name == "mixed" and p.num_constraints == 6
    qubo = tmp_path / "q.data"
    qubo.write_text('{"type": "ising", "linear": {"0": 1}}')
    assert read(qubo).is_bqm
    graph = tmp_path / "g.dat"
    graph.write_text("2 1\n1 2 3\n")
    assert read(graph).objective_value({0: 1, 1: -1}) == 3.0
    assert read(graph, format="gset").sense == "max"


def test_unknown_format_is_a_model_error(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_text("hello world\n")
    with pytest.raises(ModelError, match="cannot tell the file format"):
        read(path)
    with pytest.raises(ModelError, match="expected a format among"):
        read(path, format="xlsx")
    with pytest.raises(ModelError, match="cannot read the file"):
        read(tmp_path / "missing.lp")
