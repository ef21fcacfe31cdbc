"""Replica benchmark (issue 6): cycle time of 1,000 feeds with 1, 2 and 3 replicas on
PostgreSQL, beside one daemon on SQLite.

    python -m bench.replicas [--feeds 1000] [--items 20] [--latency 0.1] [--replicas 1,2,3]

A feed server on 127.0.0.1 (in this process) serves ``--feeds`` RSS feeds of ``--items`` items
each, answering every request after ``--latency`` seconds. For each set-up, a fresh store
(a new PostgreSQL database on ``$MONITOR_TEST_POSTGRES``, or a new SQLite file), then the
daemons are started as child processes (``python -m monitor run``) and the cycle time is the
time from the first request to the moment every feed has been fetched once (a cold cycle: every
item new, parsed, matched and stored). Prints one line per set-up and the speed-up over one
replica on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from tests.support.databases import postgres_database
from tests.support.peers import rss

TIMEOUT = 600.0  # seconds a cycle may take before the set-up is given up


class Feeds:
    def __init__(self, count: int, items: int, latency: float) -> None:
        now = datetime.now(UTC)
        self.bodies = {
            f"/f{n:04}": rss(
                [
                    {
                        "guid": f"f{n}-{k}",
                        "title": f"IA et centres d'appels, article {k} du flux {n}",
                        "link": f"https://x.ma/f{n}/{k}",
                        "summary": "Le démarchage téléphonique recule, les centres d'appels "
                        "misent sur l'intelligence artificielle.",
                        "published": now - timedelta(minutes=k),
                    }
                    for k in range(items)
                ]
            )
            for n in range(count)
        }
        self.latency = latency
        self.seen: dict[str, float] = {}
        self.all_seen = asyncio.Event()
        self.first: float | None = None
        self.app = web.Application()
        self.app.router.add_get("/{name}", self._serve)
        self.runner = web.AppRunner(self.app, access_log=None)
        self.port = 0

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _serve(self, request: web.Request) -> web.Response:
        path = request.path
        now = time.monotonic()
        self.first = self.first if self.first is not None else now
        self.seen.setdefault(path, now)
        if len(self.seen) == len(self.bodies):
            self.all_seen.set()
        await asyncio.sleep(self.latency)
        return web.Response(body=self.bodies[path], content_type="application/rss+xml")

    def reset(self) -> None:
        self.seen.clear()
        self.first = None
        self.all_seen.clear()


def config(storage: str, feeds: Feeds) -> str:
    sources = "".join(
        f"  - name: {path[1:]}\n    url: http://127.0.0.1:{feeds.port}{path}\n"
        for path in feeds.bodies
    )
    return (
        f"storage: {storage}\n"
        "network: {allow: [127.0.0.0/8], timeout: 30s, concurrency: 100, per_host: 100}\n"
        "defaults: {interval: 1h, backfill: 24h}\n"
        f"sources:\n{sources}"
        "rules:\n  - name: ia\n    any: [IA, intelligence artificielle]\n"
        "  - name: centres\n    any: [centres d'appels]\n"
    )


async def cycle(storage: str, replicas: int, feeds: Feeds, folder: Path) -> float:
    """Seconds from the first request to every feed fetched once, with ``replicas`` daemons."""
    path = folder / "monitor.yaml"
    path.write_text(config(storage, feeds))
    feeds.reset()
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "monitor",
            "run",
            "-c",
            str(path),
            "--log-level",
            "WARNING",
            cwd=folder,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(replicas)
    ]
    try:
        await asyncio.wait_for(feeds.all_seen.wait(), TIMEOUT)
        assert feeds.first is not None
        return max(feeds.seen.values()) - feeds.first + feeds.latency
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in processes:
            await process.wait()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--replicas", default="1,2,3")
    args = parser.parse_args()
    feeds = Feeds(args.feeds, args.items, args.latency)
    await feeds.start()
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        seconds = await cycle(f"sqlite:///{folder}/m.db", 1, feeds, folder)
        rows.append(("1 daemon, SQLite", seconds))
        for count in map(int, args.replicas.split(",")):
            async with postgres_database() as storage:
                seconds = await cycle(storage, count, feeds, folder)
            rows.append((f"{count} replica(s), PostgreSQL", seconds))
    await feeds.runner.cleanup()
    print(f"{args.feeds} feeds of {args.items} items, {args.latency * 1000:.0f} ms latency")
    base = next(s for name, s in rows if name.startswith("1 replica"))
    for name, seconds in rows:
        print(
            f"{name:28} cycle {seconds:7.1f} s  ({base / seconds:.2f} times one PostgreSQL replica)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
