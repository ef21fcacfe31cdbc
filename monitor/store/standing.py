"""Where each subscriber stands: its digests held while its receiver is gone, its one-click
unsubscription, and its deliveries counted by state (``monitor status``, ``subscribers``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, exists, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import reading, transaction
from monitor.store.among import one_of
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
                .where(one_of(digests.c.subscriber, names), digests.c.state == "pending")
                .values(state="dead", last_error="unsubscribed")
            )
            await conn.execute(
                update(outbox)
                .where(one_of(outbox.c.subscriber, names), outbox.c.state == "pending")
                .values(state="dead")
            )

    async def status(self, names: Sequence[str]) -> list[SubscriberStatus]:
        """Where each of ``names`` stands, in that order: five queries whatever their number
        (each binds the names as one parameter: monitor.store.among)."""
        names = list(names)
        if not names:
            return []
        counts = (
            select(outbox.c.subscriber, outbox.c.state, func.count())
            .where(one_of(outbox.c.subscriber, names))
            .group_by(outbox.c.subscriber, outbox.c.state)
        )
        failed = (
            select(outbox.c.subscriber, func.count())
            .select_from(outbox.join(digests, outbox.c.digest_id == digests.c.id))
            .where(
                one_of(outbox.c.subscriber, names),
                digests.c.state == "pending",
                digests.c.attempts > 0,
            )
            .group_by(outbox.c.subscriber)
        )
        sent = (
            select(digests.c.subscriber, func.count())
            .where(one_of(digests.c.subscriber, names), digests.c.state == "sent")
            .group_by(digests.c.subscriber)
        )
        newest = func.row_number().over(
            partition_by=digests.c.subscriber, order_by=digests.c.created_at.desc()
        )
        erred = (
            select(digests.c.subscriber, digests.c.last_error, newest.label("rank"))
            .where(one_of(digests.c.subscriber, names), digests.c.last_error.is_not(None))
            .subquery()
        )
        errors = select(erred.c.subscriber, erred.c.last_error).where(erred.c.rank == 1)
        held = select(
            subscribers.c.name,
            subscribers.c.disabled_at,
            subscribers.c.disabled_reason,
            subscribers.c.unsubscribed_at,
        ).where(one_of(subscribers.c.name, names))
        by_state: dict[tuple[str, str], int] = {}
        async with reading(self.engine) as conn:
            for name, state, count in await conn.execute(counts):
                by_state[(name, state)] = int(count)
            retried = {name: int(n) for name, n in await conn.execute(failed)}
            digests_sent = {name: int(n) for name, n in await conn.execute(sent)}
            last_error = {name: error for name, error in await conn.execute(errors)}
            rows = {row.name: row for row in await conn.execute(held)}
        result = []
        for name in names:
            row = rows.get(name)
            disabled = None
            if row is not None and row.disabled_at is not None:
                disabled = row.disabled_reason
            result.append(
                SubscriberStatus(
                    disabled=disabled,
                    unsubscribed=None if row is None else row.unsubscribed_at,
                    name=name,
                    pending=by_state.get((name, "pending"), 0),
                    failed=retried.get(name, 0),
                    dead=by_state.get((name, "dead"), 0),
                    sent=by_state.get((name, "sent"), 0),
                    last_error=last_error.get(name),
                    digests_sent=digests_sent.get(name, 0),
                )
            )
        return result

    async def troubled(self, limit: int) -> list[str]:
        """Up to ``limit`` subscribers, by name, with a digest failing (retried) or dead, or
        disabled: read on the tables (``monitor status --failing``), whatever their number."""
        retried = and_(digests.c.state == "pending", digests.c.attempts > 0)
        left = exists().where(  # (what it was owed died of it: no trouble)
            subscribers.c.name == digests.c.subscriber, subscribers.c.unsubscribed_at.is_not(None)
        )
        failing = select(digests.c.subscriber.label("name")).where(
            or_(digests.c.state == "dead", retried), ~left
        )
        disabled = select(subscribers.c.name.label("name")).where(
            subscribers.c.disabled_at.is_not(None), subscribers.c.unsubscribed_at.is_(None)
        )
        both = union(failing, disabled).subquery()
        query = select(both.c.name).order_by(both.c.name).limit(limit)
        async with reading(self.engine) as conn:
            return list((await conn.execute(query)).scalars())
