"""Public identifiers: a short prefix plus 96 random bits (``job_3f9c...``)."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    """A fresh random identifier such as ``job_5e0c1b2a9d7f4e3a8b6c0d1e``."""
    return f"{prefix}_{secrets.token_hex(12)}"
