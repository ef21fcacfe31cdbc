"""What /proc says of a process and its children (Linux): for the benchmarks that run the
daemon as a child process (bench/soak.py, bench/scale.py)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def status(pid: int) -> dict[str, str]:
    """``/proc/PID/status`` as a mapping (``VmRSS`` → ``"1234 kB"``…); OSError if gone."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def kb(value: str) -> int:
    """The number of a status value such as ``"1234 kB"``."""
    return int(value.split()[0])


def children(pid: int) -> list[int]:
    """The living child processes of ``pid`` (none if it is gone)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and its living descendants."""
    pids, at = [pid], 0
    while at < len(pids):
        pids += children(pids[at])
        at += 1
    return pids


def rss_kb(pids: list[int]) -> int:
    """The resident memory of ``pids`` together (those gone count nothing)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, KeyError):
            total += kb(status(pid)["VmRSS"])
    return total


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time of ``pids``, with their children that ended and were reaped."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")
