"""The poll log (monitor.store.polls, v0012) on both backends: each recorded poll leaves an entry
(time, result, HTTP status, duration, new items, error in words) in the transaction of its state,
at most the last 50 per source (a ring of slots, nothing to prune); and what a source's page reads
of it and of the items (monitor.store.source_detail)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.errors import StoreError
from monitor.core.models import PollFailure
from monitor.daemon.app import App
from monitor.store import transaction
from monitor.store.polls import write_polls
from monitor.store.source_detail import source_detail
from monitor.store.sources import SourceStore
from monitor.store.tables import POLL_LOG, items, poll_log, sources
from tests.support.daemon import build_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss
from tests.support.store import T0, config, item, outcome


async def synced(engine: AsyncEngine) -> SourceStore:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    return store


def failure(source: str, n: int, error: str = "HTTP 503") -> PollFailure:
    at = T0 + timedelta(minutes=n)
    return PollFailure(source, at, 503, error, at + timedelta(hours=1), seconds=2.5)


async def logged(engine: AsyncEngine, source: str) -> list[tuple[object, ...]]:
    query = (
        select(poll_log.c.seq, poll_log.c.result, poll_log.c.status, poll_log.c.duration_ms,
               poll_log.c.new_items, poll_log.c.error, poll_log.c.at)
        .where(poll_log.c.source == source)
        .order_by(poll_log.c.seq)
    )  # fmt: skip
    async with engine.connect() as conn:
        return [tuple(row) for row in (await conn.execute(query)).all()]


async def test_each_poll_leaves_an_entry_with_its_state(engine: AsyncEngine) -> None:
    store = await synced(engine)
    found = (item("a", "k1"), item("a", "k2"))
    await store.record([replace(outcome("a", found), seconds=0.4321)], [failure("b", 0)])
    later = T0 + timedelta(minutes=15)
    await store.record([replace(outcome("a", at=later, result="not-modified"), status=304)], [])
    assert await logged(engine, "a") == [
        (1, "ok", 200, 432, 2, None, T0),
        (2, "not-modified", 304, None, 0, None, later),  # no duration measured: none shown
    ]
    assert await logged(engine, "b") == [(1, "error", 503, 2500, 0, "HTTP 503", T0)]
    async with engine.connect() as conn:
        counts = dict((await conn.execute(select(sources.c.name, sources.c.polls))).all())
    assert counts == {"a": 2, "b": 1}


async def test_an_entry_is_written_with_its_poll_or_not_at_all(engine: AsyncEngine) -> None:
    await synced(engine)
    with pytest.raises(StoreError):
        async with transaction(engine) as conn:  # (monitor.store.transaction translates)
            await write_polls(conn, [outcome("a")], [failure("b", 0)])
            raise StoreError("the transaction fails after the poll's statements")
    assert await logged(engine, "a") == await logged(engine, "b") == []
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.sum(sources.c.polls))) == 0


async def test_a_source_keeps_its_last_fifty_polls(engine: AsyncEngine) -> None:
    store = await synced(engine)
    for n in range(120):  # a ring: entry n + 50 takes the slot of entry n
        error = f"timeout {n} at https://u:pw@b.ma/?token=t0p"
        await store.record(
            [replace(outcome("a", at=T0 + timedelta(minutes=n)), seconds=n / 1000)],
            [failure("b", n, error)],
        )
    entries = await logged(engine, "a")
    assert len(entries) == POLL_LOG == 50
    assert [e[0] for e in entries] == list(range(71, 121))
    assert [e[3] for e in entries] == list(range(70, 120))  # each its own duration
    assert len(await logged(engine, "b")) == 50
    detail = await source_detail(engine, "b", None, 10)
    assert detail is not None and len(detail.polls) == 50
    assert [p.at for p in detail.polls] == [T0 + timedelta(minutes=n) for n in range(119, 69, -1)]
    assert detail.polls[0].error == "timeout 119 at https://u:pw@b.ma/?token=t0p"  # as stored
    assert (detail.state, detail.last_error) == ("new", detail.polls[0].error)  # never read


async def test_an_unknown_source_logs_nothing(engine: AsyncEngine) -> None:
    store = await synced(engine)
    await store.record([outcome("nowhere")], [failure("elsewhere", 0)])
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(poll_log)) == 0
    assert await source_detail(engine, "nowhere", None, 10) is None


async def test_a_sources_items_newest_first_by_keyset(engine: AsyncEngine) -> None:
    store = await synced(engine)
    for n in range(7):  # 2 items a poll; a rule matches each (tests.support.store.outcome)
        at = T0 + timedelta(minutes=n)
        found = (item("a", f"k{n}a"), item("a", f"k{n}b"))
        await store.record([outcome("a", found, at=at), outcome("b", (item("b", f"b{n}"),), at)])
    notice = {"source": "a", "key": "health:failing:2026-11-26T09:30:00+00:00:fr",
              "article": "a\x1fhealth", "link": "", "title": "« a » en échec", "summary": "",
              "seen_at": T0 + timedelta(minutes=30)}  # fmt: skip
    async with transaction(engine) as conn:
        await conn.execute(insert(items), [notice])
    pages, after = [], None
    while True:
        detail = await source_detail(engine, "a", after, 5)
        assert detail is not None
        pages.append([i.title for i in detail.items])
        if (after := detail.next_item) is None:
            break
    titles = [f"Title k{n}{x}" for n in range(6, -1, -1) for x in "ba"]
    assert pages == [titles[:5], titles[5:10], titles[10:]]  # the notice is no item
    assert detail.items[0].rules == ("ia",)
    assert [(n.title, n.seen_at) for n in detail.notices] == [
        ("« a » en échec", T0 + timedelta(minutes=30))
    ]
    async with transaction(engine) as conn:
        await conn.execute(update(sources).where(sources.c.name == "a").values(removed_at=T0))
    removed = await source_detail(engine, "a", None, 5)
    assert removed is not None and (removed.removed, removed.next_due) == (T0, None)


async def test_a_sources_page_costs_five_queries_whatever_its_history(engine: AsyncEngine) -> None:
    store = await synced(engine)
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    async def queries(name: str, after: int | None = None) -> int:
        statements.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", seen)
        try:
            assert await source_detail(engine, name, after, 50) is not None
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", seen)
        return len(statements)

    await store.record([outcome("a", (item("a", "k"),))])
    assert await queries("a") == 5
    for n in range(80):  # more polls than the log keeps, more items than a page
        found = tuple(item("b", f"k{n}-{m}") for m in range(3))
        await store.record([outcome("b", found, at=T0 + timedelta(minutes=n))])
    assert await queries("b") == await queries("b", after=100) == 5


async def test_the_daemons_polls_are_logged_with_their_duration(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    published = [{"guid": "g1", "title": "IA", "link": "https://x.ma/1", "published": clock.now}]
    feeds.resources["/new"] = Resource(rss(published), etag='"v1"')
    feeds.resources["/broken"] = Resource(b"boom", status=500)
    sources = {name: f"{feeds.url}/{name}" for name in ("new", "broken")}
    config = build_config(tmp_path, sources, webhook_subscriber(receiver.url))
    async with App(config, clock=clock) as app:
        await app.poll_due()
        await app.settle()
        new = await source_detail(app.store.engine, "new", None, 10)
        broken = await source_detail(app.store.engine, "broken", None, 10)
    assert new is not None and broken is not None
    [read], [failed] = new.polls, broken.polls
    assert (read.result, read.status, read.new_items, read.error) == ("ok", 200, 1, None)
    assert (failed.result, failed.status, failed.new_items) == ("error", 500, 0)
    assert failed.error is not None and "500" in failed.error
    # measured by the real clock (the fake one stands still): present, and short on loopback
    assert read.duration_ms is not None and 0 <= read.duration_ms < 10_000
    assert failed.duration_ms is not None and 0 <= failed.duration_ms < 10_000
