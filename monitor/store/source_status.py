"""What ``monitor status`` reads of the sources: one page of their full states, broken first
(the overview's order and filters, monitor.store.overview), by keyset, and how many there are,
whatever their number: a page costs one query, the count another (issue 25)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import SourceState
from monitor.store import reading
from monitor.store.overview import (
    MAX_PAGE,
    RANK,
    SOURCE_STATE,
    SourceFilter,
    State,
    source_where,
)
from monitor.store.sources import STATE_COLUMNS
from monitor.store.tables import sources


@dataclass(frozen=True, slots=True)
class StatePage:
    states: list[SourceState]
    labels: list[State]  # each one's state, as the overview says it
    after: tuple[int, str] | None  # the cursor of the next page; None on the last


async def state_page(
    engine: AsyncEngine, filters: SourceFilter, after: tuple[int, str] | None, limit: int
) -> StatePage:
    """Up to ``limit`` (at most MAX_PAGE) configured sources ``filters`` keep, after the cursor
    ``after``, broken first then by name, each with all the store remembers of it."""
    limit = max(1, min(limit, MAX_PAGE))
    query = (
        select(*STATE_COLUMNS, RANK.label("rank"), SOURCE_STATE.label("label"))
        .where(*source_where(filters, after))
        .order_by(RANK, sources.c.name)
        .limit(limit + 1)  # one more: is there a next page?
    )
    async with reading(engine) as conn:
        rows = (await conn.execute(query)).mappings().all()
    found = [
        SourceState(**{k: v for k, v in row.items() if k not in ("rank", "label")})
        for row in rows[:limit]
    ]
    labels = [row["label"] for row in rows[:limit]]
    more = len(rows) > limit and found
    after = (int(rows[limit - 1]["rank"]), found[-1].name) if more else None
    return StatePage(found, labels, after)


async def count_sources(engine: AsyncEngine, filters: SourceFilter) -> int:
    """How many configured sources ``filters`` keep (one counting query)."""
    query = select(func.count()).select_from(sources).where(*source_where(filters, None))
    async with reading(engine) as conn:
        return int(await conn.scalar(query) or 0)
