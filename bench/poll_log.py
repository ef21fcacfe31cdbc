"""What the poll log (monitor.store.polls, v0012) costs the poll's record: the store's writes of
many polls, batched as the daemon's PollWriter batches them, beside the log's own statement run
alone with the same rows, so its share is measured in one run on one machine.

Usage: ``.venv/bin/python -m bench.poll_log [--sources N] [--batch B] [--storage URL]``. On a new
store (SQLite in a temporary folder, or ``--storage``: an empty PostgreSQL database) with N
sources: one round of polls bringing two new items each (the cold start), then rounds answering
304 (nothing changed: where the log's share is largest). For each: the record's wall and CPU
time per poll (``SourceStore.record``, every statement of the poll in one transaction), and the
log's statement alone (its upsert into ``poll_log``, in a transaction of its own, commit
included), which replaces the entry the record just wrote: a slot replaced, as every poll does
once a source has 50. Rounds differ by what else the machine was doing: compare the figures of
one round.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.core.models import Item, PollOutcome
from monitor.store import open_engine, transaction
from monitor.store.polls import _write_log
from monitor.store.sources import SourceStore

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def polled(name: str, at: datetime, new: bool) -> PollOutcome:
    found = tuple(
        Item(name, f"{at:%H%M}-{n}", f"https://{name}.ma/{at:%H%M}-{n}", "Titre", "", "", at)
        for n in range(2 if new else 0)
    )
    return PollOutcome(
        name, at, "ok" if new else "not-modified", 200 if new else 304, '"e"', None, "h",
        at + timedelta(minutes=15), items=found, seconds=0.1,
    )  # fmt: skip


Write = Callable[[Sequence[PollOutcome]], Awaitable[None]]


async def timed(batches: Sequence[Sequence[PollOutcome]], write: Write) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()  # (aiosqlite's thread is in-process)
    for batch in batches:
        await write(batch)
    return time.perf_counter() - wall, time.process_time() - cpu


async def run(engine: AsyncEngine, sources: int, batch: int, runs: int) -> None:
    names = [f"s{n:06d}" for n in range(sources)]
    config = Config.model_validate({
        "sources": [{"name": n, "url": f"https://{n}.ma/feed"} for n in names],
        "rules": [{"name": "ia", "any": ["IA"]}],
        "subscribers": [{"name": "s", "console": True}],
    })  # fmt: skip
    store = SourceStore(engine)
    await store.sync(config, T0)

    async def record(polls: Sequence[PollOutcome]) -> None:
        await store.record(polls)

    async def log_alone(polls: Sequence[PollOutcome]) -> None:
        async with transaction(engine) as conn:
            await _write_log(conn, polls, [])

    for n in range(runs + 1):
        at = T0 + timedelta(minutes=15 * n)
        polls = [polled(name, at, new=n == 0) for name in names]
        batches = [polls[i : i + batch] for i in range(0, len(polls), batch)]
        whole = await timed(batches, record)
        later = [[replace(p, at=p.at + timedelta(seconds=1)) for p in b] for b in batches]
        alone = await timed(later, log_alone)
        what = "cold, 2 new items" if n == 0 else "304, nothing new"
        per = [1e6 * t / sources for t in (*whole, *alone)]
        print(f"{what:18}  record {per[0]:6.1f} µs wall {per[1]:6.1f} µs CPU a poll;  "
              f"log alone {per[2]:5.1f} µs wall {per[3]:5.1f} µs CPU")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--storage", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = await open_engine(args.storage or f"sqlite:///{folder}/monitor.db")
        try:
            await run(engine, args.sources, args.batch, args.runs)
        finally:
            await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
