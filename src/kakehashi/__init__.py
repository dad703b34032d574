"""kakehashi (架け橋, "bridge"): write a problem once, solve it on every kind of machine.

The public API::

    import kakehashi
    problem = kakehashi.read("knapsack.lp")            # or kakehashi.Problem(cqm, ...)
    result = kakehashi.solve(problem, backend="auto", time_limit=10, seed=1)
    print(result.status, result.objective, result.gap)

Names are imported lazily so that ``import kakehashi`` (and the CLI) starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Problem": "kakehashi.model.problem",
    "Evaluation": "kakehashi.model.evaluation",
    "read": "kakehashi.model.readers",
    "write": "kakehashi.model.writers",
    "solve": "kakehashi.solver",
    "Result": "kakehashi.result",
    "Status": "kakehashi.result",
    "TargetKind": "kakehashi.compile.targets",
    "get_backend": "kakehashi.backends.registry",
    "backend_names": "kakehashi.backends.registry",
    "KakehashiError": "kakehashi.exceptions",
    "ModelError": "kakehashi.exceptions",
    "CompileError": "kakehashi.exceptions",
    "BackendError": "kakehashi.exceptions",
    "BackendUnavailable": "kakehashi.exceptions",
    "BackendRejected": "kakehashi.exceptions",
    "BackendTimeout": "kakehashi.exceptions",
    "JobError": "kakehashi.exceptions",
    "QuotaError": "kakehashi.exceptions",
    "AuthError": "kakehashi.exceptions",
    "Client": "kakehashi.client",
}

__all__ = [
    "AuthError",
    "BackendError",
    "BackendRejected",
    "BackendTimeout",
    "BackendUnavailable",
    "Client",
    "CompileError",
    "Evaluation",
    "JobError",
    "KakehashiError",
    "ModelError",
    "Problem",
    "QuotaError",
    "Result",
    "Status",
    "TargetKind",
    "backend_names",
    "get_backend",
    "read",
    "solve",
    "write",
]

if TYPE_CHECKING:
    from kakehashi.backends.registry import backend_names, get_backend
    from kakehashi.compile.targets import TargetKind
    from kakehashi.exceptions import (
        AuthError,
        BackendError,
        BackendRejected,
        BackendTimeout,
        BackendUnavailable,
        CompileError,
        JobError,
        KakehashiError,
        ModelError,
        QuotaError,
    )
    from kakehashi.model.evaluation import Evaluation
    from kakehashi.model.problem import Problem
    from kakehashi.model.readers import read
    from kakehashi.model.writers import write
    from kakehashi.result import Result, Status
    from kakehashi.solver import solve


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kakehashi' has no attribute {name!r}")
