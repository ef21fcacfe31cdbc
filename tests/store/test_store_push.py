"""The WebSub subscriptions in the store, on SQLite and PostgreSQL: a hub link wanted, changed
or dropped; a due request claimed by one replica; verification, denial, deliveries and a hub
gone quiet deciding which sources the hubs are trusted to deliver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import HubLink
from monitor.store import ignoring, transaction
from monitor.store.push import PushStore
from monitor.store.tables import push_subscriptions

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def wanted(store: PushStore) -> dict[str, HubLink]:
    return {sub.source: sub.link for sub in await store.all() if sub.wanted}


async def delivering(store: PushStore, now: datetime) -> set[str]:
    return {sub.source for sub in await store.all() if sub.delivering(now)}


HUB = HubLink("https://hub.example/", "https://leseco.ma/feed")
OTHER = HubLink("https://other-hub.example/", "https://leseco.ma/feed")


async def test_a_link_wanted_changed_and_dropped(engine: AsyncEngine) -> None:
    store = PushStore(engine)
    assert await store.want("leseco", HUB, T0)
    assert not await store.want("leseco", HUB, T0)  # already known (another replica saw it)
    (first,) = await store.all()
    assert (first.source, first.link, first.wanted, first.renew_at) == ("leseco", HUB, True, T0)
    assert len(first.callback) >= 32 and len(first.secret) >= 32
    assert await wanted(store) == {"leseco": HUB}

    assert await store.want("leseco", OTHER, T0 + timedelta(hours=1))  # the feed moved hubs
    rows = {sub.hub: sub for sub in await store.all()}
    assert not rows[HUB.hub].wanted and rows[HUB.hub].renew_at == T0 + timedelta(hours=1)
    assert rows[OTHER.hub].wanted and rows[OTHER.hub].callback != first.callback
    assert await wanted(store) == {"leseco": OTHER}

    assert await store.want("leseco", None, T0)  # no hub any more
    assert [sub.wanted for sub in await store.all()] == [False, False]
    assert await wanted(store) == {}
    assert not await store.want("leseco", None, T0)


async def test_sources_no_longer_configured_are_unsubscribed(engine: AsyncEngine) -> None:
    store = PushStore(engine)
    await store.want("leseco", HUB, T0)
    await store.want("h24", OTHER, T0)
    assert await store.keep_only(["leseco", "autre"], T0) == 1
    assert await wanted(store) == {"leseco": HUB}
    assert await store.keep_only(["leseco"], T0) == 0


async def test_a_due_request_is_claimed_once(engine: AsyncEngine) -> None:
    store = PushStore(engine)
    await store.want("leseco", HUB, T0)
    assert await store.due(T0 - timedelta(seconds=1), 10) == []
    (due,) = await store.due(T0, 10)
    assert await store.claim(due, T0, T0 + timedelta(minutes=10))
    assert not await store.claim(due, T0, T0 + timedelta(minutes=10))  # a second replica: no
    assert await store.due(T0 + timedelta(minutes=5), 10) == []
    (again,) = await store.due(T0 + timedelta(minutes=10), 10)  # no verification came: again
    assert (again.callback, again.attempts, again.requested_at) == (due.callback, 1, T0)

    await store.failed(again.callback, "x" * 2000, T0 + timedelta(minutes=11))
    (failed,) = await store.all()
    assert failed.attempts == 1 and failed.last_error == "x" * 500
    assert failed.renew_at == T0 + timedelta(minutes=11)
    later = T0 + timedelta(minutes=11)
    assert await store.claim(failed, later, later + timedelta(minutes=10))
    (sent,) = await store.all()
    assert (sent.attempts, sent.last_error, sent.requested_at) == (2, None, later)
    await store.verified(
        sent.callback, later, later + timedelta(days=1), later + timedelta(hours=19)
    )
    assert (await store.all())[0].attempts == 0


async def test_what_the_hubs_are_trusted_to_deliver(engine: AsyncEngine) -> None:
    store = PushStore(engine)
    await store.want("leseco", HUB, T0)
    (sub,) = await store.all()
    assert await delivering(store, T0) == set()  # not verified yet
    await store.verified(sub.callback, T0, T0 + timedelta(days=10), T0 + timedelta(days=8))
    assert await delivering(store, T0) == {"leseco"}
    assert await delivering(store, T0 + timedelta(days=10)) == set()  # the lease ended

    await store.quiet("leseco", T0 + timedelta(hours=1))
    await store.quiet("leseco", T0 + timedelta(hours=2))  # the first poll that saw it stays
    (quiet,) = await store.all()
    assert quiet.quiet_since == T0 + timedelta(hours=1)
    assert await delivering(store, T0 + timedelta(hours=2)) == set()
    await store.pushed(sub.callback, T0 + timedelta(hours=3))
    assert await delivering(store, T0 + timedelta(hours=3)) == {"leseco"}

    await store.denied(sub.callback, "no", T0 + timedelta(hours=5))
    (denied,) = await store.all()
    assert denied.lease_until is None and denied.last_error == "denied by the hub: no"
    assert await delivering(store, T0 + timedelta(hours=4)) == set()
    await store.delete(sub.callback)
    assert await store.get(sub.callback) is None


async def test_a_source_has_one_wanted_subscription_whoever_inserts_it(engine: AsyncEngine) -> None:
    """Two replicas noticing a hub at once: the second insert is ignored (a unique index on
    the wanted row of a source), not a second subscription with its own deliveries."""
    store = PushStore(engine)
    await store.want("leseco", HUB, T0)
    async with transaction(engine) as conn:
        row: dict[str, object] = {"source": "leseco", "hub": OTHER.hub, "topic": OTHER.topic}
        row |= {"secret": "s"}
        row |= {"callback": "second", "wanted": True, "renew_at": T0, "attempts": 0}
        await conn.execute(ignoring(conn.dialect.name, push_subscriptions).values(row))
        unwanted = row | {"callback": "old", "wanted": False}  # rows being unsubscribed: any
        await conn.execute(ignoring(conn.dialect.name, push_subscriptions).values(unwanted))
    assert await wanted(store) == {"leseco": HUB}
    assert len(await store.all()) == 2


async def test_in_store_mode_the_sources_table_decides_which_stay_subscribed(
    engine: AsyncEngine,
) -> None:
    from monitor.config.sources import FeedSourceConfig
    from monitor.store.definitions import Definitions

    definitions = Definitions(engine)
    kept, dropped = (
        FeedSourceConfig(name=n, url=f"https://{n}.ma/feed") for n in ("leseco", "h24")
    )
    await definitions.load([kept, dropped], T0)
    store = PushStore(engine)
    await store.want("leseco", HUB, T0)
    await store.want("h24", OTHER, T0)
    await store.want("never-loaded", OTHER, T0)
    assert await store.keep_defined(T0) == 1  # the one the table never had
    await definitions.load([kept], T0)  # h24 removed
    later = T0 + timedelta(minutes=1)
    assert await store.keep_defined(later) == 1
    assert await wanted(store) == {"leseco": HUB}
    (h24,) = [sub for sub in await store.all() if sub.source == "h24"]
    assert h24.renew_at == later  # the hub is asked to stop at the next renewal
    assert await store.keep_defined(later) == 0
