"""Delivery history per subscriber, and re-queueing of dead letters (`monitor retry`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import DeliveryState
from monitor.store import reading, transaction
from monitor.store.tables import digests, items, outbox


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


async def requeue_dead(engine: AsyncEngine, subscribers: Sequence[str], now: datetime) -> int:
    """Give dead digests of these subscribers a fresh round of attempts, under the same digest
    ids (so receivers still recognise a copy); returns how many digests were re-queued."""
    async with transaction(engine) as conn:
        dead = (
            (
                await conn.execute(
                    select(digests.c.id).where(
                        digests.c.state == "dead", digests.c.subscriber.in_(list(subscribers))
                    )
                )
            )
            .scalars()
            .all()
        )
        if dead:
            await conn.execute(
                update(digests)
                .where(digests.c.id.in_(dead))
                .values(state="pending", attempts=0, next_attempt_at=now)
            )
            await conn.execute(
                update(outbox).where(outbox.c.digest_id.in_(dead)).values(state="pending")
            )
    return len(dead)


async def last_sent(engine: AsyncEngine) -> dict[str, datetime]:
    """When each subscriber was last sent a digest (those never sent one are not there)."""
    query = (
        select(digests.c.subscriber, func.max(digests.c.sent_at))
        .where(digests.c.sent_at.is_not(None))
        .group_by(digests.c.subscriber)
    )
    async with reading(engine) as conn:
        return dict((await conn.execute(query)).tuples().all())
