"""JSON from untrusted bytes, with limits: depth, integer length, no duplicate keys, no NaN.

``json.loads`` alone answers hostile documents with exceptions outside the error tree
(``RecursionError`` 100,000 levels deep, ``ValueError`` past Python's 4,300-digit int limit) or
with silently changed data (the last of duplicate keys wins, ``NaN``/``1e999`` become floats no
other JSON parser accepts). :func:`loads` refuses each of these with a :class:`JsonLimitError`
(a :class:`~kakehashi.exceptions.ModelError`) that names the limit, in time linear in the input.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from kakehashi.exceptions import ModelError

#: Defaults (the service's ``max_json_depth`` / ``max_json_int_digits`` override them).
DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_INT_DIGITS = 100

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = frozenset(b"[]{}")
_DROP = bytes(b for b in range(256) if b not in _BRACKETS)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonLimitError(ModelError):
    """A JSON document that breaks a limit or is not strict JSON.

    ``limit_name`` names the limit (``max_json_depth``, ``max_json_int_digits``, ``json``) and
    ``limit`` its value (None for strictness rules: syntax, UTF-8, duplicate keys, NaN).
    """

    def __init__(
        self,
        message: str,
        *,
        limit_name: str,
        limit: int | None = None,
        field: str | None = None,
        line: int | None = None,
    ):
        super().__init__(message, field=field, line=line)
        self.limit_name = limit_name
        self.limit = limit


def _reject_constant(name: str) -> Any:
    raise JsonLimitError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)", limit_name="json")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise JsonLimitError(f"duplicate key {dup[:100]!r} in an object", limit_name="json")
    return out


def depth(data: bytes) -> int:
    """The deepest nesting of arrays/objects in a JSON text that already parsed (linear time)."""
    import numpy as np

    brackets = _STRING.sub(b"", data).translate(None, _DROP)
    if not brackets:
        return 0
    arr = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((arr == ord("[")) | (arr == ord("{")), 1, -1).astype(np.int64)
    return int(np.cumsum(steps).max())


def loads(
    data: bytes | str,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_int_digits: int = DEFAULT_MAX_INT_DIGITS,
    field: str | None = None,
) -> Any:
    """Parse strict JSON (UTF-8) within ``max_depth`` nesting levels and ``max_int_digits`` digits
    per integer; :class:`JsonLimitError` otherwise (``field`` names where the JSON came from)."""
    if isinstance(data, str):
        text = data
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JsonLimitError(
                "the text is not valid Unicode (lone surrogate)", limit_name="json", field=field
            ) from exc
    else:
        raw = data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonLimitError(
                f"invalid UTF-8 at byte {exc.start}; JSON must be UTF-8", limit_name="json", field=field
            ) from exc

    def parse_int(s: str) -> int:
        if len(s) - s.startswith("-") > max_int_digits:
            raise JsonLimitError(
                f"an integer of {len(s)} digits; at most {max_int_digits} are accepted (max_json_int_digits)",
                limit_name="max_json_int_digits",
                limit=max_int_digits,
                field=field,
            )
        return int(s)

    def parse_float(s: str) -> float:
        value = float(s)
        if not math.isfinite(value):
            raise JsonLimitError(f"number {s[:40]} is out of the float range", limit_name="json", field=field)
        return value

    try:
        value = json.loads(
            text,
            parse_int=parse_int,
            parse_float=parse_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_pairs,
        )
    except RecursionError as exc:
        raise _too_deep(max_depth, field) from exc
    except JsonLimitError as exc:
        if field is not None and exc.field is None:
            raise JsonLimitError(exc.reason, limit_name=exc.limit_name, limit=exc.limit, field=field) from exc
        raise
    except json.JSONDecodeError as exc:
        raise JsonLimitError(
            f"invalid JSON: {exc.msg} (column {exc.colno})", limit_name="json", field=field, line=exc.lineno
        ) from exc
    if depth(raw) > max_depth:
        raise _too_deep(max_depth, field)
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JsonLimitError(
                "a \\u escape encodes a lone surrogate, which is not a character",
                limit_name="json",
                field=field,
            ) from exc
    return value


def _too_deep(max_depth: int, field: str | None) -> JsonLimitError:
    return JsonLimitError(
        f"JSON nested deeper than {max_depth} levels (max_json_depth)",
        limit_name="max_json_depth",
        limit=max_depth,
        field=field,
    )
