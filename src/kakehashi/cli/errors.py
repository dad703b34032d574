"""Turning errors into one clear line and a documented exit code (never a traceback).

Exit codes: 0 success; 1 other kakehashi error; 2 bad input (ModelError, or a usage
error); 3 CompileError; 4 BackendUnavailable; 5 BackendRejected; 6 BackendTimeout;
7 other BackendError; 8 JobError; 9 QuotaError; 10 AuthError; 11 DownloadError; 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from kakehashi.exceptions import KakehashiError, exit_code_for


def run_cli(app: Callable[..., Any]) -> int:
    """Run a Typer/Click app; map kakehashi errors to exit codes; return the exit code."""
    import click

    try:
        app(standalone_mode=False)
    except KakehashiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 0
