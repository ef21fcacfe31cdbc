"""The store's size after a simulated year, with and without the seen-window (issue 25,
monitor.store.seen_window): N sources bringing K new items a day each, written through the
store's own write path (``SourceStore.record``, polls batched as the daemon's PollWriter batches
them), a share of them matched and sent to a subscriber (the outbox rows marked sent, as a
digest's send does), the day's prunes run as the daemon runs them (``prune_text`` for
``retention.text``, 30 days; then ``prune_seen`` for ``retention.seen``, 90 days, or not at all),
on a fake clock.

Usage: ``.venv/bin/python -m bench.seen_window [--sources 1000] [--per-day 20] [--days 365]
[--mode both|prune|keep] [--storage URL]``. SQLite in a temporary folder by default, or
``--storage`` (an empty PostgreSQL database: each mode drops and recreates its tables).

Printed, every ``--report`` days and at the end: the database's size (SQLite: the file, after a
WAL checkpoint, its free pages counted apart; PostgreSQL: ``pg_total_relation_size`` of each
table), the rows of items and identity records, and bytes per item row and per identity record
(each table's size, its indexes included, over its rows; SQLite's per table from ``dbstat``).
The time of each day's prune is printed too: it is the machine's, under whatever else runs. A
PostgreSQL server whose autovacuum is off (a test server) gets a VACUUM of the changed tables
after each day's prunes, as autovacuum would do: without it no deleted row's space is reused.
Autovacuum at its defaults waits for a fifth of a table's rows to be dead, so a server running
it may hold up to that much more reusable space in a table than this daily VACUUM leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.core.models import Delivery, Item, Match, PollOutcome
from monitor.store import open_engine, transaction
from monitor.store.retention import prune_text
from monitor.store.search import index_words
from monitor.store.seen_window import prune_seen
from monitor.store.sources import SourceStore
from monitor.store.tables import items, metadata, outbox, seen_keys

T0 = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TEXT, SEEN = timedelta(days=30), timedelta(days=90)
BATCH = 500  # polls a record (the PollWriter's MAX_BATCH)
MATCHED = 20  # one item in MATCHED is matched and sent to the subscriber
TITLE = "Le Maroc accélère le déploiement de l'intelligence artificielle dans les centres d'appels"
SUMMARY = ("Selon le rapport publié ce matin, les opérateurs de la place investissent " * 4)[:300]
CONTENT = ("Les entreprises du secteur ont annoncé de nouveaux investissements. " * 25)[:1500]


@dataclass(frozen=True, slots=True)
class Size:
    database: int  # bytes on disk (SQLite: the file) or of the database (PostgreSQL)
    free: int  # SQLite: bytes of free pages (reused by later writes); PostgreSQL: 0
    tables: dict[str, int]  # bytes by table, indexes included
    items: int
    identities: int


def day_polls(names: Sequence[str], day: int, per_day: int) -> list[PollOutcome]:
    at = T0 + day * DAY
    words = index_words("sqlite", TITLE, SUMMARY, CONTENT)  # as the poll folds them
    polls = []
    for name in names:
        found = tuple(
            Item(name, f"{day}-{n}", f"https://{name}.ma/{day}/{n}", TITLE, SUMMARY, CONTENT, at)
            for n in range(per_day)
        )
        alerting = [i for i in found if zlib.crc32(f"{name}/{i.key}".encode()) % MATCHED == 0]
        polls.append(
            PollOutcome(
                name, at, "ok", 200, None, None, None, at + timedelta(minutes=15),
                items=found,
                matches={i.key: (Match("ia", ("IA",)),) for i in alerting},
                deliveries=tuple(Delivery("s", i.key, ("ia",), {"ia": ("IA",)}) for i in alerting),
                words={i.key: words for i in found},
            )
        )  # fmt: skip
    return polls


async def sent(engine: AsyncEngine) -> None:
    """Every pending outbox row as its digest's send leaves it."""
    async with transaction(engine) as conn:
        await conn.execute(update(outbox).where(outbox.c.state == "pending").values(state="sent"))


async def size(engine: AsyncEngine) -> Size:
    async with transaction(engine) as conn:
        n_items = int(await conn.scalar(select(func.count()).select_from(items)) or 0)
        n_keys = int(await conn.scalar(select(func.count()).select_from(seen_keys)) or 0)
        if engine.dialect.name == "sqlite":
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            rows = await conn.exec_driver_sql(
                "SELECT coalesce(i.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                "LEFT JOIN sqlite_schema i ON i.name = d.name GROUP BY 1"
            )
            found = cast("list[tuple[str, int]]", rows.all())
            tables = {name: int(bytes_) for name, bytes_ in found}
            page = int((await conn.exec_driver_sql("PRAGMA page_size")).scalar() or 0)
            free = int((await conn.exec_driver_sql("PRAGMA freelist_count")).scalar() or 0)
            pages = int((await conn.exec_driver_sql("PRAGMA page_count")).scalar() or 0)
            database, free = pages * page, free * page  # (the file's size, once checkpointed)
        else:
            tables = {}
            for table in metadata.sorted_tables:
                query = text("SELECT pg_total_relation_size(:t)")
                tables[table.name] = int(await conn.scalar(query, {"t": table.name}) or 0)
            database = int(await conn.scalar(text("SELECT pg_database_size(current_database())")))
            free = 0
    return Size(database, free, tables, n_items, n_keys)


def show(label: str, day: int, measured: Size) -> None:
    mb = 1024 * 1024
    tables = measured.tables
    by_item = tables.get("items", 0) / measured.items if measured.items else 0.0
    by_key = tables.get("seen_keys", 0) / measured.identities if measured.identities else 0.0
    biggest = sorted(tables.items(), key=lambda kv: -kv[1])[:6]
    print(
        f"{label:5} day {day:3}: database {measured.database / mb:8.1f} MB "
        f"(free {measured.free / mb:6.1f} MB), items {measured.items:9,} rows "
        f"{by_item:6.0f} B/row, identities {measured.identities:9,} rows {by_key:5.1f} B/row"
    )
    print("            " + ", ".join(f"{name} {bytes_ / mb:.1f} MB" for name, bytes_ in biggest))


async def simulate(storage: str, args: argparse.Namespace, prune: bool) -> None:
    label = "prune" if prune else "keep"
    engine = await open_engine(storage)
    names = [f"s{n:05d}" for n in range(args.sources)]
    config = Config.model_validate({
        "sources": [{"name": n, "url": f"https://{n}.ma/feed"} for n in names],
        "rules": [{"name": "ia", "any": ["IA"]}],
        "subscribers": [{"name": "s", "console": True}],
    })  # fmt: skip
    store = SourceStore(engine)
    await store.sync(config, T0)
    vacuum = engine.dialect.name == "postgresql" and not await autovacuum(engine)
    if vacuum:
        print(f"{label:5} autovacuum is off on this server: VACUUM after each day's prunes")
    written = pruning = 0.0
    try:
        for day in range(args.days):
            started = time.perf_counter()
            polls = day_polls(names, day, args.per_day)
            for first in range(0, len(polls), BATCH):
                await store.record(polls[first : first + BATCH])
            await sent(engine)
            written += time.perf_counter() - started
            now = T0 + day * DAY + timedelta(hours=12)
            started = time.perf_counter()
            await prune_text(engine, now, TEXT)
            if prune:
                await prune_seen(engine, now, SEEN)
            if vacuum:  # what autovacuum does on a server where it is on
                await vacuumed(engine)
            pruning += time.perf_counter() - started
            if (day + 1) % args.report == 0 or day + 1 == args.days:
                show(label, day + 1, await size(engine))
        print(
            f"{label:5} wrote {args.sources * args.per_day * args.days:,} items in "
            f"{written:.0f} s; the daily prunes took {pruning:.1f} s in all "
            f"({pruning / args.days * 1000:.0f} ms a day)"
        )
    finally:
        await engine.dispose()


async def autovacuum(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return str(await conn.scalar(text("SHOW autovacuum"))) == "on"


async def vacuumed(engine: AsyncEngine) -> None:
    """VACUUM the tables the day changed (PostgreSQL): their dead rows' space reusable."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("items", "matches", "outbox", "seen_keys", "sources", "poll_log"):
            await conn.exec_driver_sql(f"VACUUM {table}")


async def reset(storage: str) -> None:
    """An empty PostgreSQL database again (each mode starts from none)."""
    engine = await open_engine(storage)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        await conn.exec_driver_sql("CREATE SCHEMA public")
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--per-day", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--report", type=int, default=30, help="print the size every N days")
    parser.add_argument("--mode", choices=["both", "prune", "keep"], default="both")
    parser.add_argument("--storage", help="postgresql://… (an empty database); default SQLite")
    args = parser.parse_args()
    modes = {"both": [True, False], "prune": [True], "keep": [False]}[args.mode]
    print(
        f"{args.sources} sources x {args.per_day} items a day x {args.days} days; "
        f"retention.text {TEXT.days}d, retention.seen {SEEN.days}d; 1 item in {MATCHED} sent"
    )
    for prune in modes:
        if args.storage:
            await reset(args.storage)
            await simulate(args.storage, args, prune)
            continue
        with tempfile.TemporaryDirectory() as folder:
            await simulate(f"sqlite:///{folder}/monitor.db", args, prune)


if __name__ == "__main__":
    asyncio.run(main())
