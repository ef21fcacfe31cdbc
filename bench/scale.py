"""Scale benchmark (issue 7): the daemon against a bare aiohttp fetch of the same feeds, on
one feed server (bench/scale_server.py: feeds over 100 host addresses, 100 ms a request).

    python -m bench.scale [--feeds 10000] [--cold 1000] [--hosts 100] [--latency 0.1]
                          [--interval 10] [--minutes 5] [--only cold unchanged sustained]

Scenarios, each beside its baseline measured in the same run:

- cold start: ``monitor run --once`` on a new SQLite store, ``--cold`` feeds of 20 items, every
  item new (parsed, matched against 100 rules, stored). Figure: seconds from the daemon's first
  request to its exit; goal ≤ 2 x the bare fetch of the same feeds (100 connections, bodies
  read).
- idle footprint: ``monitor run`` with ``--feeds`` sources on a 1-hour interval, once every
  feed has been polled and the daemon is quiet: resident memory of the daemon and its parse
  workers; goal ≤ 150 MB.
- nothing changed: ``monitor run --once`` on that store, every feed answering 304. Figures:
  seconds from the first request to the exit, goal ≤ 1.5 x the bare fetch sending the same
  ETags; CPU of the daemon and its workers over that time per feed, goal ≤ 0.3 ms.

- sustained (bench/sustained.py): ``monitor run`` over ``--feeds`` feeds on an ``--interval``
  of 10 s, 10 % publishing, for ``--minutes``: polls per second, lag p99, cores, peak memory,
  items missing; beside one pass of the bare fetch.

- delivery (bench/delivery.py): ``monitor run --once`` owing one digest to each of ``--emails``
  email subscribers (a loopback SMTP server), then to ``--webhooks`` webhook subscribers (a
  loopback receiver): digests per second from the poll to the exit, bookkeeping included;
  goals ≥ 200 emails/s and ≥ 500 webhooks/s.

Prints a table (goal, figure, baseline, pass/fail); exit status 0 when every goal holds, else 1.
``--only`` picks scenarios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml

from bench import delivery, procfs, sustained
from bench.daemon import failed, start_daemon
from bench.matching import make_rules
from bench.scale_server import ScaleFeeds

CONNECTIONS = 100  # of the bare fetch, and the daemon's network.concurrency
TIMEOUT = 900.0  # seconds a daemon run may take


@dataclass
class Row:
    goal: str
    figure: str
    baseline: str
    passed: bool


# --- the bare fetch, in its own process (as the daemon is) ------------------------------------


@dataclass(frozen=True)
class Bare:
    seconds: float  # wall time of the fetch
    cpu: float  # CPU seconds of its process over that time


async def bare_fetch(urls: Sequence[str], etags: Sequence[str | None]) -> Bare:
    """Seconds to GET every URL with CONNECTIONS connections, reading each body, and the CPU
    seconds that took."""
    connector = aiohttp.TCPConnector(limit=CONNECTIONS, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def get(url: str, etag: str | None) -> None:
            headers = {"If-None-Match": etag} if etag else {}
            async with session.get(url, headers=headers) as response:
                await response.read()

        start, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(get(u, e) for u, e in zip(urls, etags, strict=True)))
        return Bare(time.monotonic() - start, time.process_time() - cpu)


def fetch_main(path: str) -> int:
    lines = Path(path).read_text().split("\n")
    pairs = [line.split(" ", 1) for line in lines if line]
    bare = asyncio.run(bare_fetch([p[0] for p in pairs], [p[1] or None for p in pairs]))
    print(f"{bare.seconds:.3f} {bare.cpu:.3f}")
    return 0


async def run_bare(folder: Path, urls: Sequence[str], etags: Sequence[str | None]) -> Bare:
    listing = folder / "urls.txt"
    listing.write_text("".join(f"{u} {e or ''}\n" for u, e in zip(urls, etags, strict=True)))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.scale", "--fetch", str(listing),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    seconds, cpu = out.decode().split()
    return Bare(float(seconds), float(cpu))


# --- the daemon ------------------------------------------------------------------------------


def write_config(
    folder: Path,
    server: ScaleFeeds,
    feeds: int,
    interval: str = "1h",
    concurrency: int = CONNECTIONS,
) -> Path:
    rules = [
        {k: v for k, v in rule.model_dump(mode="json", exclude_defaults=True).items()
         if k not in ("sources", "tags")}  # scopes name the sources of config/monitor.yaml
        for rule in make_rules(100)
    ]  # fmt: skip
    config = {
        "storage": f"sqlite:///{folder}/monitor.db",
        "network": {"allow": ["127.0.0.0/8"], "timeout": "30s",
                    "concurrency": concurrency, "per_host": 10},
        "defaults": {"interval": interval, "backfill": "30d"},
        "sources": [{"name": f"f{n}", "url": server.url(n)} for n in range(feeds)],
        "rules": rules,
    }  # fmt: skip
    path = folder / f"monitor-{feeds}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


async def once(server: ScaleFeeds, config: Path) -> tuple[float, float, int]:
    """``monitor run --once``: seconds from its first request to its exit, CPU seconds of the
    daemon and its workers over that time, exit status."""
    server.reset()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = await start_daemon(config, once=True)
    while server.stats.first is None and process.returncode is None:  # noqa: ASYNC110
        await asyncio.sleep(0.001)  # (polled: the server has no event for it)
    if process.returncode is not None:
        raise failed(config, process.returncode)
    at_first = procfs.cpu_seconds(procfs.tree(process.pid))
    first = server.stats.first or time.monotonic()
    status = await asyncio.wait_for(process.wait(), TIMEOUT)
    seconds = time.monotonic() - first
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) - at_first
    return seconds, cpu, status


async def idle(server: ScaleFeeds, config: Path, feeds: int) -> tuple[float, int]:
    """``monitor run`` until every feed was polled and 5 s passed without a request: the
    seconds that first cycle took, and the peak resident memory over the next 5 s."""
    server.reset()
    process = await start_daemon(config, once=False)
    try:
        while len(server.stats.polled) < feeds:
            if process.returncode is not None:
                raise failed(config, process.returncode)
            await asyncio.sleep(0.2)
        cycle = time.monotonic() - (server.stats.first or 0.0)
        while time.monotonic() - (server.stats.last or 0.0) < 5:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        peak = 0
        for _ in range(10):
            peak = max(peak, procfs.rss_kb(procfs.tree(process.pid)) * 1024)
            await asyncio.sleep(0.5)
        return cycle, peak
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)


async def cold_start(server: ScaleFeeds, folder: Path, feeds: int) -> list[Row]:
    urls = [server.url(n) for n in range(feeds)]
    cold_dir = folder / "cold"
    cold_dir.mkdir()
    bare = await run_bare(folder, urls, [None] * feeds)
    seconds, cpu, status = await once(server, write_config(cold_dir, server, feeds))
    return [Row(
        f"cold start, {feeds:,} feeds ≤ 2x bare",
        f"{seconds:.1f} s ({seconds / bare.seconds:.1f}x; CPU {cpu:.1f} s; exit {status})",
        f"bare fetch {bare.seconds:.1f} s (CPU {bare.cpu:.1f} s)",
        status == 0 and seconds <= 2 * bare.seconds,
    )]  # fmt: skip


async def idle_and_unchanged(server: ScaleFeeds, folder: Path, feeds: int) -> list[Row]:
    big = write_config(folder, server, feeds)
    cycle, peak = await idle(server, big, feeds)
    rows = [Row(
        f"idle footprint, {feeds:,} sources ≤ 150 MB",
        f"{peak / 2**20:.0f} MB (first cycle {cycle:.1f} s)", "", peak <= 150 * 2**20,
    )]  # fmt: skip
    urls = [server.url(n) for n in range(feeds)]
    etags = [server.etag(n, server.version(n)) for n in range(feeds)]
    bare = await run_bare(folder, urls, etags)
    seconds, cpu, status = await once(server, big)
    per_feed = cpu / feeds * 1000
    rows.append(Row(
        f"nothing changed, {feeds:,} feeds ≤ 1.5x bare",
        f"{seconds:.1f} s ({seconds / bare.seconds:.1f}x; {server.stats.not_modified:,} "
        f"answered 304; exit {status})",
        f"bare fetch {bare.seconds:.1f} s", status == 0 and seconds <= 1.5 * bare.seconds,
    ))  # fmt: skip
    rows.append(Row(
        "nothing changed: CPU ≤ 0.3 ms per feed", f"{per_feed:.2f} ms",
        f"bare fetch {bare.cpu / feeds * 1000:.2f} ms", per_feed <= 0.3,
    ))  # fmt: skip
    return rows


async def steady(args: argparse.Namespace, folder: Path) -> list[Row]:
    """The sustained scenario, on a server of its own: 10 % of the feeds publishing."""
    server = ScaleFeeds(
        args.feeds, hosts=args.hosts, latency=args.latency, publishing=0.1,
        interval=args.interval,
    )  # fmt: skip
    await server.start()
    try:
        urls = [server.url(n) for n in range(args.feeds)]
        bare = await run_bare(folder, urls, [None] * args.feeds)
        work = folder / "sustained"
        work.mkdir()
        config = write_config(
            work, server, args.feeds, interval=f"{args.interval:g}s", concurrency=2 * CONNECTIONS
        )
        found = await sustained.run(server, config, args.minutes)
    finally:
        await server.close()
    what = f"{args.feeds:,} feeds every {args.interval:g} s, {args.minutes:g} min"
    return [
        Row(
            f"sustained {what}: ≥ {found.offered:,.0f} polls/s, lag p99 ≤ 2 s",
            f"{found.rate:,.0f} polls/s (a feed every {found.gap_mean:.2f} s); lag mean "
            f"{found.lag_mean:.2f} s, p99 "
            f"{found.lag_p99:.2f} s, max "
            f"{found.lag_max:.1f} s; {found.unpolled} feeds not polled; "
            f"{found.missing:,} of {found.published:,} items missing",
            f"bare fetch {args.feeds / bare.seconds:,.0f} polls/s", found.kept_up,
        ),
        Row(
            "sustained: ≤ 1.5 cores, ≤ 300 MB", f"{found.cores:.2f} cores, "
            f"{found.peak_rss / 2**20:.0f} MB peak", "",
            found.cores <= 1.5 and found.peak_rss <= 300 * 2**20,
        ),
    ]  # fmt: skip


async def deliveries(args: argparse.Namespace, folder: Path) -> list[Row]:
    rows = []
    for channel, count, goal in (("email", args.emails, 200), ("webhook", args.webhooks, 500)):
        found = await delivery.run(folder, channel, count)
        rows.append(Row(
            f"delivery: ≥ {goal} {channel}s/s, outbox bookkeeping included",
            f"{found.rate:,.0f}/s ({count:,} subscribers in {found.seconds:.1f} s; "
            f"{found.received:,} received, {found.ids:,} distinct ids, {found.unsent} unsent; "
            f"{found.connections:,} connections; exit {found.status})",
            "", found.complete and found.rate >= goal,
        ))  # fmt: skip
    return rows


SCENARIOS = ("cold", "unchanged", "sustained", "delivery")


async def main(args: argparse.Namespace) -> int:
    server = ScaleFeeds(args.feeds, hosts=args.hosts, latency=args.latency)
    await server.start()
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            if "cold" in args.only:
                rows += await cold_start(server, folder, args.cold)
            if "unchanged" in args.only:
                rows += await idle_and_unchanged(server, folder, args.feeds)
            await server.close()
            if "sustained" in args.only:
                rows += await steady(args, folder)
            if "delivery" in args.only:
                rows += await deliveries(args, folder)
    finally:
        await server.close()
    print(f"{args.hosts} host addresses, {args.latency * 1000:.0f} ms a request, "
          f"{CONNECTIONS} connections; {os.cpu_count()} cores")  # fmt: skip
    return table(rows)


def ran_on() -> str:
    """Where a bench ran: the cores it may use and the load average at its end."""
    cores = ",".join(map(str, sorted(os.sched_getaffinity(0))))
    return f"ran on cores {cores} (load average at the end {os.getloadavg()[0]:.1f})"


def table(rows: Sequence[Row]) -> int:
    """Print the rows as a Markdown table; 0 when every goal holds, else 1."""
    print("| goal | figure | baseline (same run) | |\n| --- | --- | --- | --- |")
    for row in rows:
        verdict = "pass" if row.passed else "FAIL"
        print(f"| {row.goal} | {row.figure} | {row.baseline} | {verdict} |")
    return 0 if all(row.passed for row in rows) else 1


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--cold", type=int, default=1_000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--interval", type=float, default=10.0, help="sustained: seconds")
    parser.add_argument("--minutes", type=float, default=5.0, help="sustained: the window")
    parser.add_argument("--emails", type=int, default=2_000, help="delivery: subscribers")
    parser.add_argument("--webhooks", type=int, default=5_000, help="delivery: subscribers")
    parser.add_argument(
        "--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), metavar="SCENARIO"
    )
    parser.add_argument("--fetch", help=argparse.SUPPRESS)  # the bare fetch's own process
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    if arguments.fetch:
        raise SystemExit(fetch_main(arguments.fetch))
    raise SystemExit(asyncio.run(main(arguments)))
