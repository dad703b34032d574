"""A throwaway one-node Slurm cluster for the tests (Debian 12's Slurm 22.05, run as root, no systemd).

Modelled on ``shared/hpc/slurm-local.sh``: munge, ``slurmctld``, ``slurmd`` and a JWT
``slurmrestd`` on 127.0.0.1:6820 (OpenAPI ``v0.0.38``), one partition ``debug`` and one
generic resource ``qpu:1`` on the node, fast scheduling, no accounting database
(``AccountingStorageType=accounting_storage/none``: without slurmdbd a GRES cannot be a tracked
TRES, so a job's QPU shows in its ``TresPerNode``, not its ``TRES``). :func:`start` starts what is not running
and returns a :class:`Cluster` that stops exactly the processes it started, by pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

#: Debian packages the cluster needs (``.ci/run`` installs them when missing).
PACKAGES = ("slurmctld", "slurmd", "slurm-client", "slurmrestd", "slurm-wlm-jwt-plugin", "munge")
BINARIES = ("slurmctld", "slurmd", "sbatch", "squeue", "scancel", "scontrol", "slurmrestd", "munged")
REST_PORT = 6820


class Unavailable(Exception):
    """Slurm cannot run here (the one-line reason to skip)."""


@dataclass
class Cluster:
    """A running test cluster: its directory, ``SLURM_CONF`` and the pids it started."""

    root: Path
    conf: Path
    node: str
    rest_url: str
    started: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *argv: str, check: bool = True, timeout: float = 30.0) -> str:
        done = subprocess.run(list(argv), env=self.env(), capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(argv)}: {done.stderr or done.stdout}")
        return done.stdout

    def stop(self, *names: str) -> None:
        """Stop the daemons this cluster started (all of them when no name is given), by pid."""
        for name in names or ("slurmrestd", "slurmd", "slurmctld", "munged"):
            proc = self.started.pop(name, None)
            if proc is None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)

    def start_ctld(self) -> None:
        """(Re)start ``slurmctld`` with its saved state and wait for the node to be back."""
        self.started["slurmctld"] = _spawn(self.root, "slurmctld", ["slurmctld", "-D"], self.env())
        _wait(lambda: self.run("scontrol", "ping", check=False).find(" is UP") > 0, 30, "slurmctld to answer")


def _spawn(root: Path, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(root / "log" / f"{name}.out", "ab") as log:  # the daemon keeps its own copy
        return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():  # type: ignore[operator]
                return
        time.sleep(0.1)
    raise Unavailable(f"timed out waiting for {what}")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _munge_ok() -> bool:
    try:
        cred = subprocess.run(["munge", "-n"], capture_output=True, timeout=5, check=True).stdout
        return subprocess.run(["unmunge"], input=cred, capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def config_text(root: Path, node: str) -> str:
    """``slurm.conf`` of the test cluster (one node with CPUs = this machine's, GRES ``qpu:1``)."""
    mem = max(1024, (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) // 2**20 - 2048)
    return f"""ClusterName=kakehashi-test
SlurmctldHost={node}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key={root}/jwt.key
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool/slurmd.%n
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
DefMemPerCPU=500
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=2
GresTypes=qpu
NodeName={node} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} RealMemory={mem} Gres=qpu:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def start(root: Path) -> Cluster:
    """Start a cluster under ``root``; raises :class:`Unavailable` with the reason it cannot."""
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        raise Unavailable(
            f"Slurm is not installed (missing {', '.join(missing)}; apt-get install {' '.join(PACKAGES)})"
        )
    if os.geteuid() != 0:
        raise Unavailable("the test Slurm runs its daemons as root")
    for port in (6817, 6818, REST_PORT):
        if not _port_free(port):
            raise Unavailable(f"port {port} is in use (another Slurm on this machine?)")
    node = socket.gethostname().split(".")[0]
    for sub in ("state", f"spool/slurmd.{node}", "log", "run"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # slurmrestd runs as nobody and reads slurm.conf
    (root / "log").chmod(0o777)
    conf = root / "slurm.conf"
    (root / "jwt.key").write_bytes(os.urandom(32))
    (root / "jwt.key").chmod(0o600)
    (root / "gres.conf").write_text("Name=qpu Count=1\n")
    conf.write_text(config_text(root, node))
    conf.chmod(0o644)
    cluster = Cluster(root, conf, node, f"http://127.0.0.1:{REST_PORT}")
    env = cluster.env()
    try:
        if not _munge_ok():
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            if not Path("/etc/munge/munge.key").exists():
                subprocess.run(
                    ["setpriv", "--reuid=munge", "--regid=munge", "--init-groups", "mungekey", "-c"],
                    check=True,
                )
            cluster.started["munged"] = _spawn(
                root,
                "munged",
                ["setpriv", "--reuid=munge", "--regid=munge", "--init-groups", "munged", "-F"],
                env,
            )
            _wait(_munge_ok, 10, "munged")
        cluster.start_ctld()
        cluster.started["slurmd"] = _spawn(root, "slurmd", ["slurmd", "-D", "-N", node], env)
        _wait(lambda: cluster.run("sinfo", "-h", "-o", "%T").strip() == "idle", 30, "the node to be idle")
        rest_env = {**env, "SLURM_JWT": "daemon"}
        cluster.started["slurmrestd"] = _spawn(
            root,
            "slurmrestd",
            [
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "slurmrestd",
                "-a",
                "rest_auth/jwt",
                "-s",
                "openapi/v0.0.38",
                f"127.0.0.1:{REST_PORT}",
            ],
            rest_env,
        )

        def rest_up() -> bool:
            try:
                urllib.request.urlopen(cluster.rest_url + "/", timeout=1)
            except urllib.error.HTTPError:
                return True
            return True

        _wait(rest_up, 15, "slurmrestd")
    except BaseException:
        cluster.stop()
        raise
    return cluster
