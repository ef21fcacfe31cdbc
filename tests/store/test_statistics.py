"""The planner's statistics refreshed as a bulk load grows the tables (monitor.store.statistics),
on both stores: PostgreSQL analyzes, SQLite needs nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.sources import SourceConfig
from monitor.store import reading
from monitor.store.definitions import BATCH, Definitions
from monitor.store.statistics import Growth
from monitor.store.tables import sources

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Noted(Growth):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, (sources,))
        self.totals: list[int] = []

    async def analyze(self, total: int) -> None:
        self.totals.append(total)
        await super().analyze(total)


async def test_analyzed_each_time_the_rows_written_double_and_at_the_end(
    engine: AsyncEngine,
) -> None:
    growth = Noted(engine)
    for total in (500, 999, 1000, 1500, 1999, 2000, 3000, 4100, 5000):
        await growth.wrote(total)
    await growth.finish(5200)
    await growth.finish(5200)  # nothing more written: not again
    assert growth.totals == [1000, 2000, 4100, 5200]


async def test_a_bulk_load_leaves_the_planner_knowing_the_rows(engine: AsyncEngine) -> None:
    count = BATCH + BATCH // 2
    given = TypeAdapter(list[SourceConfig]).validate_python(
        [
            {"name": f"s{n}", "url": f"https://s{n}.example/feed", "tags": ["t"]}
            for n in range(count)
        ]
    )
    await Definitions(engine).load(given, NOW)
    async with reading(engine) as conn:
        if engine.dialect.name == "postgresql":
            query = "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'"
            found: dict[str, float] = dict((await conn.execute(text(query))).all())
            assert (found["sources"], found["source_tags"]) == (count, count)
        else:  # SQLite plans without statistics: none are made
            query = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            assert await conn.scalar(text(query)) == 0
