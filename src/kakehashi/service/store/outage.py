"""Riding out database outages: exponential back-off with jitter, and one log line per outage.

A worker calls :meth:`Outage.failed` for every database error of the outage kind (see
:func:`kakehashi.service.store.db.is_outage`) and sleeps the seconds it returns; it calls
:meth:`Outage.ok` after any database call that worked. The log gets one warning when the outage
starts and one when it ends (with its duration and the number of failed tries), never one per try.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any


class Outage:
    """Back-off state of one process's database connection.

    Args:
        log: where the start and end lines go.
        base_seconds: the first wait (seconds); it doubles with every failed try...
        cap_seconds: ...up to this (seconds).
        extra: ``extra`` fields of the log lines (e.g. the worker id).
    """

    def __init__(
        self,
        log: logging.Logger,
        *,
        base_seconds: float = 0.1,
        cap_seconds: float = 5.0,
        extra: dict[str, Any] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.log = log
        self.base = base_seconds
        self.cap = cap_seconds
        self.extra = extra or {}
        self.rng = rng or random.Random()
        self.since: float | None = None  # monotonic start of the current outage
        self.tries = 0
        self.ended_at: float | None = None  # monotonic end of the last outage
        self.outages = 0

    @property
    def down(self) -> bool:
        """True while an outage is going on."""
        return self.since is not None

    def failed(self, exc: BaseException) -> float:
        """Record a failed try; the seconds to wait before the next one (jittered)."""
        if self.since is None:
            self.since = time.monotonic()
            self.tries = 0
            self.outages += 1
            first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            self.log.warning(
                "database unreachable (%s: %s); retrying with back-off up to %.0f s",
                type(exc).__name__,
                first[0] if first else "",
                self.cap,
                extra={**self.extra, "outage": "start"},
            )
        self.tries += 1
        bound = min(self.cap, self.base * 2 ** (self.tries - 1))
        return float(bound * self.rng.uniform(0.5, 1.0))

    def ok(self) -> None:
        """Record a database call that worked: ends the outage (one log line) if there was one."""
        if self.since is None:
            return
        now = time.monotonic()
        duration = now - self.since
        self.log.warning(
            "database reachable again after %.1f s (%d failed tries)",
            duration,
            self.tries,
            extra={**self.extra, "outage": "end", "duration_s": round(duration, 3)},
        )
        self.since = None
        self.ended_at = now

    def recovered_within(self, seconds: float) -> bool:
        """True during an outage and for ``seconds`` after it ended."""
        if self.since is not None:
            return True
        return self.ended_at is not None and time.monotonic() - self.ended_at < seconds
