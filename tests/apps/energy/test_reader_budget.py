"""The unit-commitment JSON reader parses with the bounded, strict JSON parser."""

from __future__ import annotations

from pathlib import Path

import pytest

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
