"""Lease holders for the tests: one whose process is gone, as a `kill -9` leaves it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped): nothing runs under it now."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def dead_holder(host: str, now: float, holder_id: str = "dead-relay") -> dict[str, Any]:
    """A `lease_holders` row of a process on `host` that died a moment ago (its heartbeat is fresh)."""
    return {"id": holder_id, "host": host, "pid": dead_pid(), "pid_started": None, "lock_key": None,
            "started_at": now - 60, "heartbeat_at": now}
