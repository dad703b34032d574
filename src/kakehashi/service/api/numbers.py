"""Numbers from headers, paths and query strings: ASCII digits within int64, or a 4xx.

``str.isdigit()`` accepts ``²`` and other Unicode digits that ``int()`` then refuses, and
``int()`` accepts values no database column holds; :func:`int64` accepts exactly
``[0-9]{1,19}`` within ``[lo, hi]``.
"""

from __future__ import annotations

import re

from kakehashi.exceptions import ModelError

INT64_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def int64(value: str, field: str, *, lo: int = 0, hi: int = INT64_MAX) -> int:
    """``value`` as an integer in ``[lo, hi]`` (ASCII digits only); :class:`ModelError` (422)
    naming ``field`` otherwise."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        raise ModelError(
            f"expected ASCII digits (an integer from {lo} to {hi}), got {value[:40]!r}", field=field
        )
    number = int(value)
    if not lo <= number <= hi:
        raise ModelError(f"{number} is out of range: expected an integer from {lo} to {hi}", field=field)
    return number
