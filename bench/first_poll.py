"""Start-up and idle memory of one daemon with many sources (issue 25: 100,000 sources in a
CSV ``sources_file``, start to first poll ≤ 5 s, idle RSS ≤ 400 MB, daemon and parse workers).

    python -m bench.first_poll [--sources 100000] [--starts 2] [--idle 30]
                               [--profile PATH] [--store sqlite|postgresql]

One store (a new SQLite file, or a new database on the ``test`` PostgreSQL server), the
configuration of bench/sources.py with a one-hour interval: after the first polls (spread over
the interval) the daemon is nearly idle. The daemon is started ``--starts`` times on the same
store: the first start makes the schema and inserts every source, the next ones are the
restarts of a daemon in service. For each start it prints the seconds from the process's start
to its ``store`` log line (imports, configuration loaded), to its ``start`` line (store opened,
sources synced) and to the feed server's first request; then the resident memory of the daemon
and its workers (``/proc``) at the first request and the median over ``--idle`` seconds from
10 s after it, and what that is a source. ``--profile PATH`` runs the last start under
cProfile (``PATH`` written when it stops; the times are then cProfile's, not the daemon's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench import procfs
from bench.scale_server import ScaleFeeds
from bench.sources import base_config, csv_text, store


@dataclass
class Started:
    events: dict[str, float] = field(default_factory=dict)  # first time of each event
    first: float = 0.0  # first request
    rss_first: int = 0
    rss_idle: int = 0


def write_config(folder: Path, storage: str, server: ScaleFeeds, count: int) -> Path:
    base = {**base_config(storage, server), "sources_file": "sources.csv"}
    (folder / "sources.csv").write_text(csv_text(server, range(count)))
    config = folder / "monitor.yaml"
    config.write_text(yaml.safe_dump(base, sort_keys=False))
    return config


async def one_start(config: Path, server: ScaleFeeds, idle: float, profile: str | None) -> Started:
    server.reset()
    python = [sys.executable] + (["-m", "cProfile", "-o", profile] if profile else [])
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *python, "-m", "monitor", "run", "-c", str(config), "--log-level", "INFO",
        cwd=config.parent, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        limit=2**24,
    )  # fmt: skip
    found = Started()
    tail: list[str] = []

    async def follow() -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            parts = raw.decode(errors="replace").split(" ", 3)
            if len(parts) >= 3 and parts[2] != "poll":
                found.events.setdefault(parts[2], time.monotonic() - began)
                tail.append(raw.decode(errors="replace").rstrip())

    following = asyncio.create_task(follow())
    try:
        while server.stats.first is None:
            if process.returncode is not None:
                raise RuntimeError("the daemon ended:\n" + "\n".join(tail[-20:]))
            await asyncio.sleep(0.01)
        found.first = server.stats.first - began
        pids = procfs.tree(process.pid)
        found.rss_first = procfs.rss_kb(pids) * 1024
        await asyncio.sleep(10)
        samples = []
        until = time.monotonic() + idle
        while time.monotonic() < until:
            samples.append(procfs.rss_kb(procfs.tree(process.pid)) * 1024)
            await asyncio.sleep(1.0)
        found.rss_idle = int(statistics.median(samples))
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 120)
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
    return found


async def main(args: argparse.Namespace) -> int:
    server = ScaleFeeds(args.sources, items=10, interval=3600.0, keep=False)
    await server.start()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            async with store(args.store, Path(scratch)) as url:  # (SQLite: in a folder of its own)
                config = await asyncio.to_thread(
                    write_config, Path(scratch), url, server, args.sources
                )
                for run in range(args.starts):
                    last = run == args.starts - 1
                    s = await one_start(config, server, args.idle, args.profile if last else None)
                    kind = "first start" if run == 0 else "restart"
                    mb = 2**20
                    print(
                        f"{args.store} {kind}: store line {s.events.get('store', 0):.2f} s, "
                        f"start line {s.events.get('start', 0):.2f} s, first request "
                        f"{s.first:.2f} s; RSS {s.rss_first / mb:.0f} MB at the first request, "
                        f"{s.rss_idle / mb:.0f} MB idle "
                        f"({s.rss_idle / args.sources / 1024:.2f} KB a source)",
                        flush=True,
                    )
    finally:
        await server.close()
    print(f"{args.sources:,} sources; load average {os.getloadavg()[0]:.2f}")
    return 0


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--starts", type=int, default=2)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds sampled")
    parser.add_argument("--profile", help="cProfile output of the last start")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
