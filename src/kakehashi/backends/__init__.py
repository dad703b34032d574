"""Backends: one Protocol, an entry-point registry and adapters per machine kind."""

from kakehashi.backends.base import (
    Availability,
    Backend,
    BackendOutput,
    Capabilities,
    HardwareKind,
    Param,
    Termination,
    check_params,
    check_target,
)
from kakehashi.backends.registry import all_backends, backend_names, get_backend, register, unregister

__all__ = [
    "Availability",
    "Backend",
    "BackendOutput",
    "Capabilities",
    "HardwareKind",
    "Param",
    "Termination",
    "all_backends",
    "backend_names",
    "check_params",
    "check_target",
    "get_backend",
    "register",
    "unregister",
]
