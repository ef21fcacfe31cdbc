"""What the web app's overview reads of the sources (DESIGN §3.7): one page of them, broken ones
first, each with its state, in keyset order — a page costs one query, whatever the number of
sources.

The state is worked out in SQL, so that it can be filtered and ordered on: ``gone`` (answered
410), ``failing`` or ``silent`` (source health, with since when), ``new`` (never polled with
success yet), else ``ok``. Broken (gone, failing, silent) come first; within each part, by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal, get_args

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import NOTICE_KEY_PREFIX
from monitor.store import reading
from monitor.store.among import one_of
from monitor.store.history import retriable
from monitor.store.tables import digests, items, outbox, push_subscriptions, sources, subscribers

State = Literal["gone", "failing", "silent", "new", "ok"]
STATES: tuple[State, ...] = get_args(State)
BROKEN: frozenset[State] = frozenset({"gone", "failing", "silent"})
MAX_PAGE = 200

_state = case(
    (sources.c.gone_at.is_not(None), literal("gone")),
    (sources.c.health == "failing", literal("failing")),
    (sources.c.health == "silent", literal("silent")),
    (sources.c.first_poll_at.is_(None), literal("new")),
    else_=literal("ok"),
)
_rank = case((_state.in_(sorted(BROKEN)), 0), else_=1)  # broken first
SOURCE_STATE = _state  # (a source's own page says it the same way: monitor.store.source_detail)
RANK = _rank  # (monitor status pages the same way: monitor.store.source_status)


@dataclass(frozen=True, slots=True)
class SourceRow:
    name: str
    state: State
    since: datetime | None  # when a gone, failing or silent state began
    last_poll: datetime | None
    next_due: datetime | None
    last_error: str | None
    pushed: bool = False  # a WebSub hub delivers it (source_page given ``now``)

    @property
    def cursor(self) -> tuple[int, str]:
        return (0 if self.state in BROKEN else 1, self.name)


@dataclass(frozen=True, slots=True)
class SourceFilter:
    text: str = ""  # a part of the name, any case
    state: State | None = None
    among: Sequence[str] | None = None  # only these names (those of a tag)
    failing: bool = False  # only the broken and those whose last poll failed (monitor status)
    name: str | None = None  # only this one


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def source_where(filters: SourceFilter, after: tuple[int, str] | None) -> list[ColumnElement[bool]]:
    """The configured sources ``filters`` keep, past the keyset cursor ``after`` (rank, name)
    in the order :data:`RANK`, name."""
    where: list[ColumnElement[bool]] = [sources.c.removed_at.is_(None)]
    if filters.text:
        where.append(sources.c.name.ilike(_like(filters.text), escape="\\"))
    if filters.state is not None:
        where.append(_state == filters.state)
    if filters.among is not None:
        where.append(one_of(sources.c.name, filters.among))  # (a tag's: any number)
    if filters.name is not None:
        where.append(sources.c.name == filters.name)
    if filters.failing:
        where.append(or_(_rank == 0, sources.c.last_result == "error"))
    if after is not None:
        rank, name = after
        where.append(or_(_rank > rank, and_(_rank == rank, sources.c.name > name)))
    return where


def _pushed(now: datetime | None) -> ColumnElement[bool]:
    """Whether a hub delivers the source at ``now`` (as monitor.store.push's ``delivering``):
    a correlated EXISTS on the indexed ``source`` column, in the page's one query."""
    if now is None:
        return literal(False)
    subs = push_subscriptions.c
    return exists().where(
        subs.source == sources.c.name,
        subs.wanted.is_(True),
        subs.lease_until > now,
        subs.quiet_since.is_(None),
    )


async def source_page(
    engine: AsyncEngine,
    filters: SourceFilter,
    after: tuple[int, str] | None,
    limit: int,
    now: datetime | None = None,
) -> tuple[list[SourceRow], tuple[int, str] | None]:
    """Up to ``limit`` sources after the cursor ``after`` (broken first, then by name), and the
    cursor of the next page (None on the last); with ``now``, whether a hub pushes each."""
    limit = max(1, min(limit, MAX_PAGE))
    query = (
        select(
            sources.c.name,
            _state.label("state"),
            sources.c.gone_at,
            sources.c.health_since,
            sources.c.last_poll_at,
            sources.c.next_due_at,
            sources.c.last_error,
            _pushed(now).label("pushed"),
        )
        .where(*source_where(filters, after))
        .order_by(_rank, sources.c.name)
        .limit(limit + 1)  # one more: is there a next page?
    )
    async with reading(engine) as conn:
        rows = (await conn.execute(query)).all()
    found = [
        SourceRow(
            name=row.name,
            state=row.state,
            since=row.gone_at if row.state == "gone" else row.health_since,
            last_poll=row.last_poll_at,
            next_due=None if row.state == "gone" else row.next_due_at,
            last_error=row.last_error,
            pushed=bool(row.pushed),
        )
        for row in rows[:limit]
    ]
    more = len(rows) > limit and found
    return found, (found[-1].cursor if more else None)


@dataclass(frozen=True, slots=True)
class Troubles:
    """What the overview's banner says: broken sources by state, dead-lettered digests."""

    broken: dict[State, int]  # only states with some
    dead_digests: int  # those monitor retry would re-send: configured, still subscribed
    first_broken: tuple[str, ...] = ()  # the first BANNER_NAMES of them, as the overview lists


BANNER_NAMES = 5


async def troubles(engine: AsyncEngine, names: Sequence[str]) -> Troubles:
    """Two counting queries and the first broken sources' names, whatever the number of
    sources; the dead digests counted are those the retry button re-queues for the configured
    subscribers ``names`` (monitor.store.history.retriable)."""
    broken_query = (
        select(_state.label("state"), func.count())
        .where(sources.c.removed_at.is_(None), _rank == 0)
        .group_by(_state)
    )
    dead_query = select(func.count()).select_from(digests).where(retriable(names))
    first_query = (
        select(sources.c.name)
        .where(sources.c.removed_at.is_(None), _rank == 0)
        .order_by(sources.c.name)
        .limit(BANNER_NAMES)
    )
    async with reading(engine) as conn:
        broken = {row[0]: int(row[1]) for row in (await conn.execute(broken_query)).all()}
        dead = int(await conn.scalar(dead_query) or 0)
        first = tuple((await conn.scalars(first_query)).all())
    return Troubles({s: broken[s] for s in STATES if broken.get(s)}, dead, first)


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    name: str
    period_start: datetime | None  # when its current digest period began (None: not seen yet)
    disabled: str | None  # why, while disabled
    unsubscribed: datetime | None
    pending: int = 0
    sent: int = 0
    dead: int = 0


async def subscriber_rows(engine: AsyncEngine, names: Sequence[str]) -> dict[str, SubscriberRow]:
    """What the store knows of one page of subscribers (``names``: at most a page's, the
    configuration pages them): two queries, whatever their number."""
    names = list(names)[:MAX_PAGE]
    standing = select(
        subscribers.c.name, subscribers.c.since, subscribers.c.last_digest_at,
        subscribers.c.disabled_at, subscribers.c.disabled_reason, subscribers.c.unsubscribed_at,
    ).where(subscribers.c.name.in_(names))  # fmt: skip
    counts = (
        select(outbox.c.subscriber, outbox.c.state, func.count())
        .where(outbox.c.subscriber.in_(names))
        .group_by(outbox.c.subscriber, outbox.c.state)
    )
    async with reading(engine) as conn:
        rows = (await conn.execute(standing)).all()
        counted: dict[str, dict[str, int]] = {}
        for name, state, count in (await conn.execute(counts)).all():
            counted.setdefault(name, {})[state] = int(count)
    return {
        row.name: SubscriberRow(
            row.name,
            row.last_digest_at or row.since,
            (row.disabled_reason or "disabled") if row.disabled_at is not None else None,
            row.unsubscribed_at,
            **{s: counted.get(row.name, {}).get(s, 0) for s in ("pending", "sent", "dead")},
        )
        for row in rows
    }


DAYS = 14


async def new_per_day(
    engine: AsyncEngine, names: Sequence[str], first_day: date
) -> dict[str, list[int]]:
    """New items of each source of one page (``names``) on each UTC day from ``first_day``,
    ``DAYS`` numbers, oldest first (health notices, stored as items, are not counted): one
    query."""
    names = list(names)[:MAX_PAGE]
    since = datetime.combine(first_day, time(), UTC)
    day = func.date(items.c.seen_at)  # SQLite: 'YYYY-MM-DD'; PostgreSQL: a date
    query = (
        select(items.c.source, day.label("day"), func.count())
        .where(
            items.c.source.in_(names),
            items.c.seen_at >= since,
            items.c.key.not_like(f"{NOTICE_KEY_PREFIX}%"),
        )
        .group_by(items.c.source, day)
    )
    found = {name: [0] * DAYS for name in names}
    async with reading(engine) as conn:
        for source, seen, count in (await conn.execute(query)).all():
            index = (date.fromisoformat(str(seen)[:10]) - first_day).days
            if 0 <= index < DAYS:
                found[source][index] = int(count)
    return found
