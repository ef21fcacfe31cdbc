"""The text of items is kept for a window (``retention.text``), then pruned.

Within the window the store can give back the items it saw, text included, so rules can be run
again over them (``monitor test-rule --backtest 7d``). Past it, an item keeps its row (its
identity: nothing is alerted twice) and its title, but loses its text: ``content`` becomes NULL
and ``summary`` '', and the text's words leave the search index (``text_words``; the title's
stay). The text of an item that a pending digest still owes to someone is kept until
that digest is sent (its snippet is made from it), and so is that of a dead-lettered one, which
``monitor retry`` may send again.

Rows from before store version 0005 have their summary but no content (NULL): they count as
kept, with an empty content.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, exists, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import NOTICE_KEY_PREFIX, Item
from monitor.store import reading, transaction
from monitor.store.tables import TEXT_KEPT, items, outbox

PRUNE_CHUNK = 2000  # items cleared per transaction: the write lock is released in between
READ_CHUNK = 500  # items read per query by stream_items_since


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as the store kept it, with when it was first seen and its row id."""

    id: int
    item: Item  # content '' when the store has none (rows from before version 0005)
    seen_at: datetime
    text_kept: bool = True  # False: past retention.text, only the title is left


_COLUMNS = (
    items.c.id,
    items.c.source,
    items.c.key,
    items.c.link,
    items.c.title,
    items.c.summary,
    items.c.content,
    items.c.published,
    items.c.seen_at,
)


# a row of any columns (SQLAlchemy types a row by its columns: those of _COLUMNS, or more)
AnyRow = Row[*tuple[Any, ...]]


def stored_item(row: AnyRow, text_kept: bool = True) -> StoredItem:
    """An item's row (the columns of :data:`_COLUMNS`, by name) as a StoredItem: how the
    store gives back an item it kept, here and to the rules' Atom feeds (monitor.store.feeds)."""
    item = Item(
        source=row.source,
        key=row.key,
        link=row.link,
        title=row.title,
        summary=row.summary,
        content=row.content or "",
        published=row.published,
    )
    return StoredItem(id=row.id, item=item, seen_at=row.seen_at, text_kept=text_kept)


def _feed_item() -> ColumnElement[bool]:
    """Items of feeds, not the notices of source health (monitor.poll.health) stored beside them."""
    return items.c.key.not_like(f"{NOTICE_KEY_PREFIX}%")


async def prune_text(engine: AsyncEngine, now: datetime, window: timedelta) -> int:
    """Clear the text (content NULL, summary '') of items seen before ``now - window``, except
    those a pending or dead outbox row still refers to; returns how many items were cleared. Runs in
    chunks of PRUNE_CHUNK, one transaction each; pruning again clears nothing more."""
    # a dead letter may be retried (monitor retry): its snippet needs the text too
    owed = exists().where(outbox.c.item_id == items.c.id, outbox.c.state.in_(("pending", "dead")))
    # TEXT_KEPT is the predicate of the partial index ix_items_text_kept: with it, a prune
    # reads only the items it may clear, never the ever-growing set of those already cleared
    prunable = and_(TEXT_KEPT, items.c.seen_at < now - window, not_(owed))
    chunk = select(items.c.id).where(prunable).limit(PRUNE_CHUNK).scalar_subquery()
    # ``prunable`` again in the UPDATE: a row claimed by another replica meanwhile, or owed
    # again (a dead letter requeued), is left alone and not counted
    statement = (
        update(items)
        .where(items.c.id.in_(chunk), prunable)
        .values(content=None, summary="", text_words="")
    )
    total = 0
    while True:
        async with transaction(engine) as conn:
            cleared = (await conn.execute(statement)).rowcount
        total += cleared
        if cleared < PRUNE_CHUNK:
            return total


async def stream_items_since(
    engine: AsyncEngine, since: datetime, chunk: int = READ_CHUNK
) -> AsyncIterator[StoredItem]:
    """The feed items seen at or after ``since`` whose text is kept, by ``seen_at`` then id,
    read ``chunk`` at a time (each chunk in its own short read: no connection is held between
    them, and a prune meanwhile only removes items not yet read)."""
    query = (
        select(*_COLUMNS)
        .where(TEXT_KEPT, items.c.seen_at >= since, _feed_item())
        .order_by(items.c.seen_at, items.c.id)
        .limit(chunk)
    )
    after: tuple[datetime, int] | None = None
    while True:
        page = query
        if after is not None:  # the next chunk starts where this one ended, not at ``since``
            seen_at, last_id = after
            page = query.where(
                items.c.seen_at >= seen_at, or_(items.c.seen_at > seen_at, items.c.id > last_id)
            )
        async with reading(engine) as conn:
            rows = (await conn.execute(page)).all()
        for row in rows:
            yield stored_item(row)
        if len(rows) < chunk:
            return
        after = (rows[-1].seen_at, rows[-1].id)


async def stream_newest_since(
    engine: AsyncEngine, since: datetime, chunk: int = READ_CHUNK
) -> AsyncIterator[StoredItem]:
    """Every feed item seen at or after ``since``, newest first (``seen_at`` then id, both
    descending), read ``chunk`` at a time as :func:`stream_items_since` reads; an item whose
    text was pruned comes with its title alone (``text_kept`` False), so a caller that stops
    early has read the most recent ones (the web app's rule trial, monitor.web.trying)."""
    kept = TEXT_KEPT.label("text_kept")
    query = (
        select(*_COLUMNS, kept)
        .where(items.c.seen_at >= since, _feed_item())
        .order_by(items.c.seen_at.desc(), items.c.id.desc())
        .limit(chunk)
    )
    after: tuple[datetime, int] | None = None
    while True:
        page = query
        if after is not None:
            seen_at, last_id = after
            page = query.where(
                items.c.seen_at <= seen_at, or_(items.c.seen_at < seen_at, items.c.id < last_id)
            )
        async with reading(engine) as conn:
            rows = (await conn.execute(page)).all()
        for row in rows:
            yield stored_item(row, bool(row.text_kept))
        if len(rows) < chunk:
            return
        after = (rows[-1].seen_at, rows[-1].id)


async def in_chunks(
    stream: AsyncIterator[StoredItem], size: int
) -> AsyncIterator[list[StoredItem]]:
    """The items of ``stream`` ``size`` at a time (a rule trial matches them a chunk at a
    time, with one read of their sources' tags each)."""
    chunk: list[StoredItem] = []
    async for stored in stream:
        chunk.append(stored)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def items_since(engine: AsyncEngine, since: datetime) -> list[StoredItem]:
    """Every feed item seen at or after ``since`` whose text is kept, by ``seen_at`` then id
    (see :func:`pruned_since` for those whose text is gone). Read-only."""
    return [stored async for stored in stream_items_since(engine, since)]


async def pruned_since(engine: AsyncEngine, since: datetime) -> int:
    """How many feed items seen at or after ``since`` have had their text pruned (the window
    asked for is longer than ``retention.text``, or was shortened). Read-only."""
    query = (
        select(func.count())
        .select_from(items)
        .where(items.c.seen_at >= since, not_(TEXT_KEPT), _feed_item())
    )
    async with reading(engine) as conn:
        return int(await conn.scalar(query) or 0)
