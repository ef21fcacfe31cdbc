"""What a rule's Atom feed reads (monitor.web.feeds): the rule's last alerts, and the feeds'
own secret (the ``feed_key`` setting, apart from the unsubscribe key so either can be
replaced alone)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import reading, transaction
from monitor.store.retention import StoredItem, stored_item
from monitor.store.settings import setting
from monitor.store.tables import items, matches, settings

FEED_KEY_SETTING = "feed_key"
FEED_ENTRIES = 100


@dataclass(frozen=True, slots=True)
class Alert:
    """One item a rule matched, as its feed shows it, with the terms that matched."""

    stored: StoredItem
    terms: tuple[str, ...]


def alerts_query(rule: str, limit: int = FEED_ENTRIES) -> Select[Any]:
    """The last ``limit`` items ``rule`` matched, newest first. Newest by item id: ids are
    given as items are seen, so this is the order they were seen and alerted in, and it is an
    ordered walk of ix_matches_rule (rule, item_id) that stops after ``limit`` rows, however
    many the rule matched over the months."""
    return (
        select(
            items.c.id,
            items.c.source,
            items.c.key,
            items.c.title,
            items.c.link,
            items.c.summary,
            items.c.content,
            items.c.published,
            items.c.seen_at,
            matches.c.terms,
        )
        .select_from(matches.join(items, items.c.id == matches.c.item_id))
        .where(matches.c.rule == rule)
        .order_by(matches.c.item_id.desc())
        .limit(limit)
    )


async def rule_alerts(engine: AsyncEngine, rule: str, limit: int = FEED_ENTRIES) -> list[Alert]:
    """:func:`alerts_query`, read."""
    async with reading(engine) as conn:
        rows = (await conn.execute(alerts_query(rule, limit))).all()
    return [Alert(stored_item(row), tuple(row.terms)) for row in rows]


def _fresh() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _decoded(values: Sequence[object]) -> bytes | None:
    return base64.b64decode(str(values[0])) if values else None


async def feed_key(engine: AsyncEngine) -> bytes:
    """The feeds' secret, drawn at random the first time (the first writer wins)."""
    return base64.b64decode(await setting(engine, FEED_KEY_SETTING, _fresh()))


async def read_feed_key(engine: AsyncEngine) -> bytes | None:
    """The feeds' secret as it is now, with no write: None before it was ever drawn."""
    async with reading(engine) as conn:
        found = (
            await conn.execute(select(settings.c.value).where(settings.c.name == FEED_KEY_SETTING))
        ).scalars()
        return _decoded(list(found))


async def rotate_feed_key(engine: AsyncEngine) -> bytes:
    """A new secret in place of the old one: every feed URL given so far stops working."""
    fresh = _fresh()
    await feed_key(engine)  # (so that there is a row to replace)
    async with transaction(engine) as conn:
        await conn.execute(
            update(settings).where(settings.c.name == FEED_KEY_SETTING).values(value=fresh)
        )
    return base64.b64decode(fresh)
