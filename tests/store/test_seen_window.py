"""The seen-window (monitor.store.seen_window): items past ``retention.seen`` lose their row,
their identity stays, so nothing is alerted twice. On both stores, the daemon through its real
poll path against a loopback feed server and webhook receiver, with a fake clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.daemon import pruning
from monitor.daemon.app import App
from monitor.store import open_engine, seen_window, transaction
from monitor.store.seen_window import (
    SLICES,
    Pruned,
    day_of,
    forget,
    item_hash,
    prune_seen,
    sent_hash,
)
from monitor.store.sources import SourceStore
from monitor.store.tables import items, matches, outbox, seen_keys
from tests.support.daemon import build_config
from tests.support.databases import postgres_database
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver
from tests.support.store import T0, config, count, item, outcome

DAY = timedelta(days=1)
WINDOW = timedelta(days=90)


@pytest.fixture
async def store(storage: str) -> AsyncIterator[SourceStore]:
    engine = await open_engine(storage)
    store = SourceStore(engine)
    await store.sync(config(), T0 - 200 * DAY)
    yield store
    await engine.dispose()


async def keys(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(select(items.c.key))).scalars())


async def mark(engine: AsyncEngine, state: str, *item_keys: str) -> None:
    """The outbox rows of these items as if their digest had been sent (or given up: dead)."""
    ids = select(items.c.id).where(items.c.key.in_(item_keys))
    async with engine.begin() as conn:
        await conn.execute(update(outbox).where(outbox.c.item_id.in_(ids)).values(state=state))


async def records(engine: AsyncEngine) -> dict[int, int]:
    async with engine.connect() as conn:
        return dict((await conn.execute(select(seen_keys.c.hash, seen_keys.c.day))).all())


async def search_index_agrees(engine: AsyncEngine) -> None:
    """SQLite's FTS5 index matches its content table (items) exactly: deleted rows left it."""
    if engine.dialect.name == "sqlite":
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO item_search(item_search, rank) VALUES ('integrity-check', 1)"
            )


async def test_rows_past_the_window_go_their_identity_stays(store: SourceStore) -> None:
    engine = store.engine
    old = T0 - 100 * DAY
    found = tuple(item("a", k) for k in ("old", "owed", "dead", "infeed"))
    await store.record([outcome("a", found, at=old, subs=("s1",))])
    await store.record([outcome("a", (item("a", "recent"),), at=T0 - 10 * DAY, subs=("s1",))])
    await mark(engine, "sent", "old", "infeed", "recent")
    await mark(engine, "dead", "dead")  # ``owed`` stays pending
    # (every poll below reads the feed: the items not marked by one are no longer in it)
    # a poll found ``infeed`` still in its feed five days ago
    await store.record([replace(outcome("a", at=T0 - 5 * DAY), sighted=("infeed",))])

    pruned = await prune_seen(engine, T0, WINDOW)
    assert (pruned.items, pruned.sent, pruned.forgotten) == (1, 1, 0)
    assert await keys(engine) == {"owed", "dead", "infeed", "recent"}
    assert await records(engine) == {
        item_hash("a", "old"): day_of(T0),
        sent_hash("s1", "https://a.ma/old"): day_of(T0),
    }
    # its match and its sent outbox row went with it; the others' stay
    assert (await count(engine, matches), await count(engine, outbox)) == (4, 4)
    await search_index_agrees(engine)
    # still seen: a poll serving it again finds nothing new
    every = ["old", "owed", "dead", "infeed", "recent", "new"]
    assert await store.seen("a", every) == set(every) - {"new"}
    assert await store.seen("b", every) == set()  # identity is within its source

    assert (await prune_seen(engine, T0, WINDOW)).items == 0  # nothing more
    await mark(engine, "sent", "owed", "dead")  # sent at last: no longer owed
    assert (await prune_seen(engine, T0, WINDOW)).items == 2
    assert await keys(engine) == {"infeed", "recent"}
    # ``infeed`` goes once the window has passed since the poll that last found it, not
    # since it was first seen (``recent``, first seen after it, goes first)
    assert (await prune_seen(engine, T0 + 84 * DAY, WINDOW)).items == 1
    assert await keys(engine) == {"infeed"}
    assert (await prune_seen(engine, T0 + 86 * DAY, WINDOW)).items == 0  # its feed, unread since
    await store.record([outcome("a", at=T0 + 85 * DAY)])  # read again, without it
    assert (await prune_seen(engine, T0 + 86 * DAY, WINDOW)).items == 1
    assert await keys(engine) == set()


async def test_an_item_sent_to_one_and_owed_to_another_keeps_its_row_and_rows(
    store: SourceStore,
) -> None:
    engine = store.engine
    await store.record([outcome("a", (item("a", "half"),), at=T0 - 100 * DAY)])  # s1 and s2
    async with engine.begin() as conn:
        await conn.execute(update(outbox).where(outbox.c.subscriber == "s1").values(state="sent"))
    assert (await prune_seen(engine, T0, WINDOW)).items == 0
    assert await keys(engine) == {"half"} and await count(engine, outbox) == 2
    assert await records(engine) == {}


async def test_a_sighting_marks_the_item_at_most_daily(store: SourceStore) -> None:
    engine = store.engine
    old = (item("a", "k1"), item("a", "k2"))
    await store.record([outcome("a", old, at=T0 - 100 * DAY, subs=())])
    await store.record([outcome("a", (item("a", "k3"),), at=T0 - 2 * DAY)])
    await store.record([outcome("a", (item("a", "k4"),), at=T0 - DAY / 2)])
    assert (await prune_seen(engine, T0 - 5 * DAY, WINDOW)).items == 2  # k1, k2: identity left
    async with engine.begin() as conn:
        await conn.execute(update(seen_keys).values(day=day_of(T0)))  # as if seen today
    # then k1's record as if last seen 5 days ago, as a poll marks it
    async with engine.begin() as conn:
        await conn.execute(
            update(seen_keys)
            .where(seen_keys.c.hash == item_hash("a", "k1"))
            .values(day=day_of(T0 - 5 * DAY))
        )

    found = await store.sightings("a", ["k1", "k2", "k3", "k4", "k5"], T0)
    assert found.seen == {"k1", "k2", "k3", "k4"}
    # stale: k1 (its record 5 days old), k3 (seen 2 days ago); not k2 nor k4 (within a day)
    assert sorted(found.stale) == ["k1", "k3"]
    assert (await store.sightings("a", ["k1", "k3"])).stale == ()  # without a time: no marks

    await store.record([replace(outcome("a", at=T0), sighted=found.stale)])
    assert (await records(engine))[item_hash("a", "k1")] == day_of(T0)
    async with engine.connect() as conn:
        query = select(items.c.key, items.c.last_seen_at).where(items.c.key.in_(["k3", "k4"]))
        assert dict((await conn.execute(query)).all()) == {"k3": T0, "k4": None}
    assert (await store.sightings("a", ["k1", "k3", "k4"], T0 + DAY / 2)).stale == ()


async def test_an_article_sent_then_pruned_is_not_sent_again_from_another_source(
    store: SourceStore,
) -> None:
    engine = store.engine
    shared = "https://news.ma/2026/ia"
    await store.record([outcome("a", (item("a", "a1", shared),), T0 - 100 * DAY, ("s1",))])
    await store.record([outcome("a", at=T0 - 50 * DAY)])  # a later read of its feed, without it
    await mark(engine, "sent", "a1")
    assert (await prune_seen(engine, T0, WINDOW)).items == 1
    assert await count(engine, outbox) == 0

    # the same article, its canonical link, now in source b: s1 had it, s2 did not
    await store.record([outcome("b", (item("b", "b7", shared),), T0, ("s1", "s2"))])
    async with engine.connect() as conn:
        owed = (await conn.execute(select(outbox.c.subscriber, outbox.c.article))).all()
    assert [tuple(row) for row in owed] == [("s2", shared)]


async def test_an_article_sent_is_not_sent_again_by_a_poll_during_its_prune(
    store: SourceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = store.engine
    shared = "https://news.ma/2026/ia"
    await store.record([outcome("a", (item("a", "a1", shared),), T0 - 100 * DAY, ("s1",))])
    await store.record([outcome("a", at=T0 - 50 * DAY)])  # a later read of its feed, without it
    await mark(engine, "sent", "a1")
    polls: list[asyncio.Task[None]] = []

    @asynccontextmanager
    async def held(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        async with transaction(engine) as conn:
            yield conn
            # the prune's deletes done, not committed: a poll of source b records the same
            # article for s1; on PostgreSQL it reads no record yet, and its insert meets the
            # sent row deleted but not committed (it waits); on SQLite it waits for the lock
            polls.append(asyncio.create_task(store.record([outcome("b", new, T0, ("s1",))])))
            await waiting(engine)

    new = (item("b", "b7", shared),)
    monkeypatch.setattr(seen_window, "transaction", held)
    assert (await prune_seen(engine, T0, WINDOW)).items == 1
    await polls[0]
    assert await keys(engine) == {"b7"}
    assert await count(engine, outbox) == 0  # s1 had it: not owed again


async def waiting(engine: AsyncEngine) -> None:
    """Until another connection waits for a lock (PostgreSQL); a moment on SQLite."""
    if engine.dialect.name != "postgresql":
        await asyncio.sleep(0.2)
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    for _ in range(500):
        async with engine.connect() as conn:
            if await conn.scalar(query):
                return
        await asyncio.sleep(0.01)
    raise AssertionError("no connection waited for a lock")


async def test_each_chunk_is_its_own_transaction_a_writer_goes_between(
    store: SourceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = store.engine
    monkeypatch.setattr(seen_window, "PRUNE_CHUNK", 3)
    old = tuple(item("a", f"old{n}") for n in range(10))
    await store.record([outcome("a", old, at=T0 - 100 * DAY, subs=())])
    await store.record([outcome("a", at=T0 - 50 * DAY)])  # a later read of its feed, without them
    chunks: list[int] = [0]
    written: list[str] = []

    @asynccontextmanager
    async def between(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        # after the first chunk, before the next: a poll records a new item, and commits (on
        # SQLite, a prune holding its write lock across chunks would make it wait, then fail)
        if chunks[0]:
            new = item("b", f"new{chunks[0]}")
            await store.record([outcome("b", (new,), at=T0, subs=())])
            written.append(new.key)
        chunks[0] += 1
        async with transaction(engine) as conn:
            yield conn

    def spying(engine: AsyncEngine) -> AbstractAsyncContextManager[AsyncConnection]:
        return between(engine)

    monkeypatch.setattr(seen_window, "transaction", spying)
    pruned = await prune_seen(engine, T0, WINDOW, chunk=seen_window.PRUNE_CHUNK)
    assert pruned.items == 10 and chunks[0] == 4  # 3 + 3 + 3 + 1
    assert await keys(engine) == set(written) and len(written) == 3


async def test_identity_records_are_forgotten_past_their_horizon_slice_by_slice(
    store: SourceStore,
) -> None:
    engine = store.engine
    # one old record and one recent in the first slice, one old in the last
    low, high = -(2**63) + 5, 2**63 - 5
    async with engine.begin() as conn:
        await conn.execute(
            seen_keys.insert(),
            [
                {"hash": low, "day": 100},
                {"hash": low + 1, "day": 400},
                {"hash": high, "day": 100},
            ],
        )
    assert await forget(engine, before=365, part=0) == 1
    assert set(await records(engine)) == {low + 1, high}
    assert await forget(engine, before=365, part=SLICES - 1) == 1
    assert set(await records(engine)) == {low + 1}


async def test_the_daemon_never_alerts_a_pruned_item_its_feed_serves_again(
    tmp_path: Path, storage: str, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock(T0)
    a1 = ("a1", "Le démarchage téléphonique interdit")
    a2 = ("a2", "Les centres d'appels recrutent")
    served = {"a1": a1, "a2": a2}

    def serve(*guids: str) -> None:
        feeds.resources["/feed"] = Resource(feed([served[g] for g in guids], T0 - DAY / 24))

    subscribers = f"  - name: ops\n    webhook: {receiver.url}/ops\n"
    config = build_config(tmp_path, {"eco": f"{feeds.url}/feed"}, subscribers, storage=storage)
    serve("a1", "a2")
    async with App(config, clock=clock) as app:
        engine = app.store.engine
        await app.run_once()  # both alert: one digest
        assert alerted(receiver) == ["a1", "a2"]

        serve("a2")  # a1 leaves the feed, a2 stays
        clock.advance(WINDOW + DAY)
        await app.run_once()
        assert await keys(engine) == {"g:a2"}  # still in its feed: kept

        serve()  # a2 leaves it too
        clock.advance(WINDOW + DAY)
        await app.run_once()
        assert await keys(engine) == set()

        serve("a1", "a2")  # the feed serves both again, half a year on
        clock.advance(DAY)
        await app.run_once()
        assert await keys(engine) == set()  # seen: nothing recorded again
        assert alerted(receiver) == ["a1", "a2"]  # nor alerted again
        hashes = await records(engine)
        assert hashes[item_hash("eco", "g:a1")] == day_of(clock.now)  # marked seen again


async def test_a_source_moved_after_its_items_went_does_not_alert_them_again(
    tmp_path: Path, storage: str, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock(T0)
    a1 = ("a1", "Le démarchage téléphonique interdit")
    subscribers = f"  - name: ops\n    webhook: {receiver.url}/ops\n"
    feeds.resources["/feed"] = Resource(feed([a1], T0 - DAY / 24))
    config = build_config(tmp_path, {"eco": f"{feeds.url}/feed"}, subscribers, storage=storage)
    async with App(config, clock=clock) as app:
        await app.run_once()
        assert alerted(receiver) == ["a1"]
        feeds.resources["/feed"] = Resource(feed([], T0))  # a1 leaves the feed
        clock.advance(WINDOW + DAY)
        await app.run_once()
        assert await keys(app.store.engine) == set()  # its row went, its identity stayed

    # the source moves to a new URL (started afresh: backfill again), which serves a1 again,
    # dated within the backfill: the source has no row left, but it was polled before
    feeds.resources["/moved"] = Resource(feed([a1], clock.now - DAY / 24))
    moved = build_config(tmp_path, {"eco": f"{feeds.url}/moved"}, subscribers, storage=storage)
    async with App(moved, clock=clock) as app:
        await app.run_once()
        assert (await app.store.states(["eco"]))["eco"].first_poll_at == clock.now  # afresh
        assert await keys(app.store.engine) == set()  # seen: not recorded again
    assert alerted(receiver) == ["a1"]  # nor alerted again


@pytest.mark.postgres
async def test_replicas_on_one_store_prune_it_once_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(T0)
    runs: list[datetime] = []

    async def counted(engine: AsyncEngine, now: datetime, window: timedelta) -> Pruned:
        runs.append(now)
        return await prune_seen(engine, now, window)

    monkeypatch.setattr(pruning, "prune_seen", counted)
    async with postgres_database() as storage:
        config = build_config(
            tmp_path,
            {"eco": "https://eco.ma/feed"},
            "  - name: ops\n    webhook: https://ops.ma/hook\n",
            storage=storage,
        )
        async with App(config, clock=clock) as one, App(config, clock=clock) as two:
            for _ in range(3):  # their hourly prunes of a day, together: one of them prunes
                await asyncio.gather(one.prune(), two.prune())
                clock.advance(DAY / 24)
            assert runs == [T0]
            clock.advance(DAY)
            await asyncio.gather(one.prune(), two.prune())
            assert runs == [T0, T0 + DAY + DAY / 8]


async def test_a_slow_feed_keeps_its_items_while_it_serves_the_same_document(
    tmp_path: Path, storage: str, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock(T0)
    body = feed([("a1", "Le démarchage téléphonique interdit")], T0 - DAY / 24)
    feeds.resources["/feed"] = Resource(body)
    subscribers = f"  - name: ops\n    webhook: {receiver.url}/ops\n"
    config = build_config(tmp_path, {"eco": f"{feeds.url}/feed"}, subscribers, storage=storage)
    async with App(config, clock=clock) as app:
        engine = app.store.engine
        await app.run_once()
        assert alerted(receiver) == ["a1"]
        for _ in range(4):  # four months of the same bytes: never read again, nor pruned
            clock.advance(30 * DAY)
            await app.run_once()
            assert await keys(engine) == {"g:a1"}
        feeds.resources["/feed"] = Resource(feed([], T0))  # it leaves the feed
        clock.advance(DAY)
        await app.run_once()
        assert await keys(engine) == set()
        assert alerted(receiver) == ["a1"]


async def test_a_removed_source_s_items_go_past_the_window(store: SourceStore) -> None:
    engine = store.engine
    await store.record([outcome("a", (item("a", "k1"),), at=T0 - 100 * DAY, subs=())])
    await store.record([outcome("b", (item("b", "k1"),), at=T0 - 100 * DAY, subs=())])
    # both feeds were last read when their item was: each still serves it, as far as is known
    assert (await prune_seen(engine, T0, WINDOW)).items == 0
    await store.sync(config({"a": "https://a.ma/feed"}), T0)  # b leaves the configuration
    assert (await prune_seen(engine, T0, WINDOW)).items == 1
    assert await keys(engine) == {"k1"} and await store.seen("b", ["k1"]) == {"k1"}


def alerted(receiver: WebhookReceiver) -> list[str]:
    """The guids of the feed's items in the digests the receiver accepted, in order."""
    found = []
    for request in receiver.accepted():
        for entry in json.loads(request.body)["items"]:
            found.append(entry["link"].rsplit("/", 1)[1])
    return found


def feed(entries: list[tuple[str, str]], published: datetime) -> bytes:
    date = published.strftime("%a, %d %b %Y %H:%M:%S +0000")
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>']
    parts += [
        f"<item><title>{title}</title><link>https://x.ma/{guid}</link>"
        f'<guid isPermaLink="false">{guid}</guid><pubDate>{date}</pubDate></item>'
        for guid, title in entries
    ]
    return ("".join(parts) + "</channel></rss>").encode()
