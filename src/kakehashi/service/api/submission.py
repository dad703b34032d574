"""Turn a submission request (JSON, multipart upload or plain-text LP/MPS) into a :class:`JobSpec`.

Accepted bodies:

* ``application/json``: :class:`~kakehashi.service.api.schemas.SubmitRequest`, or with an ``app``
  field :class:`~kakehashi.service.api.schemas.DomainSubmitRequest` (an app's domain input, built
  into the app's Problem by :mod:`kakehashi.service.domain`).
* ``multipart/form-data``: a ``file`` part (LP, MPS, QUBO JSON, kakehashi JSON or Gset) and
  optional fields ``format``, ``backend``, ``time_limit``, ``seed``, ``priority``, ``name``; with
  an ``app`` field the file is that app's input and ``options`` a JSON object of its options.
* ``text/plain`` (also ``application/x-lp``, ``application/x-mps``): the file itself; ``format``
  as a media-type parameter (``text/plain; format=lp``) or query parameter, options as query
  parameters.

Anything else, pickles included, is 415. Bodies over ``max_body_bytes`` are 413, problems over
``max_variables``/``max_constraints`` are 413, everything malformed is 422.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC
from typing import Any, TypeVar

from pydantic import ValidationError

from kakehashi import safejson
from kakehashi.exceptions import KakehashiError, ModelError
from kakehashi.model.problem import Problem
from kakehashi.service.api.schemas import DomainSubmitRequest, JobOptions, SubmitRequest
from kakehashi.service.config import ServiceConfig
from kakehashi.service.jobs import JobSpec
from kakehashi.service.problems import HttpProblem

log = logging.getLogger("kakehashi.api")

_M = TypeVar("_M", bound=JobOptions)
_ASCII_INT = re.compile(r"[-+]?[0-9]{1,19}")
_ASCII_NUMBER = re.compile(r"[-+]?(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})(?:[eE][-+]?[0-9]{1,3})?")

TEXT_TYPES = {"text/plain", "application/x-lp", "application/x-mps", "text/x-lp", "text/x-mps"}
PICKLE_TYPES = {
    "application/python-pickle",
    "application/x-python-pickle",
    "application/pickle",
    "application/x-pickle",
}


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type header into the lower-case media type and its parameters."""
    if not content_type:
        return "", {}
    parts = [p.strip() for p in content_type.split(";")]
    params: dict[str, str] = {}
    for p in parts[1:]:
        if "=" in p:
            k, v = p.split("=", 1)
            params[k.strip().lower()] = v.strip().strip('"')
    return parts[0].lower(), params


def check_media_type(mtype: str) -> None:
    """415 for pickles and for anything that is not JSON, multipart or plain text."""
    if mtype in PICKLE_TYPES or "pickle" in mtype:
        raise HttpProblem(
            415,
            "unsupported-media-type",
            "pickled data is never accepted; send a kakehashi.problem JSON document or an LP/MPS file",
            kind="ModelError",
        )
    if mtype not in {"application/json", "multipart/form-data"} | TEXT_TYPES:
        raise HttpProblem(
            415,
            "unsupported-media-type",
            f"unsupported content type {mtype or '(none)'!r}; use application/json, "
            "multipart/form-data or text/plain with a format parameter",
            kind="ModelError",
        )


def _check_size(config: ServiceConfig, num_variables: int, num_constraints: int) -> None:
    if num_variables > config.max_variables:
        raise HttpProblem(
            413,
            "problem-too-large",
            f"{num_variables} variables; this service accepts at most {config.max_variables}",
            kind="ModelError",
            limit=config.max_variables,
        )
    if num_constraints > config.max_constraints:
        raise HttpProblem(
            413,
            "problem-too-large",
            f"{num_constraints} constraints; this service accepts at most {config.max_constraints}",
            kind="ModelError",
            limit=config.max_constraints,
        )


def _check_backend(config: ServiceConfig, backend: str | list[str], time_limit: float) -> str:
    from kakehashi.backends.registry import backend_names

    names = [backend] if isinstance(backend, str) else list(backend)
    if not names or any(not isinstance(n, str) or not n or "," in n for n in names):
        raise ModelError("expected 'auto', a backend name or a list of names", field="backend")
    known = set(backend_names())
    unknown = [n for n in names if n != "auto" and n not in known]
    if unknown or ("auto" in names and len(names) > 1):
        raise ModelError(
            f"unknown backend {unknown[0] if unknown else 'auto'!r} "
            f"(use 'auto' alone or names among: {', '.join(sorted(known))})",
            field="backend",
        )
    if time_limit > config.max_time_limit:
        raise ModelError(
            f"time_limit {time_limit} s exceeds this service's maximum of {config.max_time_limit} s",
            field="time_limit",
        )
    return ",".join(names)


def _check_params(names: list[str], alternatives: tuple[str, ...], params: Mapping[str, Any]) -> None:
    """Refuse at the door what a backend would refuse at run time: parameters are checked
    against each backend's ``capabilities()`` (flat for one backend, which its allowed
    alternatives must accept too; ``{backend: {param: value}}`` for a race or ``auto``).
    A backend that cannot load in the API process is left to the worker to check."""
    from kakehashi.backends.base import check_params
    from kakehashi.backends.registry import backend_names, get_backend
    from kakehashi.exceptions import BackendError

    def check(name: str, values: Mapping[str, Any], where: str) -> None:
        try:
            caps = get_backend(name).capabilities()
        except BackendError:
            return
        try:
            check_params(name, caps, values)
        except BackendError as exc:
            bad = next((k for k in values if k != "vendor" and k not in caps.params), None)
            raise ModelError(str(exc), field=f"{where}.{bad}" if bad else where) from exc

    if not params:
        return
    if len(names) == 1 and names[0] != "auto":
        for name in dict.fromkeys((names[0], *alternatives)):
            check(name, params, "params")
        return
    allowed = [n for n in dict.fromkeys((*names, *alternatives)) if n != "auto"]
    known = set(backend_names())
    for key, values in params.items():
        if names != ["auto"] and key not in allowed:
            raise ModelError(
                f"for a race or 'auto', params maps backend names to their parameters; {key!r} is "
                f"not one of this job's backends ({', '.join(allowed)})",
                field=f"params.{key}",
            )
        if not isinstance(values, Mapping):
            raise ModelError(
                f"expected an object of {key}'s parameters, got {type(values).__name__}", field=f"params.{key}"
            )
        if key not in known:
            raise ModelError(f"unknown backend {key!r} in params", field=f"params.{key}")
        check(key, values, f"params.{key}")


#: Problems up to this many variables are compiled at submission for a single named backend, so a
#: problem that fits none of its targets is a 422 at the door rather than a FAILED job later.
DOOR_COMPILE_MAX_VARIABLES = 5_000


def _check_compiles(problem: Problem, names: list[str]) -> None:
    """422 when a single named backend cannot take ``problem`` (small problems only: compiling
    is cheap there; larger ones are checked by the worker)."""
    if len(names) != 1 or names[0] == "auto" or problem.num_variables > DOOR_COMPILE_MAX_VARIABLES:
        return
    from kakehashi.backends.registry import get_backend
    from kakehashi.exceptions import BackendError, CompileError
    from kakehashi.solver import _compile

    try:
        backend = get_backend(names[0])
    except BackendError:
        return  # not loadable in the API process; the worker decides
    try:
        _compile(problem, backend, {})
    except CompileError as exc:
        raise ModelError(str(exc), field="backend") from exc
    except (ValueError, TypeError, MemoryError, RecursionError) as exc:
        log.info("door compile of %s for %s failed: %r", problem.name, names[0], exc)


def _problem(parse: Any, what: str) -> Problem:
    """Run a parser; every failure on user input is a 422, never a 500."""
    try:
        problem = parse()
    except KakehashiError:
        raise
    except Exception as exc:
        log.info("unparseable %s: %r", what, exc)
        raise ModelError(f"cannot read the {what}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(problem, Problem):
        raise ModelError(f"the {what} did not describe a problem")
    return problem


def _spec(config: ServiceConfig, problem: Problem, req: JobOptions) -> JobSpec:
    _check_size(config, problem.num_variables, problem.num_constraints)
    backend = _check_backend(config, req.backend, req.time_limit)
    alternatives: tuple[str, ...] = ()
    if req.alternatives:
        if any(a == "auto" for a in req.alternatives):
            raise ModelError("'auto' cannot be an alternative; name backends", field="alternatives")
        alternatives = tuple(
            dict.fromkeys(_check_backend(config, list(req.alternatives), req.time_limit).split(","))
        )
    _check_params(backend.split(","), alternatives, req.params)
    _check_compiles(problem, backend.split(","))
    deadline = None
    if req.deadline is not None:
        d = req.deadline if req.deadline.tzinfo else req.deadline.replace(tzinfo=UTC)
        try:
            deadline = d.timestamp()
        except (OverflowError, ValueError, OSError) as exc:
            raise ModelError(f"deadline out of range: {req.deadline}", field="deadline") from exc
    try:
        canonical = json.dumps(problem.to_dict(), sort_keys=True, allow_nan=False)
        params_json = json.dumps(req.params, allow_nan=False)
    except (ValueError, TypeError, RecursionError, KakehashiError) as exc:
        raise ModelError(f"the problem or params cannot be stored as JSON: {exc}") from exc
    return JobSpec(
        problem_json=canonical,
        problem_name=problem.name,
        num_variables=problem.num_variables,
        num_constraints=problem.num_constraints,
        backend=backend,
        time_limit=req.time_limit,
        seed=req.seed,
        priority=req.priority,
        params=json.loads(params_json),
        alternatives=alternatives,
        deadline=deadline,
        cost_cap_yen=req.cost_cap_yen,
    )


def _request(data: Mapping[str, Any]) -> SubmitRequest:
    return _validate(SubmitRequest, data)


def _validate(cls: type[_M], data: Mapping[str, Any]) -> _M:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        raise ModelError(str(first.get("msg", "invalid request")), field=where or None) from exc


def loads(config: ServiceConfig, text: bytes | str, field: str | None = None) -> Any:
    """Untrusted JSON within the service's depth and integer-length limits (422 otherwise)."""
    return safejson.loads(
        text, max_depth=config.max_json_depth, max_int_digits=config.max_json_int_digits, field=field
    )


_UNPARSED = object()


def from_json(config: ServiceConfig, body: bytes, parsed: Any = _UNPARSED) -> JobSpec:
    """A JSON submission (``SubmitRequest``); ``parsed`` is the body already parsed by
    :class:`~kakehashi.service.api.body.BoundedBody` (parsed again here when absent)."""
    data = loads(config, body) if parsed is _UNPARSED else parsed
    if not isinstance(data, dict):
        raise ModelError("expected a JSON object with a 'problem' field (or 'app' and 'input')")
    if "app" in data:
        return from_domain(config, _validate(DomainSubmitRequest, data))
    req = _request(data)
    variables = req.problem.get("variables")
    constraints = req.problem.get("constraints")
    _check_size(
        config,
        len(variables) if isinstance(variables, list) else 0,
        len(constraints) if isinstance(constraints, list) else 0,
    )
    problem = _problem(lambda: Problem.from_dict(req.problem, source="request"), "problem document")
    return _spec(config, problem, req)


def from_text(
    config: ServiceConfig, text: str, fmt: str | None, options: Mapping[str, Any], name: str | None
) -> JobSpec:
    """An LP/MPS/QUBO/Gset file sent as text, with options from query or form fields."""
    from kakehashi.model.readers import reads

    fmt = (fmt or "").lower() or None
    problem = _problem(lambda: reads(text, format=fmt, source="upload", name=name), "uploaded file")
    raw: dict[str, Any] = {"problem": {}, **_job_fields(config, options)}
    return _spec(config, problem, _request(raw))


def from_domain(config: ServiceConfig, req: DomainSubmitRequest) -> JobSpec:
    """An app's domain input: the app's own reader and rules build its Problem (see
    :mod:`kakehashi.service.domain`); a bad record is a 422 naming it and the rule."""
    from kakehashi.service import domain

    problem, backend = domain.build(
        req.app,
        req.input,
        fmt=req.format,
        options=req.options,
        name=req.name,
        backend=req.backend,
        max_variables=config.max_variables,
    )
    return _spec(config, problem, req.model_copy(update={"backend": backend}))


def from_domain_upload(
    config: ServiceConfig, text: str, fields: Mapping[str, Any], name: str | None
) -> JobSpec:
    """A multipart upload with an ``app`` field: the file is the app's input (TSPLIB, CVRPLIB, CSV,
    OR-Library or UC JSON); ``options`` is a JSON object of the app's options."""
    raw: dict[str, Any] = {"app": fields.get("app"), "input": text, "name": name}
    if fields.get("format"):
        raw["format"] = fields["format"]
    elif "." in str(fields.get("filename") or ""):
        raw["format"] = str(fields["filename"]).rsplit(".", 1)[-1].lower()
    if fields.get("options"):
        raw["options"] = loads(config, str(fields["options"]), field="options")
    raw.update(_job_fields(config, fields))
    return from_domain(config, _validate(DomainSubmitRequest, raw))


def _job_fields(config: ServiceConfig, options: Mapping[str, Any]) -> dict[str, Any]:
    """backend, time_limit, seed, priority and params from form or query fields (strings)."""
    raw: dict[str, Any] = {}
    for key in ("backend", "time_limit", "seed", "priority"):
        value = options.get(key)
        if value not in (None, ""):
            raw[key] = value
    if isinstance(raw.get("backend"), str) and "," in raw["backend"]:
        raw["backend"] = raw["backend"].split(",")
    if options.get("params"):
        raw["params"] = loads(config, str(options["params"]), field="params")
    for key, pattern, convert, what in (
        ("time_limit", _ASCII_NUMBER, float, "a number"),
        ("seed", _ASCII_INT, int, "an integer"),
        ("priority", _ASCII_INT, int, "an integer"),
    ):
        if key in raw and isinstance(raw[key], str):
            # int()/float() also take Unicode digits ('١٢') and 4,000-digit strings: ASCII only
            if not pattern.fullmatch(raw[key].strip()):
                raise ModelError(f"expected {what} in ASCII digits, got {raw[key][:40]!r}", field=key)
            raw[key] = convert(raw[key])
    return raw
