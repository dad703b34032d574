"""Declared sizes are budgets in the Gset and QUBO JSON readers; hostile JSON is a ModelError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kakehashi.exceptions import ModelError
from kakehashi.model.readers import gset, qubo_json


def test_gset_header_announcing_more_edges_than_lines_is_refused_before_allocating() -> None:
    with pytest.raises(ModelError, match="announces 1000000000000000000 edges but the file has 1") as info:
        gset.parse_edges("3 1000000000000000000\n1 2 1\n", source="g.txt")
    assert info.value.line == 1 and info.value.source == "g.txt"


def test_gset_vertex_count_has_a_limit() -> None:
    with pytest.raises(ModelError, match="exceed the limit"):
        gset.parse_edges(f"{gset.MAX_VERTICES + 1} 1\n1 2 1\n")
    n, i, _, _ = gset.parse_edges("3 2\n1 2 1\n2 3 -1\n")
    assert n == 3 and list(i) == [0, 1]


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "qubo", "linear": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"type": "qubo", "offset": ' + "9" * 5000 + "}",
        '{"type": "qubo", "offset": NaN}',
        '{"type": "qubo", "type": "ising"}',
    ],
    ids=["deep", "long-int", "nan", "duplicate-key"],
)
def test_hostile_qubo_json_is_a_model_error(text: str) -> None:
    with pytest.raises(ModelError):
        qubo_json.reads(text, source="q.json")


def test_qubo_json_syntax_errors_keep_the_line() -> None:
    with pytest.raises(ModelError) as info:
        qubo_json.reads('{"type": "qubo",\n "linear": {"a": }}', source="q.json")
    assert info.value.line == 2


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=0, max_value=40))
def test_gset_random_bytes_and_truncations_raise_only_model_errors(junk: bytes, cut: int) -> None:
    valid = "4 3\n1 2 1\n2 3 1\n3 4 -1\n"
    for text in (junk.decode("utf-8", errors="replace"), valid[:cut], valid[:cut] + junk.decode("latin-1")):
        with contextlib.suppress(ModelError):
            gset.parse_edges(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='{}[]":,0123456789.e-qubolinearquadratictypeoffset ', max_size=80))
def test_qubo_json_random_text_raises_only_model_errors(text: str) -> None:
    with contextlib.suppress(ModelError):
        qubo_json.reads(text)
