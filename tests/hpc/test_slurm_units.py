"""The Slurm executor's pure parts, no cluster needed: settings, the batch script, the state map."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kakehashi.exceptions import KakehashiError
from kakehashi.service.config import load_config
from kakehashi.service.executors import ExecutionDied, ExecutionLost, make_executor
from kakehashi.service.executors.slurm import LegResources, SlurmExecutor, from_table, machine_seconds
from kakehashi.service.executors.slurm.batch import BatchRequest, job_name, runner_command
from kakehashi.service.executors.slurm.control import ControllerError
from kakehashi.service.executors.slurm.states import SlurmJob, phase
from kakehashi.service.serve import config_env

#: A job object as slurmrestd v0.0.38 (Slurm 22.05) returns it, cut to the fields read.
RECORD = {
    "job_id": 42,
    "name": "kakehashi-job_x",
    "job_state": "COMPLETED",
    "state_reason": "None",
    "submit_time": 1000,
    "start_time": 1003,
    "end_time": 1010,
    "exit_code": 0,
    "nodes": "n1",
    "partition": "debug",
    "tres_alloc_str": "cpu=2,mem=1000M,node=1,billing=2,gres/qpu=1",
    "cpus": 2,
}


def test_states_map_onto_kakehashi_fault_paths() -> None:
    assert [phase(s) for s in ("PENDING", "RUNNING", "COMPLETING", "COMPLETED")] == [
        "waiting",
        "running",
        "running",
        "done",
    ]
    assert {phase(s) for s in ("FAILED", "OUT_OF_MEMORY", "CANCELLED", "DEADLINE")} == {"died"}
    assert {phase(s) for s in ("NODE_FAIL", "PREEMPTED", "BOOT_FAIL")} == {"lost"}
    assert phase("TIMEOUT") == "timeout"
    assert phase("SOMETHING_NEW") == "lost"  # an unknown state is never a hang
    assert phase("CANCELLED by 0") == "died"


def test_record_elapsed_and_machine_seconds_come_from_slurm() -> None:
    job = SlurmJob.from_api(RECORD)
    assert (job.job_id, job.state, job.ended) == (42, "COMPLETED", True)
    assert job.elapsed(now=5000) == 7.0  # end - start: the 3 s pending are not in it
    assert job.allocated() == {"cpu": 2.0, "gres/qpu": 1.0}
    assert machine_seconds(job, "cpu", LegResources(cpus=2), now=5000) == 14.0
    assert machine_seconds(job, "qpu-gate", LegResources(gres="qpu:1"), now=5000) == 7.0
    running = SlurmJob.from_api({**RECORD, "job_state": "RUNNING", "end_time": 0})
    assert running.elapsed(now=1005) == 2.0
    pending = SlurmJob.from_api({**RECORD, "job_state": "PENDING", "start_time": 0})
    assert pending.elapsed(now=1005) == 0.0


def test_batch_script_asks_for_the_legs_resources(tmp_path: Path) -> None:
    settings = from_table(
        {
            "workdir": str(tmp_path),
            "partition": "batch",
            "account": "lab",
            "qos": "normal",
            "time_grace_seconds": 45,
            "extra_sbatch": ["--constraint=ib"],
            "resources": {"qpu-gate": {"cpus": 2, "gres": "qpu:1", "memory_mb": 2000}},
        }
    )
    assert settings.time_minutes(10.0) == 1 and settings.time_minutes(100.0) == 3  # ceil((t + 45) / 60)
    leg = settings.leg("qpu-gate")
    job_dir = str(tmp_path / "job_1")
    request = BatchRequest(
        name=job_name("job_1"),
        job_dir=job_dir,
        command=runner_command(("/venv/bin/python",), f"{job_dir}/a1.request.json", job_dir),
        time_minutes=3,
        cpus=leg.cpus,
        memory_mb=leg.memory_mb,
        gres=leg.gres,
        partition=settings.partition,
        account=settings.account,
        qos=settings.qos,
        environment={"PYTHONPATH": "/a b/src"},
        extra=settings.extra_sbatch,
    )
    script = request.script()
    for line in (
        "#SBATCH --job-name=kakehashi-job_1",
        "#SBATCH --gres=qpu:1",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --mem=2000M",
        "#SBATCH --partition=batch",
        "#SBATCH --account=lab",
        "#SBATCH --qos=normal",
        "#SBATCH --time=3",
        "#SBATCH --no-requeue",
        "#SBATCH --constraint=ib",
        "export PYTHONPATH='/a b/src'",
    ):
        assert line in script.splitlines()
    assert f'--messages {job_dir}/slurm-"$SLURM_JOB_ID".messages.jsonl' in script  # expanded on the node
    rest = request.rest_job()
    assert (rest["gres"], rest["time_limit"], rest["requeue"], rest["memory_per_node"]) == (
        "qpu:1",
        3,
        False,
        2000,
    )
    # the default mapping: QPU kinds take the one qpu GRES, cpu kinds one CPU
    default = from_table({})
    assert default.leg("qpu-anneal").gres == "qpu:1" and default.leg("cpu") == LegResources()


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"partiton": "x"}, "partiton"),
        ({"resources": {"cpu": {"cpu": 2}}}, "resources.cpu"),
        ({"resources": {"qpu-gate": {"gres": "qpu 1"}}}, "gres"),
        ({"extra_sbatch": ["constraint=ib"]}, "extra_sbatch"),
        ({"poll_seconds": "soon"}, "poll_seconds"),
        ({"rest_url": "http://h:6820", "extra_sbatch": ["--exclusive"]}, "extra_sbatch"),
    ],
)
def test_bad_settings_name_the_field(table: dict[str, object], named: str) -> None:
    with pytest.raises(KakehashiError, match=named):
        from_table(table)


def test_config_selects_slurm_from_toml_and_env(tmp_path: Path) -> None:
    toml = tmp_path / "k.toml"
    toml.write_text(
        'executor = "slurm"\n[slurm]\npartition = "batch"\nworkdir = "/shared/kh"\n'
        "[slurm.resources.gpu]\ncpus = 4\ngpus = 2\n"
    )
    cfg = load_config(toml, env={})
    assert cfg.executor == "slurm" and cfg.slurm["partition"] == "batch"
    executor = make_executor(cfg)
    assert isinstance(executor, SlurmExecutor) and executor.settings.leg("gpu") == LegResources(
        cpus=4, gpus=2
    )
    assert executor.controller.kind == "cli"
    again = load_config(env=config_env(cfg))  # serve → its worker processes
    assert again.slurm == cfg.slurm and again.executor == "slurm"
    with pytest.raises(KakehashiError, match="KAKEHASHI_SLURM"):
        load_config(env={"KAKEHASHI_SLURM": json.dumps({"qos": 3})})
    bad = tmp_path / "bad.toml"
    bad.write_text('executor = "slurm"\n[slurm]\nqueue = "batch"\n')
    with pytest.raises(KakehashiError, match="queue"):
        load_config(bad, env={})


# ---------------------------------------------------------------- the run's fault paths, replayed
class ReplayController:
    """Serves Slurm records in the v0.0.38 shape, one state after another (None: Slurm forgot
    the job; an exception: the controller is out). The live paths run against the real cluster
    in test_slurm_executor.py; states this one-node cluster cannot produce are replayed here."""

    kind = "replay"

    def __init__(self, states: list[dict[str, object] | Exception | None]) -> None:
        self.states = states
        self.cancelled: list[int] = []

    def job(self, job_id: int) -> SlurmJob | None:
        state = self.states[0] if len(self.states) == 1 else self.states.pop(0)
        if isinstance(state, Exception):
            raise state
        return None if state is None else SlurmJob.from_api({**RECORD, "job_id": job_id, **state})

    def find(self, name: str) -> list[SlurmJob]:
        return []

    def submit(self, request: BatchRequest) -> int:
        return 7

    def cancel(self, job_id: int) -> None:
        self.cancelled.append(job_id)

    def ping(self) -> bool:
        return True


def _run(tmp_path: Path, states: list[dict[str, object] | Exception | None], **settings: object) -> object:
    from kakehashi.service.lease import Claim

    table = {"workdir": str(tmp_path), "poll_seconds": 0.05, "answer_grace_seconds": 0.1, **settings}
    executor = SlurmExecutor(from_table(table), ReplayController(states))  # type: ignore[arg-type]
    claim = Claim("job_r", "prj", 1, "w", "tabu", 1.0, 1, {}, '{"x": 1}', 0.0, 0.0)
    run = executor.start(claim)
    deadline = time.monotonic() + 10
    messages = []
    try:
        while time.monotonic() < deadline:
            msg = run.poll(0.1)
            if msg is not None:
                messages.append(msg)
                if msg["type"] in ("result", "error"):
                    return messages
    except (ExecutionDied, ExecutionLost) as exc:
        return (messages, exc)
    finally:
        executor.shutdown()
    raise AssertionError(f"no answer: {messages}")


RUNNING = {"job_state": "RUNNING", "end_time": 0}


def test_out_of_memory_is_a_job_fault_with_slurms_reason(tmp_path: Path) -> None:
    (tmp_path / "job_r").mkdir()
    (tmp_path / "job_r" / "slurm-7.out").write_text("oom-kill event in StepId=7.batch\n")
    messages, exc = _run(tmp_path, [RUNNING, {"job_state": "OUT_OF_MEMORY", "state_reason": "OutOfMemory"}])  # type: ignore[misc]
    assert isinstance(exc, ExecutionDied) and [m["type"] for m in messages] == ["started"]
    assert "Slurm batch job 7 OUT_OF_MEMORY on n1" in str(exc) and "reason OutOfMemory" in str(exc)
    assert "oom-kill event" in str(exc)  # the tail of Slurm's output file


def test_timeout_without_an_answer_is_a_billed_timeout_error(tmp_path: Path) -> None:
    messages = _run(tmp_path, [RUNNING, {"job_state": "TIMEOUT", "state_reason": "TimeLimit"}])
    answer = messages[-1]  # type: ignore[index]
    assert answer["kind"] == "SlurmTimeout" and "--time ran out" in answer["error"]
    assert answer["seconds"] == 14.0  # (1010 - 1003) s x 2 CPUs, Slurm's record


@pytest.mark.parametrize("state", ["PREEMPTED", "NODE_FAIL", "BOOT_FAIL"])
def test_lost_states_requeue(tmp_path: Path, state: str) -> None:
    _, exc = _run(tmp_path, [RUNNING, {"job_state": state, "state_reason": "x"}])  # type: ignore[misc]
    assert isinstance(exc, ExecutionLost) and state in str(exc)


def test_a_job_slurm_forgot_is_lost_not_hung(tmp_path: Path) -> None:
    _, exc = _run(tmp_path, [RUNNING, None])  # type: ignore[misc]
    assert isinstance(exc, ExecutionLost) and "vanished" in str(exc)


def test_a_dead_controller_gives_the_attempt_up_in_bounded_time(tmp_path: Path) -> None:
    t0 = time.monotonic()
    _, exc = _run(  # type: ignore[misc]
        tmp_path, [RUNNING, ControllerError("squeue did not answer")], controller_timeout_seconds=0.5
    )
    assert isinstance(exc, ExecutionLost) and "unreachable" in str(exc)
    assert time.monotonic() - t0 < 5


def test_the_documented_configurations_load(tmp_path: Path) -> None:
    import re

    root = Path(__file__).resolve().parents[2]
    blocks = [
        block
        for doc in ("README.md", "docs/hpc.md")
        for block in re.findall(r"```toml\n(.*?)```", (root / doc).read_text(), re.S)
        if "[slurm]" in block
    ]
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        path = tmp_path / f"doc{i}.toml"
        path.write_text(block)
        config = load_config(path, env={})
        assert config.executor == "slurm" and from_table(config.slurm).partition == "batch"
