from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.store.first_polls import AT_ONCE, FIRST_POLLS_A_SECOND, first_due, spread_window
from monitor.store.sources import SourceStore
from monitor.store.tables import sources

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_handful_of_new_sources_is_polled_at_once() -> None:
    assert spread_window(1, HOUR) == timedelta(0)
    assert spread_window(AT_ONCE, HOUR) == timedelta(0)
    assert first_due("a", T0, timedelta(0)) == T0


def test_a_bulk_is_spread_at_the_rate_of_first_polls_and_at_most_over_the_interval() -> None:
    assert spread_window(1_000, HOUR) == timedelta(seconds=1_000 / FIRST_POLLS_A_SECOND)
    assert spread_window(1_000_000, HOUR) == HOUR
    assert spread_window(100_000, timedelta(minutes=15)) == timedelta(minutes=15)


def test_each_source_has_its_own_offset_the_same_every_time() -> None:
    window = timedelta(minutes=15)
    due = [first_due(f"f{n}", T0, window) for n in range(10_000)]
    assert due == [first_due(f"f{n}", T0, window) for n in range(10_000)]
    assert all(T0 <= at < T0 + window for at in due)
    # evenly spread: each minute of the window gets its share, give or take a fifth
    per_minute = [0] * 15
    for at in due:
        per_minute[int((at - T0) / timedelta(minutes=1))] += 1
    assert min(per_minute) > 0.8 * 10_000 / 15
    assert max(per_minute) < 1.2 * 10_000 / 15


def many(count: int, start: int = 0, interval: str = "15m") -> Config:
    return Config.model_validate(
        {
            "defaults": {"interval": interval},
            "sources": [
                {"name": f"s{n}", "url": f"https://s{n}.example.ma/feed"}
                for n in range(start, start + count)
            ],
        }
    )


async def due_times(engine: AsyncEngine) -> dict[str, datetime]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(sources.c.name, sources.c.next_due_at))
        return {name: at.replace(tzinfo=UTC) if at.tzinfo is None else at for name, at in rows}


async def test_sync_spreads_a_bulk_of_new_sources_and_not_a_handful(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(many(2_000), T0)
    due = await due_times(engine)
    window = timedelta(seconds=2_000 / FIRST_POLLS_A_SECOND)  # 40 s, under the 15 minutes
    assert due == {f"s{n}": first_due(f"s{n}", T0, window) for n in range(2_000)}
    assert max(due.values()) - min(due.values()) > window * 0.9
    # a few more later: due at once, the others kept
    later = T0 + HOUR
    await store.sync(many(2_010), later)
    again = await due_times(engine)
    assert {n: again[n] for n in due} == due
    assert all(again[f"s{n}"] == later for n in range(2_000, 2_010))


async def test_a_source_with_a_shorter_interval_is_spread_over_it_at_most(
    engine: AsyncEngine,
) -> None:
    config = many(5_000, interval="1h")
    short = config.sources[0].model_copy(update={"interval": timedelta(seconds=10)})
    config = config.model_copy(update={"sources": [short, *config.sources[1:]]})
    await SourceStore(engine).sync(config, T0)
    due = await due_times(engine)
    assert due["s0"] == first_due("s0", T0, timedelta(seconds=10))
    assert T0 <= due["s0"] < T0 + timedelta(seconds=10)
