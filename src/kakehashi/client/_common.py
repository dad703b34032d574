"""What the sync and async clients share: the Job type, request bodies, error mapping."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from kakehashi import exceptions
from kakehashi.exceptions import AuthError, JobError, KakehashiError, ModelError, QuotaError
from kakehashi.model.problem import Problem

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
_SUFFIX_FORMATS = {".lp": "lp", ".mps": "mps", ".json": "json", ".txt": "gset"}


@dataclass
class Job:
    """A job as the service reports it. ``status`` is QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED."""

    id: str
    status: str
    backend: str = "auto"
    attempt: int = 0
    error: str | None = None
    result_status: str | None = None
    objective: float | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def done(self) -> bool:
        """True once the job is SUCCEEDED, FAILED or CANCELLED."""
        return self.status in TERMINAL

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Job:
        def when(key: str) -> datetime | None:
            v = d.get(key)
            return None if v is None else datetime.fromisoformat(str(v).replace("Z", "+00:00"))

        return cls(
            id=d["id"],
            status=d["status"],
            backend=d.get("backend", "auto"),
            attempt=int(d.get("attempt", 0)),
            error=d.get("error"),
            result_status=d.get("result_status"),
            objective=d.get("objective"),
            created_at=when("created_at"),
            finished_at=when("finished_at"),
            raw=d,
        )


def submit_request(
    problem: Problem | str | Path,
    *,
    backend: str | list[str],
    time_limit: float,
    seed: int | None,
    priority: int,
    params: dict[str, Any] | None,
    idempotency_key: str | None,
    alternatives: list[str] | None = None,
    deadline: datetime | None = None,
    cost_cap_yen: float | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``httpx`` to submit ``problem`` (a Problem, or a file path to upload)."""
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    if isinstance(problem, Problem):
        body: dict[str, Any] = {
            "problem": problem.to_dict(),
            "backend": backend,
            "time_limit": time_limit,
            "priority": priority,
            "params": params or {},
        }
        if seed is not None:
            body["seed"] = seed
        if alternatives:
            body["alternatives"] = list(alternatives)
        if deadline is not None:
            body["deadline"] = deadline.isoformat()
        if cost_cap_yen is not None:
            body["cost_cap_yen"] = cost_cap_yen
        return {"json": body, "headers": headers}
    if alternatives or deadline is not None or cost_cap_yen is not None:
        raise ModelError(
            "alternatives, deadline and cost_cap_yen need a Problem (JSON submission), not a file"
        )
    path = Path(problem)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the file: {exc}", source=path) from exc
    data: dict[str, Any] = {
        "backend": backend if isinstance(backend, str) else ",".join(backend),
        "time_limit": str(time_limit),
        "priority": str(priority),
        "name": path.stem,
    }
    fmt = _SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt:
        data["format"] = fmt
    if seed is not None:
        data["seed"] = str(seed)
    return {
        "files": {"file": (path.name, content, "application/octet-stream")},
        "data": data,
        "headers": headers,
    }


def domain_request(
    app: str,
    data: dict[str, Any] | str | Path,
    *,
    options: dict[str, Any] | None,
    format: str | None,
    name: str | None,
    backend: str | list[str],
    time_limit: float,
    seed: int | None,
    priority: int,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Keyword arguments for ``httpx`` to submit an app's domain input (JSON body, ``app`` + ``input``).

    ``data`` is the input as a JSON object, or a file path whose text is sent with ``format`` (default:
    the file's suffix, ``.txt`` meaning OR-Library).
    """
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    body: dict[str, Any] = {
        "app": app,
        "options": options or {},
        "backend": backend,
        "time_limit": time_limit,
        "priority": priority,
    }
    if isinstance(data, dict):
        body["input"] = data
    else:
        path = Path(data)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            raise ModelError(f"cannot read the file: {exc}", source=path) from exc
        if app in ("unit-commitment", "energy") and format in (None, "json"):
            try:
                body["input"] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ModelError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
        else:
            body["input"] = text
            suffix = path.suffix.lower().lstrip(".")
            body["format"] = format or {"txt": "orlib"}.get(suffix, suffix)
        body.setdefault("name", name or path.stem)
    if name:
        body["name"] = name
    if seed is not None:
        body["seed"] = seed
    return {"json": body, "headers": headers}


def _error_class(name: str | None, status: int) -> type[KakehashiError]:
    cls = getattr(exceptions, name or "", None)
    if isinstance(cls, type) and issubclass(cls, KakehashiError):
        return cls
    if status == 401 or status == 403:
        return AuthError
    if status in (402, 429):
        return QuotaError
    if status in (404, 409):
        return JobError
    if status in (413, 415, 422):
        return ModelError
    return KakehashiError


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the kakehashi error a problem response stands for (nothing for a 2xx)."""
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = str(body.get("detail") or response.text or response.reason_phrase)
    cls = _error_class(body.get("kind"), response.status_code)
    if cls is ModelError:
        field = body.get("field")
        if field and detail.startswith(f"{field}: "):  # the server's detail already names it
            detail = detail[len(field) + 2 :]
        raise ModelError(detail, field=field, line=body.get("line"))
    raise cls(f"{detail} (HTTP {response.status_code})")


def job_failure(body: dict[str, Any]) -> KakehashiError:
    """The error for a job that FAILED or was CANCELLED: the solver's own error class when known."""
    job_error = body.get("job_error") or body.get("detail") or "job failed"
    name, _, message = str(job_error).partition(": ")
    cls = getattr(exceptions, name, None)
    if message and isinstance(cls, type) and issubclass(cls, KakehashiError) and cls is not ModelError:
        return cls(message)
    if message and cls is ModelError:
        return ModelError(message)
    return JobError(str(body.get("detail") or job_error))


def new_idempotency_key() -> str:
    """A fresh Idempotency-Key for one submit (the client's retries of it reuse the key)."""
    return f"sdk-{uuid.uuid4().hex}"


def connection_error(url: str, exc: Exception) -> JobError:
    return JobError(f"cannot reach the kakehashi service at {url}: {exc}")


def benchmark_document(result: dict[str, Any] | str | Path) -> dict[str, Any]:
    """A bench result document from a dict, a ``result.json`` path or its folder (ModelError if not one)."""
    if isinstance(result, dict):
        return result
    from kakehashi.bench.runner import load_result

    return load_result(Path(result))
