"""The articles the store kept, as the web app shows them (``/items``, ``/api/items``, DESIGN
§3.7): one page of items newest first (by id), keyset-paged, filtered by a search (the index of
monitor.store.search), a rule, sources, a date range and "alerted only"; and, for the page's
items, the rules they matched with their terms and the subscribers they went to.

A page costs a fixed number of statements whatever the store or the page holds
(:data:`MAX_STATEMENTS`): at most two reading where a date range starts and ends in ids, the
page (a search on PostgreSQL: up to three steps, :func:`_widening`), its matches, its
deliveries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    any_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.core.models import NOTICE_KEY_PREFIX
from monitor.store import reading
from monitor.store.search import Query, fts5_query, tsquery
from monitor.store.tables import items, matches, outbox

MAX_PAGE = 200
# the largest id an item may have: ``items.id`` is an INTEGER, 32 bits on PostgreSQL, which
# refuses a larger parameter; a cursor past it is past every item (the first page)
LAST_ID = 2**31 - 1
SNIPPET = 2000  # characters of an item's text read for its snippet
# (SQLite) a search within at most this many sources starts from their items; within more (a
# tag's), from the index: a tag's items could be too many to look up one by one
FEW_SOURCES = 20

# the FTS5 table of store version 0013 (SQLite only; made by its migration, not by metadata)
item_search = table("item_search", column("rowid"))
# must stay the expression of the GIN index of store version 0013 (PostgreSQL)
_PG_MATCH = (
    "(CAST(items.title_words AS tsvector) || CAST(items.text_words AS tsvector)) "
    "@@ CAST(:tsquery AS tsquery)"
)


@dataclass(frozen=True, slots=True)
class ItemFilter:
    query: Query | None = None
    rule: str | None = None
    # only the items of these sources (one, or a tag's): bound as ONE parameter (a JSON array
    # on SQLite, an array on PostgreSQL), so a tag of 100,000 sources stays under every
    # backend's limit on parameters (SQLite 32,766, asyncpg 32,767)
    sources: Sequence[str] | None = None
    since: datetime | None = None  # seen at or after
    until: datetime | None = None  # seen before
    # the longest from an item's seen_at (its poll's start) to its write (_id_bounds): the
    # longest a poll can take, cluster.lease, and the writer's queue (monitor.web.items)
    lag: timedelta = timedelta(minutes=5)
    alerted: bool = False  # only items that matched a rule


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: int
    source: str
    title: str
    link: str
    text: str  # the start of its summary, else of its content ('' once pruned)
    published: datetime | None
    seen_at: datetime
    # rule → the terms it found, in configuration order of the rules as stored
    rules: dict[str, list[str]] = field(default_factory=dict)
    subscribers: list[str] = field(default_factory=list)


def _among(dialect: str, names: Sequence[str]) -> ColumnElement[bool]:
    """``items.source`` is one of ``names``, bound as one parameter whatever their number."""
    if dialect == "postgresql":
        return items.c.source == any_(bindparam("among", list(names), type_=ARRAY(String)))
    wanted: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam("among", json.dumps(list(names))))
    )
    return items.c.source.in_(wanted)


async def _id_bounds(
    conn: AsyncConnection, since: datetime | None, until: datetime | None, lag: timedelta
) -> tuple[int | None, int | None]:
    """The ids a date range lies between, for the search index to skip to. An item's id is
    given when its poll is written, its ``seen_at`` when the poll started: polls overlap, so
    ids do not follow ``seen_at``, but an item is written at most ``lag`` after it was seen.
    Any item seen before ``since - lag`` was then written before ``since``, before every item
    seen since: its id is a lower bound; any item seen at ``until + lag`` or later, an upper
    bound. The ``seen_at`` bounds are checked on the page too (ids between are not all in)."""
    low = high = None
    if since is not None:
        before = select(items.c.id).where(items.c.seen_at < since - lag)
        found = await conn.scalar(before.order_by(items.c.seen_at.desc()).limit(1))
        low = None if found is None else found + 1
    if until is not None:
        after = select(items.c.id).where(items.c.seen_at >= until + lag)
        found = await conn.scalar(after.order_by(items.c.seen_at).limit(1))
        high = None if found is None else found - 1
    return low, high


def _page_query(
    dialect: str, filters: ItemFilter, low: int | None, high: int | None, limit: int
) -> Select[Any]:
    summary = func.substr(items.c.summary, 1, SNIPPET)
    content = func.substr(func.coalesce(items.c.content, ""), 1, SNIPPET)
    query = select(
        items.c.id, items.c.source, items.c.title, items.c.link, summary.label("summary"),
        content.label("content"), items.c.published, items.c.seen_at,
    ).where(items.c.key.not_like(f"{NOTICE_KEY_PREFIX}%"))  # fmt: skip
    ids: Any = items.c.id
    if filters.query is not None and dialect == "sqlite":
        match = literal_column("item_search").op("MATCH")(
            bindparam("match", fts5_query(filters.query))
        )
        if filters.sources is not None and len(filters.sources) <= FEW_SOURCES:
            # a few sources' items (read by uq_items_source_key), each looked up in the index
            # by rowid: a word in a third of the items would otherwise be walked through
            # until enough of them are from these sources (0.4 s, against 3 ms, on 1,000,000)
            found: Select[Any] = select(literal_column("1")).select_from(item_search)
            query = query.where(exists(found.where(match, item_search.c.rowid == items.c.id)))
        else:
            # the FTS5 table walks its matches newest first and the page stops at ``limit``:
            # an id range is handed to it (rowid bounds), not checked item by item afterwards
            joined = items.join(item_search, item_search.c.rowid == items.c.id)
            query = query.select_from(joined).where(match)
            ids = item_search.c.rowid
    elif filters.query is not None:
        query = query.where(text(_PG_MATCH).bindparams(tsquery=tsquery(filters.query)))
    if low is not None:
        query = query.where(ids >= low)
    if high is not None:
        query = query.where(ids <= high)
    if filters.since is not None:
        query = query.where(items.c.seen_at >= filters.since)
    if filters.until is not None:
        query = query.where(items.c.seen_at < filters.until)
    if filters.sources is not None:
        query = query.where(_among(dialect, filters.sources))
    if filters.rule is not None:
        query = query.where(
            exists().where(matches.c.item_id == items.c.id, matches.c.rule == filters.rule)
        )
    if filters.alerted:
        query = query.where(exists().where(matches.c.item_id == items.c.id))
    return query.order_by(ids.desc()).limit(limit + 1)


async def item_page(
    engine: AsyncEngine, filters: ItemFilter, after: int | None, limit: int
) -> tuple[list[ItemRow], int | None]:
    """Up to ``limit`` items older than ``after`` (an id) that pass ``filters``, newest first,
    and the cursor of the next page (the last id) or None."""
    async with reading(engine) as conn:
        dialect = conn.dialect.name
        low, high = await _id_bounds(conn, filters.since, filters.until, filters.lag)
        if after is not None:
            high = after - 1 if high is None else min(high, after - 1)
        if dialect == "postgresql" and filters.query is not None:
            rows = await _widening(conn, filters, low, high, limit)
        else:
            rows = (await conn.execute(_page_query(dialect, filters, low, high, limit))).all()
        more = len(rows) > limit
        found = [
            ItemRow(
                row.id, row.source, row.title, row.link, row.summary or row.content,
                row.published, row.seen_at,
            )
            for row in rows[:limit]
        ]  # fmt: skip
        if found:
            await _explain(conn, found)
    return found, (found[-1].id if more else None)


# (PostgreSQL) A search's page is looked for among the newest ids first, then more widely. The
# planner cannot tell a word in a third of the items from one in ten (the GIN index keeps no
# useful frequency for words it does not list): walking the ids backward, each item checked,
# finds fifty items of a frequent word in a few milliseconds but walks the whole store for a
# rare one; the GIN index finds a rare word's items at once but reads every item of a frequent
# one (6 s for Maroc on 1,000,000 items). So: the newest 1,000 ids walked backward; then the
# newest 50,000 through the index; then everything through the index. Each step that finds a
# full page is the answer (nothing older can come before it); about 25 ms at worst on a million.
# Each step is planned for its own tsquery (plan_cache_mode): asyncpg prepares its statements,
# and after five runs PostgreSQL may keep a generic plan, blind to the words, which took the
# whole-store step from 2 ms to 50 ms for a rare word (bench/web.py).
_WINDOWS: tuple[tuple[int | None, bool], ...] = ((1_000, False), (50_000, True), (None, True))
_PLANNER = text(
    "SELECT set_config('enable_bitmapscan', :bitmap, true), "
    "set_config('enable_indexscan', :walk, true), "
    "set_config('plan_cache_mode', 'force_custom_plan', true)"
)
# what a page may cost at most: the dates' two ends, the newest id, three steps of two
# statements, the matches and the deliveries
MAX_STATEMENTS = 11


async def _widening(
    conn: AsyncConnection, filters: ItemFilter, low: int | None, high: int | None, limit: int
) -> Sequence[Row[Any]]:
    top = high if high is not None else await conn.scalar(select(func.max(items.c.id)))
    if top is None:
        return []
    rows: Sequence[Row[Any]] = []
    for window, bitmap in _WINDOWS:
        start = None if window is None else top - window + 1
        whole = start is None or start <= 1 or (low is not None and low >= start)
        on, off = ("on", "off") if bitmap else ("off", "on")
        await conn.execute(_PLANNER, {"bitmap": on, "walk": off})
        query = _page_query("postgresql", filters, low if whole else start, top, limit)
        rows = (await conn.execute(query)).all()
        if whole or len(rows) > limit:
            return rows
    return rows


async def _explain(conn: AsyncConnection, rows: list[ItemRow]) -> None:
    """Fill in the rules and subscribers of ``rows``: two statements for the whole page."""
    by_id = {row.id: row for row in rows}
    ids = list(by_id)  # at most MAX_PAGE: one IN list under every parameter limit
    found = select(matches.c.item_id, matches.c.rule, matches.c.terms).where(
        matches.c.item_id.in_(ids)
    )
    for item_id, rule, terms in await conn.execute(found.order_by(matches.c.rule)):
        by_id[item_id].rules[rule] = list(terms)
    sent = (
        select(outbox.c.item_id, outbox.c.subscriber)
        .where(outbox.c.item_id.in_(ids))
        .order_by(outbox.c.subscriber)
    )
    for item_id, subscriber in await conn.execute(sent):
        by_id[item_id].subscribers.append(subscriber)
