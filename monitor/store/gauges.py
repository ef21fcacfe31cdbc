"""The state of the store as the metrics show it at each scrape (monitor.core.metrics):
whole-cluster figures, the same whichever replica is asked."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import Gauges, SourcePolled
from monitor.store import reading
from monitor.store.sources import POLLED
from monitor.store.tables import PENDING, digests, outbox, sources

# sources given a lag series of their own, the most overdue first: one per source made a scrape
# of 1,000,000 sources 13 s of the event loop and 13 MB; alerts want the worst ones (issue 25)
LAG_SERIES = 1000
# a source due longer ago than this is overdue (a claim comes within a tick of its due time)
OVERDUE = timedelta(minutes=1)
# pending rows are counted up to this many at a scrape (a backlog of 3.9 million read whole made
# each scrape a second of the store's time, issue 25); past it the gauge says COUNTED + 1
COUNTED = 100_000
_FAILING = sources.c.last_result == "error"
# since when the source has had no successful poll: what its lag is counted from
_SINCE = case((_FAILING, sources.c.failing_since), else_=sources.c.last_poll_at)


async def read_gauges(engine: AsyncEngine, now: datetime, polled: int) -> Gauges:
    """The outbox's rows pending (up to COUNTED + 1) and those of dead digests, the oldest
    pending row, dead digests (each by an index: the rows sent, every row ever queued, are not
    counted); ``polled`` (counted by :func:`count_polled`, less often: a scan of the table),
    how many sources are overdue at ``now``, and how the LAG_SERIES due the longest ago were
    last polled (both by the due index: bounded whatever the number of sources, issue 25). A
    source backing off after failures is due later: ``monitor status --failing`` and the
    overview list those."""
    async with reading(engine) as conn:
        # (in the index's order: SQLite, planning without statistics, otherwise reads another
        # index of every row ever queued until it has found as many)
        pending = (
            select(literal(1))
            .where(PENDING)
            .order_by(outbox.c.created_at)
            .limit(COUNTED + 1)
            .subquery()
        )
        dead_rows = (
            select(func.count())
            .select_from(outbox.join(digests, digests.c.id == outbox.c.digest_id))
            .where(digests.c.state == "dead")
        )
        owed = {
            "pending": int(await conn.scalar(select(func.count()).select_from(pending)) or 0),
            "dead": int(await conn.scalar(dead_rows) or 0),
        }
        oldest = await conn.scalar(  # (the first entry of ix_outbox_pending)
            select(outbox.c.created_at).where(PENDING).order_by(outbox.c.created_at).limit(1)
        )
        dead = await conn.scalar(
            select(func.count()).select_from(digests).where(digests.c.state == "dead")
        )
        overdue = await conn.scalar(  # (a range of ix_sources_due)
            select(func.count()).where(POLLED, sources.c.next_due_at < now - OVERDUE)
        )
        columns = (sources.c.last_poll_at, sources.c.last_result, sources.c.failing_since)
        stalest = (
            select(sources.c.name, *columns)
            .where(POLLED, _SINCE.is_not(None))
            .order_by(sources.c.next_due_at, sources.c.name)
            .limit(LAG_SERIES)
        )
        found = [SourcePolled(*row) for row in (await conn.execute(stalest)).all()]
    return Gauges(owed, oldest, int(dead or 0), found, polled, int(overdue or 0))


async def count_polled(engine: AsyncEngine) -> int:
    """How many sources are polled: configured (not removed) and not gone."""
    async with reading(engine) as conn:
        return int(await conn.scalar(select(func.count()).where(POLLED)) or 0)
