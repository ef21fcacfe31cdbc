"""The overview costs the store a fixed number of SQL statements whatever the number of sources
(issue 23): ``/`` and ``/api/sources``, with their filters, issue as many with 10 sources and
subscribers as with 1,000 of each (some broken, items on several days, dead digests), counted
with a ``before_cursor_execute`` listener, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update

from monitor.store import transaction
from monitor.store.sources import SourceStore
from monitor.store.tables import digests, items, sources
from tests.support.peers import FakeClock
from tests.support.statements import statements
from tests.support.webapp import QUERIES, USERS, Served, app_config, log_in, serve_app

pytestmark = pytest.mark.slow  # 1,000 sources and subscribers made twice, one per backend

CLOCK = FakeClock()
T0 = CLOCK.now
PATHS = {
    "/": QUERIES,
    "/?state=failing": QUERIES,
    "/?tag=pair&q=s0&after=1:s0002": QUERIES,
    "/?sub_after=s0004": QUERIES,
    "/api/sources": 2,  # the page (with pushed), its items per day
    "/api/sources?state=ok&tag=pair&limit=200": 2,
}


def config_of(count: int) -> Any:
    feeds = [{"name": f"s{n:04d}", "url": f"https://s{n}.ma/feed",
              "tags": ["pair" if n % 2 == 0 else "impair"]} for n in range(count)]  # fmt: skip
    subs = [{"name": f"s{n:04d}", "console": True} for n in range(count)]
    return app_config(feeds, subscribers=subs)


async def grow(served: Served, count: int) -> None:
    """The store of ``count`` sources and subscribers as polls and deliveries leave it: all
    polled, one in ten failing, items on the last days, one dead digest in ten."""
    served.holder[0] = config_of(count)
    await SourceStore(served.engine).sync(served.holder[0], T0 - timedelta(days=20))
    names = [f"s{n:04d}" for n in range(count)]
    async with transaction(served.engine) as conn:
        await conn.execute(update(sources).values(first_poll_at=T0, last_poll_at=T0))
        await conn.execute(
            update(sources)
            .where(sources.c.name.in_(names[::10]))
            .values(health="failing", health_since=T0, last_error="HTTP 503")
        )
        await conn.execute(insert(items), [
            {"source": name, "key": f"{count}-{day}", "article": f"{name}-{count}-{day}",
             "link": "https://x.ma/", "title": "t", "summary": "",
             "seen_at": T0 - timedelta(days=day)}
            for name in names for day in (0, 3)
        ])  # fmt: skip
        await conn.execute(insert(digests), [
            {"id": f"d{count}-{name}", "subscriber": name, "created_at": T0, "state": "dead",
             "attempts": 5, "next_attempt_at": T0}
            for name in names[::10]
        ])  # fmt: skip


async def per_path(served: Served, listed: int) -> dict[str, int]:
    """How many statements each path costs, signed in (the sign-in's own not counted); the
    unfiltered JSON page lists ``listed`` sources."""
    found = {}
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        with statements(served.engine) as seen:
            for path in PATHS:
                seen.clear()
                async with client.get(path) as answer:
                    assert answer.status == 200, (path, await answer.text())
                    if path == "/api/sources":
                        assert len((await answer.json())["sources"]) == listed
                found[path] = len(seen)
    return found


async def test_ten_or_a_thousand_sources_cost_the_same_statements(
    storage: str, tmp_path: Path
) -> None:
    async with serve_app(tmp_path, config_of(10), CLOCK, storage) as served:
        await grow(served, 10)
        few = await per_path(served, 10)
        await grow(served, 1000)
        many = await per_path(served, 50)
    assert few == PATHS
    assert many == PATHS
