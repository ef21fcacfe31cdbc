"""Item text kept for ``retention.text``, then pruned (content NULL, summary ''), except what a
pending digest still owes; the window read back for backtests. Store on a real SQLite file, and
the daemon with a fake clock against loopback peers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.load import parse_config
from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import StoreError
from monitor.core.models import NOTICE_KEY_PREFIX, Item
from monitor.daemon import jobs as scheduler_module
from monitor.daemon.app import App
from monitor.daemon.forever import run_forever
from monitor.daemon.jobs import PRUNE, build_scheduler
from monitor.store import retention
from monitor.store.polls import MAX_CONTENT
from monitor.store.retention import (
    StoredItem,
    items_since,
    prune_text,
    pruned_since,
    stream_items_since,
    stream_newest_since,
)
from monitor.store.tables import items, outbox
from tests.support.daemon import build_config
from tests.support.outbox_helpers import open_synced, record_owed
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WINDOW = timedelta(days=30)


@pytest.fixture
async def engine(storage: str) -> AsyncIterator[AsyncEngine]:
    engine = await open_synced(storage, [SubscriberConfig(name="s1", console=True)], T0)
    yield engine
    await engine.dispose()


def item(key: str, content: str = "", summary: str = "") -> Item:
    return Item(
        source="a",
        key=key,
        link=f"https://a.ma/{key}",
        title=f"Titre {key}",
        summary=summary or f"Résumé {key}",
        content=content or f"Le texte de {key}, sur l’IA.",
        published=T0 - timedelta(days=60),
    )


async def text_of(engine: AsyncEngine) -> dict[str, tuple[str, str, str | None]]:
    """key: (title, summary, content) of every item."""
    query = select(items.c.key, items.c.title, items.c.summary, items.c.content)
    async with engine.connect() as conn:
        return {row.key: (row.title, row.summary, row.content) for row in await conn.execute(query)}


async def send_all(engine: AsyncEngine) -> None:
    """Every pending outbox row as if its digest had been sent."""
    async with engine.begin() as conn:
        await conn.execute(update(outbox).where(outbox.c.state == "pending").values(state="sent"))


async def test_the_plain_text_content_is_stored_and_capped(engine: AsyncEngine) -> None:
    long = "mot " * 40_000  # 160,000 characters
    await record_owed(engine, [item("short"), item("long", content=long)], [], T0)
    stored = await text_of(engine)
    assert stored["short"] == ("Titre short", "Résumé short", "Le texte de short, sur l’IA.")
    assert stored["long"][2] == long[:MAX_CONTENT] and MAX_CONTENT == 100_000


async def test_prune_clears_old_text_but_keeps_recent_and_owed_items(engine: AsyncEngine) -> None:
    await record_owed(engine, [item("old")], [], T0 - 40 * DAY)
    await record_owed(engine, [item("owed")], ["s1"], T0 - 40 * DAY)  # its digest is not sent
    await record_owed(engine, [item("edge")], [], T0 - WINDOW)  # exactly as old as the window
    await record_owed(engine, [item("recent")], [], T0 - 10 * DAY)
    before = await text_of(engine)

    assert await prune_text(engine, T0, WINDOW) == 1
    after = await text_of(engine)
    assert after["old"] == ("Titre old", "", None)  # the row and its title stay
    assert {k: after[k] for k in ("owed", "edge", "recent")} == {
        k: before[k] for k in ("owed", "edge", "recent")
    }
    assert await prune_text(engine, T0, WINDOW) == 0  # nothing more to clear
    assert await text_of(engine) == after

    await send_all(engine)  # once sent, its text may go
    assert await prune_text(engine, T0, WINDOW) == 1
    assert (await text_of(engine))["owed"] == ("Titre owed", "", None)
    assert await prune_text(engine, T0 + DAY, WINDOW) == 1  # the edge, a day later
    assert await prune_text(engine, T0 + DAY, WINDOW) == 0


async def test_prune_works_in_chunks_past_items_it_must_keep(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "PRUNE_CHUNK", 3)
    await record_owed(engine, [item(f"owed{n}") for n in range(4)], ["s1"], T0 - 50 * DAY)
    await record_owed(engine, [item(f"old{n}") for n in range(10)], [], T0 - 40 * DAY)
    assert await prune_text(engine, T0, WINDOW) == 10
    stored = await text_of(engine)
    assert all(stored[f"old{n}"][1:] == ("", None) for n in range(10))
    assert all(stored[f"owed{n}"][2] is not None for n in range(4))
    assert await prune_text(engine, T0, WINDOW) == 0


async def test_items_since_gives_the_kept_items_in_order_and_counts_the_pruned(
    engine: AsyncEngine,
) -> None:
    await record_owed(engine, [item("ancient")], [], T0 - 60 * DAY)  # pruned, before the window
    await record_owed(engine, [item("gone1"), item("gone2")], [], T0 - 35 * DAY)  # pruned
    await record_owed(engine, [item("kept-owed")], ["s1"], T0 - 34 * DAY)  # kept: owed
    # several items seen at one instant: ordered by row id, across chunk boundaries
    batch = [item(f"b{n}") for n in range(5)]
    await record_owed(engine, batch, [], T0 - 2 * DAY)
    await record_owed(engine, [item("last")], [], T0)
    notice = Item("a", f"{NOTICE_KEY_PREFIX}a:failing:x:fr", "", "Source a en panne", "…", "", T0)
    await record_owed(engine, [notice], [], T0)  # not an article: never backtested
    assert await prune_text(engine, T0 - DAY, WINDOW) == 3

    since = T0 - 40 * DAY
    found = await items_since(engine, since)
    assert [s.item.key for s in found] == ["kept-owed", *(i.key for i in batch), "last"]
    assert all(isinstance(s, StoredItem) for s in found)
    assert found[1] == StoredItem(found[1].id, batch[0], T0 - 2 * DAY)  # the item, whole
    assert [s.id for s in found] == sorted(s.id for s in found)
    assert [s.seen_at for s in found] == sorted(s.seen_at for s in found)
    assert await pruned_since(engine, since) == 2  # "ancient" is outside the window
    assert await pruned_since(engine, T0 - 100 * DAY) == 3
    assert await items_since(engine, T0 + timedelta(seconds=1)) == []

    for size in (1, 2, 3, 7):
        streamed = [s async for s in stream_items_since(engine, since, chunk=size)]
        assert streamed == found


async def test_newest_since_gives_every_item_newest_first_the_pruned_with_their_title(
    engine: AsyncEngine,
) -> None:
    await record_owed(engine, [item("ancient")], [], T0 - 60 * DAY)  # before the window
    await record_owed(engine, [item("gone1"), item("gone2")], [], T0 - 35 * DAY)  # pruned
    batch = [item(f"b{n}") for n in range(5)]  # seen at one instant: by row id, descending
    await record_owed(engine, batch, [], T0 - 2 * DAY)
    await record_owed(engine, [item("last")], [], T0)
    notice = Item("a", f"{NOTICE_KEY_PREFIX}a:failing:x:fr", "", "Source a en panne", "…", "", T0)
    await record_owed(engine, [notice], [], T0)  # not an article: never tried
    assert await prune_text(engine, T0 - DAY, WINDOW) == 3

    found = [s async for s in stream_newest_since(engine, T0 - 40 * DAY)]
    keys = ["last", *(i.key for i in reversed(batch)), "gone2", "gone1"]
    assert [s.item.key for s in found] == keys
    assert [s.text_kept for s in found] == [True] * 6 + [False] * 2
    gone = found[-1].item
    assert (gone.title, gone.summary, gone.content) == ("Titre gone1", "", "")  # the title alone
    assert found[1] == StoredItem(found[1].id, batch[-1], T0 - 2 * DAY)  # the item, whole
    for size in (1, 2, 3, 7):
        assert [s async for s in stream_newest_since(engine, T0 - 40 * DAY, chunk=size)] == found
    assert [s async for s in stream_newest_since(engine, T0 + timedelta(seconds=1))] == []


async def test_items_since_is_read_only(engine: AsyncEngine) -> None:
    await record_owed(engine, [item("k")], [], T0 - 40 * DAY)
    before = await text_of(engine)
    assert [s.item.key for s in await items_since(engine, T0 - 50 * DAY)] == ["k"]
    assert await text_of(engine) == before


# the daemon


def feed(entries: list[tuple[str, str]], published: datetime) -> bytes:
    """RSS 2.0 whose items carry their text in content:encoded, as HTML."""
    date = published.strftime("%a, %d %b %Y %H:%M:%S +0000")
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>F</title>'
        "<link>https://x.ma/</link><description>d</description>"
    ]
    for guid, title in entries:
        parts.append(
            f"<item><title>{title}</title><link>https://x.ma/{guid}</link>"
            f'<guid isPermaLink="false">{guid}</guid><description>Résumé {guid}</description>'
            f"<content:encoded><![CDATA[<p>Texte <b>complet</b> de {guid}.</p>]]>"
            f"</content:encoded><pubDate>{date}</pubDate></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def pruned_events(caplog: pytest.LogCaptureFixture) -> list[object]:
    return [r.__dict__["fields"] for r in caplog.records if r.getMessage() == "text-pruned"]


@pytest.mark.slow
async def test_run_once_prunes_what_is_past_the_window_and_not_owed(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(T0)
    entries = [("a1", "Le démarchage téléphonique interdit"), ("a2", "Météo du week-end")]
    feeds.resources["/feed"] = Resource(feed(entries, T0 - timedelta(hours=1)))
    held = WebhookReceiver(statuses=[503, 503])  # the digest owed to it waits for a retry
    await held.start()
    subscribers = (
        f"  - name: ops\n    webhook: {receiver.url}/ops\n"
        f"  - name: held\n    webhook: {held.url}/held\n    rules: [demarchage]\n"
    )
    config = build_config(tmp_path, {"eco": f"{feeds.url}/feed"}, subscribers)
    try:
        with caplog.at_level(logging.INFO, logger="monitor"):
            async with App(config, clock=clock) as app:
                engine = app.store.engine
                await app.run_once()
                kept = await items_since(engine, T0 - DAY)
                assert [(s.item.key, s.item.content) for s in kept] == [
                    ("g:a1", "Texte complet de a1."),
                    ("g:a2", "Texte complet de a2."),
                ]
                assert pruned_events(caplog) == []

                clock.advance(WINDOW + DAY)
                await app.run_once()  # held answers 503 again: a1 is still owed to it
                assert [s.item.key for s in await items_since(engine, T0 - DAY)] == ["g:a1"]
                assert await pruned_since(engine, T0 - DAY) == 1
                assert pruned_events(caplog) == [
                    {"items": 1, "before": (clock.now - WINDOW).isoformat()}
                ]

                clock.advance(DAY)
                await app.run_once()  # the retry goes through: nothing is owed any more
                assert await items_since(engine, T0 - DAY) == []
                assert len(pruned_events(caplog)) == 2
                await app.run_once()
                assert len(pruned_events(caplog)) == 2  # nothing pruned: nothing logged
        assert len(held.accepted()) == 1 and len(receiver.accepted()) == 1
    finally:
        await held.close()


@pytest.mark.slow
async def test_a_failing_prune_is_one_logged_line_and_run_once_goes_on(
    tmp_path: Path,
    feeds: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(engine: AsyncEngine, now: datetime, window: timedelta) -> int:
        raise StoreError("database error: OperationalError: database is locked")

    monkeypatch.setattr("monitor.daemon.pruning.prune_text", broken)
    feeds.resources["/feed"] = Resource(feed([("a1", "Météo")], T0))
    config = build_config(
        tmp_path, {"eco": f"{feeds.url}/feed"}, "  - name: t\n    console: true\n"
    )
    with caplog.at_level(logging.INFO, logger="monitor"):
        async with App(config, clock=FakeClock(T0)) as app:
            polls, _ = await app.run_once()
            assert [p.result for p in polls] == ["ok"]
    failures = [r for r in caplog.records if r.getMessage() == "prune-failed"]
    assert [(r.levelno, r.__dict__["fields"]) for r in failures] == [
        (logging.ERROR, {"error": "database error: OperationalError: database is locked"})
    ]


async def test_the_scheduler_prunes_every_hour() -> None:
    async def job() -> None:
        return None

    loop = asyncio.get_running_loop()
    scheduler = build_scheduler(job, job, job, job, loop)
    [prune] = [j for j in scheduler.get_jobs() if j.id == "prune-text"]
    assert prune.func is job and PRUNE == timedelta(hours=1)
    assert isinstance(prune.trigger, IntervalTrigger)
    assert prune.trigger.interval == PRUNE
    # first run soon after a start: a daemon restarted every few minutes still prunes
    assert prune.next_run_time <= datetime.now(UTC) + timedelta(minutes=1)


async def test_the_running_daemon_prunes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(scheduler_module, "PRUNE_FIRST", timedelta(0))  # at once, not in 1 min
    config = parse_config(f"storage: sqlite:///{tmp_path}/monitor.db\n", "m.yaml", env={})
    clock, stop, pruned = FakeClock(T0), asyncio.Event(), asyncio.Event()
    with caplog.at_level(logging.INFO, logger="monitor"):
        async with App(config, clock=clock) as app:
            engine = app.store.engine
            await record_owed(engine, [item("old")], [], T0 - 40 * DAY)
            prune = app.prune

            async def watched() -> int:
                count = await prune()
                pruned.set()
                return count

            monkeypatch.setattr(app, "prune", watched)
            daemon = asyncio.create_task(run_forever(app, stop))
            await asyncio.wait_for(pruned.wait(), 10)
            stop.set()
            await asyncio.wait_for(daemon, 10)
            assert (await text_of(engine))["old"] == ("Titre old", "", None)
    assert pruned_events(caplog) == [{"items": 1, "before": (T0 - WINDOW).isoformat()}]
