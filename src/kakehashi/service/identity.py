"""Who a worker is: host name + boot id + pid, so a host can tell its own dead workers.

``boot_id`` joins the kernel's id of the current boot (``/proc/sys/kernel/random/boot_id``) and
the pid namespace (its inode), so two containers on one kernel never mistake each other's pids.
Off Linux it is empty and dead workers are found by lease expiry only.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def host_name() -> str:
    """This host's name as workers record it (at most 200 characters)."""
    return socket.gethostname()[:200]


def boot_id() -> str:
    """``<kernel boot id>/<pid namespace inode>``, or "" when the platform does not say."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pidns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot}/{pidns}"[:64]
