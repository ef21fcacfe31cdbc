"""APScheduler wiring: a poll-dispatch tick, a digest tick, a heartbeat, an hourly prune of
old item text, and the WebSub requests due. The schedule state itself (next due time of each
source, digest periods, leases to renew) lives in the store, so a restart forgets nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.poll.claims import POLL_TICK

if TYPE_CHECKING:  # (imported where a daemon that runs for good builds its scheduler)
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

DIGEST_TICK = timedelta(seconds=15)
HEARTBEAT = timedelta(minutes=1)
PRUNE = timedelta(hours=1)
WEBSUB_TICK = timedelta(minutes=1)
PRUNE_FIRST = timedelta(minutes=1)  # after a start: a daemon restarted often still prunes


def build_scheduler(
    poll_tick: Callable[[], Awaitable[object]],
    digest_tick: Callable[[], Awaitable[object]],
    heartbeat: Callable[[], Awaitable[object]],
    prune: Callable[[], Awaitable[object]],
    loop: asyncio.AbstractEventLoop,
    websub: Callable[[], Awaitable[object]] | None = None,
) -> AsyncIOScheduler:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = AsyncIOScheduler(event_loop=loop, timezone="UTC")
    options = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    scheduler.add_job(
        poll_tick, IntervalTrigger(seconds=POLL_TICK.total_seconds()), id="poll-dispatch", **options
    )
    scheduler.add_job(
        digest_tick, IntervalTrigger(seconds=DIGEST_TICK.total_seconds()), id="digests", **options
    )
    scheduler.add_job(
        heartbeat, IntervalTrigger(seconds=HEARTBEAT.total_seconds()), id="heartbeat", **options
    )
    scheduler.add_job(
        prune,
        IntervalTrigger(seconds=PRUNE.total_seconds()),
        id="prune-text",
        next_run_time=datetime.now(UTC) + PRUNE_FIRST,  # APScheduler runs on the real clock
        **options,
    )
    if websub is not None:  # leases to renew, requests to retry, leases that ended
        scheduler.add_job(
            websub, IntervalTrigger(seconds=WEBSUB_TICK.total_seconds()), id="websub", **options
        )
    return scheduler
