"""The Ray executor on a real local Ray cluster (head node + a second worker node on this machine).

Jobs go in through the real API, workers dispatch them as Ray tasks; the database stays the
system of record. Checked: placement by machine kind (custom resources), results equal to a
direct ``kakehashi.solve()``, cancellation killing the task's process, and a node removed in the
middle of a job: the job is re-queued (attempt 2, an infrastructure loss that does not count
toward ``max_attempts``) and completes on the other node; no job lost, none with two results. The cluster is
small (1 CPU per node, 100 MB object stores, no dashboard) and every Ray process it started is
gone after the module.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import kakehashi
from kakehashi.result import Result
from kakehashi.service import jobs
from kakehashi.service.config import ServiceConfig, load_config
from kakehashi.service.executors import make_executor
from kakehashi.service.executors.ray import RayExecutor, job_kind, task_options
from kakehashi.service.jobs import JobSpec
from kakehashi.service.serve import config_env
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import JobEvent, JobResult, LedgerEntry
from kakehashi.service.worker import Worker
from tests.service.support import Harness, brute_force_min, make_harness, tiny_problem

ray = pytest.importorskip("ray")

MB = 1024 * 1024
RESOURCES = {"cpu": {"kakehashi-cpu": 1.0}, "qpu-gate": {"kakehashi-qpu-gate": 1.0}}


# --------------------------------------------------------------------------- no cluster needed
def test_job_kind_follows_the_backend_hardware() -> None:
    assert job_kind("exact") == "cpu"
    assert job_kind("braket") == "qpu-gate"
    assert job_kind("dwave-qpu") == "qpu-anneal"
    assert job_kind("auto") == "cpu"
    assert job_kind("braket,dwave-qpu") == "cpu"  # a race runs in one process: cpu
    assert job_kind("no-such-backend") == "cpu"


def test_task_options_map_kinds_to_resources() -> None:
    opts = task_options("gpu", {"gpu": {"kakehashi-gpu": 1, "GPU": 1}})
    assert opts["resources"] == {"kakehashi-gpu": 1.0}
    assert (opts["num_gpus"], opts["num_cpus"], opts["max_retries"]) == (1.0, 0.0, 0)
    assert task_options("cloud", {})["resources"] == {"kakehashi-cloud": 1.0}


def test_readiness_is_a_bounded_probe_that_never_blocks_in_ray_init() -> None:
    import socket as socket_

    from kakehashi.service.executors.ray import RayExecutor, gcs_endpoint, reachable

    assert gcs_endpoint("10.0.0.1:6379") == ("10.0.0.1", 6379)
    assert gcs_endpoint("ray://head:10001") == ("head", 10001)
    assert gcs_endpoint("auto", "127.0.0.1:6380") == ("127.0.0.1", 6380)
    with socket_.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert reachable(("127.0.0.1", port))
    assert not reachable(("127.0.0.1", port))  # closed now
    executor = RayExecutor(f"127.0.0.1:{port}", RESOURCES)
    t0 = time.monotonic()
    assert not executor.ready() and not executor.ready()  # the cluster is down: no claim...
    assert time.monotonic() - t0 < 5.0  # ...and no ray.init blocking for a minute


def test_config_selects_ray_from_env_and_toml(tmp_path: Path) -> None:
    toml = tmp_path / "k.toml"
    toml.write_text('executor = "ray"\nray_address = "10.0.0.1:6379"\n[ray_resources]\ngpu = {GPU = 1}\n')
    cfg = load_config(toml, env={})
    assert (cfg.executor, cfg.ray_address) == ("ray", "10.0.0.1:6379")
    assert cfg.ray_resources["gpu"] == {"GPU": 1.0}
    assert cfg.ray_resources["cpu"] == {"kakehashi-cpu": 1.0}  # untouched kinds keep the default
    env = {
        "KAKEHASHI_EXECUTOR": "ray",
        "KAKEHASHI_RAY_ADDRESS": "head:6379",
        "KAKEHASHI_RAY_RESOURCES": json.dumps({"qpu-anneal": {"dwave": 1}}),
    }
    cfg = load_config(env=env)
    assert (cfg.executor, cfg.ray_address, cfg.ray_resources["qpu-anneal"]) == (
        "ray",
        "head:6379",
        {"dwave": 1.0},
    )
    assert load_config(env=config_env(cfg)).ray_resources == cfg.ray_resources  # serve → worker processes
    executor = make_executor(cfg)
    assert isinstance(executor, RayExecutor) and executor.address == "head:6379"
    with pytest.raises(kakehashi.KakehashiError, match="executor"):
        load_config(env={"KAKEHASHI_EXECUTOR": "pbs"})


# ------------------------------------------------------------------------------- the cluster
@dataclass
class RayCluster:
    cluster: Any
    address: str
    head_id: str
    node_b: Any  # a worker node: the only one with the qpu-gate resource


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                tree.setdefault(ppid, []).append(int(entry))
    return tree


def _ray_processes() -> set[int]:
    """This process's Ray children (gcs_server, raylets, monitors) and all their descendants."""
    tree: dict[int, list[int]] = _children()
    roots = []
    for pid in tree.get(os.getpid(), []):
        with contextlib.suppress(OSError):
            if b"ray" in Path(f"/proc/{pid}/cmdline").read_bytes():
                roots.append(pid)
    found, todo = set(roots), list(roots)
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _running(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie is dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    from ray.cluster_utils import Cluster

    saved = {k: v for k, v in os.environ.items() if k.startswith("RAY_")}
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "resources": {"kakehashi-cpu": 1},
            "object_store_memory": 100 * MB,
            "include_dashboard": False,
        },
    )
    try:
        node_b = cluster.add_node(
            num_cpus=1, resources={"kakehashi-qpu-gate": 1}, object_store_memory=100 * MB
        )
        ray.init(address=cluster.address, namespace="kakehashi-test", log_to_driver=False)
        cluster.wait_for_nodes(timeout=120)
        assert cluster.head_node is not None
        yield RayCluster(cluster, cluster.address, cluster.head_node.node_id, node_b)
    finally:
        ours = _ray_processes()  # gcs, raylets, their Ray workers and the solvers' children
        assert ours
        ray.shutdown()
        cluster.shutdown()
        for k in [k for k in os.environ if k.startswith("RAY_")]:
            del os.environ[k]
        os.environ.update(saved)
        _reap(ours)


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def _reap(pids: set[int]) -> None:
    """Wait for the cluster's processes to exit; kill Ray's own stragglers; ours must follow.

    Under load Ray's daemons and idle workers sometimes outlive the grace period after
    ``cluster.shutdown()``: they are killed so nothing is left behind. kakehashi's processes
    (the race forkserver and legs inside a Ray worker, solver children) must then exit on their
    own once their host is gone; one still alive 15 s later is a leak and fails the test.
    """
    markers = ("kakehashi.service.runner", "kakehashi.solver", "kakehashi.cli")
    deadline = time.monotonic() + 60
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.5)
    stragglers = {p: _cmdline(p) for p in pids if _running(p)}
    ours = {p: cmd for p, cmd in stragglers.items() if any(m in cmd for m in markers)}
    for pid in set(stragglers) - set(ours):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while any(_running(p) for p in ours) and time.monotonic() < deadline:
        time.sleep(0.5)
    leaked = [cmd for p, cmd in ours.items() if _running(p)]
    for pid in stragglers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not any(_running(p) for p in stragglers), 30, "killed Ray stragglers to exit")
    assert not leaked, f"kakehashi processes outlived their Ray host: {leaked}"


@pytest.fixture
def harness(ray_cluster: RayCluster, sqlite_url: str) -> Iterator[Harness]:
    h = make_harness(
        sqlite_url,
        executor="ray",
        ray_address=ray_cluster.address,
        ray_resources=RESOURCES,
        lease_seconds=4.0,
        poll_seconds=0.05,
    )
    yield h
    h.client.close()
    h.db.dispose()


@contextlib.contextmanager
def dispatchers(config: ServiceConfig, db: Database, n: int = 1) -> Iterator[list[Worker]]:
    """``n`` workers in threads of this process, using the Ray executor from ``config``."""
    workers = [Worker(config, db) for _ in range(n)]
    assert all(w.executor.name == "ray" for w in workers)
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for t in threads:
        t.start()
    try:
        yield workers
    finally:
        for w in workers:
            w.stop(grace=0.0)
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)


def events(h: Harness, job_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    rows = jobs.events_after(h.db, h.project_a, job_id)[1]
    return [{"kind": e.kind, **json.loads(e.data_json)} for e in rows if kind is None or e.kind == kind]


def placements(h: Harness, job_id: str) -> list[dict[str, Any]]:
    return [e for e in events(h, job_id, "progress") if e.get("event") == "placed"]


def status(h: Harness, job_id: str) -> str:
    return str(h.client.get(f"/v1/jobs/{job_id}", headers=h.h()).json()["status"])


def results_per_job(db: Database) -> dict[str, int]:
    with db.read() as s:
        return dict(s.execute(select(JobResult.job_id, func.count()).group_by(JobResult.job_id)).all())


# ------------------------------------------------------------------------------------ tests
def test_jobs_run_as_ray_tasks_on_the_node_of_their_kind(ray_cluster: RayCluster, harness: Harness) -> None:
    h = harness
    problems = {s: tiny_problem(s, n=6) for s in range(3)}
    ids = {s: h.submit(p, backend="exact", seed=s).json()["id"] for s, p in problems.items()}
    gate = h.submit(tiny_problem(7, n=4), backend="braket", seed=1).json()["id"]
    with dispatchers(h.config, h.db, n=2):
        wait_for(
            lambda: all(status(h, j) in ("SUCCEEDED", "FAILED") for j in [*ids.values(), gate]),
            120,
            "the jobs to finish",
        )
    for s, job_id in ids.items():
        assert status(h, job_id) == "SUCCEEDED"
        got = Result.from_dict(h.client.get(f"/v1/jobs/{job_id}/result", headers=h.h()).json())
        direct = kakehashi.solve(problems[s], backend="exact", time_limit=1.0, seed=s)
        assert got.status is direct.status and got.objective == direct.objective
        assert got.sample == direct.sample
        assert got.objective == pytest.approx(brute_force_min(problems[s]))
        (placed,) = placements(h, job_id)
        assert placed["executor"] == "ray" and placed["node_id"] == ray_cluster.head_id  # kakehashi-cpu
    # the qpu-gate kind ran on the only node offering kakehashi-qpu-gate, where braket is not set up
    (placed,) = placements(h, gate)
    assert placed["node_id"] == ray_cluster.node_b.node_id
    job = h.client.get(f"/v1/jobs/{gate}", headers=h.h()).json()
    with pytest.raises(kakehashi.BackendUnavailable) as direct_error:
        kakehashi.solve(tiny_problem(7, n=4), backend="braket", time_limit=1.0, seed=1)
    assert job["status"] == "FAILED" and job["error"].startswith("BackendUnavailable")
    assert str(direct_error.value) in job["error"]
    assert all(n == 1 for n in results_per_job(h.db).values()) and len(results_per_job(h.db)) == 3


def test_cancel_stops_the_ray_task(ray_cluster: RayCluster, harness: Harness) -> None:
    h = harness
    job_id = h.submit(tiny_problem(3, n=8), backend="tabu", time_limit=120.0, seed=3).json()["id"]
    with dispatchers(h.config, h.db):
        (placed,) = wait_for(lambda: placements(h, job_id), 90, "the task to start")
        pid = int(placed["pid"])
        assert _running(pid)  # the Ray worker process solving the job, on this machine
        t0 = time.monotonic()
        assert h.client.post(f"/v1/jobs/{job_id}/cancel", headers=h.h()).status_code == 200
        wait_for(lambda: status(h, job_id) == "CANCELLED", 30, "the job to be cancelled")
        wait_for(lambda: not _running(pid), 30, "ray.cancel(force=True) to kill the task's process")
        assert time.monotonic() - t0 < 30.0
    job = h.client.get(f"/v1/jobs/{job_id}", headers=h.h()).json()
    assert job["error"] == "cancelled while running" and job["attempt"] == 1
    assert results_per_job(h.db) == {}


def test_node_lost_mid_job_requeues_and_completes_on_the_other_node(
    ray_cluster: RayCluster, harness: Harness
) -> None:
    """Job A (3 attempts) and job B (1 attempt) run on node C; node C is removed mid-job."""
    h = harness
    cluster = ray_cluster.cluster
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=0)
    class Blocker:  # holds the head node's kakehashi-cpu slot so the jobs start on node C
        def node(self) -> str:
            return str(ray.get_runtime_context().get_node_id())

    blocker = Blocker.options(  # type: ignore[attr-defined]
        resources={"kakehashi-cpu": 1},
        scheduling_strategy=NodeAffinitySchedulingStrategy(ray_cluster.head_id, soft=False),
    ).remote()
    assert ray.get(blocker.node.remote(), timeout=120) == ray_cluster.head_id
    node_c = cluster.add_node(num_cpus=1, resources={"kakehashi-cpu": 2}, object_store_memory=100 * MB)
    cluster.wait_for_nodes(timeout=120)
    try:
        problem = tiny_problem(5, n=8)
        a = h.submit(problem, backend="tabu", time_limit=6.0, seed=5).json()["id"]
        spec = JobSpec(problem.to_json(), problem.name, 8, 0, backend="tabu", time_limit=6.0, seed=6)
        b = jobs.submit(h.db, h.project_a, spec, max_attempts=1)[0].id
        with dispatchers(h.config, h.db, n=2):
            wait_for(lambda: placements(h, a) and placements(h, b), 90, "both jobs to start")
            assert {placements(h, j)[0]["node_id"] for j in (a, b)} == {node_c.node_id}
            cluster.remove_node(node_c)
            wait_for(lambda: events(h, b, "requeued"), 60, "job B to be re-queued, max_attempts=1 or not")
            wait_for(lambda: events(h, a, "requeued"), 60, "job A to be re-queued")
            ray.kill(blocker)  # the head's slot frees: attempt 2 of jobs A and B runs there
            wait_for(lambda: status(h, a) == "SUCCEEDED", 120, "job A to complete on the head node")
            wait_for(lambda: status(h, b) == "SUCCEEDED", 120, "job B to complete on the head node")
    finally:
        with contextlib.suppress(Exception):
            ray.kill(blocker)
    job_a = h.client.get(f"/v1/jobs/{a}", headers=h.h()).json()
    assert job_a["attempt"] == 2
    assert [(p["attempt"], p["node_id"]) for p in placements(h, a)] == [
        (1, node_c.node_id),
        (2, ray_cluster.head_id),
    ]
    (lost,) = events(h, a, "lost")
    assert lost["attempt"] == 1 and lost["executor"] == "ray" and "Ray" in lost["reason"]
    assert lost["fault"] == "infrastructure"
    result = Result.from_dict(h.client.get(f"/v1/jobs/{a}/result", headers=h.h()).json())
    assert result.objective == pytest.approx(brute_force_min(problem))
    assert problem.evaluate(result.sample).objective == pytest.approx(result.objective)
    job_b = jobs.get(h.db, h.project_a, b)  # the node loss did not burn its only attempt
    assert job_b.attempt == 2 and job_b.infra_losses == 1 and job_b.job_faults == 0
    kinds = [e["kind"] for e in events(h, b)]
    assert kinds.index("requeued") == kinds.index("lost") + 1 and kinds[-1] == "succeeded"
    # no job lost, none with two results; only the finished attempts were billed
    assert results_per_job(h.db) == {a: 1, b: 1}
    with h.db.read() as s:
        ledger = sorted((e.job_id, e.attempt) for e in s.scalars(select(LedgerEntry)))
    assert ledger == sorted([(a, 2), (b, 2)])


def test_worker_process_configured_by_env_dispatches_to_the_cluster(
    ray_cluster: RayCluster, sqlite_url: str, tmp_path: Path
) -> None:
    """``KAKEHASHI_EXECUTOR=ray KAKEHASHI_RAY_ADDRESS=...`` on a real worker process (as serve starts it)."""
    from kakehashi.service.testing import LiveService

    config = ServiceConfig(
        database_url=sqlite_url,
        lease_seconds=4.0,
        executor="ray",
        ray_address=ray_cluster.address,
        ray_resources=RESOURCES,
    )
    assert config_env(config)["KAKEHASHI_EXECUTOR"] == "ray"
    problem = tiny_problem(11, n=6)
    with LiveService(sqlite_url, workers=1, config=config, log_path=str(tmp_path / "svc.log")) as svc:
        with kakehashi.Client(svc.url, svc.token("env")) as client:
            job = client.submit(problem, backend="exact", time_limit=1.0, seed=4)
            result = client.result(job.id, wait=True, timeout=120)
        with svc.db.read() as s:
            rows = list(s.scalars(select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id)))
    direct = kakehashi.solve(problem, backend="exact", time_limit=1.0, seed=4)
    assert (result.status, result.objective, result.sample) == (
        direct.status,
        direct.objective,
        direct.sample,
    )
    placed = [json.loads(e.data_json) for e in rows if e.kind == "progress" and '"placed"' in e.data_json]
    assert [(p["executor"], p["node_id"]) for p in placed] == [("ray", ray_cluster.head_id)]
