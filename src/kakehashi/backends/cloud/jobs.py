"""Waiting for a vendor job under a deadline, and cancelling it when the deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable

from kakehashi.exceptions import BackendTimeout

#: Seconds between status polls.
POLL_SECONDS = 0.05


def wait_or_cancel(
    done: Callable[[], bool], cancel: Callable[[], object], *, deadline: float | None, what: str
) -> None:
    """Poll ``done()`` until true; past ``deadline`` (``time.monotonic()``) call ``cancel()`` and raise.

    Raises :class:`BackendTimeout` naming ``what`` after cancelling; a failing ``cancel`` is
    reported in the message, never hidden.
    """
    while not done():
        if deadline is not None and time.monotonic() > deadline:
            try:
                cancel()
                note = "cancelled"
            except Exception as exc:  # the vendor's cancel failed: say so, keep the timeout
                note = f"cancel failed: {exc}"
            raise BackendTimeout(f"{what}: time limit reached before the job finished ({note})")
        time.sleep(POLL_SECONDS)
