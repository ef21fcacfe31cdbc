"""The 100,000-source scenario (issue 25): one daemon, its sources in a CSV ``sources_file``,
on SQLite then on PostgreSQL, polling a loopback feed server on a 15-minute interval.

    python -m bench.sources [--sources 100000] [--interval 900] [--minutes 5]
                            [--stores sqlite postgresql] [--changed 1000]

For each store (a new SQLite file; a new database on the ``test`` PostgreSQL server, made as
tests/support/databases.py makes them), in one temporary folder:

- check: ``monitor check`` on the configuration with its sources in ``sources.csv``, then on the
  same sources written in the YAML file itself (wall time of the process);
- start: ``monitor run`` from the process's start to the feed server's first request;
- reload: once the first round is under way (``--reload-after`` seconds after the first
  request), ``--changed`` rows of the CSV removed and as many added, then SIGHUP: the time to
  the daemon's ``reload`` log line and to the first request for an added source, the requests
  per second meanwhile against the 10 s before, and the longest silence of the feed server
  (polls must go on);
- sustained: once every source of the edited file has been polled once (the first round: every
  poll brings new items), a window of ``--minutes``: polls per second against the offered
  rate (sources / interval), lag p99 and maximum from the gaps between a feed's requests (as in
  bench/sustained.py), feeds never polled, CPU cores of the daemon and its parse workers, items
  of the publishing feeds (10 %, two a feed an interval) missing from the store;
- memory: resident memory of the daemon and its workers (sampled each second): 10 s after the
  first request, the median over the window (steady polling: what an idle goal means for a
  daemon that is never idle), and the peak of the whole run.

The feed server (bench/scale_server.py: 100 addresses of 127.0.0.0/8, 100 ms an answer) runs in
this process. ``--interval 90 --sources 10000`` keeps the request rate of the full run (111/s)
at a tenth of its size, in about 5 minutes a store. Prints a table of goal, figure and verdict;
exit status 1 when a goal fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import func, select

from bench import procfs
from bench.scale import Row, ran_on, table
from bench.scale_server import ScaleFeeds
from bench.sustained import lags
from monitor.store import open_engine
from monitor.store.tables import items
from tests.support.databases import postgres_database

RULES = [
    {"name": "centres", "any": ["centres d'appels", "call center"]},
    {"name": "ia", "any": ["IA", "intelligence artificielle"]},
    {"name": "loi", "all": ["démarchage", "interdit"]},
]
CHECK_GOAL, CHECK_YAML_GOAL, START_GOAL, RSS_GOAL = 3.0, 10.0, 5.0, 400 * 2**20
RELOAD_GOAL, LAG_GOAL, CORES_GOAL = 5.0, 5.0, 1.0


def say(line: str) -> None:
    """Progress, on stderr (the table goes to stdout)."""
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


# --- the files ---------------------------------------------------------------------------------


def csv_text(server: ScaleFeeds, names: Sequence[int]) -> str:
    return "name,url\n" + "".join(f"f{n},{server.url(n)}\n" for n in names)


def base_config(storage: str, server: ScaleFeeds) -> dict[str, object]:
    """What the many-source benches configure alike (bench/first_poll.py, bench/million.py)."""
    return {
        "storage": storage,
        "network": {"allow": ["127.0.0.0/8"], "timeout": "30s", "concurrency": 100,
                    "per_host": 10},
        "defaults": {"interval": f"{server.interval:g}s", "backfill": "30d"},
        "rules": RULES,
    }  # fmt: skip


def write_configs(folder: Path, storage: str, server: ScaleFeeds, count: int) -> tuple[Path, Path]:
    """The configuration with its sources in sources.csv, and the same in one YAML file."""
    folder.mkdir()
    base = base_config(storage, server)
    (folder / "sources.csv").write_text(csv_text(server, range(count)))
    with_csv = folder / "monitor.yaml"
    with_csv.write_text(yaml.safe_dump({**base, "sources_file": "sources.csv"}, sort_keys=False))
    inline = folder / "inline.yaml"
    sources = [{"name": f"f{n}", "url": server.url(n)} for n in range(count)]
    inline.write_text(yaml.safe_dump({**base, "sources": sources}, sort_keys=False))
    return with_csv, inline


async def check_seconds(config: Path) -> tuple[float, int]:
    start = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor", "check", "-c", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    status = await process.wait()
    return time.monotonic() - start, status


# --- the daemon and what it logs -----------------------------------------------------------------


@dataclass
class Daemon:
    process: asyncio.subprocess.Process
    started: float  # monotonic, just before the process was made
    events: dict[str, list[float]] = field(default_factory=dict)  # event name → times
    problems: dict[str, int] = field(default_factory=dict)  # warnings and errors by event
    tail: list[str] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)  # (time, bytes)

    def failed(self) -> RuntimeError:
        lines = "\n".join(self.tail[-30:])
        return RuntimeError(f"the daemon exited with status {self.process.returncode}:\n{lines}")


async def start_daemon(config: Path) -> Daemon:
    started = time.monotonic()
    # a log line can be long (an error quoting a statement with every source name): the pipe is
    # read whole, or the daemon would block on it once full
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor", "run", "-c", str(config), "--log-level", "INFO",
        cwd=config.parent, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        limit=2**24,
    )  # fmt: skip
    return Daemon(process, started)


async def follow(daemon: Daemon) -> None:
    """Note the time of each event the daemon logs but its polls (``time level event …``)."""
    assert daemon.process.stderr is not None
    async for raw in daemon.process.stderr:
        parts = raw.decode(errors="replace").split(" ", 3)
        if len(parts) < 3 or parts[2] == "poll":
            continue
        daemon.events.setdefault(parts[2], []).append(time.monotonic())
        if parts[1] in ("warning", "error"):
            daemon.problems[parts[2]] = daemon.problems.get(parts[2], 0) + 1
        daemon.tail = [*daemon.tail[-50:], raw.decode(errors="replace").rstrip()]


async def sample(daemon: Daemon) -> None:
    while daemon.process.returncode is None:
        daemon.rss.append((time.monotonic(), procfs.rss_kb(procfs.tree(daemon.process.pid)) * 1024))
        await asyncio.sleep(1.0)


async def until(daemon: Daemon, done: object, within: float) -> None:
    """Wait (polling) until ``done()`` is true; the daemon's death or the timeout raise."""
    deadline = time.monotonic() + within
    while not done():  # type: ignore[operator]
        if daemon.process.returncode is not None:
            raise daemon.failed()
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up after {within:.0f} s:\n" + "\n".join(daemon.tail[-20:]))
        await asyncio.sleep(0.05)


# --- one store -----------------------------------------------------------------------------------


@dataclass
class Reload:
    to_line: float  # seconds from SIGHUP to the reload log line
    to_added: float  # and to the first request for an added source
    rate_before: float  # requests a second over the 10 s before the signal
    rate_during: float  # from the signal to the log line
    silence: float  # the longest gap between two requests meanwhile


def requests_between(server: ScaleFeeds, start: float, end: float) -> list[float]:
    return sorted(t for ts in server.stats.polled.values() for t in ts if start <= t <= end)


async def reload(daemon: Daemon, server: ScaleFeeds, csv: Path, args: argparse.Namespace) -> Reload:
    """The CSV loses its last ``changed`` rows and gains as many, then SIGHUP."""
    n, changed = args.sources, args.changed
    await asyncio.to_thread(
        csv.write_text, csv_text(server, [*range(n - changed), *range(n, n + changed)])
    )
    seen_before = len(daemon.events.get("reload", []))
    signalled = time.monotonic()
    daemon.process.send_signal(signal.SIGHUP)
    await until(daemon, lambda: len(daemon.events.get("reload", [])) > seen_before, 300)
    line = daemon.events["reload"][-1]
    added = range(n, n + changed)
    await until(daemon, lambda: any(server.stats.polled.get(a) for a in added), 2 * server.interval)
    first_added = min(server.stats.polled[a][0] for a in added if server.stats.polled.get(a))
    during = requests_between(server, signalled, line)
    before = requests_between(server, signalled - 10, signalled)
    marks = [signalled, *during, line]
    return Reload(
        to_line=line - signalled,
        to_added=first_added - signalled,
        rate_before=len(before) / 10,
        rate_during=len(during) / max(line - signalled, 1e-3),
        silence=max(b - a for a, b in itertools.pairwise(marks)),
    )


@dataclass
class Window:
    seconds: float
    rate: float
    lag_p99: float
    lag_max: float
    overdue: int  # feeds not asked for in the last interval (and LAG_GOAL) of the window
    cores: float
    missing: int
    published: int
    rss_median: int


async def stored_items(storage: str) -> dict[str, int]:
    engine = await open_engine(storage)
    try:
        async with engine.connect() as conn:
            query = (
                select(items.c.source, func.count())
                .where(items.c.key.not_like("health:%"))
                .group_by(items.c.source)
            )
            return {source: count for source, count in await conn.execute(query)}
    finally:
        await engine.dispose()


async def window(
    daemon: Daemon, server: ScaleFeeds, polled: Sequence[int], storage: str, minutes: float
) -> Window:
    first = {n: server.version(n, server.stats.polled[n][0]) for n in polled}
    opened = time.monotonic()
    pids = procfs.tree(daemon.process.pid)
    cpu_before = procfs.cpu_seconds(pids)
    while time.monotonic() - opened < minutes * 60:
        if daemon.process.returncode is not None:
            raise daemon.failed()
        await asyncio.sleep(1.0)
    closed = time.monotonic()
    cpu = procfs.cpu_seconds(procfs.tree(daemon.process.pid)) - cpu_before
    stopped = await stop(daemon)
    assert stopped == 0, daemon.failed()
    late, made = [], 0
    for n in polled:
        times = [t for t in server.stats.polled.get(n, []) if opened <= t <= closed]
        made += len(times)
        late += lags(times, opened, closed, server.interval)
    stored = await stored_items(storage)
    settled = closed - 2.0
    carried = {}
    for n in polled:
        if server.every and n % server.every == 0:
            last = max((t for t in server.stats.polled.get(n, []) if t <= settled), default=0.0)
            carried[n] = server.items + 2 * (server.version(n, last) - first[n])
    missing = sum(max(0, count - stored.get(f"f{n}", 0)) for n, count in carried.items())
    inside = [rss for at, rss in daemon.rss if opened <= at <= closed]
    return Window(
        seconds=closed - opened,
        rate=made / (closed - opened),
        lag_p99=statistics.quantiles(late, n=100)[98] if len(late) > 1 else late[0],
        lag_max=max(late),
        overdue=sum(
            1
            for n in polled
            if max(t for t in server.stats.polled[n] if t <= closed)
            < closed - server.interval - LAG_GOAL
        ),
        cores=cpu / (closed - opened),
        missing=missing,
        published=sum(carried.values()),
        rss_median=int(statistics.median(inside)) if inside else 0,
    )


async def stop(daemon: Daemon) -> int | None:
    with contextlib.suppress(ProcessLookupError):
        daemon.process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(daemon.process.wait(), 60)


async def one_store(
    name: str, storage: str, server: ScaleFeeds, folder: Path, args: argparse.Namespace
) -> list[Row]:
    n = args.sources
    with_csv, inline = await asyncio.to_thread(write_configs, folder, storage, server, n)
    check_csv, status_csv = await check_seconds(with_csv)
    check_yaml, status_yaml = await check_seconds(inline)
    rows = [
        Row(f"{name}: check, {n:,} sources in CSV ≤ {CHECK_GOAL:g} s",
            f"{check_csv:.1f} s (exit {status_csv})", "",
            status_csv == 0 and check_csv <= CHECK_GOAL),
        Row(f"{name}: check, in the YAML ≤ {CHECK_YAML_GOAL:g} s",
            f"{check_yaml:.1f} s (exit {status_yaml})", "",
            status_yaml == 0 and check_yaml <= CHECK_YAML_GOAL),
    ]  # fmt: skip
    server.reset()
    daemon = await start_daemon(with_csv)
    tasks = [asyncio.create_task(follow(daemon)), asyncio.create_task(sample(daemon))]
    try:
        await until(daemon, lambda: server.stats.first is not None, 600)
        assert server.stats.first is not None
        start = server.stats.first - daemon.started
        say(f"{name}: checked in {check_csv:.1f} s (YAML {check_yaml:.1f} s), first request "
            f"{start:.1f} s after the start")  # fmt: skip
        await asyncio.sleep(10)
        rss_started = daemon.rss[-1][1] if daemon.rss else 0
        await asyncio.sleep(max(0.0, args.reload_after - 10))
        reloaded = await reload(daemon, server, folder / "sources.csv", args)
        say(f"{name}: reloaded in {reloaded.to_line:.1f} s; waiting for the first round")
        polled = [*range(n - args.changed), *range(n, n + args.changed)]
        timeout = 3 * server.interval + 600
        await until(daemon, lambda: all(server.stats.polled.get(k) for k in polled), timeout)
        first_round = time.monotonic() - (server.stats.first or 0)
        say(f"{name}: first round {first_round:.0f} s; the window opens ({args.minutes:g} min)")
        found = await window(daemon, server, polled, storage, args.minutes)
    finally:
        if daemon.process.returncode is None:
            await stop(daemon)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    peak = max((rss for _, rss in daemon.rss), default=0)
    offered = len(polled) / server.interval
    problems = ", ".join(f"{k} {v}" for k, v in sorted(daemon.problems.items())) or "none"
    say(f"{name}: warnings and errors logged: {problems}")
    return [
        *rows,
        Row(f"{name}: start → first request ≤ {START_GOAL:g} s", f"{start:.1f} s", "",
            start <= START_GOAL),
        Row(f"{name}: reload (-{args.changed:,} +{args.changed:,}) ≤ {RELOAD_GOAL:g} s, "
            "polls going on",
            f"{reloaded.to_line:.1f} s to the log line, {reloaded.to_added:.1f} s to an added "
            f"source's first request; {reloaded.rate_during:.0f} requests/s meanwhile "
            f"({reloaded.rate_before:.0f}/s before), longest silence {reloaded.silence:.2f} s", "",
            reloaded.to_line <= RELOAD_GOAL and reloaded.silence < 1.0),
        Row(f"{name}: sustained, {offered:.0f} polls/s offered, lag p99 ≤ {LAG_GOAL:g} s",
            f"{found.rate:.0f} polls/s over {found.seconds / 60:.0f} min; lag p99 "
            f"{found.lag_p99:.2f} s, max {found.lag_max:.1f} s; {found.overdue} overdue; "
            f"{found.missing:,} of {found.published:,} items missing", "",
            found.rate >= 0.99 * offered and found.lag_p99 <= LAG_GOAL
            and found.overdue == 0 and found.missing == 0),
        Row(f"{name}: sustained ≤ {CORES_GOAL:g} core", f"{found.cores:.2f} cores", "",
            found.cores <= CORES_GOAL),
        Row(f"{name}: RSS polling steadily ≤ {RSS_GOAL / 2**20:.0f} MB",
            f"{found.rss_median / 2**20:.0f} MB median over the window; "
            f"{rss_started / 2**20:.0f} MB 10 s after the first request; "
            f"{peak / 2**20:.0f} MB peak", "", found.rss_median <= RSS_GOAL),
    ]  # fmt: skip


@contextlib.asynccontextmanager
async def store(name: str, folder: Path) -> AsyncIterator[str]:
    if name == "sqlite":
        yield f"sqlite:///{folder}/{name}/monitor.db"
    else:
        async with postgres_database() as url:
            yield url


async def main(args: argparse.Namespace) -> int:
    server = ScaleFeeds(
        args.sources + args.changed, hosts=args.hosts, items=args.items, latency=args.latency,
        publishing=0.1, interval=args.interval, keep=False,
    )  # fmt: skip
    await server.start()
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for name in args.stores:
                async with store(name, Path(scratch)) as storage:
                    rows += await one_store(name, storage, server, Path(scratch) / name, args)
    finally:
        await server.close()
    print(f"{args.sources:,} sources every {args.interval:g} s, {args.items} items a feed, "
          f"10 % publishing; {args.hosts} host addresses, {args.latency * 1000:.0f} ms an "
          f"answer; {ran_on()}")  # fmt: skip
    return table(rows)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=900.0, help="seconds")
    parser.add_argument("--minutes", type=float, default=5.0, help="the sustained window")
    parser.add_argument("--changed", type=int, default=1_000, help="removed and added at reload")
    parser.add_argument("--reload-after", type=float, default=30.0, help="seconds")
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument(
        "--stores", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
