"""Values the daemon keeps in the store's ``settings`` table, one per name."""

from __future__ import annotations

from sqlalchemy import select
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
