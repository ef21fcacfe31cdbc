"""The web app's store queries (monitor.store.overview) on SQLite and on PostgreSQL: the same
answers from both, the grouped counts and day buckets included."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import transaction
from monitor.store.overview import (
    SourceFilter,
    Troubles,
    new_per_day,
    source_page,
    subscriber_rows,
    troubles,
)
from monitor.store.sources import SourceStore
from monitor.store.tables import digests, items, outbox, sources
from tests.support.peers import FakeClock
from tests.support.webapp import app_config

T0 = FakeClock().now


async def filled(engine: AsyncEngine) -> None:
    feeds = [{"name": n, "url": f"https://{n}.ma/f", "tags": ["t"] if n < "c" else []}
             for n in ("a_1", "ab1", "c", "d", "e")]  # fmt: skip
    subs = [{"name": n, "console": True} for n in ("s1", "s2")]
    await SourceStore(engine).sync(app_config(feeds, subscribers=subs), T0 - timedelta(days=2))

    def item(source: str, n: int, days: int) -> dict[str, Any]:
        return {
            "source": source,
            "key": str(n),
            "article": f"{source}{n}",
            "link": "https://x/",
            "title": "t",
            "summary": "",
            "seen_at": T0 - timedelta(days=days, hours=1),
        }

    async with transaction(engine) as conn:
        await conn.execute(update(sources).where(sources.c.name != "e").values(first_poll_at=T0))
        await conn.execute(update(sources).where(sources.c.name == "c").values(gone_at=T0))
        await conn.execute(
            update(sources).where(sources.c.name == "d").values(health="silent", health_since=T0)
        )
        await conn.execute(insert(items), [item("a_1", 1, 0), item("a_1", 2, 0), item("c", 3, 5)])
        await conn.execute(
            insert(digests),
            [
                {
                    "id": f"d{n}",
                    "subscriber": "s1",
                    "created_at": T0,
                    "state": s,
                    "attempts": 1,
                    "next_attempt_at": T0,
                }
                for n, s in enumerate(["dead", "sent"])
            ],
        )
        await conn.execute(insert(outbox), [
            {"subscriber": "s1", "article": f"a_1{n}", "item_id": n, "rules": [], "terms": {},
             "state": s, "created_at": T0, "digest_id": d}
            for n, s, d in ((1, "dead", "d0"), (2, "sent", "d1"))
        ])  # fmt: skip


async def test_the_overviews_queries_on_each_store(engine: AsyncEngine) -> None:
    await filled(engine)
    rows, after = await source_page(engine, SourceFilter(), None, 3)
    assert [(r.name, r.state) for r in rows] == [("c", "gone"), ("d", "silent"), ("a_1", "ok")]
    assert after == (1, "a_1")
    rows, after = await source_page(engine, SourceFilter(), after, 3)
    assert [(r.name, r.state) for r in rows] == [("ab1", "ok"), ("e", "new")] and after is None

    async def names(filters: SourceFilter) -> list[str]:
        return [r.name for r in (await source_page(engine, filters, None, 50))[0]]

    assert await names(SourceFilter(text="_")) == ["a_1"]  # LIKE's wildcards taken literally
    assert await names(SourceFilter(text="%")) == []
    assert await names(SourceFilter(text="B1")) == ["ab1"]
    assert await names(SourceFilter(state="new")) == ["e"]
    assert await names(SourceFilter(among=["a_1", "d"])) == ["d", "a_1"]
    assert await troubles(engine, ["s1", "s2"]) == Troubles({"gone": 1, "silent": 1}, 1, ("c", "d"))
    found = await subscriber_rows(engine, ["s1", "s2", "nobody"])
    assert (found["s1"].pending, found["s1"].sent, found["s1"].dead) == (0, 1, 1)
    assert (found["s2"].sent, found["s2"].period_start) == (0, T0 - timedelta(days=2))
    assert set(found) == {"s1", "s2"}
    per_day = await new_per_day(engine, ["a_1", "c"], T0.date() - timedelta(days=13))
    assert per_day == {"a_1": [0] * 13 + [2], "c": [0] * 8 + [1] + [0] * 5}
