"""The kakehashi error tree: one root, one branch per layer.

::

    KakehashiError
    ├── ModelError          bad input: file, line, field and what was expected
    ├── CompileError        a problem that cannot be compiled for the requested target
    ├── BackendError        a backend failed
    │   ├── BackendUnavailable  missing extra, credentials or hardware (the reason says which)
    │   ├── BackendRejected     the backend refuses this input or these parameters
    │   └── BackendTimeout      the backend ran past its time limit without an answer
    ├── DownloadError       a dataset download failed (HTTP error or checksum mismatch)
    ├── JobError            a platform job cannot be run, found or changed
    ├── QuotaError          a project's budget or quota would be exceeded
    └── AuthError           missing, unknown or revoked credentials

Adapters translate vendor errors with ``raise ... from exc`` so the vendor's message is kept.
The CLI maps each branch to one line and an exit code (see :data:`EXIT_CODES`); the HTTP API
maps them to ``application/problem+json`` responses.
"""

from __future__ import annotations

from pathlib import Path


class KakehashiError(Exception):
    """Root of every error kakehashi raises on purpose."""


class ModelError(KakehashiError):
    """Bad problem input. Names the source (file), the line or field, and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        source: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = str(source) if source is not None else None
        self.line = line
        self.field = field
        self.reason = message
        where = ""
        if self.source is not None:
            where = self.source
            if line is not None:
                where += f":{line}"
            where += ": "
        elif line is not None:
            where = f"line {line}: "
        if field is not None:
            where += f"{field}: "
        super().__init__(f"{where}{message}")


class CompileError(KakehashiError):
    """The problem cannot be compiled for the requested target."""


class BackendError(KakehashiError):
    """A backend failed while solving."""


class BackendUnavailable(BackendError):
    """The backend cannot run here; the message says what is missing and how to fix it."""


class BackendRejected(BackendError):
    """The backend refuses this input or these parameters."""


class BackendTimeout(BackendError):
    """The backend ran past its time limit without producing an answer."""


class DownloadError(KakehashiError):
    """A dataset download failed: HTTP error, corrupt stream or checksum mismatch."""


class JobError(KakehashiError):
    """A platform job cannot be run, found or changed."""


class QuotaError(KakehashiError):
    """A project's budget or quota would be exceeded."""


class AuthError(KakehashiError):
    """Missing, unknown or revoked credentials."""


#: Exit codes of the ``kakehashi`` command, per error branch (most specific first).
EXIT_CODES: dict[type[KakehashiError], int] = {
    ModelError: 2,
    CompileError: 3,
    BackendUnavailable: 4,
    BackendRejected: 5,
    BackendTimeout: 6,
    BackendError: 7,
    DownloadError: 11,
    JobError: 8,
    QuotaError: 9,
    AuthError: 10,
    KakehashiError: 1,
}


def exit_code_for(exc: KakehashiError) -> int:
    """Return the documented CLI exit code for ``exc`` (its most specific registered class)."""
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]  # type: ignore[index]
    return 1
