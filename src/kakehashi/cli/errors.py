"""Turning errors into one clear line and a documented exit code (never a traceback).

Exit codes: 0 success; 1 other kakehashi error; 2 bad input (ModelError, or a usage
error); 3 CompileError; 4 BackendUnavailable; 5 BackendRejected; 6 BackendTimeout;
7 other BackendError; 8 JobError; 9 QuotaError; 10 AuthError; 11 DownloadError; 130 interrupted.

Typer has moved between using click and vendoring it (Typer 0.29 raises ``typer._click``
exceptions, which are not click's), so the exception classes are collected from every module
that may define them instead of naming one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any

from kakehashi.exceptions import KakehashiError, exit_code_for

_CLICK_MODULES = ("click.exceptions", "typer._click.exceptions", "typer.exceptions", "typer")


def _classes(name: str) -> tuple[type[BaseException], ...]:
    """Every class called ``name`` in the click-like modules that are importable."""
    found: list[type[BaseException]] = []
    for module in _CLICK_MODULES:
        try:
            cls = getattr(import_module(module), name, None)
        except ImportError:
            continue
        if isinstance(cls, type) and issubclass(cls, BaseException) and cls not in found:
            found.append(cls)
    return tuple(found)


def _message(exc: BaseException) -> str:
    """The exception's message on one line (click's ``format_message`` where it has one)."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    return " ".join(str(message).split())


def usage_line(exc: BaseException) -> str:
    """One line for a usage error: the message and where help is (``try 'kakehashi solve --help'``)."""
    message = _message(exc)
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "kakehashi"
    return f"error: {message} (try '{path} --help')"


def run_cli(app: Callable[..., Any], args: list[str] | None = None, prog_name: str | None = None) -> int:
    """Run a Typer/Click app; map kakehashi and usage errors to exit codes; return the exit code."""
    exits = _classes("Exit")
    aborts = _classes("Abort")
    usage = _classes("UsageError")
    click_errors = _classes("ClickException")
    try:
        app(args=args, prog_name=prog_name, standalone_mode=False)
    except KakehashiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except exits as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except usage as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `kakehashi`: the help, not an error
            print(exc.format_message())  # type: ignore[attr-defined]
            return 0
        print(usage_line(exc), file=sys.stderr)
        return 2
    except click_errors as exc:
        print(f"error: {_message(exc)}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 1) or 1)
    except aborts:
        print("aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, not the user's mistake: one line, the traceback on request
        if os.environ.get("KAKEHASHI_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (a kakehashi bug: please report it; "
              "KAKEHASHI_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    return 0
