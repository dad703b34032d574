"""The one bounded way in for request bodies.

:class:`BoundedBody` (pure ASGI middleware) reads every request body before any route sees it:

* at most the route's byte limit (:func:`body_limit`: ``max_body_bytes`` for ``POST /v1/jobs``,
  ``POST /v1/estimate``, ``POST /v1/benchmarks`` and the dashboard's upload (``POST /submit``,
  ``/submit/confirm``), ``max_admin_body_bytes`` for every other route), whether or not a
  Content-Length is sent (chunked bodies are counted as they arrive) → 413;
* a JSON body (``application/json``, ``*+json`` or no content type) is parsed once, off the event
  loop, by :func:`kakehashi.safejson.loads` (depth, integer length, duplicate keys, UTF-8, NaN)
  → 422 naming the limit. The parsed value is left in ``scope["kakehashi.json"]``.

Routes then read the buffered bytes as usual (FastAPI bodies, ``request.stream()``, forms).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kakehashi import safejson
from kakehashi.service.config import ServiceConfig
from kakehashi.service.problems import problem_response

#: ``scope`` key of the parsed JSON body.
PARSED_JSON = "kakehashi.json"
_LARGE_ROUTES = {("POST", "/v1/jobs"), ("POST", "/v1/estimate"), ("POST", "/v1/benchmarks"), ("POST", "/submit"),
                 ("POST", "/submit/confirm")}
#: Below this many bytes a JSON body is parsed on the event loop (a thread hop costs more).
_INLINE_BYTES = 64 * 1024


def body_limit(config: ServiceConfig, method: str, path: str) -> tuple[int, str]:
    """The byte limit of a route's body and the name of the setting that sets it."""
    if (method, path.rstrip("/")) in _LARGE_ROUTES:
        return config.max_body_bytes, "max_body_bytes"
    return config.max_admin_body_bytes, "max_admin_body_bytes"


def _media_type(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower().decode("latin-1")
    return ""


def _too_large(limit: int, setting: str, detail: str) -> Any:
    return problem_response(
        413,
        "body-too-large",
        f"{detail}; this route accepts at most {limit} bytes ({setting})",
        kind="ModelError",
        limit=limit,
        limit_name=setting,
    )


class BoundedBody:
    """Pure ASGI middleware: bounded, validated request bodies (see the module docstring)."""

    def __init__(self, app: ASGIApp, config: ServiceConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = body_limit(self.config, scope["method"], scope["path"])
        lengths = [v for k, v in scope.get("headers", ()) if k == b"content-length"]
        if lengths:
            raw = lengths[0].strip()
            if len(lengths) > 1 or not raw or not raw.isdigit() or len(raw) > 18:
                if raw.isdigit() and len(raw) > 18:
                    await _too_large(limit, setting, f"a body of {raw[:30].decode()} bytes")(
                        scope, receive, send
                    )
                    return
                await problem_response(
                    400, "bad-request", "malformed Content-Length header", kind="ModelError"
                )(scope, receive, send)
                return
            if int(raw) > limit:
                await _too_large(limit, setting, f"a body of {int(raw)} bytes")(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(limit, setting, "the body")(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        mtype = _media_type(scope)
        # FastAPI reads a body without a content type as JSON; POST /v1/jobs answers it 415 itself
        untyped_json = mtype == "" and (scope["method"], scope["path"].rstrip("/")) != ("POST", "/v1/jobs")
        if body and (untyped_json or mtype == "application/json" or mtype.endswith("+json")):
            try:
                if len(body) <= _INLINE_BYTES:
                    parsed = self._parse(body)
                else:
                    parsed = await anyio.to_thread.run_sync(self._parse, body)
            except safejson.JsonLimitError as exc:
                extra: dict[str, Any] = {"limit_name": exc.limit_name}
                if exc.limit is not None:
                    extra["limit"] = exc.limit
                await problem_response(422, "invalid-json", str(exc), kind="ModelError", **extra)(
                    scope, receive, send
                )
                return
            scope[PARSED_JSON] = parsed
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _parse(self, body: bytes) -> Any:
        return safejson.loads(
            body, max_depth=self.config.max_json_depth, max_int_digits=self.config.max_json_int_digits
        )
