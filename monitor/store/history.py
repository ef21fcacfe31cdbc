"""Delivery history per subscriber, and re-queueing of dead letters (`monitor retry`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, not_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import DeliveryState
from monitor.store import reading, transaction
from monitor.store.among import one_of
from monitor.store.tables import digests, items, outbox, subscribers


@dataclass(frozen=True, slots=True)
class Delivered:
    """One article owed to a subscriber, and what became of it."""

    title: str
    link: str
    source: str
    state: DeliveryState
    digest: str | None
    when: datetime  # sent at, or last attempt, or queued at
    attempts: int
    error: str | None
    next_try: datetime | None = None  # a failed delivery's next attempt


async def history(engine: AsyncEngine, subscriber: str, limit: int = 50) -> list[Delivered]:
    """The subscriber's latest deliveries, newest first."""
    query = (
        select(
            items.c.title,
            items.c.link,
            items.c.source,
            outbox.c.state,
            outbox.c.digest_id,
            outbox.c.created_at,
            digests.c.sent_at,
            digests.c.next_attempt_at,
            digests.c.attempts,
            digests.c.last_error,
        )
        .select_from(
            outbox.join(items, items.c.id == outbox.c.item_id).outerjoin(
                digests, digests.c.id == outbox.c.digest_id
            )
        )
        .where(outbox.c.subscriber == subscriber)
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    async with reading(engine) as conn:
        rows = (await conn.execute(query)).all()
    return [
        Delivered(
            title=row.title,
            link=row.link,
            source=row.source,
            state="failed" if row.state == "pending" and (row.attempts or 0) > 0 else row.state,
            digest=row.digest_id,
            when=row.sent_at or row.created_at,
            attempts=int(row.attempts or 0),
            error=row.last_error,
            next_try=row.next_attempt_at if row.state == "pending" and row.attempts else None,
        )
        for row in rows
    ]


def retriable(names: Sequence[str]) -> ColumnElement[bool]:
    """The dead digests a fresh round may send: those of the subscribers ``names`` (the
    configured ones) that have not unsubscribed (theirs died of it and must stay dead). The
    overview's banner counts them (monitor.store.overview.troubles) and its button, like
    `monitor retry`, re-queues them (:func:`requeue_dead`): the count is what the button does."""
    gone = exists().where(
        subscribers.c.name == digests.c.subscriber, subscribers.c.unsubscribed_at.is_not(None)
    )
    return and_(digests.c.state == "dead", one_of(digests.c.subscriber, names), not_(gone))


async def requeue_dead(engine: AsyncEngine, names: Sequence[str], now: datetime) -> int:
    """Give the :func:`retriable` digests of these subscribers a fresh round of attempts, under
    the same digest ids (so receivers still recognise a copy), and their items with them;
    returns how many digests were re-queued."""
    # one UPDATE that checks the state as it writes: a digest another replica sent (or
    # re-queued) since is not dead any more and is left alone, never sent twice
    requeue = (
        update(digests)
        .where(retriable(names))
        .values(state="pending", attempts=0, next_attempt_at=now)
        .returning(digests.c.id)
    )
    async with transaction(engine) as conn:
        requeued = list((await conn.execute(requeue)).scalars().all())
        if requeued:
            await conn.execute(
                update(outbox).where(outbox.c.digest_id.in_(requeued)).values(state="pending")
            )
    return len(requeued)


async def last_sent(engine: AsyncEngine) -> dict[str, datetime]:
    """When each subscriber was last sent a digest (those never sent one are not there)."""
    query = (
        select(digests.c.subscriber, func.max(digests.c.sent_at))
        .where(digests.c.sent_at.is_not(None))
        .group_by(digests.c.subscriber)
    )
    async with reading(engine) as conn:
        return {name: at for name, at in await conn.execute(query)}
