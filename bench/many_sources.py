"""What 100,000 configured sources cost the store paths over all of them (issue 25), on SQLite
and PostgreSQL: the daemon's first start (the sync inserts every source), a second start
(nothing to insert), `monitor status` as a user runs it (a new process: the YAML file loaded,
then a page of 50 sources read), and the same command's store part alone (in process, the
configuration already loaded), ``--failing`` and ``--source NAME``.

Usage: ``.venv/bin/python -m bench.many_sources [--sources N] [--backend sqlite|postgresql]``.
PostgreSQL is the trust-auth server of ``MONITOR_TEST_POSTGRES`` (tests/support/databases.py):
a new database, dropped at the end. Prints one line per figure with the machine's load average:
the figures are wall times on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from subprocess import DEVNULL, PIPE

from monitor.cli.status import status_command
from monitor.config.load import load_config
from monitor.daemon.app import App
from tests.support.databases import fresh_storage

MONITOR = Path(sys.executable).with_name("monitor")


def write_config(folder: Path, storage: str, count: int) -> Path:
    lines = [f"storage: {storage}", "rules:", "  - name: ia", "    any: [IA]", "sources:"]
    for n in range(count):
        lines += [f"  - name: s{n:06d}", f"    url: https://h{n % 997}.example/feed/{n}"]
    lines += ["subscribers:", "  - name: ops", "    console: true"]
    path = folder / "monitor.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def timed(what: str, run: Callable[[], Awaitable[object]]) -> None:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        await run()
    print(f"  {what:<44} {time.perf_counter() - start:6.2f} s", flush=True)


async def measure(backend: str, count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with fresh_storage(backend, folder) as storage:
            path = write_config(folder, storage, count)
            start = time.perf_counter()
            config = load_config(path)
            print(f"{backend}, {count:,} sources", flush=True)
            print(f"  {'load the YAML configuration':<44} {time.perf_counter() - start:6.2f} s")

            async def start_app() -> None:
                async with App(config):
                    pass

            await timed("daemon start, first (sync inserts all)", start_app)
            await timed("daemon start, again (nothing new)", start_app)
            await timed("status, store part (50 sources)", lambda: status_command(config))
            failing = lambda: status_command(config, failing=True)  # noqa: E731
            await timed("status --failing, store part", failing)
            one = lambda: status_command(config, source=f"s{count - 1:06d}")  # noqa: E731
            await timed("status --source NAME, store part", one)
            start = time.perf_counter()
            done = await asyncio.create_subprocess_exec(
                str(MONITOR), "status", "-c", str(path), stdout=DEVNULL, stderr=PIPE
            )
            _, err = await done.communicate()
            wall = time.perf_counter() - start
            print(f"  {'monitor status (a new process, YAML included)':<44} {wall:6.2f} s")
            if done.returncode != 0:
                print(err.decode(), file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args()
    for backend in args.backend or ["sqlite", "postgresql"]:
        asyncio.run(measure(backend, args.sources))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
