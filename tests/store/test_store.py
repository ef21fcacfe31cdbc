"""The store on a real SQLite file: migrations, source state and the one-transaction record."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Text,
    cast,
    column,
    insert,
    inspect,
    select,
    table,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from monitor.config.model import Config
from monitor.core.errors import StoreError
from monitor.core.models import Delivery, Hit, Item, Location, Match, News, PollFailure, PollOutcome
from monitor.store import engine_url, open_engine
from monitor.store.leases import source_leases
from monitor.store.retention import items_since, prune_text, pruned_since
from monitor.store.schema import _known, alembic_config, head
from monitor.store.sources import POLLED, SourceStore, _Changes
from monitor.store.tables import items, matches, outbox, sources, subscribers
from tests.support.peers import FakeClock
from tests.support.store import IA, T0, at_revision, config, count, item, migrate, outcome


async def test_migrations_create_the_schema_and_are_idempotent(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/new/dir/m.db"  # the folder is created
    engine = await open_engine(storage)
    try:
        await SourceStore(engine).sync(config(), T0)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            journal = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            rows = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            versions = rows.scalars().all()
        assert tables == {
            "alembic_version",
            "sources",
            "items",
            "matches",
            "subscribers",
            "subscriber_choices",
            "signup_requests",  # sign-ups awaiting their confirmation (v0015)
            "digests",
            "outbox",
            "settings",
            "push_subscriptions",
            # the FTS5 search index and its shadow tables (v0013)
            "item_search",
            "item_search_config",
            "item_search_data",
            "item_search_docsize",
            "item_search_idx",
            "poll_log",
            "seen_keys",  # the identities of items past retention.seen (v0016)
            "source_tags",  # the stored sources' tags, indexed by tag (v0018)
        }
        assert (journal, fks, versions) == ("wal", 1, [head()])
    finally:
        await engine.dispose()
    again = await open_engine(storage)  # reopening runs no migration twice and keeps the data
    try:
        assert set(await SourceStore(again).states()) == {"a", "b"}
        async with again.connect() as conn:
            rows = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert rows.scalars().all() == [head()]
    finally:
        await again.dispose()


async def test_unusable_storage_is_a_store_error(tmp_path: Path) -> None:
    # a file that is not a database (a path sqlite cannot open at all would make aiosqlite's
    # worker thread touch the closed event loop after the test: an unhandled thread error)
    (tmp_path / "m.db").write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot open storage"):
        await open_engine(f"sqlite:///{tmp_path}/m.db")


async def test_sync_adds_sources_and_subscribers(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(subs=("s1",)), T0)
    states = await store.states()
    assert {n: (s.url, s.error_count, s.next_due_at) for n, s in states.items()} == {
        "a": ("https://a.ma/feed", 0, T0),  # due from when it was added
        "b": ("https://b.ma/feed", 0, T0),
    }
    await store.sync(config(subs=("s1", "s2")), T0 + timedelta(days=1))
    async with engine.connect() as conn:
        since = dict((await conn.execute(select(subscribers.c.name, subscribers.c.since))).all())
    # an existing subscriber keeps its start; a new one starts now
    assert since == {"s1": T0, "s2": T0 + timedelta(days=1)}
    assert set(await store.states(["b"])) == {"b"}


async def test_sync_resets_validators_when_the_url_changes(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    await store.record([outcome("a", (item("a", "k1"),))])
    await store.record([outcome("b")])
    await store.sync(config({"a": "https://a.ma/new-feed", "b": "https://b.ma/feed"}), T0)
    states = await store.states()
    moved, kept = states["a"], states["b"]
    assert (moved.url, moved.etag, moved.last_modified, moved.content_hash) == (
        "https://a.ma/new-feed",
        None,
        None,
        None,
    )
    assert (kept.etag, kept.last_modified, kept.content_hash) == ('"e1"', "lm", "h1")
    assert await store.seen("a", ["k1"]) == {"k1"}  # seen items stay: nothing alerts twice
    # and the poller is told so: its reset state still says the source has items
    assert (moved.first_poll_at, moved.has_items, kept.has_items) == (None, True, False)


async def test_a_sync_compares_outside_its_transaction_and_moves_a_source_once(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one sync compares the configuration with the table (a second at 100,000 sources),
    the store takes other writes (a claim); and a replica's sync that read the table before
    another moved a source does not start that source afresh a second time, nor stamp again
    the removal of a source the other removed."""
    store = SourceStore(engine)
    await store.sync(config(), T0)
    moved = config({"a": "https://a.ma/new-feed"})  # and b removed
    entered, release = threading.Event(), threading.Event()
    compare, calls = _Changes.between, []

    def held(rows: Sequence[Sequence[object]], config: Config, now: datetime) -> _Changes:
        calls.append(now)
        if len(calls) == 1:
            entered.set()
            release.wait(10)
        return compare(rows, config, now)

    monkeypatch.setattr(_Changes, "between", held)
    first = asyncio.create_task(store.sync(moved, T0 + timedelta(minutes=1)))
    try:
        assert await asyncio.to_thread(entered.wait, 10)
        await asyncio.wait_for(store.reserve({"b": T0 + timedelta(hours=1)}), 3)
        await store.sync(moved, T0 + timedelta(minutes=2))  # another replica, first to write
        await store.record([outcome("a", (item("a", "k1"),))])  # and a's first poll
    finally:
        release.set()
    await first
    states = await store.states()
    assert (states["a"].url, states["a"].etag) == ("https://a.ma/new-feed", '"e1"')
    async with engine.connect() as conn:
        query = select(sources.c.removed_at, sources.c.next_due_at).where(sources.c.name == "b")
        assert (await conn.execute(query)).one() == (
            T0 + timedelta(minutes=2),
            T0 + timedelta(hours=1),
        )


async def test_sync_resets_a_source_whose_kind_or_selectors_change(engine: AsyncEngine) -> None:
    """A home page whose feed was found (kind auto), turned into an html source at the same
    URL, is read at that URL again; new selectors start afresh too; the interval does not."""
    store = SourceStore(engine)
    page = {"name": "p", "url": "https://p.ma/", "kind": "auto"}
    await store.sync(Config.model_validate({"sources": [page]}), T0)
    found = replace(outcome("p"), location=Location("https://p.ma/feed/"))
    await store.record([found])
    assert (await store.states())["p"].url == "https://p.ma/feed/"
    html = {**page, "kind": "html", "item": "article", "title": "h2"}
    for changed, reset in (
        (html, True),
        ({**html, "interval": "1h"}, False),
        ({**html, "title": "h3"}, True),
    ):
        await store.record([replace(outcome("p"), location=Location("https://p.ma/x"))])
        await store.sync(Config.model_validate({"sources": [changed]}), T0)
        state = (await store.states())["p"]
        assert (state.url, state.content_hash) == (
            ("https://p.ma/", None) if reset else ("https://p.ma/x", "h1")
        ), changed


async def test_a_source_has_items_once_a_poll_recorded_one(engine: AsyncEngine) -> None:
    """What lets a new source's first poll skip reading which of its items were seen."""
    store = SourceStore(engine)
    await store.sync(config(), T0)
    assert [s.has_items for s in (await store.states()).values()] == [False, False]
    await store.record([outcome("a", (item("a", "k1"),))])
    await store.record([outcome("b")])  # polled, nothing in it
    states = await store.states(["a", "b"])
    assert (states["a"].has_items, states["b"].has_items) == (True, False)


async def test_a_source_no_longer_configured_is_marked_removed_until_it_comes_back(
    engine: AsyncEngine,
) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    await store.record([outcome("a", (item("a", "k1"),))])
    later = T0 + timedelta(hours=1)
    await store.sync(config({"b": "https://b.ma/feed"}), later)

    async def removed() -> dict[str, datetime | None]:
        async with engine.connect() as conn:
            rows = await conn.execute(select(sources.c.name, sources.c.removed_at))
            return dict(rows.all())

    assert await removed() == {"a": later, "b": None}
    # not polled, not waited for, but remembered: nothing it had seen alerts again
    leases = source_leases(engine, "one")
    assert await leases.claim(None, later, later + timedelta(minutes=2), POLLED) == ["b"]
    assert await store.next_due("one", later, ["b"]) is None
    await store.sync(config({"b": "https://b.ma/feed"}), later + timedelta(hours=1))
    assert (await removed())["a"] == later  # marked once, at its removal
    await store.sync(config(), later + timedelta(hours=2))
    assert await removed() == {"a": None, "b": None}
    assert await store.seen("a", ["k1"]) == {"k1"}
    assert await store.next_due("one", later, ["b"]) == T0 + timedelta(minutes=15)


async def test_the_sources_polled_are_those_configured_and_not_gone(engine: AsyncEngine) -> None:
    """Read on the table (store mode), or the configured names less the gone ones: the same
    set, the latter holding the configuration's own strings."""
    store = SourceStore(engine)
    three = {"a": "https://a.ma/feed", "b": "https://b.ma/feed", "c": "https://c.ma/feed"}
    await store.sync(config(three), T0)
    async with engine.begin() as conn:
        await conn.execute(update(sources).where(sources.c.name == "b").values(gone_at=T0))
    two = config({"a": three["a"], "b": three["b"]})
    await store.sync(two, T0)  # c removed
    assert await store.polled() == {"a"}
    named = "".join(["a"])  # (a string of its own, not the interned literal)
    [polled] = await store.polled([named, "b"])
    assert polled is named


async def test_record_success_writes_items_matches_and_outbox(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    await store.record([outcome("a", (item("a", "k1"), item("a", "k2")))])
    assert [await count(engine, t) for t in (items, matches, outbox)] == [2, 2, 4]
    state = (await store.states())["a"]
    assert (state.last_result, state.last_new_items, state.last_matches) == ("ok", 2, 2)
    assert (state.last_poll_at, state.next_due_at) == (T0, T0 + timedelta(minutes=15))
    async with engine.connect() as conn:
        row = (
            (
                await conn.execute(
                    select(outbox).where(outbox.c.subscriber == "s1").order_by(outbox.c.id)
                )
            )
            .mappings()
            .first()
        )
    assert row is not None
    assert (row["article"], row["rules"], row["terms"], row["state"], row["digest_id"]) == (
        "https://a.ma/k1",
        ["ia"],
        {"ia": ["IA"]},
        "pending",
        None,
    )


def unknown_delivery(found: tuple[Item, ...]) -> PollOutcome:
    base = outcome("a", found)
    extra = Delivery("s1", "not-in-this-poll", ("ia",), {"ia": ("IA",)})
    return replace(base, deliveries=(*base.deliveries, extra))


def unknown_match(found: tuple[Item, ...]) -> PollOutcome:
    base = outcome("a", found)
    return replace(base, matches={**base.matches, "ghost": (IA,)})


@pytest.mark.parametrize("broken", [unknown_delivery, unknown_match])
async def test_record_success_is_one_transaction(
    engine: AsyncEngine, broken: Callable[[tuple[Item, ...]], PollOutcome]
) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    # the failure comes after the source row, the items and (for deliveries) the matches
    with pytest.raises(KeyError):
        await store.record([broken((item("a", "k1"), item("a", "k2")))])
    assert [await count(engine, t) for t in (items, matches, outbox)] == [0, 0, 0]
    state = (await store.states())["a"]
    assert (state.last_poll_at, state.first_poll_at, state.etag, state.last_result) == (
        None,
        None,
        None,
        None,
    )


async def test_recording_the_same_items_twice_is_harmless(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    found = (item("a", "k1"), item("a", "k2"))
    await store.record([outcome("a", found)])
    await store.record([outcome("a", found, at=T0 + timedelta(minutes=15))])
    assert [await count(engine, t) for t in (items, matches, outbox)] == [2, 2, 4]


async def test_one_article_from_two_sources_is_owed_once(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    link = "https://news.ma/article-1"
    await store.record([outcome("a", (item("a", "guid-a", link),))])
    await store.record([outcome("b", (item("b", "guid-b", link),))])
    assert await count(engine, items) == 2  # each source remembers what it has seen
    async with engine.connect() as conn:
        owed = (await conn.execute(select(outbox.c.subscriber, outbox.c.article))).all()
    assert sorted(owed) == [("s1", link), ("s2", link)]


async def test_the_rows_of_a_poll_hold_what_sqlalchemy_would_bind(engine: AsyncEngine) -> None:
    """Items, matches and outbox rows are written with the driver's executemany, their values
    bound beforehand: the JSON text and the times are those SQLAlchemy's own types write, and
    subscribers of other rules get their own encodings (shared only between equal values)."""
    store = SourceStore(engine)
    await store.sync(config(subs=("s1", "s2", "s3")), T0)
    found = (item("a", "k1"), replace(item("a", "k2"), published=None))
    hits = {"ia": (Hit("IA", "title", 0, 2),), "éco": (Hit("économie", "summary", 3, 11),)}
    owed = {"s1": ("ia",), "s2": ("ia", "éco"), "s3": ("ia",)}
    poll = replace(
        outcome("a", found, at=T0 + timedelta(seconds=1, microseconds=5)),
        matches={i.key: (Match("ia", ("IA",), hits["ia"]),) for i in found}
        | {"k2": (Match("ia", ("IA",)), Match("éco", ("économie",), hits["éco"]))},
        deliveries=tuple(
            Delivery(
                s,
                i.key,
                rules,
                {r: (r.upper(),) for r in rules},
                tuple((r, h) for r in rules for h in hits[r]),
            )
            for i in found
            for s, rules in owed.items()
        ),
    )
    await store.record([poll])
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                select(items.c.key, items.c.published, items.c.seen_at).order_by(items.c.id)
            )
        ).all()
        raw = (
            await conn.execute(
                select(
                    outbox.c.subscriber,
                    *(cast(outbox.c[c], Text) for c in ("rules", "terms", "hits")),
                    outbox.c.created_at,
                ).order_by(outbox.c.id)
            )
        ).all()
        terms = (await conn.execute(select(matches.c.rule, cast(matches.c.terms, Text)))).all()
    assert stored == [("k1", T0, poll.at), ("k2", None, poll.at)]
    expected = [
        (
            s,
            json.dumps(list(rules)),
            json.dumps({r: [r.upper()] for r in rules}),
            json.dumps([[r, *h] for r in rules for h in hits[r]]),
            poll.at,
        )
        for _ in found
        for s, rules in owed.items()
    ]
    assert raw == expected
    assert sorted(terms) == sorted(
        [("ia", '["IA"]'), ("ia", '["IA"]'), ("éco", json.dumps(["économie"]))]
    )


async def test_an_item_stored_before_keeps_its_id(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    await store.record([outcome("a", (item("a", "k1"),), subs=("s1",))])
    async with engine.connect() as conn:
        first = await conn.scalar(select(items.c.id).where(items.c.key == "k1"))
    # a hub pushes it again with a new one, owed to both subscribers now
    pushed = outcome("a", (item("a", "k1"), item("a", "k2")), at=T0 + timedelta(minutes=5))
    await store.record(news=[News("a", pushed.at, pushed.items, pushed.matches, pushed.deliveries)])
    async with engine.connect() as conn:
        ids = dict((await conn.execute(select(items.c.key, items.c.id))).all())
        owed = (
            await conn.execute(select(outbox.c.subscriber, outbox.c.item_id, outbox.c.created_at))
        ).all()
        matched = (await conn.execute(select(matches.c.item_id))).scalars().all()
    assert ids["k1"] == first and ids["k2"] != first
    assert sorted(owed) == [
        ("s1", ids["k1"], T0),  # not owed twice: the first row stays as it was
        ("s1", ids["k2"], pushed.at),
        ("s2", ids["k1"], pushed.at),
        ("s2", ids["k2"], pushed.at),
    ]
    assert sorted(matched) == sorted([ids["k1"], ids["k2"]])


async def test_a_key_with_a_nul_character_is_found_on_sqlite(tmp_path: Path) -> None:
    """SQLite's JSON functions (the ids' lookup) cut a string at a NUL: such an item is read
    alone. (PostgreSQL's text holds no NUL at all.)"""
    engine = await open_engine(f"sqlite:///{tmp_path}/m.db")
    try:
        store = SourceStore(engine)
        await store.sync(config(), T0)
        await store.record([outcome("a", (item("a", "k\x001", "https://a.ma/1"),))])
        await store.record([outcome("a", (item("a", "k\x002", "https://a.ma/2"),))])
        async with engine.connect() as conn:
            rows = (await conn.execute(select(items.c.key, items.c.id).order_by(items.c.id))).all()
            owed = (await conn.execute(select(outbox.c.item_id))).scalars().all()
        assert [key for key, _ in rows] == ["k\x001", "k\x002"]
        assert sorted(owed) == sorted([rows[0][1], rows[0][1], rows[1][1], rows[1][1]])
    finally:
        await engine.dispose()


async def test_items_without_link_are_distinct_articles_per_source(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    await store.record([outcome("a", (item("a", "k1", ""),), subs=("s1",))])
    await store.record([outcome("b", (item("b", "k1", ""),), subs=("s1",))])
    assert await count(engine, outbox) == 2


async def test_first_poll_is_set_once(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    clock = FakeClock(T0)
    await store.record([outcome("a", at=clock())])
    clock.advance(timedelta(hours=1))
    await store.record([outcome("a", at=clock(), result="unchanged")])
    state = (await store.states())["a"]
    assert (state.first_poll_at, state.last_poll_at) == (T0, T0 + timedelta(hours=1))


async def test_not_modified_keeps_the_validators(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    await store.record([outcome("a")])
    later = PollOutcome(
        source="a",
        at=T0 + timedelta(hours=1),
        result="not-modified",
        status=304,
        etag=None,
        last_modified=None,
        content_hash=None,
        next_due_at=T0 + timedelta(hours=2),
    )
    await store.record([later])
    state = (await store.states())["a"]
    assert (state.etag, state.last_modified, state.content_hash) == ('"e1"', "lm", "h1")
    assert (state.last_result, state.last_status) == ("not-modified", 304)


async def test_record_failure_counts_and_keeps_seen_items(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    await store.record([outcome("a", (item("a", "k1"),))])
    counts = []
    for n in (1, 2, 3):
        failure = PollFailure(
            "a", T0 + timedelta(minutes=n), 503, "x" * 5000, T0 + timedelta(hours=n)
        )
        await store.record(failures=[failure])
        counts.append((await store.states())["a"].error_count)
    assert counts == [1, 2, 3]
    state = (await store.states())["a"]
    assert (state.error_count, state.last_result, state.last_status) == (3, "error", 503)
    assert state.next_due_at == T0 + timedelta(hours=3)
    assert state.last_error is not None and len(state.last_error) == 1000
    assert state.first_poll_at == T0  # an error is not a first poll
    assert await store.seen("a", ["k1"]) == {"k1"}
    assert await count(engine, outbox) == 2
    await store.record([outcome("a", at=T0 + timedelta(hours=4))])
    assert (await store.states())["a"].error_count == 0


async def test_seen_is_per_source_and_handles_many_keys(engine: AsyncEngine) -> None:
    store = SourceStore(engine)
    await store.sync(config(), T0)
    found = tuple(item("a", f"k{n}") for n in range(0, 1200, 2))
    await store.record([outcome("a", found, subs=())])
    keys = [f"k{n}" for n in range(1200)]  # more keys than one IN (…) chunk
    assert await store.seen("a", keys) == {i.key for i in found}
    assert await store.seen("b", keys) == set()
    assert await store.seen("a", []) == set()


async def test_a_version_0004_store_upgrades_with_its_data_and_back(storage: str) -> None:
    old = create_async_engine(engine_url(storage))
    seen = T0 - timedelta(days=40)
    try:
        async with old.begin() as conn:
            await conn.run_sync(migrate("upgrade", "0004"))
            # only the columns of version 0004
            inserted = await conn.execute(
                insert(items).values(
                    source="a",
                    key="k1",
                    article="https://a.ma/k1",
                    link="https://a.ma/k1",
                    title="Title k1",
                    summary="Summary k1",
                    published=T0,
                    seen_at=seen,
                )
            )
            assert inserted.inserted_primary_key is not None
            item_id = inserted.inserted_primary_key[0]
            await conn.execute(insert(matches).values(item_id=item_id, rule="ia", terms=["IA"]))
            # never polled: "null, due now" before version 0008; config_url until 0010
            old_sources = table(
                "sources",
                *map(column, ["name", "url", "config_url", "redirect_count", "error_count"]),
                *map(column, ["last_new_items", "last_matches"]),
            )
            await conn.execute(
                insert(old_sources).values(
                    name="a",
                    url="https://a.ma/feed",
                    config_url="https://a.ma/feed",
                    redirect_count=0,
                    error_count=0,
                    last_new_items=0,
                    last_matches=0,
                )
            )
            await conn.execute(
                insert(outbox).values(
                    subscriber="s1",
                    article="https://a.ma/k1",
                    item_id=item_id,
                    rules=["ia"],
                    terms={"ia": ["IA"]},
                    state="sent",
                    created_at=seen,
                )
            )
    finally:
        await old.dispose()

    with pytest.raises(
        StoreError,
        match=rf"has schema version 0004, this monitor needs {head()}: run `monitor db upgrade`",
    ):
        await open_engine(storage)  # the daemon does not upgrade a schema in use on its own
    engine = await open_engine(storage, upgrade=True)
    try:
        async with engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            item_row = (await conn.execute(select(items))).mappings().one()
            owed = (await conn.execute(select(outbox))).mappings().one()
            indexes = await conn.run_sync(
                lambda c: {
                    table: {
                        i["name"]: tuple(i["column_names"]) for i in inspect(c).get_indexes(table)
                    }
                    for table in ("items", "outbox", "sources", "digests")
                }
            )
            source = (await conn.execute(select(sources))).mappings().one()
        assert version == head()
        assert (item_row["title"], item_row["summary"], item_row["content"]) == (
            "Title k1",
            "Summary k1",
            None,  # not kept before version 0005
        )
        assert (item_row["seen_at"], item_row["published"]) == (seen, T0)
        assert (owed["item_id"], owed["terms"], owed["state"], owed["hits"]) == (
            item_id,
            {"ia": ["IA"]},
            "sent",
            None,
        )
        # (PostgreSQL lists the unique constraints' indexes too)
        assert {
            table: {n for n in names if n and n.startswith("ix_")}
            for table, names in indexes.items()
        } == {
            # the search index: a GIN index on PostgreSQL, an FTS5 table on SQLite (v0013)
            "items": {"ix_items_seen_at", "ix_items_text_kept", "ix_items_source_id"}
            | ({"ix_items_search"} if engine.dialect.name == "postgresql" else set()),
            "outbox": {
                "ix_outbox_subscriber_digest",
                "ix_outbox_item_state",
                "ix_outbox_digest",
                "ix_outbox_pending",  # the rows owed, by creation (v0019)
            },
            "sources": {"ix_sources_due"},
            "digests": {"ix_digests_state_next", "ix_digests_subscriber_state"},  # (v0019)
        }
        # the claim's whole order: a million sources due at one instant sort no ties (v0019)
        assert indexes["sources"]["ix_sources_due"] == ("next_due_at", "name")
        # the words of the existing item were indexed by the migration
        assert "k1" in item_row["title_words"] and "summary" in item_row["text_words"]
        # due since ever, so that the index finds it; still configured
        long_ago = datetime(1970, 1, 1, tzinfo=UTC)
        assert (source["next_due_at"], source["removed_at"]) == (long_ago, None)
        assert (source["config_key"], source["polls"]) == ("https://a.ma/feed", 0)
        # an old row counts as kept (its summary), with an empty content, until it is pruned
        [stored] = await items_since(engine, seen)
        assert (stored.id, stored.item.summary, stored.item.content) == (item_id, "Summary k1", "")
        assert await prune_text(engine, T0, timedelta(days=30)) == 1
        assert await items_since(engine, seen) == [] and await pruned_since(engine, seen) == 1

        async with engine.begin() as conn:  # foreign keys on: nothing may cascade
            await conn.run_sync(migrate("downgrade", "0004"))
        async with engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            columns = await conn.run_sync(
                lambda c: {
                    t: {col["name"] for col in inspect(c).get_columns(t)}
                    for t in ("items", "outbox")
                }
            )
        assert version == "0004"
        assert "content" not in columns["items"] and "hits" not in columns["outbox"]
        assert [await count(engine, t) for t in (items, matches, outbox)] == [1, 1, 1]
    finally:
        await engine.dispose()
    again = await open_engine(storage, upgrade=True)  # and up again
    try:
        assert [await count(again, t) for t in (items, matches, outbox)] == [1, 1, 1]
    finally:
        await again.dispose()


async def test_a_migration_interrupted_after_its_ddl_leaves_the_old_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while migrating (here an error raised after every statement of the upgrade ran)
    rolls the DDL back with the rest: the store is still a clean version 0004, not tables
    without their version stamp that no later start could upgrade."""
    storage = f"sqlite:///{tmp_path}/m.db"
    await at_revision(storage, "0004")

    def crash_after(connection: Connection) -> None:
        migrate("upgrade", "head")(connection)
        raise OSError("killed")

    monkeypatch.setattr("monitor.store.schema.upgrade", crash_after)
    with pytest.raises(StoreError, match="killed"):
        await open_engine(storage, upgrade=True)
    monkeypatch.undo()
    with sqlite3.connect(tmp_path / "m.db") as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(items)")}
        version = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert "content" not in columns
    assert version == ("0004",)
    engine = await open_engine(storage, upgrade=True)  # the next upgrade succeeds
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT version_num FROM alembic_version")) == head()
    finally:
        await engine.dispose()


def test_the_version_constants_agree_with_alembic() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert head() == scripts.get_current_head()
    assert _known() == {script.revision for script in scripts.walk_revisions()}


@pytest.mark.slow
def test_a_start_on_an_up_to_date_store_does_not_load_alembic_or_lxml(tmp_path: Path) -> None:
    """Alembic (11 MB) only for migrating, lxml only in the parse workers: neither is in the
    daemon's memory once the store is current."""
    script = (
        "import asyncio, sys\n"
        "from monitor.store import open_engine\n"
        "import monitor.daemon.app\n"
        "async def main():\n"
        f"    engine = await open_engine('sqlite:///{tmp_path}/m.db')\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in ('alembic', 'lxml') if m in sys.modules))\n"
    )
    run = [sys.executable, "-c", script]
    first = subprocess.run(run, capture_output=True, text=True, check=True)
    assert first.stdout.strip() == "['alembic']"  # a new store: migrated
    again = subprocess.run(run, capture_output=True, text=True, check=True)
    assert again.stdout.strip() == "[]"


@pytest.mark.slow
async def test_thousands_of_sources_sync_within_the_parameter_limits(engine: AsyncEngine) -> None:
    """5,000 sources are 35,000 values to insert: past asyncpg's 32,767 parameters a statement
    (and, removed, past any IN list a backend takes) unless written in chunks."""
    many = {f"s{n:04}": f"https://x.ma/{n}" for n in range(5000)}
    store = SourceStore(engine)
    await store.sync(config(many), T0)
    assert len(await store.states()) == 5000
    await store.sync(config({"s0000": "https://x.ma/0"}), T0 + timedelta(hours=1))
    leases = source_leases(engine, "one")
    assert await leases.claim(None, T0 + timedelta(hours=1), T0 + timedelta(hours=2), POLLED) == [
        "s0000"
    ]


def sqlite_memory_used() -> int:
    """Bytes the process's SQLite library holds (the one Python's sqlite3 module uses: a copy
    that nothing opened would say 0, and the caller checks it does not)."""
    library = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return int(library.sqlite3_memory_used())


@pytest.mark.slow
async def test_a_sqlite_connection_keeps_few_prepared_statements(tmp_path: Path) -> None:
    """Batched statements change SQL with their size: each size prepared and kept on every
    pooled connection held 35 MB after a first poll of 10,000 sources (issue 7). 150 sizes of
    an IN list of ~400 keys hold ~9 MB with sqlite3's default cache of 128, ~1 MB with 16."""
    engine = await open_engine(f"sqlite:///{tmp_path}/m.db")
    try:
        async with engine.connect() as conn:
            await conn.execute(select(items.c.key).limit(1))
            before = sqlite_memory_used()
            assert before > 0, "not the SQLite library Python's sqlite3 module uses"
            for size in range(300, 450):
                keys = [f"k{n}" for n in range(size)]
                await conn.execute(select(items.c.key).where(items.c.key.in_(keys)))
            held = sqlite_memory_used() - before
    finally:
        await engine.dispose()
    assert held < 3 * 2**20, f"{held / 2**20:.1f} MB held by one connection's statements"
