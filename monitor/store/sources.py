"""Source state: the configured sources and subscribers, due times, seen items, polls recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, and_, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.config.model import Config
from monitor.core.models import News, PollFailure, PollOutcome, SourceState
from monitor.store import chunks, insert_ignore, reading, row_chunks, transaction
from monitor.store.among import one_of
from monitor.store.first_polls import first_due, spread_window
from monitor.store.leases import Leases, free
from monitor.store.polls import bind_processor, bound_insert, compiled_insert, write_polls
from monitor.store.seen_window import RESIGHT, day_of, item_hash, known
from monitor.store.subscribers import drop_moved_overrides
from monitor.store.tables import items, sources, subscribers


@dataclass(frozen=True, slots=True)
class Sightings:
    """What a poll's items were to the store (SourceStore.sightings)."""

    seen: set[str]  # keys of items seen before
    stale: tuple[str, ...]  # of them, those to mark as found in their feed again


STATE_COLUMNS = [sources.c[f.name] for f in fields(SourceState) if f.name != "has_items"]
# one index probe of items(source, key) a source
_HAS_ITEMS = exists().where(items.c.source == sources.c.name).label("has_items")
# the sources a replica polls: configured, and not gone (410)
POLLED = and_(sources.c.removed_at.is_(None), sources.c.gone_at.is_(None))
_RESERVE = (
    update(sources)
    .where(sources.c.name == bindparam("p_name"))
    .values(next_due_at=bindparam("p_due", type_=sources.c.next_due_at.type))
)


_HASTEN = _RESERVE.where(
    sources.c.next_due_at > bindparam("p_due", type_=sources.c.next_due_at.type)
)


# a new source's columns, in its rows' order (the table's); the counts start at 0
_NEW_COLUMNS: tuple[str, ...] = ("name", "url", "config_key", "redirect_count", "next_due_at")
_NEW_COLUMNS += ("error_count", "last_new_items", "last_matches")
_NEW: dict[tuple[str, str, str], tuple[str, Callable[[datetime], object]]] = {}


def _new_sources(dialect: Dialect) -> tuple[str, Callable[[datetime], object]]:
    """The INSERT of new sources for ``dialect``, compiled once, and the bind processor of
    their due time."""
    key = (dialect.name, dialect.driver, dialect.paramstyle)
    if key not in _NEW:
        _NEW[key] = (
            compiled_insert(dialect, sources, _NEW_COLUMNS),
            bind_processor(dialect, sources.c.next_due_at.type),
        )
    return _NEW[key]


# a source whose URL or settings changed: started afresh, its seen items kept (also what
# 'monitor sources load' does to one: monitor.store.definitions)
AFRESH = (
    update(sources)
    .where(sources.c.name == bindparam("p_name"))
    .values(
        url=bindparam("p_url"),
        config_key=bindparam("p_key"),
        etag=None,
        last_modified=None,
        content_hash=None,
        first_poll_at=None,  # a new feed: backfill applies again
        redirect_url=None,
        redirect_count=0,
        gone_at=None,
        error_count=0,
        next_due_at=bindparam("p_due", type_=sources.c.next_due_at.type),
    )
)


# the same, when another replica's sync of the same configuration did not come first (a sync
# reads the table before its write transaction)
_MOVED = AFRESH.where(sources.c.config_key.is_distinct_from(bindparam("p_key")))
# (whether a source is removed, not since when: 100,000 dates read for nothing otherwise)
_KNOWN = select(sources.c.name, sources.c.config_key, sources.c.removed_at.is_not(None))


@dataclass(frozen=True, slots=True)
class _Changes:
    """What a sync writes: the configuration against the table."""

    new: list[tuple[str, str, str, datetime]]  # name, URL, config key, first due time
    moved: list[dict[str, object]]  # AFRESH's parameters
    back: list[str]  # configured again
    left: list[str]  # no longer configured

    @classmethod
    def between(cls, rows: Sequence[Sequence[Any]], config: Config, now: datetime) -> _Changes:
        """``rows``: the table's (name, config key, whether removed)."""
        known: dict[str, tuple[str, bool]] = {row[0]: (row[1], row[2]) for row in rows}
        added = [s for s in config.sources if s.name not in known]
        # a bulk of new sources is first polled over a window, not all at once
        window = spread_window(len(added), config.defaults.interval)
        new = [
            (
                s.name,
                s.url,
                s.config_key,
                first_due(s.name, now, min(window, config.interval_of(s))),
            )
            for s in added
        ]
        moved: list[dict[str, object]] = [
            {"p_name": s.name, "p_url": s.url, "p_key": s.config_key, "p_due": now}
            for s in config.sources
            if s.name in known and known[s.name][0] != s.config_key
        ]
        configured = {s.name for s in config.sources}
        back = sorted(n for n in configured & known.keys() if known[n][1])
        left = sorted(n for n, (_, was) in known.items() if n not in configured and not was)
        return cls(new, moved, back, left)


# a subscriber whose address changed: enabled again, subscribed again, no longer paused, and
# the change recorded (links issued before name the old address); one statement for all, run
# with every subscriber's row
_NEW_TARGET = (
    update(subscribers)
    .where(
        subscribers.c.name == bindparam("n"), subscribers.c.target.is_distinct_from(bindparam("t"))
    )
    .values(
        target=bindparam("t"),
        target_since=bindparam("now", type_=subscribers.c.target_since.type),
        disabled_at=None,
        disabled_reason=None,
        unsubscribed_at=None,
        paused_until=None,
    )
)


class SourceStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def sync(self, config: Config, now: datetime) -> None:
        """Make the store know every configured source and subscriber. A URL (or another kind,
        or other settings of a kind: ``config_key``) changed in the configuration starts that
        source afresh (validators, backfill, redirects, gone), but its
        seen items stay, so nothing is alerted twice. A source no longer configured is marked
        removed (not polled; its items stay) until it comes back. In store mode the sources are
        left to ``monitor sources load`` (monitor.store.definitions)."""
        if config.sources_from == "store":  # 'monitor sources load' writes them
            async with transaction(self.engine) as conn:
                await self._sync_subscribers(conn, config, now)
            return
        # compared in a thread: at 100,000 sources, 0.3 s of the event loop otherwise, with no
        # poll going on meanwhile (issue 25); read before the transaction, which only writes
        async with reading(self.engine) as conn:
            rows = (await conn.execute(_KNOWN)).all()
        changes = await asyncio.to_thread(_Changes.between, rows, config, now)
        async with transaction(self.engine) as conn:
            # tuples bound already, run by the driver's executemany: SQLAlchemy's work per row
            # (parameters built, each time column processed) took 1.1 of the 1.9 s 100,000 new
            # sources took to insert (issue 25); a multi-row VALUES of them took 15 s to compile
            statement, at = _new_sources(conn.dialect)
            new = [(name, url, key, 0, at(due), 0, 0, 0) for name, url, key, due in changes.new]
            await bound_insert(conn, statement, new)
            if changes.moved:  # one statement, run with every row (not one round trip a source)
                await conn.execute(_MOVED, changes.moved)
            # (each guarded as _MOVED is: another replica's sync may have come first)
            back, left = sources.c.removed_at.is_not(None), sources.c.removed_at.is_(None)
            for names, guard, removed_at in ((changes.back, back, None), (changes.left, left, now)):
                for chunk in chunks(names):
                    await conn.execute(
                        update(sources)
                        .where(sources.c.name.in_(chunk), guard)
                        .values(removed_at=removed_at)
                    )
            await self._sync_subscribers(conn, config, now)

    async def _sync_subscribers(self, conn: AsyncConnection, config: Config, now: datetime) -> None:
        """New subscribers start their digest period now; a subscriber disabled because its
        receiver was gone, or that unsubscribed or paused, is enabled again once its address
        changes, and what it chose for its old address (an override) is dropped."""
        if not config.subscribers:
            return
        rows = [
            {"name": s.name, "since": now, "target": s.target, "target_since": now}
            for s in config.subscribers
        ]
        for chunk in row_chunks(rows):
            await conn.execute(insert_ignore(self.engine, subscribers, chunk))
        await conn.execute(
            _NEW_TARGET, [{"n": s.name, "t": s.target, "now": now} for s in config.subscribers]
        )
        await drop_moved_overrides(conn, config.subscribers)

    async def states(self, names: Iterable[str] | None = None) -> dict[str, SourceState]:
        query = select(*STATE_COLUMNS, _HAS_ITEMS)
        if names is not None:
            query = query.where(one_of(sources.c.name, names))
        async with reading(self.engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return {row["name"]: SourceState(**row) for row in rows}

    async def polled(self, configured: Iterable[str] | None = None) -> frozenset[str]:
        """The names of the sources the replicas poll (configured, not gone). After
        :meth:`sync`, of the ``configured`` names those not gone: only the few gone are read,
        and the set holds the configuration's own strings (100,000 names read took 0.1 s and
        5 MB more, issue 25). Without ``configured`` (store mode), all read from the table."""
        if configured is None:
            query = select(sources.c.name).where(POLLED)
            async with reading(self.engine) as conn:
                return frozenset((await conn.execute(query)).scalars())
        query = select(sources.c.name).where(
            sources.c.removed_at.is_(None), sources.c.gone_at.is_not(None)
        )
        async with reading(self.engine) as conn:
            gone = set((await conn.execute(query)).scalars())
        return frozenset(name for name in configured if name not in gone)

    async def reserve(self, due_at: Mapping[str, datetime]) -> None:
        """Set each claimed source's next due time before it is polled: if this replica dies
        during the poll, the others poll that source again no sooner than a whole interval
        after this one, not as soon as the lease expires. The poll's own record replaces it."""
        if not due_at:
            return
        rows = [{"p_name": name, "p_due": at} for name, at in due_at.items()]
        async with transaction(self.engine) as conn:
            await conn.execute(_RESERVE, rows)

    async def hasten(self, due_at: Mapping[str, datetime]) -> None:
        """Bring each source's next due time forward to the one given, where it is later."""
        if not due_at:
            return
        rows = [{"p_name": name, "p_due": at} for name, at in due_at.items()]
        async with transaction(self.engine) as conn:
            await conn.execute(_HASTEN, rows)

    async def next_due(self, owner: str, now: datetime, busy: Collection[str]) -> datetime | None:
        """The earliest next due time of a source ``owner`` may claim, past those it is polling
        (``busy``); None when it polls no source."""
        query = select(func.min(sources.c.next_due_at)).where(
            POLLED, free(sources, owner, now), sources.c.name.not_in(list(busy))
        )
        async with reading(self.engine) as conn:
            at: datetime | None = await conn.scalar(query)
        return at

    async def seen(self, source: str, keys: Sequence[str]) -> set[str]:
        """Of ``keys``, those of items of ``source`` seen before: stored, or whose row went past
        the seen-window (monitor.store.seen_window)."""
        return (await self.sightings(source, keys)).seen

    async def sightings(
        self, source: str, keys: Sequence[str], now: datetime | None = None
    ) -> Sightings:
        """Of ``keys`` (the items a poll read), those seen before, and among them those whose
        last mark as found in their feed is older than ``now - RESIGHT`` (none without
        ``now``: the first read of a feed in a day asks, see monitor.poll.news): the poll marks
        them again (PollOutcome.sighted)."""
        stale_before = None if now is None else now - RESIGHT
        found: set[str] = set()
        stale: list[str] = []
        # without a time, the keys alone: read from the index uq_items_source_key
        last = func.coalesce(items.c.last_seen_at, items.c.seen_at) if now else items.c.key
        async with reading(self.engine) as conn:
            for chunk in chunks(keys):
                query = select(items.c.key, last).where(
                    items.c.source == source, items.c.key.in_(chunk)
                )
                for key, at in (await conn.execute(query)).all():
                    found.add(key)
                    if stale_before is not None and at < stale_before:
                        stale.append(key)
            # those not stored: their row may have gone, their identity stayed
            by_hash = {item_hash(source, key): key for key in keys if key not in found}
            if by_hash:
                for hashed, day in (await known(conn, by_hash)).items():
                    found.add(by_hash[hashed])
                    if stale_before is not None and day < day_of(stale_before):
                        stale.append(by_hash[hashed])
        return Sightings(found, tuple(stale))

    async def record(
        self,
        successes: Sequence[PollOutcome] = (),
        failures: Sequence[PollFailure] = (),
        news: Sequence[News] = (),
    ) -> None:
        """Record polls and pushes, all of them in one transaction (monitor.store.polls)."""
        async with transaction(self.engine) as conn:
            await write_polls(conn, successes, failures, news)


async def claim_due(
    leases: Leases, now: datetime, until: datetime, limit: int, skip: Collection[str] = ()
) -> list[str]:
    """Lease to this replica until ``until`` at most ``limit`` sources due at ``now`` (polled:
    configured and not gone), the longest due first, but those of ``skip`` (in flight)."""
    due = sources.c.next_due_at <= now  # (an index range: see ix_sources_due)
    return await leases.claim(
        None, now, until, due, POLLED, first=sources.c.next_due_at, limit=limit, skip=skip
    )
