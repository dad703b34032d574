"""The unit-commitment JSON reader parses with the bounded, strict JSON parser."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kakehashi.apps.energy.instance import read_unit_commitment
from kakehashi.exceptions import ModelError


@pytest.mark.parametrize(
    "text",
    ['{"demand": ' + "[" * 50_000 + "]" * 50_000 + "}", '{"demand": [1e999]}', '{"a": 1, "a": 2}', "{\n,"],
)
def test_hostile_json_is_a_model_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "uc.json"
    path.write_text(text)
    with pytest.raises(ModelError) as info:
        read_unit_commitment(path)
    assert info.value.source == str(path)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["demand", "solar", "units", "battery", "name", "p_max", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values)
def test_random_json_raises_only_model_errors(tmp_path: Path, value: object) -> None:
    path = tmp_path / "uc.json"
    path.write_text(json.dumps(value))
    with contextlib.suppress(ModelError):
        read_unit_commitment(path)
