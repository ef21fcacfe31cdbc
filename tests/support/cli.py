"""The command line run as a user runs it: ``python -m monitor ARGS`` in a folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def monitor(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
