"""A million sources across replicas (issue 25): ``--replicas`` daemons on one PostgreSQL store,
its source definitions in the store (``sources_from: store``), polling a loopback feed server
on a 1-hour interval for the whole interval and ten minutes more.

    python -m bench.million [--sources 1000000] [--replicas 4] [--interval 3600]
                            [--extra 600] [--items 5] [--claimers 4]

In one temporary folder, on a new database of the ``test`` PostgreSQL server:

- run: the replicas start together, on an empty store; then ``monitor sources load
  sources.csv`` writes every source (new: their first polls spread over the interval by
  monitor.store.first_polls, each from when its batch is written), its wall time and peak
  memory noted; the feed server (bench/scale_server.py, in this process,
  100 addresses, bodies made on each request) notes each request; one webhook subscriber
  (immediate) follows the rule ``urgent``, which one item in ``--urgent`` (100) matches, and
  receives its alerts on a loopback receiver in this process. After ``interval +
  extra`` seconds the replicas get SIGTERM.
- figures: polls per second; each source's polls: none missing (a source due in the run and
  never asked for), none twice within 0.9 of an interval (two replicas, or one replica twice);
  lag of each poll after its due time (the first: the due time the load wrote, read back from
  the store; the next ones: the gap to the previous poll past the interval), p99 and maximum;
  alerts delivered twice (one link in two deliveries); resident memory of the replicas and
  their parse workers, all together, peak; PostgreSQL's CPU over the run (its processes'
  /proc counters: the server must run on this machine); rows and bytes per source and per
  item (``pg_total_relation_size`` of each table over its rows);
- claims at saturation: every source made due, then ``--claimers`` engines claim 200 at a time
  for 10 s (as ClaimLoop does, lease and all): sources claimed per second.

The first interval is each source's first poll: every item new (parsed, matched, stored).
``--items`` (5 by default) sets what a feed carries; the figures hold for that mix. Every item
matches the three rules of bench/sources.py (matched and stored as such); the subscriber follows
the narrow one only: a million feeds' first polls are 1,390 items a second, and a subscriber
owed every one of them (the first run of this bench) is a receiver flooded at 50 a delivery,
not the polling the bench is about (bench/README.md). A quick
try: ``--sources 20000 --interval 120 --extra 30``. Prints a table of goal, figure and
verdict; exit status 1 when a goal fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from aiohttp import web
from sqlalchemy import func, select, text, update

from bench import procfs
from bench.scale import Row, ran_on, table
from bench.scale_server import URGENT, ScaleFeeds
from bench.sources import (
    RULES,
    Daemon,
    base_config,
    csv_text,
    follow,
    sample,
    say,
    start_daemon,
    stop,
)
from monitor.store import open_engine, transaction
from monitor.store.leases import source_leases
from monitor.store.sources import claim_due
from monitor.store.tables import items, sources
from tests.support.databases import postgres_database

LAG_GOAL, RSS_GOAL = 10.0, 6 * 2**30
OPEN_LIMIT = 60.0  # seconds a transaction may stay open on the server without voiding the run


@dataclass
class Receiver:
    """The webhook subscriber: every link it was sent, and how many times."""

    links: dict[str, int]
    deliveries: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.deliveries += 1
        for item in body.get("items", []):
            self.links[item["link"]] = self.links.get(item["link"], 0) + 1
        return web.Response(status=204)


def write_config(folder: Path, storage: str, server: ScaleFeeds, hook: str) -> Path:
    config = {
        **base_config(storage, server),
        "sources_from": "store",
        "sources_file": "sources.csv",
        "rules": [*RULES, {"name": "urgent", "any": [URGENT]}],
        "subscribers": [
            {"name": "hook", "webhook": hook, "digest": "immediate", "rules": ["urgent"]}
        ],
    }
    (folder / "sources.csv").write_text(csv_text(server, range(server.feeds)))
    path = folder / "monitor.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


async def load(config: Path) -> tuple[float, int, str]:
    """``monitor sources load``: seconds, peak RSS (bytes) and its last line."""
    start = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        "/usr/bin/time", "-f", "%M", sys.executable, "-m", "monitor",
        "sources", "load", "-c", str(config), cwd=config.parent,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"sources load failed:\n{out.decode()[-2000:]}{err.decode()[-2000:]}")
    peak_kb = int(err.decode().strip().splitlines()[-1])
    lines = out.decode().strip().splitlines()
    return time.monotonic() - start, peak_kb * 1024, lines[-1] if lines else ""


async def due_times(storage: str) -> dict[int, float]:
    """Each source's first due time as the load wrote it, on this process's monotonic clock."""
    offset = time.time() - time.monotonic()
    engine = await open_engine(storage)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(sources.c.name, sources.c.next_due_at))
            return {int(name[1:]): due.timestamp() - offset for name, due in rows}
    finally:
        await engine.dispose()


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes on this machine (its CPU is the store's cost): read
    again at the end, a backend opened during the run is counted (the first version read the
    processes of the start only: the backends alive at the end were missed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    found.append(int(entry.name))
    return found


def cpu_of(pids: Sequence[int]) -> float:
    return procfs.cpu_seconds(list(pids))


@dataclass
class Polls:
    rate: float
    missing: int  # sources due during the run never asked for
    twice: int  # sources asked for twice within 0.9 of an interval
    lag_p99: float
    lag_max: float


def polls(server: ScaleFeeds, due: dict[int, float], opened: float, closed: float) -> Polls:
    interval, late = server.interval, []
    missing = twice = made = 0
    for n, first_due in due.items():
        times = [t for t in server.stats.polled.get(n, []) if t <= closed]
        made += len(times)
        # every poll after its due time: the first after the load's, the next an interval on
        expected, previous = first_due, None
        for t in times:
            if previous is not None and t - previous < 0.9 * interval:
                twice += 1
            late.append(max(0.0, t - expected))
            expected, previous = t + interval, t
        if expected + LAG_GOAL < closed and (not times or expected > times[-1]):
            missing += 1
            late.append(closed - expected)
    return Polls(
        rate=made / (closed - opened),
        missing=missing,
        twice=twice,
        lag_p99=statistics.quantiles(late, n=100)[98] if len(late) > 1 else max(late, default=0),
        lag_max=max(late, default=0.0),
    )


async def sizes(storage: str) -> tuple[int, int, dict[str, int]]:
    """Sources, items and each table's bytes (data, indexes and TOAST)."""
    engine = await open_engine(storage)
    try:
        async with engine.connect() as conn:
            counted = await conn.scalar(select(func.count()).select_from(sources))
            stored = await conn.scalar(select(func.count()).select_from(items))
            tables = await conn.execute(
                text(
                    "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                    "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                )
            )
            return int(counted or 0), int(stored or 0), dict(tables.all())
    finally:
        await engine.dispose()


async def autovacuum_is_on(storage: str) -> bool:
    engine = await open_engine(storage)
    try:
        async with engine.connect() as conn:
            return bool(await conn.scalar(text("SHOW autovacuum")) == "on")
    finally:
        await engine.dispose()


async def watch_transactions(storage: str, oldest: list[float], every: float = 10.0) -> None:
    """The age of the oldest transaction open on the server, in any database (appended to
    ``oldest`` every ``every`` seconds until cancelled): one left open anywhere stops VACUUM
    from reclaiming this run's dead rows (a paused client in another database made the
    next-due query 0.76 s and the polls fall to 140 a second), so the run would measure that."""
    engine = await open_engine(storage)
    query = text(
        "SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0) FROM pg_stat_activity "
        "WHERE (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL) AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend' "  # (not autovacuum's workers)
        "AND query !~* '^\\s*VACUUM(?!\\s+FULL)'"  # (a lazy VACUUM's xmin holds nothing back)
    )
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            while True:
                oldest.append(float(await conn.scalar(query) or 0.0))
                await asyncio.sleep(every)
    finally:
        await engine.dispose()


async def stand_in_autovacuum(storage: str, every: float = 30.0) -> None:
    """Autovacuum's default rule, run every ``every`` seconds until cancelled, for a server
    whose autovacuum is off (this machine's): a table whose dead rows passed 50 + 20 % of its
    live ones is vacuumed and analyzed, one whose rows changed since its last analyze past
    50 + 10 % is analyzed. A deployment's PostgreSQL does this itself; without it the tables
    bloat and the planner works from an empty table's statistics."""
    engine = await open_engine(storage)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            while True:
                await asyncio.sleep(every)
                rows = await conn.execute(text(
                    "SELECT relname, n_live_tup, n_dead_tup, n_mod_since_analyze "
                    "FROM pg_stat_user_tables"
                ))  # fmt: skip
                for table, live, dead, changed in rows.all():
                    if dead > 50 + 0.2 * live:
                        await conn.execute(text(f'VACUUM (ANALYZE) "{table}"'))
                    elif changed > 50 + 0.1 * live:
                        await conn.execute(text(f'ANALYZE "{table}"'))
    finally:
        await engine.dispose()


async def claims_per_second(storage: str, claimers: int, seconds: float = 10.0) -> float:
    """Every source made due, then ``claimers`` engines each claiming 200 at a time, leases
    and all, as a replica's claim loop does at a backlog: sources claimed a second."""
    engines = [await open_engine(storage) for _ in range(claimers)]
    now = datetime.now(UTC)
    try:
        async with transaction(engines[0]) as conn:
            await conn.execute(update(sources).values(next_due_at=now, lease_owner=None))
        claimed = 0

        async def claimer(n: int) -> None:
            nonlocal claimed
            leases = source_leases(engines[n], f"bench-{n}")
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                at = datetime.now(UTC)
                claimed += len(await claim_due(leases, at, at + timedelta(hours=1), 200))

        start = time.monotonic()
        await asyncio.gather(*(claimer(n) for n in range(claimers)))
        return claimed / (time.monotonic() - start)
    finally:
        for engine in engines:
            await engine.dispose()


async def run(args: argparse.Namespace, folder: Path, storage: str) -> list[Row]:
    server = ScaleFeeds(
        args.sources, hosts=args.hosts, items=args.items, latency=args.latency,
        publishing=0.1, interval=args.interval, keep=False, urgent=args.urgent,
    )  # fmt: skip
    receiver = Receiver({})
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await server.start()
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    daemons: list[Daemon] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        config = await asyncio.to_thread(
            write_config, folder, storage, server, f"http://127.0.0.1:{port}/hook"
        )
        if not await autovacuum_is_on(storage):
            say("autovacuum is off on this server: the bench runs its rule itself")
            tasks.append(asyncio.create_task(stand_in_autovacuum(storage)))
        oldest: list[float] = []
        tasks.append(asyncio.create_task(watch_transactions(storage, oldest)))
        pg_before = cpu_of(postgres_pids())
        server.reset()
        opened = time.monotonic()
        for _ in range(args.replicas):  # running before the load: they take its sources up
            daemon = await start_daemon(config)
            daemons.append(daemon)
            tasks += [asyncio.create_task(follow(daemon)), asyncio.create_task(sample(daemon))]
        loaded, load_rss, said = await load(config)
        say(f"loaded {args.sources:,} sources in {loaded:.0f} s ({said})")
        due = await due_times(storage)
        peak = 0
        while time.monotonic() - opened < args.interval + args.extra:
            for daemon in daemons:
                if daemon.process.returncode is not None:
                    raise daemon.failed()
            await asyncio.sleep(5.0)
            together = sum(d.rss[-1][1] for d in daemons if d.rss)
            peak = max(peak, together)
            made = sum(len(t) for t in server.stats.polled.values())
            say(f"{time.monotonic() - opened:.0f} s: {made:,} polls, RSS {together / 2**20:.0f} MB")
        closed = time.monotonic()
        # every server process now: the backends the replicas opened since the start and still
        # hold (their own time), those that ended (in the postmaster's children's time)
        pg_cpu = cpu_of(postgres_pids()) - pg_before
        for daemon in daemons:
            await stop(daemon)
    finally:
        for daemon in daemons:
            if daemon.process.returncode is None:
                await stop(daemon)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.close()
        await runner.cleanup()
    found = polls(server, due, opened, closed)
    counted, stored, bytes_of = await sizes(storage)
    claim_rate = await claims_per_second(storage, args.claimers)
    doubled = sum(1 for times in receiver.links.values() if times > 1)
    source_bytes = bytes_of.get("sources", 0)
    item_bytes = sum(v for k, v in bytes_of.items() if k not in ("sources",))
    problems = {k: v for d in daemons for k, v in d.problems.items()}
    say("warnings and errors logged: " + (", ".join(f"{k} {v}" for k, v in problems.items())
                                         or "none"))  # fmt: skip
    offered = args.sources / args.interval
    window = closed - opened
    return [
        Row(f"load {args.sources:,} sources", f"{loaded:.0f} s, peak {load_rss / 2**20:.0f} MB",
            "", True),
        Row(f"{args.replicas} replicas, {offered:.0f} polls/s offered",
            f"{found.rate:.0f} polls/s over {window / 60:.0f} min", "",
            found.rate >= 0.95 * offered),
        Row("every source polled once an interval, by one replica",
            f"{found.missing:,} missed, {found.twice:,} polled twice", "",
            found.missing == 0 and found.twice == 0),
        Row(f"lag p99 ≤ {LAG_GOAL:g} s", f"{found.lag_p99:.1f} s (max {found.lag_max:.1f} s)",
            "", found.lag_p99 <= LAG_GOAL),
        Row("nothing alerted twice",
            f"{doubled:,} links twice of {len(receiver.links):,} alerted "
            f"({receiver.deliveries:,} deliveries)", "", doubled == 0 and bool(receiver.links)),
        Row(f"replicas' RSS together ≤ {RSS_GOAL / 2**30:g} GB", f"{peak / 2**20:,.0f} MB peak",
            "", peak <= RSS_GOAL),
        Row("PostgreSQL's CPU over the run", f"{pg_cpu / window:.2f} cores", "", True),
        Row("per source (the sources table)",
            f"{source_bytes / max(counted, 1):,.0f} bytes ({counted:,} rows)", "", True),
        Row("per item (every other table)",
            f"{item_bytes / max(stored, 1):,.0f} bytes ({stored:,} items)", "", True),
        Row(f"no transaction open on the server over {OPEN_LIMIT:g} s (VACUUM reclaims)",
            f"oldest {max(oldest, default=0.0):.0f} s", "", max(oldest, default=0) <= OPEN_LIMIT),
        Row(f"claims at saturation ({args.claimers} claimers, 200 a claim)",
            f"{claim_rate:,.0f} sources/s", "", True),
    ]  # fmt: skip


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        async with postgres_database() as storage:
            rows = await run(args, Path(scratch), storage)
    print(f"{args.sources:,} sources every {args.interval:g} s for {args.extra:g} s more, "
          f"{args.replicas} replicas on PostgreSQL, {args.items} items a feed, 10 % publishing, "
          f"1 item in {args.urgent} alerting; "
          f"{ran_on()}")  # fmt: skip
    return table(rows)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1_000_000)
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--interval", type=float, default=3600.0, help="seconds")
    parser.add_argument("--extra", type=float, default=600.0, help="seconds past the interval")
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--claimers", type=int, default=4)
    parser.add_argument("--urgent", type=int, default=100, help="one item in N alerts")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
