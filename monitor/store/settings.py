"""Values the daemon keeps in the store's ``settings`` table, one per name."""

from __future__ import annotations

from sqlalchemy import BigInteger, cast, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import insert_ignore, reading, transaction
from monitor.store.tables import settings


async def setting(engine: AsyncEngine, name: str, first: str) -> str:
    """The value of setting ``name``; ``first`` is stored when it has none yet (the first
    writer wins: replicas starting together all read the same value)."""
    async with transaction(engine) as conn:
        await conn.execute(insert_ignore(engine, settings, [{"name": name, "value": first}]))
    async with reading(engine) as conn:
        value = await conn.scalar(select(settings.c.value).where(settings.c.name == name))
    return str(value)


async def take_turn(engine: AsyncEngine, name: str, turn: int) -> bool:
    """Whether this replica takes turn ``turn`` (a day) of the once-per-cluster job ``name``:
    the first replica to ask does, every other is told no, as is one asking for a turn older
    than the last taken (its clock behind). Setting ``name`` holds the last turn taken.

    One conditional UPDATE of one row: on PostgreSQL a replica asking at the same instant
    waits for the row, then finds the turn taken (READ COMMITTED evaluates its WHERE again
    on the row committed). A turn taken is not given back: a job that fails does its work
    at its next turn."""
    async with transaction(engine) as conn:
        await conn.execute(insert_ignore(engine, settings, [{"name": name, "value": "-1"}]))
        taken = await conn.execute(
            update(settings)
            .where(settings.c.name == name, cast(settings.c.value, BigInteger) < turn)
            .values(value=str(turn))
        )
    return taken.rowcount == 1
