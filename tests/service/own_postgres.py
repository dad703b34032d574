"""A PostgreSQL cluster of the test's own: initdb in a temporary directory, a free port, SIGKILL.

Never the machine's shared server: :class:`OwnPostgres` runs ``postgres`` from
``/usr/lib/postgresql/*/bin`` (as the ``postgres`` user when the tests run as root, since
PostgreSQL refuses root) on 127.0.0.1 and a free port, in its own process group, so that
:meth:`OwnPostgres.kill` can SIGKILL the postmaster and every backend at once, like a crash.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from kakehashi.service.testing import free_port


def binaries() -> Path | None:
    """The newest PostgreSQL bin directory with initdb and postgres, or None."""
    for d in sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    ):
        if (Path(d) / "initdb").exists() and (Path(d) / "postgres").exists():
            return Path(d)
    return None


class OwnPostgres:
    """One throwaway cluster: :meth:`start`, :meth:`kill` (SIGKILL), :meth:`start` again, :meth:`close`."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="kh-own-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.root / "postgres.log"
        self._as: dict[str, int] = {}
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", "kh", "-A", "trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=self.root,
            **self._as,  # type: ignore[arg-type]
        )

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the cluster's ``postgres`` database."""
        return f"postgresql+psycopg://kh@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 60.0) -> None:
        """Start the server (after a kill: crash recovery) and wait until it accepts queries."""
        import psycopg

        log = open(self.log, "ab")  # noqa: SIM115 - the server's stderr for as long as it runs
        self.proc = subprocess.Popen(
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.root}",
                "-c",
                "max_connections=200",
                "-c",
                "fsync=off",  # the cluster dies by SIGKILL, never by power loss
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
            cwd=self.root,
            **self._as,  # type: ignore[arg-type]
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(psycopg.Error):
                with psycopg.connect(self.url.replace("+psycopg", ""), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}"
                )
            time.sleep(0.1)
        raise RuntimeError("postgres did not start in time")

    def _postmaster(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def kill(self) -> None:
        """SIGKILL the postmaster and all its backends (a crash, no shutdown checkpoint)."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # the postmaster leads its own session; its backends are in it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)
        self.proc = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
