"""The store's housekeeping as the daemon runs it: hourly, and at the end of ``run --once``."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.sections import RetentionConfig
from monitor.core.errors import StoreError
from monitor.core.logs import event
from monitor.core.units import format_duration
from monitor.store.retention import prune_text
from monitor.store.seen_window import SEEN_PRUNE_TURN, day_of, prune_seen
from monitor.store.settings import take_turn
from monitor.store.signups import Signups


class Pruner:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.seen_pruned_on: int | None = None  # the day of the last seen-window prune

    async def prune(self, now: datetime, retention: RetentionConfig) -> int:
        """Clear the text of items seen before the ``retention.text`` window, and once a day
        delete the rows of items past ``retention.seen`` (monitor.store.seen_window; one
        replica a day, or run --once, takes that turn); returns how many texts were cleared.
        A store failure is logged, never raised: the next prune does the work (the
        seen-window's, the next day's)."""
        try:
            pruned = await prune_text(self.engine, now, retention.text)
            # the rows of items past retention.seen: once a day (their identity stays), by
            # one replica (the first to take the day's turn: their deletes would contend)
            gone, today = None, day_of(now)
            if self.seen_pruned_on != today:
                if await take_turn(self.engine, SEEN_PRUNE_TURN, today):
                    gone = await prune_seen(self.engine, now, retention.seen)
                self.seen_pruned_on = today
            # sign-ups nobody confirmed: not kept beyond their link's life, even with no
            # further sign-up to purge them (monitor.store.signups)
            forgotten = await Signups(self.engine).purge(now)
        except StoreError as exc:
            event("prune-failed", level=logging.ERROR, error=str(exc))
            return 0
        if pruned:
            event("text-pruned", items=pruned, before=(now - retention.text).isoformat())
        if forgotten:
            event("signups-forgotten", requests=forgotten)
        if gone is not None and (gone.items or gone.forgotten):
            event(
                "seen-pruned",
                items=gone.items,
                sent_records=gone.sent,
                identities_forgotten=gone.forgotten,
                window=format_duration(retention.seen),
            )
        return pruned
