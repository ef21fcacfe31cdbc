"""The planner's statistics after a bulk write (PostgreSQL).

PostgreSQL plans from statistics that autovacuum's ANALYZE keeps, a minute or more after a
table changed, and never where autovacuum is off. A table filled from empty by ``monitor
sources load`` is planned as if it held nothing meanwhile: the replicas' next-due query
(``min(next_due_at)`` over the sources they may claim) ran as a parallel sequential scan of
484,000 rows, 0.3 s each time, instead of a walk of the due index (issue 25). The load
analyzes the tables it filled as they grow. SQLite plans without them."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import Table

from monitor.store import transaction


class Growth:
    """Analyzes ``tables`` each time the rows a bulk wrote have doubled (from ``first`` rows),
    and once more at its end: about ten ANALYZE for a million rows, each sampling 30,000 rows
    (some 0.1 s)."""

    def __init__(self, engine: AsyncEngine, tables: tuple[Table, ...], first: int = 1000) -> None:
        self.engine, self.tables = engine, tables
        self.next = first  # rows written at which to analyze next
        self.analyzed = 0  # rows written when last analyzed

    async def wrote(self, total: int) -> None:
        """The bulk has written ``total`` rows so far."""
        if total >= self.next:
            await self.analyze(total)
            self.next = 2 * total

    async def finish(self, total: int) -> None:
        """The bulk is over, having written ``total`` rows."""
        if total != self.analyzed:
            await self.analyze(total)

    async def analyze(self, total: int) -> None:
        self.analyzed = total
        if self.engine.dialect.name != "postgresql":
            return
        async with transaction(self.engine) as conn:
            names = ", ".join(table.name for table in self.tables)
            await conn.execute(text(f"ANALYZE {names}"))
