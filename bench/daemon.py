"""The daemon as a child process of a benchmark (bench/scale.py, bench/sustained.py)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def start_daemon(config: Path, once: bool) -> asyncio.subprocess.Process:
    command = [sys.executable, "-m", "monitor", "run", "-c", str(config), "--log-level", "ERROR"]
    with (config.parent / "daemon.log").open("ab") as log:  # read when a run fails
        return await asyncio.create_subprocess_exec(
            *command, *(["--once"] if once else []), cwd=config.parent,
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )  # fmt: skip


def failed(config: Path, status: int | None) -> RuntimeError:
    log = (config.parent / "daemon.log").read_text(errors="replace")
    return RuntimeError(f"the daemon exited with status {status}:\n{log[-3000:]}")
