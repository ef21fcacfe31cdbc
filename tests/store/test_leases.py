"""Leases (monitor.store.leases) on both backends: a row is held by one replica at a time,
until released or expired; concurrent claims on PostgreSQL never share a row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.sources import FeedSourceConfig
from monitor.daemon.app import App
from monitor.store import open_engine
from monitor.store.first_polls import first_due, spread_window
from monitor.store.leases import Leases, clear_all, source_leases, subscriber_leases
from monitor.store.sources import SourceStore
from monitor.store.tables import sources
from tests.support.daemon import build_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
NAMES = [f"s{n:03}" for n in range(120)]


async def sync_sources(engine: AsyncEngine) -> None:
    config = Config(sources=[FeedSourceConfig(name=n, url=f"https://x.ma/{n}") for n in NAMES])
    await SourceStore(engine).sync(config, T0)


@pytest.mark.slow
async def test_a_row_is_held_by_one_replica_until_released_or_expired(
    engine: AsyncEngine,
) -> None:
    await sync_sources(engine)
    one, two = source_leases(engine, "one"), source_leases(engine, "two")
    assert await one.claim(NAMES[:3], T0, T0 + LEASE) == NAMES[:3]
    assert await two.claim(NAMES[:5], T0, T0 + LEASE) == NAMES[3:5]  # the rest is held
    assert await one.claim(NAMES[:3], T0, T0 + LEASE) == NAMES[:3]  # ours: renewed
    await one.release(NAMES[:1])
    assert await two.claim(NAMES[:3], T0, T0 + LEASE) == NAMES[:1]
    # a replica that died: its leases are taken over once they expire, not before
    assert await two.claim(NAMES[1:3], T0 + LEASE - timedelta(seconds=1), T0 + 2 * LEASE) == []
    assert await two.claim(NAMES[1:3], T0 + LEASE, T0 + 2 * LEASE) == NAMES[1:3]
    await two.release()
    assert await one.claim(NAMES[:5], T0 + LEASE, T0 + 2 * LEASE) == NAMES[:5]


async def test_clearing_all_leases_frees_only_the_rows_held(engine: AsyncEngine) -> None:
    """A predecessor killed with -9 held some rows: free again at the start (only the rows
    held are written)."""
    await sync_sources(engine)
    one = source_leases(engine, "one")
    assert await one.claim(NAMES[:3], T0, T0 + LEASE) == NAMES[:3]
    await clear_all(engine)
    two = source_leases(engine, "two")
    assert await two.claim(NAMES[:5], T0, T0 + LEASE) == NAMES[:5]


async def test_claims_take_conditions_an_order_and_a_limit(engine: AsyncEngine) -> None:
    await sync_sources(engine)
    store = SourceStore(engine)
    states = await store.states(NAMES[:2])
    # due from when it was added (120 at once: a bulk, spread, monitor.store.first_polls)
    window = spread_window(len(NAMES), Config().defaults.interval)
    assert all(s.next_due_at == first_due(n, T0, window) for n, s in states.items())
    leases = source_leases(engine, "one")
    due = sources.c.name.in_(NAMES[10:20])
    order = sources.c.name.desc()
    claimed = await leases.claim(NAMES, T0, T0 + LEASE, due, first=order, limit=4)
    assert claimed == sorted(NAMES[16:20])
    assert await leases.claim([], T0, T0 + LEASE) == []
    # any row (no list of names), past those named in skip
    claimed = await leases.claim(None, T0, T0 + LEASE, due, skip=NAMES[10:13], limit=3)
    assert claimed == NAMES[13:16]


async def test_concurrent_claims_never_share_a_row(storage: str) -> None:
    """Many replicas claiming the same rows at once, each on its own connection pool: every
    row goes to exactly one of them (on PostgreSQL, FOR UPDATE SKIP LOCKED; on SQLite, its
    single writer)."""
    engines = [await open_engine(storage) for _ in range(4)]
    try:
        await sync_sources(engines[0])
        replicas = [
            Leases(engine, sources, f"r{k}") for k, engine in enumerate(engines) for _ in (0, 1)
        ]
        for k, replica in enumerate(replicas):
            replica.owner = f"r{k}"
        rounds = [
            replica.claim(NAMES, T0, T0 + LEASE, limit=25) for _ in range(3) for replica in replicas
        ]
        results = await asyncio.gather(*rounds)
        owners: dict[str, set[str]] = {}
        for replica, claimed in zip(replicas * 3, results, strict=True):
            for name in claimed:
                owners.setdefault(name, set()).add(replica.owner)
        assert set(owners) == set(NAMES)
        assert {name: o for name, o in owners.items() if len(o) > 1} == {}
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.slow
async def test_a_sqlite_daemon_drops_the_leases_of_a_killed_predecessor(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    """Alone on its file, a restarted daemon does not wait for leases no one alive holds
    (a kill -9 during a send left the subscriber leased for cluster.lease)."""
    clock = FakeClock()
    item = {"guid": "a", "title": "L'IA au Maroc", "link": "https://x.ma/a", "published": clock.now}
    feeds.resources["/eco"] = Resource(rss([item]))
    config = build_config(tmp_path, {"eco": f"{feeds.url}/eco"}, webhook_subscriber(receiver.url))
    engine = await open_engine(config.storage)
    try:
        await SourceStore(engine).sync(config, clock.now)
        dead = timedelta(hours=1)
        assert await subscriber_leases(engine, "dead").claim(["ops"], clock.now, clock.now + dead)
        assert await source_leases(engine, "dead").claim(["eco"], clock.now, clock.now + dead)
    finally:
        await engine.dispose()
    async with App(config, clock=clock) as app:
        # the dead replica's source lease is gone: this one can claim it
        assert await app.source_leases.claim(["eco"], clock.now, clock.now + LEASE) == ["eco"]
        await app.source_leases.release()
        _, sends = await app.run_once()
    assert [r.result for r in sends] == ["sent"]
    assert len(receiver.accepted()) == 1
