"""When and how long the SDK retries a request: outages of the service or its database.

A request is retried only when sending it again cannot do anything twice:

- idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE), and ``POST .../cancel`` (cancelling twice
  is a no-op);
- a ``POST`` that carries an ``Idempotency-Key`` (the SDK adds one to every submit by default,
  so the service creates one job however often the submit is sent);
- any request whose connection could not even be opened (nothing reached the service).

It is retried on a transport error (connection refused or reset, timeout) and on the answers
that mean "not now": 502, 503 and 504. A ``Retry-After`` header (seconds) is honoured; otherwise
the wait is exponential with full jitter, ``uniform(0, min(cap, base × 2^n))``. Retries stop at
``deadline_seconds`` after the first attempt (default :data:`DEFAULT_RETRY_DEADLINE_SECONDS`);
then the last error is raised. Every retry is announced with one line on stderr.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

#: How long (seconds) the SDK keeps retrying a request through an outage by default.
DEFAULT_RETRY_DEADLINE_SECONDS = 120.0
#: The HTTP statuses that mean "try again later".
RETRY_STATUSES = frozenset({502, 503, 504})
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry settings of a client.

    Attributes:
        deadline_seconds: stop retrying this long after the first attempt (seconds; 0: never retry).
        base_seconds: the first back-off bound (seconds); it doubles with every retry...
        cap_seconds: ...up to this bound (seconds).
        notify: called with one line per retry (default: printed to stderr).
        rng: the jitter's random source (tests pass a seeded one).
    """

    deadline_seconds: float = DEFAULT_RETRY_DEADLINE_SECONDS
    base_seconds: float = 0.5
    cap_seconds: float = 10.0
    notify: Callable[[str], None] = _stderr
    rng: random.Random = field(default_factory=random.Random)

    def safe(self, method: str, path: str, headers: Mapping[str, str]) -> bool:
        """True when sending this request twice has the effect of sending it once."""
        method = method.upper()
        if method in _IDEMPOTENT:
            return True
        if method == "POST" and path.rstrip("/").endswith("/cancel"):
            return True
        return any(k.lower() == "idempotency-key" and v for k, v in headers.items())

    def backoff(self, retry: int, response: httpx.Response | None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based): Retry-After, else jitter."""
        if response is not None:
            after = response.headers.get("Retry-After", "")
            try:
                wanted = float(after)
            except ValueError:
                wanted = -1.0
            if wanted >= 0:  # the server's hint, with a little jitter so clients do not stampede
                return min(self.cap_seconds * 3, wanted) + self.rng.uniform(0, self.base_seconds)
        return self.rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**retry))

    def should_retry(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        *,
        response: httpx.Response | None = None,
        error: httpx.TransportError | None = None,
    ) -> bool:
        """Whether this outcome of the request may be retried (ignoring the deadline)."""
        if self.deadline_seconds <= 0:
            return False
        if error is not None:
            return isinstance(error, httpx.ConnectError) or self.safe(method, path, headers)
        return (
            response is not None
            and response.status_code in RETRY_STATUSES
            and self.safe(method, path, headers)
        )

    def next_wait(self, url: str, retry: int, elapsed: float, method: str, path: str,
                  headers: Mapping[str, str], response: httpx.Response | None,
                  error: httpx.TransportError | None) -> float | None:
        """Seconds to wait before trying again (announced on stderr), or None when this answer is
        final: a success, a call that is not safe to repeat, or the deadline spent. ``elapsed``:
        seconds since the first try. One decision for the sync and the async client."""
        if error is None and response is not None and response.status_code not in RETRY_STATUSES:
            return None
        left = self.deadline_seconds - elapsed
        if left <= 0 or not self.should_retry(method, path, headers, response=response, error=error):
            return None
        wait = min(self.backoff(retry, response), left)
        self.announce(url, method, path, describe(response, error), wait, left)
        return wait

    def announce(self, url: str, method: str, path: str, why: str, wait: float, left: float) -> None:
        """One stderr line: what failed, when the next try is, when retrying stops."""
        self.notify(
            f"kakehashi: {method} {path} at {url}: {why}; retrying in {wait:.1f} s "
            f"(giving up in {max(0.0, left):.0f} s)"
        )


def describe(response: httpx.Response | None, error: httpx.TransportError | None) -> str:
    """A short reason for the retry line."""
    if error is not None:
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    assert response is not None
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()
