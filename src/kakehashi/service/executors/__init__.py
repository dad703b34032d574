"""Executors: where a worker runs the jobs it claims (see :mod:`.base` for the seam).

``local`` (default): a warm solver child process on the worker's machine (:mod:`.local`).
``ray``: a task on a Ray cluster, placed by machine kind (:mod:`.ray`; needs the ``ray`` extra).
``slurm``: a batch job in an HPC centre's Slurm, through slurmrestd or its tools (:mod:`.slurm`).
"""

from __future__ import annotations

import sys

from kakehashi.service.config import ServiceConfig
from kakehashi.service.executors.base import ExecutionDied, ExecutionLost, Executor, Run

__all__ = ["ExecutionDied", "ExecutionLost", "Executor", "Run", "make_executor", "runner_command"]


def runner_command(config: ServiceConfig) -> list[str]:
    """The argv of the local solver child: ``config.runner_command`` or ``python -m kakehashi.service.runner``."""
    if config.runner_command:
        return list(config.runner_command)
    return [sys.executable, "-m", "kakehashi.service.runner"]


def make_executor(config: ServiceConfig) -> Executor:
    """The executor ``config.executor`` names (``local``, ``ray`` or ``slurm``)."""
    if config.executor == "slurm":
        from kakehashi.service.executors.slurm import SlurmExecutor, from_table

        return SlurmExecutor(from_table(config.slurm))
    if config.executor == "ray":
        from kakehashi.service.executors.ray import RayExecutor

        return RayExecutor(config.ray_address, config.ray_resources)
    from kakehashi.service.executors.local import LocalExecutor

    return LocalExecutor(runner_command(config))
