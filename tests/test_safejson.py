"""kakehashi.safejson: strict JSON within limits, every refusal a JsonLimitError (a ModelError)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kakehashi.exceptions import ModelError
from kakehashi.safejson import JsonLimitError, depth, loads


@pytest.mark.parametrize(
    ("text", "limit_name"),
    [
        ("[" * 100_000 + "]" * 100_000, "max_json_depth"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "max_json_depth"),
        ("[" * 65 + "]" * 65, "max_json_depth"),
        ('{"params": ' + "[" * 990 + "]" * 990 + "}", "max_json_depth"),
        ("1" * 4301, "max_json_int_digits"),
        ('{"x": -' + "9" * 101 + "}", "max_json_int_digits"),
        ('{"a": 1, "a": 2}', "json"),
        ('{"a": NaN}', "json"),
        ("[Infinity]", "json"),
        ("[-Infinity]", "json"),
        ("[1e999]", "json"),
        ('["\\ud800"]', "json"),
        ("[1,]", "json"),
        ("", "json"),
    ],
)
def test_hostile_documents_are_refused_naming_the_limit(text: str, limit_name: str) -> None:
    with pytest.raises(JsonLimitError) as info:
        loads(text)
    assert info.value.limit_name == limit_name
    assert isinstance(info.value, ModelError)


def test_invalid_utf8_names_the_byte() -> None:
    with pytest.raises(JsonLimitError, match="byte 7"):
        loads(b'{"a": "\xff"}'[:7] + b'\xff"}')


def test_limits_are_inclusive_and_valid_json_passes() -> None:
    assert loads("[" * 64 + "]" * 64, max_depth=64) is not None
    assert loads("9" * 100) == int("9" * 100)
    assert loads('{"a": [1, 2.5, "x\\u00e9\\ud83d\\ude00", null, true]}') == {
        "a": [1, 2.5, "xé\U0001f600", None, True]
    }
    assert loads('"[[[[ not nesting ]"') == "[[[[ not nesting ]"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_round_trip_and_depth_agree_with_the_stdlib(value: object) -> None:
    text = json.dumps(value)
    assert depth(text.encode()) == _depth(value)
    assert loads(text) == value


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(alphabet='[]{}",:0123456789eE.-\\u tfnNaI', max_size=300))
def test_any_bytes_give_a_value_or_a_json_limit_error(data: bytes | str) -> None:
    with contextlib.suppress(JsonLimitError):
        loads(data)
