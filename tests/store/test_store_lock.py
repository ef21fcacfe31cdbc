"""One daemon per SQLite database: a second refuses to start, and a killed one frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.core.errors import StoreError
from monitor.store.lock import single_instance


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/m.db"
    with single_instance(storage):
        with pytest.raises(StoreError, match=rf"pid {os.getpid()}.*{tmp_path}/m.db"):
            with single_instance(storage):
                pass
    with single_instance(storage):  # released on exit
        pass


def test_postgresql_and_memory_storage_take_no_lock(tmp_path: Path) -> None:
    with single_instance("postgresql://u@h/db"), single_instance("postgresql://u@h/db"):
        pass
    with single_instance("sqlite:///:memory:"), single_instance("sqlite:///:memory:"):
        pass


@pytest.mark.slow
def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/m.db"
    code = (
        "import sys, time\nfrom monitor.store.lock import single_instance\n"
        f"with single_instance({storage!r}):\n    print('held', flush=True)\n    time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(StoreError, match="already running"):
            with single_instance(storage):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        with single_instance(storage):
            pass
    finally:
        holder.kill()
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()


@pytest.mark.slow
def test_run_refuses_while_another_daemon_holds_the_database(tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(f"storage: sqlite:///{tmp_path}/m.db\n")
    with single_instance(f"sqlite:///{tmp_path}/m.db"):
        result = subprocess.run(
            [sys.executable, "-m", "monitor", "run", "--once", "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 3
    assert "another monitor" in result.stderr and "already running" in result.stderr
    assert "Traceback" not in result.stderr
