"""The backend registry: entry points in the group ``kakehashi.backends`` plus runtime additions.

An entry point names a zero-argument callable (usually the backend class) that returns a
:class:`~kakehashi.backends.base.Backend`. Loading an entry point must never import a vendor
SDK: adapters import their SDK inside ``available()``/``solve()``, so a missing extra shows up
as an unavailable backend with an install hint, not as an import error.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from kakehashi.backends.base import Backend
from kakehashi.exceptions import BackendUnavailable

GROUP = "kakehashi.backends"
_runtime: dict[str, Callable[[], Backend]] = {}
_cache: dict[str, Backend] = {}


def register(name: str, factory: Callable[[], Backend]) -> None:
    """Register a backend at run time (tests, notebooks); entry points are the normal way."""
    _runtime[name] = factory
    _cache.pop(name, None)


def unregister(name: str) -> None:
    """Remove a backend registered with :func:`register`."""
    _runtime.pop(name, None)
    _cache.pop(name, None)


def runtime_factory(name: str) -> Callable[[], Backend] | None:
    """The factory ``name`` was registered with at run time (None for entry points or unknown)."""
    return _runtime.get(name)


def _entry_points() -> dict[str, Callable[[], Callable[[], Backend]]]:
    return {ep.name: ep.load for ep in entry_points(group=GROUP)}


def backend_names() -> list[str]:
    """Names of every registered backend, available here or not, sorted."""
    return sorted({*_entry_points(), *_runtime})


def get_backend(name: str) -> Backend:
    """The backend registered as ``name``.

    Raises :class:`BackendUnavailable` for an unknown name (listing the known ones) or when
    the adapter module cannot be loaded.
    """
    if name in _cache:
        return _cache[name]
    if name in _runtime:
        backend = _runtime[name]()
    else:
        eps = _entry_points()
        if name not in eps:
            known = ", ".join(backend_names())
            raise BackendUnavailable(f"unknown backend {name!r}; registered: {known}")
        try:
            factory = eps[name]()
        except ImportError as exc:
            raise BackendUnavailable(f"backend {name!r} could not be loaded: {exc}") from exc
        backend = factory()
    _cache[name] = backend
    return backend


def all_backends() -> dict[str, Backend | BackendUnavailable]:
    """Every registered backend, or the error that kept it from loading."""
    out: dict[str, Backend | BackendUnavailable] = {}
    for name in backend_names():
        try:
            out[name] = get_backend(name)
        except BackendUnavailable as exc:
            out[name] = exc
    return out
