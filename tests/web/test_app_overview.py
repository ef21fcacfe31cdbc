"""The overview's sources on a real SQLite store: states worked out from what polls recorded,
broken ones first, 50 a page by keyset, filters by name, tag and state, and the page as served
(with a session) showing each one's kind, state, last poll, next due and last error."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import transaction
from monitor.store.overview import (
    SourceFilter,
    SourceRow,
    Troubles,
    new_per_day,
    source_page,
    troubles,
)
from monitor.store.sources import SourceStore
from monitor.store.tables import digests, items, push_subscriptions, sources, subscribers
from tests.support.peers import FakeClock
from tests.support.statements import statements
from tests.support.webapp import QUERIES, USERS, Served, app_config, log_in, push_lease, serve_app

CLOCK = FakeClock()
T0 = CLOCK.now
# 120 sources: 3 failing, 2 silent, 1 gone, 4 never polled, the rest fine; tagged by parity
BROKEN = {"s007": "failing", "s042": "silent", "s055": "gone", "s090": "failing",
          "s101": "silent", "s118": "failing"}  # fmt: skip
NEW = {"s003", "s060", "s061", "s119"}
NAMES = ["s"]  # the configured subscribers (app_config's)


def source_list() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for n in range(120):
        name = f"s{n:03d}"
        entry: dict[str, Any] = {"name": name, "url": f"https://{name}.ma/feed"}
        entry["tags"] = ["pair" if n % 2 == 0 else "impair"]
        if n == 7:
            entry.update(kind="html", url="https://s007.ma/", item="article", title="h2")
        found.append(entry)
    return found


async def polled(engine: AsyncEngine) -> None:
    """What polls would have left: every source polled but the new ones, some broken."""
    async with transaction(engine) as conn:
        await conn.execute(
            update(sources)
            .where(sources.c.name.not_in(sorted(NEW)))
            .values(
                first_poll_at=T0 - timedelta(days=3),
                last_poll_at=T0 - timedelta(minutes=5),
                next_due_at=T0 + timedelta(minutes=10),
            )
        )
        for name, state in BROKEN.items():
            since = T0 - timedelta(hours=30)
            if state == "gone":
                values: dict[str, Any] = {"gone_at": since, "last_status": 410,
                                          "last_error": "HTTP 410 Gone"}  # fmt: skip
            else:
                values = {"health": state, "health_since": since}
                if state == "failing":
                    values["last_error"] = "timeout after 30s fetching https://u:pw@x.ma/?token=t0p"
            await conn.execute(update(sources).where(sources.c.name == name).values(**values))


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serve_app(tmp_path, app_config(source_list()), CLOCK) as running:
        await SourceStore(running.engine).sync(running.holder[0], T0 - timedelta(days=4))
        await polled(running.engine)
        yield running


async def every_page(engine: AsyncEngine, filters: SourceFilter) -> list[list[SourceRow]]:
    pages, after = [], None
    while True:
        rows, after = await source_page(engine, filters, after, 50)
        pages.append(rows)
        if after is None:
            return pages


async def test_broken_first_then_by_name_fifty_a_page(served: Served) -> None:
    pages = await every_page(served.engine, SourceFilter())
    assert [len(p) for p in pages] == [50, 50, 20]
    names = [row.name for page in pages for row in page]
    assert names == sorted(BROKEN) + sorted({f"s{n:03d}" for n in range(120)} - set(BROKEN))
    states = {row.name: row.state for page in pages for row in page}
    assert {n: s for n, s in states.items() if s not in ("ok", "new")} == BROKEN
    assert {n for n, s in states.items() if s == "new"} == NEW
    row = next(r for r in pages[0] if r.name == "s055")
    assert (row.since, row.next_due) == (T0 - timedelta(hours=30), None)  # gone: never due
    row = next(r for p in pages for r in p if r.name == "s003")
    assert (row.last_poll, row.since) == (None, None)


async def test_filters_by_name_state_and_among(served: Served) -> None:
    async def names(filters: SourceFilter) -> list[str]:
        return [r.name for page in await every_page(served.engine, filters) for r in page]

    assert await names(SourceFilter(state="failing")) == ["s007", "s090", "s118"]
    assert await names(SourceFilter(state="new")) == sorted(NEW)
    others = [f"s11{n}" for n in range(10) if n != 8]
    assert await names(SourceFilter(text="S11")) == ["s118", *others]  # any case, broken first
    assert await names(SourceFilter(text="%")) == []  # a LIKE wildcard is a plain character
    among = [f"s{n:03d}" for n in range(0, 120, 2)]
    found = await names(SourceFilter(among=among, state="silent"))
    assert found == ["s042"]
    assert len(await names(SourceFilter(among=among))) == 60


async def test_removed_sources_are_not_shown(served: Served) -> None:
    config = app_config(source_list()[:100])
    await SourceStore(served.engine).sync(config, T0)
    pages = await every_page(served.engine, SourceFilter())
    assert sum(len(p) for p in pages) == 100


LISTED = re.compile(
    r'<li class="source state-\w+">\s*<div class="head"><a href="/sources/\w+" class="name">'
    r'<b dir="auto">(\w+)'
)


def listed(page: str) -> list[str]:
    return LISTED.findall(page)


async def test_the_page_pages_and_filters(served: Served) -> None:
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        async with client.get("/", headers={"Accept-Language": "en"}) as answer:
            first = await answer.text()
        assert listed(first)[:6] == sorted(BROKEN) and len(listed(first)) == 50
        assert "html" in first  # s007's kind
        assert "failing since" in first and "2026-11-25 04:00 +01" in first
        assert "timeout after 30s" in first
        assert "pw@" not in first and "t0p" not in first  # URLs in errors are redacted
        nexts = re.findall(r'href="(/\?after=[^"]+)" rel="next"', first)
        assert len(nexts) == 1
        seen = listed(first)
        url: str | None = nexts[0].replace("&amp;", "&")
        while url is not None:
            async with client.get(url) as answer:
                text = await answer.text()
            seen += listed(text)
            more = re.findall(r'href="([^"]+)" rel="next"', text)
            url = more[0].replace("&amp;", "&") if more else None
        assert len(seen) == len(set(seen)) == 120
        async with client.get("/?tag=pair&state=silent", headers={"Accept-Language": "fr"}) as a:
            text = await a.text()
        assert listed(text) == ["s042"] and "silencieuse depuis" in text
        async with client.get("/?q=s11&state=failing") as answer:
            assert listed(await answer.text()) == ["s118"]
        async with client.get("/?q=nothing-like-it&state=bogus&after=zz") as answer:
            assert answer.status == 200 and listed(await answer.text()) == []


async def test_the_banner_counts_broken_sources_and_dead_digests(served: Served) -> None:
    found = await troubles(served.engine, NAMES)
    first = ("s007", "s042", "s055", "s090", "s101")
    assert found == Troubles({"gone": 1, "failing": 3, "silent": 2}, 0, first)
    async with transaction(served.engine) as conn:
        rows = [
            {"id": f"d{n}", "subscriber": "s", "created_at": T0, "state": state}
            for n, state in enumerate(["dead", "dead", "sent", "pending"])
        ]
        retried = {"attempts": 5, "next_attempt_at": T0}
        await conn.execute(insert(digests), [{**row, **retried} for row in rows])
    assert (await troubles(served.engine, NAMES)).dead_digests == 2
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        async with client.get("/", headers={"Accept-Language": "en"}) as answer:
            text = await answer.text()
    assert '<a href="/?state=failing">3 failing</a>' in text
    assert '<a href="/sources/s007" class="broken-source" dir="auto">s007</a>' in text
    assert "/sources/s118" not in text.split("</section>")[0]  # five names at most
    assert "Digests dead-lettered: 2" in text
    async with transaction(served.engine) as conn:  # an unsubscribed one's are not re-sent
        await conn.execute(update(subscribers).values(unsubscribed_at=T0))
    assert (await troubles(served.engine, NAMES)).dead_digests == 0


async def test_the_page_costs_seven_queries_whatever_the_sources(
    served: Served, tmp_path: Path
) -> None:
    async def queries(running: Served, path: str) -> int:
        with statements(running.engine) as seen:
            async with running.client() as client:
                await log_in(client, "analyste", USERS["analyste"])
                async with client.get(path) as answer:
                    assert answer.status == 200
                seen.clear()
                async with client.get(path) as answer:
                    assert answer.status == 200
        return len(seen)

    few = tmp_path / "few"
    few.mkdir()
    async with serve_app(few, app_config(source_list()[:3]), CLOCK) as small:
        await SourceStore(small.engine).sync(small.holder[0], T0)
        assert await queries(small, "/") == QUERIES
    for path in ("/", "/?tag=pair&state=ok", "/?after=1:s050&q=s0"):
        assert await queries(served, path) == QUERIES, path  # 120 sources: the same


async def test_new_items_per_day_over_fourteen_days(served: Served) -> None:
    def item(source: str, n: int, days_ago: float, key: str = "") -> dict[str, Any]:
        return {"source": source, "key": key or f"{source}-{n}", "article": f"{source}-{n}",
                "link": "https://x.ma/", "title": "t", "summary": "",
                "seen_at": T0 - timedelta(days=days_ago)}  # fmt: skip

    rows = [item("s000", n, 0) for n in range(4)]  # today (T0 is 09:00 UTC)
    rows += [item("s000", 10 + n, 1) for n in range(2)]  # yesterday
    rows += [item("s000", 20, 13), item("s000", 21, 14)]  # the first day shown, one before it
    rows += [item("s000", 30, 0, key="health:s000:x")]  # a health notice: not an arrival
    rows += [item("s001", 40, 3)]
    async with transaction(served.engine) as conn:
        await conn.execute(insert(items), rows)
    first_day = T0.date() - timedelta(days=13)
    found = await new_per_day(served.engine, ["s000", "s001", "s002"], first_day)
    assert found["s000"] == [1] + [0] * 11 + [2, 4]
    assert found["s001"] == [0] * 10 + [1, 0, 0, 0]
    assert found["s002"] == [0] * 14
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        async with client.get("/?q=s000", headers={"Accept-Language": "en"}) as answer:
            text = await answer.text()
    assert 'aria-label="New, 14 days: 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4"' in text
    assert "<title>2026-11-26: 4</title>" in text and "<title>2026-11-13: 1</title>" in text
    assert text.count("<rect ") == 14


async def test_a_source_a_hub_pushes_says_so(served: Served) -> None:
    async with transaction(served.engine) as conn:
        await conn.execute(insert(push_subscriptions), [
            push_lease("s100", "c1", T0),
            push_lease("s101", "c2", T0, lease_until=T0 - timedelta(seconds=1)),  # lease over
        ])  # fmt: skip
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        async with client.get("/?q=s10", headers={"Accept-Language": "en"}) as answer:
            text = await answer.text()
    entry = r'<li class="source[^"]*">\s*<div class="head"><a [^>]*><b dir="auto">(s10\d)</b></a>'
    entries = dict(re.findall(entry + r"(.*?)</div>", text, flags=re.S))
    assert "pushed by a hub" in entries["s100"]
    assert "pushed by a hub" not in entries["s101"] + entries["s102"]
