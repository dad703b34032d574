"""The ``slurm`` executor: claimed jobs as batch jobs in an HPC centre's Slurm.

- :mod:`.settings`: the operator's ``[slurm]`` table (partition, account, QoS, resources per kind).
- :mod:`.batch`: one job as one batch script (``#SBATCH`` lines or slurmrestd's job object).
- :mod:`.states`: Slurm's job record and what each state means to kakehashi.
- :mod:`.control`, :mod:`.cli`, :mod:`.rest`: the controller seam, through the tools or slurmrestd.
- :mod:`.executor`: :class:`SlurmExecutor` and :class:`SlurmRun` (the Executor/Run seam).
- :mod:`.reconcile`: the ledger against Slurm's records (``kakehashi admin usage --reconcile-slurm``).
"""

from __future__ import annotations

from kakehashi.service.executors.slurm.executor import SlurmExecutor, SlurmRun, machine_seconds
from kakehashi.service.executors.slurm.settings import LegResources, SlurmSettings, from_table

__all__ = ["LegResources", "SlurmExecutor", "SlurmRun", "SlurmSettings", "from_table", "machine_seconds"]
