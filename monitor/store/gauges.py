"""The state of the store as the metrics show it at each scrape (monitor.core.metrics):
whole-cluster figures, the same whichever replica is asked."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import Gauges, SourcePolled
from monitor.store import reading
from monitor.store.tables import digests, outbox, sources


async def read_gauges(engine: AsyncEngine) -> Gauges:
    """The outbox by state, the oldest pending row, dead digests, and how each configured
    source was last polled: those the table does not mark removed (the daemon's sync marks
    them), read with no names bound whatever their number (issue 25)."""
    async with reading(engine) as conn:
        by_state = select(outbox.c.state, func.count()).group_by(outbox.c.state)
        owed = {state: count for state, count in (await conn.execute(by_state)).all()}
        oldest = await conn.scalar(
            select(func.min(outbox.c.created_at)).where(outbox.c.state == "pending")
        )
        dead = await conn.scalar(
            select(func.count()).select_from(digests).where(digests.c.state == "dead")
        )
        columns = (sources.c.last_poll_at, sources.c.last_result, sources.c.failing_since)
        polled = await conn.execute(
            select(sources.c.name, *columns).where(sources.c.removed_at.is_(None))
        )
        found = [SourcePolled(*row) for row in polled.all()]
    return Gauges(owed, oldest, int(dead or 0), found)
