"""What ``kakehashi --version`` says: the version, the installed extras and the runnable backends."""

from __future__ import annotations

import platform
from importlib import metadata

from kakehashi import __version__


def installed_extras() -> dict[str, bool]:
    """Each optional extra of the kakehashi distribution → whether all its requirements are installed.

    Read from the installed distribution's metadata (``Provides-Extra`` / ``Requires-Dist``), so
    it needs no list kept by hand.
    """
    from packaging.requirements import Requirement

    try:
        dist = metadata.distribution("kakehashi")
    except metadata.PackageNotFoundError:
        return {}
    extras = {e: True for e in dist.metadata.get_all("Provides-Extra") or []}
    for line in dist.requires or []:
        req = Requirement(line)
        if req.marker is None:
            continue
        for extra in extras:
            if req.marker.evaluate({"extra": extra}):
                try:
                    metadata.version(req.name)
                except metadata.PackageNotFoundError:
                    extras[extra] = False
    return extras


def version_text() -> str:
    """Three lines: version and platform, extras (installed or not), backends (runnable here or not)."""
    from kakehashi.backends.registry import all_backends
    from kakehashi.exceptions import KakehashiError

    extras = installed_extras()
    ready: list[str] = []
    missing: list[str] = []
    for name, backend in all_backends().items():
        ok = not isinstance(backend, KakehashiError) and bool(backend.available())
        (ready if ok else missing).append(name)
    lines = [
        f"kakehashi {__version__} (Python {platform.python_version()}, {platform.system()} {platform.machine()})",
        "extras: " + (", ".join(f"{e} {'yes' if ok else 'no'}" for e, ok in sorted(extras.items())) or "—"),
        f"backends available here: {', '.join(ready) or '—'}",
    ]
    if missing:
        lines.append(f"backends not available here: {', '.join(missing)} (`kakehashi backends` says why)")
    return "\n".join(lines)
