"""What source health reads and writes (monitor.poll.health decides): each source's last
arrival times, and a change of health written with the notices it owes, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import NOTICE_KEY_PREFIX, HealthState, Item
from monitor.store import chunks, insert_ignore, reading, transaction
from monitor.store.tables import items, outbox, sources

# The last ``keep`` distinct arrival times of each source in ``names``, newest first. Built
# once: building it per read took a sixth of the event loop's time in a run --once where every
# source answered 304 (each such poll reads its arrivals then).
_TIMES = (
    select(items.c.source, items.c.seen_at)
    .where(
        items.c.source.in_(bindparam("names", expanding=True)),
        items.c.key.not_like(f"{NOTICE_KEY_PREFIX}%"),
    )
    .distinct()
    .subquery()
)
_NEWEST = func.row_number().over(partition_by=_TIMES.c.source, order_by=_TIMES.c.seen_at.desc())
_RANKED = select(_TIMES.c.source, _TIMES.c.seen_at, _NEWEST.label("rank")).subquery()
_ARRIVALS = (
    select(_RANKED.c.source, _RANKED.c.seen_at)
    .where(_RANKED.c.rank <= bindparam("keep"))
    .order_by(_RANKED.c.source, _RANKED.c.seen_at.desc())
)


async def arrivals(
    engine: AsyncEngine, names: Sequence[str], keep: int
) -> dict[str, list[datetime]]:
    """The last ``keep`` distinct times a poll brought new items of each of ``names``, newest
    first (health notices, stored as items, are not arrivals)."""
    found: dict[str, list[datetime]] = {name: [] for name in names}
    async with reading(engine) as conn:
        for chunk in chunks(sorted(found)):
            params = {"names": list(chunk), "keep": keep}
            for source, seen in await conn.execute(_ARRIVALS, params):
                found[source].append(seen)
    return found


class Notice(NamedTuple):
    """A health notice as it is owed: its item (one per language) and who gets it."""

    item: Item
    subscribers: Sequence[str]


async def record_health(
    engine: AsyncEngine,
    source: str,
    health: tuple[HealthState, datetime | None, datetime | None],
    notices: Sequence[Notice],
    rule: str,
    at: datetime,
) -> None:
    """Write ``source``'s health (state, since, failing since) and owe each notice to its
    subscribers under ``rule``, in one transaction: a notice is neither lost nor doubled."""
    state, since, failing_since = health
    async with transaction(engine) as conn:
        await conn.execute(
            update(sources)
            .where(sources.c.name == source)
            .values(health=state, health_since=since, failing_since=failing_since)
        )
        for item, subscribers in notices:
            row = {
                "source": item.source,
                "key": item.key,
                "article": item.article,
                "link": item.link,
                "title": item.title,
                "summary": item.summary,
                "published": item.published,
                "seen_at": at,
            }
            await conn.execute(insert_ignore(engine, items, [row]))
            item_id = await conn.scalar(
                select(items.c.id).where(items.c.source == item.source, items.c.key == item.key)
            )
            owed: list[dict[str, object]] = [
                {
                    "subscriber": name,
                    "article": item.article,
                    "item_id": item_id,
                    "rules": [rule],
                    "terms": {},
                    "digest_id": None,
                    "state": "pending",
                    "created_at": at,
                }
                for name in subscribers
            ]
            await conn.execute(insert_ignore(engine, outbox, owed))
