"""Source definitions in the store (``sources_from: store``, issue 25): how long ``monitor
sources load`` takes to check and write N sources, a second load of the same file, a load
changing 1% and dropping 1%, and what a replica's claim costs to read its sources'
definitions. Prints figures; asserts nothing on time.

    .venv/bin/python -m bench.stored_sources                      # 100,000 sources, SQLite
    .venv/bin/python -m bench.stored_sources --postgres           # the same on PostgreSQL
    .venv/bin/python -m bench.stored_sources --sources 1000000 --postgres
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config.load import check_sources_file, sources_file_definitions
from monitor.store import open_engine
from monitor.store.catalog import StoredSources
from monitor.store.definitions import Changes, Definitions
from tests.support.databases import postgres_database

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CLAIM = 40  # names a claim gets: 2 x network.concurrency at its default of 20
CLAIMS = 200  # claims timed


def write_csv(path: Path, count: int, moved: int = 0, dropped: int = 0) -> None:
    """``count`` sources, less the last ``dropped``, the first ``moved`` at another URL."""
    with path.open("w", encoding="utf-8") as out:
        out.write("name,url,tags,interval\n")
        for n in range(count - dropped):
            where = "moved" if n < moved else "feed"
            out.write(f"s{n:07},https://h{n % 5000}.example/{where}/{n},t{n % 50} all,1h\n")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # (KB on Linux)


async def timed_load(store: Definitions, path: Path, at: datetime) -> tuple[Changes, float, float]:
    """The changes of a load as ``monitor sources load`` makes it, seconds checking the file,
    seconds writing it (the file read and validated again, a batch at a time)."""
    started = time.perf_counter()
    await asyncio.to_thread(check_sources_file, path)
    checked = time.perf_counter()
    changes = await store.load_batches(sources_file_definitions(path), at)
    return changes, checked - started, time.perf_counter() - checked


def said(changes: Changes) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in changes.counts.items() if n)


@asynccontextmanager
async def storage_for(postgres: bool, folder: Path) -> AsyncIterator[str]:
    if postgres:
        async with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{folder}/bench.db"


async def run(count: int, postgres: bool, folder: Path) -> None:
    path = folder / "feeds.csv"
    write_csv(path, count)
    size = path.stat().st_size / 1024 / 1024
    print(f"{count} sources, {size:.1f} MB of CSV, {'PostgreSQL' if postgres else 'SQLite'}")
    async with storage_for(postgres, folder) as storage:
        engine = await open_engine(storage)
        try:
            store = Definitions(engine)
            for label, at, moved, dropped in (
                ("first load", NOW, 0, 0),
                ("same file again", NOW + timedelta(minutes=1), 0, 0),
                ("1% moved, 1% dropped", NOW + timedelta(minutes=2), count // 100, count // 100),
            ):
                write_csv(path, count, moved, dropped)
                changes, check, write = await timed_load(store, path, at)
                rate = count / (check + write)
                print(
                    f"  {label:22} check {check:6.1f} s  write {write:6.1f} s  "
                    f"({rate:,.0f} sources/s)  peak RSS {peak_mb():,.0f} MB  [{said(changes)}]"
                )
            held = StoredSources(store)
            step = max(1, count // (CLAIM * CLAIMS))
            names = [f"s{n:07}" for n in range(0, count, step)][: CLAIM * CLAIMS]
            started = time.perf_counter()
            for k in range(0, len(names), CLAIM):
                await held.fetch(names[k : k + CLAIM])
            cold = (time.perf_counter() - started) / CLAIMS * 1000
            started = time.perf_counter()
            for k in range(0, len(names), CLAIM):
                await held.fetch(names[k : k + CLAIM])
            warm = (time.perf_counter() - started) / CLAIMS * 1000
            print(
                f"  a claim's {CLAIM} definitions: {cold:.2f} ms read and validated, "
                f"{warm:.2f} ms read again (validated models reused)"
            )
        finally:
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args.sources, args.postgres, Path(folder)))


if __name__ == "__main__":
    main()
