"""The seen-window (``retention.seen``, DESIGN §4): items last seen longer ago lose their row,
and a compact record of their identity stays, so the store stays bounded and still nothing is
alerted twice (DESIGN §3.4).

- An item's row goes once it was first seen before ``now - window`` and no poll found it in
  its feed since then (``items.last_seen_at``, written at the first read of its feed in a day
  when over :data:`RESIGHT` old), unless a pending or dead digest still owes it to someone
  (the outbox), or its feed still serves it: it was there when a poll last read the feed
  (``sources.read_at``), which has answered 304 or the same bytes since (a slow feed).
- In the same transaction ``seen_keys`` gets a 64-bit hash of its identity (source, key),
  which :meth:`SourceStore.sightings` reads as "seen" when the feed serves it again; and one of
  (subscriber, article) for each subscriber it was sent to, which keeps the outbox's promise
  (``uq_outbox_subscriber_article``) once its sent outbox rows are gone: the same article under
  its canonical link in another source is not sent again to that subscriber (monitor.store.polls:
  a poll reads those records after inserting its outbox rows, so a prune running meanwhile on
  PostgreSQL, its delete not yet committed when the poll began, cannot slip one past it).
- Its sent outbox rows, its matches (cascade) and its search index entries (the trigger of
  v0013) go with it. Rows go PRUNE_CHUNK candidates per transaction: the write lock is
  released in between, and polls go on.
- The hashes themselves are forgotten :data:`IDENTITY_KEPT` (or the window, if longer) after
  their item's row went or their feed last served it: a feed that serves again an article
  more than a year after it left it is rare, and the record would otherwise grow for ever.

A hash is the first 8 bytes of BLAKE2b over a domain ("item" or "sent") and the two texts. Each
new item is looked up once, and meets the record of another identity with a probability of
r / 2^64 against r records: N new items a year against about as many records (a year of pruned
items; the sent records add a little) make some N^2 / 2^64 collisions a year. With 20 new items
a source a day: 3 x 10^-6 for 1,000 sources, 0.03 for 100,000, 2.9 for 1,000,000 (one item in
2.5 billion). A collision drops the item, never alerts it twice: it reads as seen, so it is
neither stored nor alerted. An outbox row whose (subscriber, article) meets a record is dropped
the same way (deliveries being fewer than items, more rarely still). 64 bits are kept on
purpose: at a million sources the three items a year would alert only if a rule matched them,
and wider records would cost every one of the table's billions (docs/operations.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Dialect,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.core.models import NOTICE_KEY_PREFIX
from monitor.store import chunks, reading, transaction
from monitor.store.tables import items, outbox, seen_keys, sources

PRUNE_CHUNK = 2000  # candidate items read (and their rows deleted) per transaction
# an item still in its feed is marked seen again when its last mark is older than this: at most
# one write per item a day, far within the shortest window (7 days, monitor.config.sections)
RESIGHT = timedelta(days=1)
IN_FEED = 2 * RESIGHT  # an item read with its feed was marked at most this long before
IDENTITY_KEPT = timedelta(days=365)
# the hashes' records are swept for forgetting one slice of the hash space a day: each is
# looked at every SLICES days, a prune reads 1/SLICES of the table
SLICES = 32
FORGET_CHUNK = 5000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# the setting holding the day of the last prune: one replica a day prunes (settings.take_turn)
SEEN_PRUNE_TURN = "seen-window-pruned-day"


def day_of(when: datetime) -> int:
    """Days since 1970-01-01 (UTC): the unit of ``seen_keys.day``."""
    return (when - _EPOCH).days


def _hash(domain: str, first: str, second: str) -> int:
    digest = hashlib.blake2b(digest_size=8)
    for part in (domain, first, second):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(4, "big"))  # (lengths: "a"+"bc" is not "ab"+"c")
        digest.update(data)
    return int.from_bytes(digest.digest(), "big", signed=True)  # a signed BIGINT


def item_hash(source: str, key: str) -> int:
    """The record of an item's identity within its source (DESIGN §3.4)."""
    return _hash("item", source, key)


def sent_hash(subscriber: str, article: str) -> int:
    """The record of an article (Item.article) sent to a subscriber."""
    return _hash("sent", subscriber, article)


async def known(conn: AsyncConnection, hashes: Iterable[int]) -> dict[int, int]:
    """Of ``hashes``, those recorded in ``seen_keys``, with their day."""
    found: dict[int, int] = {}
    for some in chunks(list(dict.fromkeys(hashes))):
        query = select(seen_keys.c.hash, seen_keys.c.day).where(seen_keys.c.hash.in_(some))
        found.update({h: day for h, day in (await conn.execute(query)).all()})
    return found


def _upsert(dialect: Dialect) -> Any:
    """INSERT into ``seen_keys``, a record already there keeping the later day."""
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    statement = insert(seen_keys)
    later = func.max if dialect.name == "sqlite" else func.greatest
    return statement.on_conflict_do_update(
        index_elements=[seen_keys.c.hash],
        set_={"day": later(seen_keys.c.day, statement.excluded.day)},
    )


async def remember(conn: AsyncConnection, hashes: Iterable[int], day: int) -> None:
    """Record ``hashes`` as seen on ``day`` (a later day than the one recorded wins)."""
    rows = [{"hash": h, "day": day} for h in dict.fromkeys(hashes)]
    if rows:
        await conn.execute(_upsert(conn.dialect), rows)


async def resight(conn: AsyncConnection, source: str, keys: Sequence[str], at: datetime) -> None:
    """Mark the items ``keys`` of ``source`` as found in their feed at ``at``: their rows, or
    the records of those whose row is gone (a poll's record, monitor.store.polls)."""
    if not keys:
        return
    rows = [{"p_source": source, "p_key": key, "p_at": at} for key in keys]
    mark = (
        update(items)
        .where(items.c.source == bindparam("p_source"), items.c.key == bindparam("p_key"))
        .values(last_seen_at=bindparam("p_at"))
    )
    await conn.execute(mark, rows)
    day = day_of(at)
    hashes = [{"p_hash": item_hash(source, key), "p_day": day} for key in keys]
    again = (
        update(seen_keys)
        .where(seen_keys.c.hash == bindparam("p_hash"), seen_keys.c.day < bindparam("p_day"))
        .values(day=bindparam("p_day"))
    )
    await conn.execute(again, hashes)


@dataclass(frozen=True, slots=True)
class Pruned:
    items: int  # rows deleted, their identity recorded
    sent: int  # (subscriber, article) records written for the sent outbox rows that went
    forgotten: int  # identity records past their horizon, deleted


async def prune_seen(
    engine: AsyncEngine, now: datetime, window: timedelta, chunk: int = PRUNE_CHUNK
) -> Pruned:
    """Delete the rows of items last seen before ``now - window`` and owed to no one (see the
    module's doc), their identity recorded; then forget the identity records of one slice past
    their horizon. Each chunk of ``chunk`` candidates is one transaction; pruning again deletes
    nothing more."""
    cutoff, today = now - window, day_of(now)
    last = func.coalesce(items.c.last_seen_at, items.c.seen_at)
    owed = exists().where(outbox.c.item_id == items.c.id, outbox.c.state.in_(("pending", "dead")))
    prunable = and_(items.c.seen_at < cutoff, last < cutoff, not_(owed))
    # candidates by (seen_at, id) from where the last chunk ended: the items kept (still in
    # their feed, owed) are read once per prune, not once per chunk
    candidates = (
        select(items.c.id, items.c.key, items.c.seen_at, last.label("last"), _still_read)
        .select_from(items.outerjoin(sources, sources.c.name == items.c.source))
        .where(items.c.seen_at < cutoff)
        .order_by(items.c.seen_at, items.c.id)
        .limit(chunk)
    )
    after: tuple[datetime, int] | None = None
    deleted = sent = 0
    while True:
        page = candidates
        if after is not None:
            at, last_id = after
            page = page.where(
                items.c.seen_at >= at, or_(items.c.seen_at > at, items.c.id > last_id)
            )
        # read apart: on SQLite a transaction that read before it writes fails when a poll
        # committed in between (WAL), where one that writes first waits its turn
        async with reading(engine) as conn:
            rows = (await conn.execute(page)).all()
        ids = [row.id for row in rows if _past(row, cutoff)]
        if ids:
            async with transaction(engine) as conn:
                gone, records = await _delete(conn, ids, prunable, today)
            deleted, sent = deleted + gone, sent + records
        if len(rows) < chunk:
            break
        after = (rows[-1].seen_at, rows[-1].id)
    horizon = max(IDENTITY_KEPT, window)
    forgotten = await forget(engine, today - horizon.days, today % SLICES)
    return Pruned(deleted, sent, forgotten)


# when its source is still polled, the last time a poll read its document (sources.read_at)
_POLLED = and_(sources.c.removed_at.is_(None), sources.c.gone_at.is_(None))  # (as sources')
_still_read = case((_POLLED, sources.c.read_at), else_=None).label("read_at")


def _past(row: Any, cutoff: datetime) -> bool:
    """Whether a candidate's row may go: last seen before ``cutoff``, and not in its feed when
    a poll last read it. An item read then was marked at most 2 days before (RESIGHT, at the
    first read of a day): its feed, answering 304 or the same bytes since, still serves it."""
    if row.last >= cutoff:
        return False
    read_at: datetime | None = row.read_at
    in_feed = read_at is not None and row.last >= read_at - IN_FEED
    return not in_feed or row.key.startswith(NOTICE_KEY_PREFIX)  # (notices are in no feed)


async def _delete(
    conn: AsyncConnection, ids: Sequence[int], prunable: Any, today: int
) -> tuple[int, int]:
    """Delete the prunable items among ``ids``, recording their identity and what was sent of
    them; returns (items deleted, sent records written). Writes first (see prune_seen)."""
    # ``prunable`` checked again here: an item marked seen again, or owed, meanwhile stays
    going = select(items.c.id).where(items.c.id.in_(ids), prunable)
    # what was sent of them, before their rows go (the outbox's would by cascade): recorded
    # whatever happens to the item (on PostgreSQL it may be marked seen again meanwhile)
    sent_rows = (
        await conn.execute(
            delete(outbox)
            .where(outbox.c.item_id.in_(going), outbox.c.state == "sent")
            .returning(outbox.c.subscriber, outbox.c.article)
        )
    ).all()
    removed = (
        await conn.execute(
            delete(items)
            .where(items.c.id.in_(ids), prunable)
            .returning(items.c.source, items.c.key)
        )
    ).all()
    sent = {sent_hash(r.subscriber, r.article) for r in sent_rows}
    await remember(conn, [item_hash(r.source, r.key) for r in removed] + list(sent), today)
    return len(removed), len(sent)


async def forget(engine: AsyncEngine, before: int, part: int) -> int:
    """Delete the identity records of slice ``part`` (of SLICES, by hash) whose day is before
    ``before``, FORGET_CHUNK read per transaction; returns how many."""
    width = 2**64 // SLICES
    low = -(2**63) + part * width
    query = select(seen_keys.c.hash, seen_keys.c.day).order_by(seen_keys.c.hash)
    query = query.where(seen_keys.c.hash >= low).limit(FORGET_CHUNK)
    if part < SLICES - 1:  # (the last slice ends with the type: 2^63 is no BIGINT)
        query = query.where(seen_keys.c.hash < low + width)
    total, after = 0, None
    while True:
        page = query if after is None else query.where(seen_keys.c.hash > after)
        async with reading(engine) as conn:  # read apart, as prune_seen reads
            rows = (await conn.execute(page)).all()
        old = [h for h, day in rows if day < before]
        if old:
            async with transaction(engine) as conn:
                for some in chunks(old):
                    statement = delete(seen_keys).where(
                        seen_keys.c.hash.in_(some), seen_keys.c.day < before
                    )
                    total += (await conn.execute(statement)).rowcount
        if len(rows) < FORGET_CHUNK:
            return total
        after = rows[-1].hash
