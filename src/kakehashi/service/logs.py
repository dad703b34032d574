"""Structured JSON logs: one object per line with the job, project, attempt and worker ids.

Use the standard ``logging`` API and pass the ids as ``extra``::

    log.info("job finished", extra={"job_id": job.id, "project_id": job.project_id})
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

#: Record attributes copied into the JSON object when present.
FIELDS = (
    "job_id",
    "project_id",
    "attempt",
    "worker_id",
    "backend",
    "status",
    "request_id",
    "method",
    "path",
    "status_code",
    "duration_ms",
    "pid",
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: ts, level, logger, msg and the known id fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Send the ``kakehashi`` loggers to ``stream`` (default stderr) as JSON lines."""
    logger = logging.getLogger("kakehashi")
    for handler in list(logger.handlers):
        if getattr(handler, "_kakehashi_json", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._kakehashi_json = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
