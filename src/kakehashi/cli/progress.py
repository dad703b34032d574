"""A live progress display for solves that take longer than a second."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

#: Seconds before the display appears (short solves print nothing extra).
DELAY_SECONDS = 1.0


class SolveProgress:
    """Context manager showing elapsed time and each backend's state on stderr.

    Use ``on_event`` as the ``on_event`` callback of :func:`kakehashi.solve`. Nothing is
    shown when stderr is not a terminal or the solve ends within :data:`DELAY_SECONDS`.
    """

    def __init__(self, console: Console, label: str) -> None:
        self.console = console
        self.label = label
        self.states: dict[str, str] = {}
        self._start = time.perf_counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def on_event(self, event: dict[str, Any]) -> None:
        backend = str(event.get("backend", "?"))
        if event.get("event") == "started":
            self.states[backend] = "running"
        else:
            obj = event.get("objective")
            self.states[backend] = f"{event.get('status', 'done')}" + ("" if obj is None else f" {obj:.6g}")

    def _render(self) -> Spinner:
        elapsed = time.perf_counter() - self._start
        legs = "  ".join(f"{b}: {s}" for b, s in self.states.items())
        return Spinner("dots", Text(f"{self.label}  {elapsed:5.1f} s  {legs}"))

    def _run(self) -> None:
        if self._stop.wait(DELAY_SECONDS):
            return
        with Live(self._render(), console=self.console, transient=True, refresh_per_second=8) as live:
            while not self._stop.wait(0.125):
                live.update(self._render())

    def __enter__(self) -> SolveProgress:
        if self.console.is_terminal:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
