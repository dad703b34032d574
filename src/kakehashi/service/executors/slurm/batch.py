"""One kakehashi job as one Slurm batch job: the request, its ``#SBATCH`` lines, its script.

The batch job runs the runner on the job's JSON document and nothing else::

    #!/bin/bash
    #SBATCH --job-name=kakehashi-job_... --partition=... --time=2 --cpus-per-task=1 --gres=qpu:1
    #SBATCH --no-requeue --output=<dir>/slurm-%j.out
    export PYTHONPATH=...                       # the worker's environment, by name
    exec /venv/bin/python -m kakehashi.service.runner \
        --request <dir>/a1.request.json --messages <dir>/slurm-$SLURM_JOB_ID.messages.jsonl

``--no-requeue``: Slurm never restarts a kakehashi job by itself; the database decides about
another attempt (as with Ray's ``max_retries=0``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

#: The ``--job-name`` prefix of every batch job kakehashi submits; the rest is the job id.
NAME_PREFIX = "kakehashi-"


#: Stands for Slurm's job id in a command word of the batch script.
JOB_ID_MARK = "@SLURM_JOB_ID@"


def job_name(job_id: str) -> str:
    """The Slurm job name of kakehashi job ``job_id`` (how a restarted worker finds it again)."""
    return f"{NAME_PREFIX}{job_id}"


def messages_path(job_dir: str, slurm_job_id: int | str) -> str:
    """Where the batch job ``slurm_job_id`` writes the runner's messages (JSON lines)."""
    return f"{job_dir}/slurm-{slurm_job_id}.messages.jsonl"


def output_path(job_dir: str, slurm_job_id: int | str) -> str:
    """Slurm's stdout/stderr file of the batch job (solver chatter, tracebacks)."""
    return f"{job_dir}/slurm-{slurm_job_id}.out"


@dataclass(frozen=True)
class BatchRequest:
    """Everything one ``sbatch`` (or ``POST /job/submit``) needs.

    Attributes:
        name: ``--job-name``.
        job_dir: the job's directory on the shared filesystem (also the working directory).
        command: the argv the batch job runs.
        time_minutes: ``--time`` (minutes).
        cpus, memory_mb, gpus, gres: the leg's resources (see ``LegResources``).
        partition, account, qos: None for Slurm's default.
        environment: variables the script exports.
        extra: more sbatch options (``--constraint=ib``).
        comment: ``--comment`` (kakehashi's attempt, for operators reading ``squeue``).
    """

    name: str
    job_dir: str
    command: list[str]
    time_minutes: int
    cpus: int = 1
    memory_mb: int | None = None
    gpus: int = 0
    gres: str | None = None
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    extra: tuple[str, ...] = ()
    comment: str = ""

    def options(self) -> list[str]:
        """The sbatch options, one ``--flag=value`` each."""
        opts = [
            f"--job-name={self.name}",
            f"--chdir={self.job_dir}",
            f"--output={output_path(self.job_dir, '%j')}",
            f"--time={self.time_minutes}",
            "--nodes=1",
            "--ntasks=1",
            f"--cpus-per-task={self.cpus}",
            "--no-requeue",
        ]
        if self.memory_mb is not None:
            opts.append(f"--mem={self.memory_mb}M")
        if self.gpus:
            opts.append(f"--gpus={self.gpus}")
        if self.gres:
            opts.append(f"--gres={self.gres}")
        for flag, value in (("partition", self.partition), ("account", self.account), ("qos", self.qos)):
            if value:
                opts.append(f"--{flag}={value}")
        if self.comment:
            opts.append(f"--comment={self.comment}")
        opts.extend(self.extra)
        return opts

    def body(self) -> str:
        """The script after the directives: exports, then ``exec`` of the runner."""
        lines = [f"export {k}={shlex.quote(v)}" for k, v in sorted(self.environment.items())]
        lines.append("exec " + " ".join(_shell_word(a) for a in self.command))
        return "\n".join(lines) + "\n"

    def script(self) -> str:
        """The whole batch script with ``#SBATCH`` lines (the sbatch path)."""
        head = ["#!/bin/bash", *(f"#SBATCH {opt}" for opt in self.options())]
        return "\n".join(head) + "\n" + self.body()

    def rest_job(self) -> dict[str, Any]:
        """The ``job`` object of slurmrestd's ``v0.0.38`` ``job/submit`` (the same requests)."""
        job: dict[str, Any] = {
            "name": self.name,
            "current_working_directory": self.job_dir,
            "standard_output": output_path(self.job_dir, "%j"),
            "standard_error": output_path(self.job_dir, "%j"),
            "time_limit": self.time_minutes,
            "nodes": [1, 1],
            "tasks": 1,
            "cpus_per_task": self.cpus,
            "requeue": False,
            # slurmrestd starts the script with exactly this environment (nothing inherited)
            "environment": {"PATH": "/usr/bin:/bin", **self.environment},
        }
        if self.memory_mb is not None:
            job["memory_per_node"] = self.memory_mb
        if self.gpus:
            job["gpus"] = str(self.gpus)
        if self.gres:
            job["gres"] = self.gres
        for key, value in (("partition", self.partition), ("account", self.account), ("qos", self.qos)):
            if value:
                job[key] = value
        if self.comment:
            job["comment"] = self.comment
        return job

    def rest_script(self) -> str:
        """The script of the REST path (no directives: they travel in :meth:`rest_job`)."""
        return "#!/bin/bash\n" + self.body()


def _shell_word(arg: str) -> str:
    """``arg`` quoted for bash, with :data:`JOB_ID_MARK` left for the shell to expand to
    ``$SLURM_JOB_ID`` (the messages file is named by Slurm's job id, known only on the node)."""
    parts = arg.split(JOB_ID_MARK)
    return '"$SLURM_JOB_ID"'.join(shlex.quote(p) if p else "" for p in parts)


def runner_command(python: tuple[str, ...] | list[str], request_path: str, job_dir: str) -> list[str]:
    """The runner's argv for a batch script (:data:`JOB_ID_MARK` becomes ``$SLURM_JOB_ID``)."""
    return [
        *python,
        "-m",
        "kakehashi.service.runner",
        "--request",
        request_path,
        "--messages",
        messages_path(job_dir, JOB_ID_MARK),
    ]
