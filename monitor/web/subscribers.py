"""The overview's subscribers: 50 a page in the configuration's names' order (keyset: the
name after which a page starts), each with its channel, schedule, next digest and counts of
what is pending, sent and dead (monitor.store.overview)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.store.overview import SubscriberRow, subscriber_rows

PAGE = 50


@dataclass(frozen=True, slots=True)
class ShownSubscriber:
    name: str
    channel: str
    schedule: str
    state: str  # active | disabled | unsubscribed
    next_due: datetime | None  # None: at each match (immediate), or none (not active)
    immediate: bool
    pending: int
    sent: int
    dead: int


def _shown(config: Config, name: str, row: SubscriberRow | None, now: datetime) -> ShownSubscriber:
    sub = next(s for s in config.subscribers if s.name == name)
    row = row or SubscriberRow(name, None, None, None)
    state = "unsubscribed" if row.unsubscribed else "disabled" if row.disabled else "active"
    due = sub.digest.next_digest(row.period_start, now, config.zone) if state == "active" else None
    return ShownSubscriber(
        name, sub.channel, str(sub.digest), state, due, sub.digest.immediate,
        row.pending, row.sent, row.dead,
    )  # fmt: skip


async def subscriber_page(
    engine: AsyncEngine, config: Config, after: str, now: datetime
) -> tuple[list[ShownSubscriber], str | None]:
    """One page of subscribers after the name ``after`` ('' for the first), and the name the
    next page starts after (None on the last)."""
    names = sorted(s.name for s in config.subscribers)
    start = bisect_right(names, after) if after else 0
    page = names[start : start + PAGE]
    rows = await subscriber_rows(engine, page)
    more = start + PAGE < len(names)
    return [_shown(config, n, rows.get(n), now) for n in page], (page[-1] if more else None)
