"""The outbox: pending deliveries grouped into digests, sent, retried or dead-lettered.

A digest is formed once (its id is then stable across retries: webhook-id, Message-ID), and its
rows are marked sent only after the receiver accepted it.

Alert storms: a digest holds at most ``max_items`` rows, the oldest owed first (in the order they
were queued), so that under a steady flood every item is sent within a bounded number of periods
instead of old ones being pushed back forever; within the digest, items still show newest first.
The rest stay pending, unassigned, and go into the next digest; ``Digest.waiting`` says how many
(up to WAITING_COUNTED; past it, "more than").
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.backoff import exponential
from monitor.core.errors import StoreError
from monitor.core.models import WAITING_COUNTED, Digest, DigestItem, Hit
from monitor.store import chunks, reading, transaction
from monitor.store.tables import digests, items, outbox, subscribers

MAX_ATTEMPTS = 20
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=2)
_UNASSIGNED = and_(outbox.c.digest_id.is_(None), outbox.c.state == "pending")
_NO_LIMIT = 2**31 - 1  # rows a digest may take when its subscriber sets no max_items


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """30 s, 1 min, 2 min … with ±20 % jitter, capped at 2 h."""
    return exponential(BASE_DELAY, attempts, MAX_DELAY, rng)


class Outbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def period_start(self, subscriber: str) -> datetime | None:
        return (await self.period_starts([subscriber])).get(subscriber)

    async def period_starts(self, names: Sequence[str]) -> dict[str, datetime]:
        """When each subscriber's current digest period began (the store's unknown ones are
        left out)."""
        found: dict[str, datetime] = {}
        async with reading(self.engine) as conn:
            for chunk in chunks(names):
                query = select(
                    subscribers.c.name, subscribers.c.since, subscribers.c.last_digest_at
                ).where(subscribers.c.name.in_(chunk))
                for row in await conn.execute(query):
                    found[row.name] = row.last_digest_at or row.since
        return found

    async def close_period(
        self, subscriber: str, now: datetime, max_items: int | None = None
    ) -> str | None:
        """End the subscriber's digest period: its unassigned rows (at most ``max_items``, the
        oldest queued first) become one new digest; the others wait for the next period.

        Returns the digest id, or None when nothing was pending."""
        formed = await self.close_periods({subscriber: max_items}, now)
        return formed.get(subscriber)

    async def close_periods(
        self, limits: Mapping[str, int | None], now: datetime
    ) -> dict[str, str]:
        """:meth:`close_period` for many subscribers (name → ``max_items``) in one
        transaction; returns the digest formed for each subscriber that was owed something."""
        names = list(limits)
        formed: dict[str, str] = {}
        async with transaction(self.engine) as conn:
            if names:
                await conn.execute(
                    update(subscribers)
                    .where(subscribers.c.name == bindparam("who"))
                    .values(last_digest_at=now),
                    [{"who": name} for name in names],
                )
            for chunk in chunks(names):
                # one probe of ix_outbox_subscriber_digest a subscriber: a DISTINCT over the
                # rows themselves read a backlog of 3.9 million whole, 1.2 s a flush (issue 25)
                owed = select(subscribers.c.name).where(
                    subscribers.c.name.in_(chunk),
                    exists().where(outbox.c.subscriber == subscribers.c.name, _UNASSIGNED),
                )
                for name in (await conn.execute(owed)).scalars():
                    formed[name] = "dg_" + secrets.token_hex(12)
            if not formed:
                return formed
            await conn.execute(
                digests.insert(),
                [
                    {"id": digest_id, "subscriber": name, "created_at": now, "state": "pending",
                     "attempts": 0, "next_attempt_at": now}
                    for name, digest_id in formed.items()
                ],
            )  # fmt: skip
            # each subscriber's oldest rows, up to its limit (no limit: a bound no outbox reaches)
            chosen = (
                select(outbox.c.id)
                .where(outbox.c.subscriber == bindparam("who"), _UNASSIGNED)
                .order_by(outbox.c.id)
                .limit(bindparam("most"))
            )
            await conn.execute(
                update(outbox).where(outbox.c.id.in_(chosen)).values(digest_id=bindparam("dg")),
                [
                    {"who": name, "dg": digest_id, "most": limits[name] or _NO_LIMIT}
                    for name, digest_id in formed.items()
                ],
            )
        return formed

    async def due(self, now: datetime) -> list[tuple[str, str]]:
        """Digests to send now, oldest first, as (id, subscriber)."""
        query = (
            select(digests.c.id, digests.c.subscriber)
            .where(digests.c.state == "pending", digests.c.next_attempt_at <= now)
            .order_by(digests.c.created_at)
        )
        async with reading(self.engine) as conn:
            return [(row.id, row.subscriber) for row in (await conn.execute(query)).all()]

    async def load(self, digest_id: str) -> Digest:
        return (await self.load_many([digest_id]))[0]

    async def load_many(self, digest_ids: Sequence[str]) -> list[Digest]:
        """The digests of ``digest_ids``, in that order, each with its items and what its
        subscriber is still owed besides (``waiting``, counted now: what is owed at send
        time); StoreError when one is not in the store."""
        found: dict[str, Digest] = {}
        async with reading(self.engine) as conn:
            for chunk in chunks(digest_ids):
                owed = _owed(digests.c.subscriber, digests.c.id, WAITING_COUNTED + 1)
                heads_query = select(digests, *owed).where(digests.c.id.in_(chunk))
                heads = (await conn.execute(heads_query)).all()
                contents: dict[str, list[DigestItem]] = {head.id: [] for head in heads}
                query = _item_query().add_columns(outbox.c.digest_id)
                for row in (
                    await conn.execute(query.where(outbox.c.digest_id.in_(chunk)))
                ).mappings():
                    contents[row["digest_id"]].append(_digest_item(row))
                for head in heads:
                    *_, unassigned, in_others = head
                    found[head.id] = Digest(
                        id=head.id,
                        subscriber=head.subscriber,
                        created=head.created_at,
                        items=tuple(contents[head.id]),
                        waiting=min(unassigned + in_others, WAITING_COUNTED + 1),
                    )
        missing = [digest_id for digest_id in digest_ids if digest_id not in found]
        if missing:
            raise StoreError(f"no digest {missing[0]} in the store")
        return [found[digest_id] for digest_id in digest_ids]

    async def preview(self, subscriber: str, now: datetime, max_items: int | None = None) -> Digest:
        """What is owed to ``subscriber`` and not yet sent, as one digest of at most
        ``max_items`` (the oldest queued first), for ``monitor digest``; nothing is changed."""
        owed = and_(outbox.c.subscriber == subscriber, outbox.c.state == "pending")
        chosen = select(outbox.c.id).where(owed).order_by(outbox.c.id).limit(max_items)
        async with reading(self.engine) as conn:
            rows = await conn.execute(_item_query().where(outbox.c.id.in_(chosen)))
            found = tuple(_digest_item(row) for row in rows.mappings())
            counts = select(*_owed(subscriber, None, WAITING_COUNTED + 1 + len(found)))
            owed_rows = sum((await conn.execute(counts)).one())
        waiting = min(owed_rows - len(found), WAITING_COUNTED + 1)
        return Digest("dg_preview", subscriber, now, found, waiting=waiting)

    async def mark_sent(self, digest_id: str, now: datetime) -> None:
        await self.mark_sent_many([(digest_id, now)])

    async def mark_sent_many(self, sent: Sequence[tuple[str, datetime]]) -> None:
        """Record that the receivers accepted these digests (id, when), in one transaction."""
        if not sent:
            return
        rows = [{"dg": digest_id, "at": at} for digest_id, at in sent]
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(digests)
                .where(digests.c.id == bindparam("dg"))
                .values(
                    state="sent",
                    sent_at=bindparam("at"),
                    attempts=digests.c.attempts + 1,
                    last_error=None,
                ),
                rows,
            )
            await conn.execute(
                update(outbox).where(outbox.c.digest_id == bindparam("dg")).values(state="sent"),
                rows,
            )

    async def mark_failed(self, digest_id: str, now: datetime, error: str, permanent: bool) -> bool:
        """Record a failed attempt; returns True when the digest is now dead-lettered."""
        async with transaction(self.engine) as conn:
            attempts = (
                int(
                    await conn.scalar(select(digests.c.attempts).where(digests.c.id == digest_id))
                    or 0
                )
                + 1
            )
            dead = permanent or attempts >= MAX_ATTEMPTS
            await conn.execute(
                update(digests)
                .where(digests.c.id == digest_id)
                .values(
                    attempts=attempts,
                    last_error=error[:1000],
                    state="dead" if dead else "pending",
                    next_attempt_at=now + retry_delay(attempts),
                )
            )
            if dead:
                await conn.execute(
                    update(outbox).where(outbox.c.digest_id == digest_id).values(state="dead")
                )
        return dead


def _owed(subscriber: Any, besides: Any, most: int) -> tuple[Any, Any]:
    """Two scalar subqueries: the rows owed to ``subscriber`` not in a digest yet, and those in
    its pending digests other than ``besides`` (None: all of them), each counted up to
    ``most``: a few index probes, never a backlog read whole (a GROUP BY over 3.9 million rows
    took a second of each send, issue 25). Columns of a statement on digests or of none."""
    unassigned = select(literal(1)).where(outbox.c.subscriber == subscriber, _UNASSIGNED)
    other = digests.alias("other")
    in_others = (
        select(literal(1))
        .select_from(outbox.join(other, other.c.id == outbox.c.digest_id))
        .where(other.c.subscriber == subscriber, other.c.state == "pending")
    )
    if besides is not None:
        in_others = in_others.where(other.c.id != besides)
    first, second = (
        select(func.count()).select_from(rows.limit(most).subquery()).scalar_subquery()
        for rows in (unassigned.correlate(digests), in_others.correlate(digests))
    )
    return first, second


def _item_query() -> Any:
    return (
        select(
            outbox.c.item_id,
            outbox.c.rules,
            outbox.c.terms,
            outbox.c.hits,
            items.c.title,
            items.c.link,
            items.c.source,
            items.c.published,
            items.c.summary,
            items.c.content,
            items.c.key,
        )
        .join(items, items.c.id == outbox.c.item_id)
        .order_by(items.c.published.desc(), outbox.c.id)
    )


def _digest_item(row: Any) -> DigestItem:
    return DigestItem(
        id=f"it_{row['item_id']}",
        title=row["title"],
        link=row["link"],
        source=row["source"],
        published=row["published"],
        summary=row["summary"],
        rules=tuple(row["rules"]),
        terms={rule: tuple(terms) for rule, terms in row["terms"].items()},
        hits=None if row["hits"] is None else tuple((r, Hit(*hit)) for r, *hit in row["hits"]),
        content=row["content"] or "",
    )
