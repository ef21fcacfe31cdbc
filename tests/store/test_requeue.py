"""Which dead digests get a fresh round (monitor.store.history.retriable): the overview's banner
counts exactly those the retry button and `monitor retry` re-queue, those of configured
subscribers still subscribed; and re-queueing checks each digest's state as it writes, so a
digest another replica sent meanwhile is never sent twice. On both backends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import reading, transaction
from monitor.store.history import requeue_dead
from monitor.store.overview import troubles
from monitor.store.tables import digests, items, outbox, subscribers
from tests.support.peers import FakeClock

T0 = FakeClock().now
CONFIGURED = ["kept", "quit", "race"]  # "gone" was removed from the configuration
# one dead digest each; "quit" unsubscribed; "kept" has a sent one too
DIGESTS = {"d-kept": ("kept", "dead"), "d-sent": ("kept", "sent"), "d-quit": ("quit", "dead"),
           "d-gone": ("gone", "dead"), "d-race": ("race", "dead")}  # fmt: skip


async def filled(engine: AsyncEngine) -> None:
    async with transaction(engine) as conn:
        await conn.execute(insert(subscribers), [
            {"name": name, "since": T0 - timedelta(days=3),
             "unsubscribed_at": T0 - timedelta(days=1) if name == "quit" else None}
            for name in ("kept", "quit", "gone", "race")
        ])  # fmt: skip
        await conn.execute(insert(items), [
            {"source": "a", "key": key, "article": key, "link": f"https://a.ma/{key}",
             "title": key, "summary": "", "seen_at": T0 - timedelta(hours=3)}
            for key in DIGESTS
        ])  # fmt: skip
        await conn.execute(insert(digests), [
            {"id": key, "subscriber": who, "created_at": T0 - timedelta(hours=2), "state": state,
             "attempts": 5, "next_attempt_at": T0 - timedelta(hours=1), "last_error": "HTTP 502"}
            for key, (who, state) in DIGESTS.items()
        ])  # fmt: skip
        ids = {key: id_ for key, id_ in (await conn.execute(select(items.c.key, items.c.id)))}
        await conn.execute(insert(outbox), [
            {"subscriber": who, "article": key, "item_id": ids[key], "rules": ["ia"], "terms": {},
             "state": state, "created_at": T0 - timedelta(hours=2), "digest_id": key}
            for key, (who, state) in DIGESTS.items()
        ])  # fmt: skip


async def states(engine: AsyncEngine) -> dict[str, tuple[str, str]]:
    """Each digest's state and that of its item in the outbox."""
    query = select(digests.c.id, digests.c.state, outbox.c.state).join(
        outbox, outbox.c.digest_id == digests.c.id
    )
    async with reading(engine) as conn:
        return {key: (digest, owed) for key, digest, owed in (await conn.execute(query)).all()}


async def test_the_banner_counts_what_the_button_requeues(engine: AsyncEngine) -> None:
    await filled(engine)
    # not "quit"'s (unsubscribed: it died of it), not "gone"'s (no longer configured)
    assert (await troubles(engine, CONFIGURED)).dead_digests == 2
    assert await requeue_dead(engine, CONFIGURED, T0) == 2
    assert await states(engine) == {
        "d-kept": ("pending", "pending"), "d-race": ("pending", "pending"),
        "d-sent": ("sent", "sent"), "d-quit": ("dead", "dead"), "d-gone": ("dead", "dead"),
    }  # fmt: skip
    assert (await troubles(engine, CONFIGURED)).dead_digests == 0  # the banner goes away
    assert await requeue_dead(engine, CONFIGURED, T0) == 0
    # named again in the configuration, the removed subscriber's dead digest counts again
    assert (await troubles(engine, [*CONFIGURED, "gone"])).dead_digests == 1


async def test_a_digest_sent_meanwhile_is_not_requeued(engine: AsyncEngine) -> None:
    """Another replica sends d-race (it was re-queued there) just before this one's re-queueing
    writes: it stays sent. (Written on the same connection just before the statement that
    re-queues, as a replica's commit lands between a read and a write.)"""
    await filled(engine)
    meanwhile = "UPDATE digests SET state = 'sent' WHERE id = 'd-race'"
    done: list[str] = []

    def replica_sends(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE DIGESTS") and not done:
            done.append(statement)
            cursor.execute(meanwhile)

    event.listen(engine.sync_engine, "before_cursor_execute", replica_sends)
    try:
        assert await requeue_dead(engine, CONFIGURED, T0) == 1
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", replica_sends)
    assert done, "the re-queueing wrote no digest"
    found = await states(engine)
    assert found["d-race"] == ("sent", "dead")  # left alone, its item with it
    assert found["d-kept"] == ("pending", "pending")
