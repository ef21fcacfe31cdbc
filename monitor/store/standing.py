"""Where each subscriber stands: its digests held while its receiver is gone, its one-click
unsubscription, and its deliveries counted by state (``monitor status``, ``subscribers``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import reading, transaction
from monitor.store.subscribers import bump_generation
from monitor.store.tables import digests, outbox, subscribers


class Unsubscription(StrEnum):
    DONE = "done"
    UNKNOWN = "unknown"  # the store knows no such subscriber
    OTHER_ADDRESS = "other-address"  # the link was sent to an address it no longer has


# (target, target_since) of the subscriber -> whether a link may act on it (TokenClaim.binds)
Binds = Callable[[str | None, datetime | None], bool]


@dataclass(frozen=True, slots=True)
class SubscriberStatus:
    name: str
    pending: int  # owed, not yet sent
    failed: int  # in a digest that failed at least once and will be retried
    dead: int
    sent: int  # items delivered, each counted once whatever digest carried it
    last_error: str | None
    disabled: str | None = None  # why digests are held, when the receiver is gone
    unsubscribed: datetime | None = None  # one-click unsubscribe: nothing is sent any more
    digests_sent: int = 0  # digests the receiver accepted


class Standing:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def disable(self, subscriber: str, now: datetime, reason: str) -> None:
        """Hold every digest of a subscriber whose receiver is gone, until its address changes
        in the configuration; what it is owed stays pending, nothing is dropped."""
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(subscribers)
                .where(subscribers.c.name == subscriber)
                .values(disabled_at=now, disabled_reason=reason[:1000])
            )

    async def paused(self, now: datetime) -> set[str]:
        """The subscribers whose pause runs at ``now``: no digest formed nor sent."""
        async with reading(self.engine) as conn:
            query = select(subscribers.c.name).where(subscribers.c.paused_until > now)
            return set((await conn.execute(query)).scalars())

    async def disabled(self) -> set[str]:
        async with reading(self.engine) as conn:
            query = select(subscribers.c.name).where(subscribers.c.disabled_at.is_not(None))
            return set((await conn.execute(query)).scalars())

    async def address(self, subscriber: str) -> tuple[str | None, datetime | None] | None:
        """(target, target_since) of ``subscriber``: where it is sent now, since when; None
        when the store does not know it."""
        query = select(subscribers.c.target, subscribers.c.target_since).where(
            subscribers.c.name == subscriber
        )
        async with reading(self.engine) as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (row.target, row.target_since)

    async def unsubscribe(self, subscriber: str, now: datetime, binds: Binds) -> Unsubscription:
        """Record that ``subscriber`` unsubscribed (the first time counts) and drop what it is
        owed, if ``binds(target, target_since)`` says the link was sent to the address it has
        now; the address is checked and the row changed in one statement (an address changing
        meanwhile changes nothing)."""
        async with transaction(self.engine) as conn:
            row = (
                await conn.execute(
                    select(subscribers.c.target, subscribers.c.target_since).where(
                        subscribers.c.name == subscriber
                    )
                )
            ).first()
            if row is None:
                return Unsubscription.UNKNOWN
            if not binds(row.target, row.target_since):
                return Unsubscription.OTHER_ADDRESS
            await conn.execute(
                update(subscribers)
                .where(
                    subscribers.c.name == subscriber,
                    subscribers.c.unsubscribed_at.is_(None),
                    subscribers.c.target.is_not_distinct_from(row.target),
                )
                .values(unsubscribed_at=now)
            )
            await bump_generation(conn)  # (every replica stops routing to it within a tick)
        await self.drop_unsubscribed({subscriber})
        return Unsubscription.DONE

    async def unsubscribed(self) -> set[str]:
        async with reading(self.engine) as conn:
            query = select(subscribers.c.name).where(subscribers.c.unsubscribed_at.is_not(None))
            return set((await conn.execute(query)).scalars())

    async def drop_unsubscribed(self, names: set[str]) -> None:
        """What is still owed to unsubscribed subscribers becomes dead ("unsubscribed"): rows
        queued after the unsubscription (a poll or a health notice) included."""
        if not names:
            return
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(digests)
                .where(digests.c.subscriber.in_(names), digests.c.state == "pending")
                .values(state="dead", last_error="unsubscribed")
            )
            await conn.execute(
                update(outbox)
                .where(outbox.c.subscriber.in_(names), outbox.c.state == "pending")
                .values(state="dead")
            )

    async def status(self, names: Sequence[str]) -> list[SubscriberStatus]:
        result = []
        async with reading(self.engine) as conn:
            for name in names:
                counts: dict[str, int] = dict(
                    (
                        await conn.execute(
                            select(outbox.c.state, func.count())
                            .where(outbox.c.subscriber == name)
                            .group_by(outbox.c.state)
                        )
                    ).all()
                )
                failed_query = (
                    select(func.count())
                    .select_from(outbox.join(digests, outbox.c.digest_id == digests.c.id))
                    .where(
                        outbox.c.subscriber == name,
                        digests.c.state == "pending",
                        digests.c.attempts > 0,
                    )
                )
                last_error = await conn.scalar(
                    select(digests.c.last_error)
                    .where(digests.c.subscriber == name, digests.c.last_error.is_not(None))
                    .order_by(digests.c.created_at.desc())
                    .limit(1)
                )
                disabled = await conn.scalar(
                    select(subscribers.c.disabled_reason).where(
                        subscribers.c.name == name, subscribers.c.disabled_at.is_not(None)
                    )
                )
                digests_sent = await conn.scalar(
                    select(func.count()).where(
                        digests.c.subscriber == name, digests.c.state == "sent"
                    )
                )
                unsubscribed = await conn.scalar(
                    select(subscribers.c.unsubscribed_at).where(subscribers.c.name == name)
                )
                result.append(
                    SubscriberStatus(
                        disabled=disabled,
                        unsubscribed=unsubscribed,
                        name=name,
                        pending=int(counts.get("pending", 0)),
                        failed=int(await conn.scalar(failed_query) or 0),
                        dead=int(counts.get("dead", 0)),
                        sent=int(counts.get("sent", 0)),
                        last_error=last_error,
                        digests_sent=int(digests_sent or 0),
                    )
                )
        return result
