"""monitor.store.gauges on each store: the figures a scrape reads stay bounded whatever the
number of sources: a lag series for the most overdue only, counts for the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.subscribers import SubscriberConfig
from monitor.core.models import Item
from monitor.store import gauges, transaction
from monitor.store.outbox import Outbox
from monitor.store.tables import sources
from tests.support.outbox_helpers import open_synced, record_owed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _row(name: str, **values: object) -> dict[str, object]:
    unset = dict.fromkeys(("last_poll_at", "last_result", "failing_since", "gone_at"))
    return {"name": name, "url": f"https://{name}.ma/", "config_key": name, **unset, **values}


async def test_the_most_overdue_sources_and_the_counts(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gauges, "LAG_SERIES", 2)
    hours = timedelta(hours=1)
    rows = [
        _row("fresh", last_poll_at=NOW - hours, last_result="ok", next_due_at=NOW + hours),
        _row("stale", last_poll_at=NOW - 9 * hours, last_result="ok", next_due_at=NOW - hours),
        # failing: its lag runs from its first failure, not its last (failed) poll
        _row(
            "failing",
            last_poll_at=NOW,
            last_result="error",
            failing_since=NOW - 5 * hours,
            next_due_at=NOW - 2 * hours,
        ),
        _row("new", next_due_at=NOW - 3 * hours),  # never polled: no lag yet
        # gone (410) or removed: never polled again, never among the overdue
        _row("gone", last_poll_at=NOW - 20 * hours, gone_at=NOW, next_due_at=NOW - 9 * hours),
        _row("removed", last_poll_at=NOW - 30 * hours, removed_at=NOW, next_due_at=NOW - hours),
    ]
    async with transaction(engine) as conn:
        for row in rows:
            await conn.execute(insert(sources).values(row))
    assert await gauges.count_polled(engine) == 4  # fresh, stale, failing, new
    read = await gauges.read_gauges(engine, NOW, 4)
    assert [s.name for s in read.sources] == ["failing", "stale"]  # due the longest ago
    assert read.sources[0].failing_since == NOW - 5 * hours
    assert (read.polled, read.overdue) == (4, 3)  # failing, new and stale: due over a minute
    monkeypatch.setattr(gauges, "LAG_SERIES", 3)
    read = await gauges.read_gauges(engine, NOW, 4)
    assert [s.name for s in read.sources] == ["failing", "stale", "fresh"]


async def test_the_outbox_is_counted_by_its_index_up_to_a_bound(
    storage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pending rows up to COUNTED + 1, the rows of dead digests, the oldest pending row; the
    rows sent (every row ever queued) are not counted at a scrape."""
    monkeypatch.setattr(gauges, "COUNTED", 3)
    engine = await open_synced(storage, [SubscriberConfig(name="s", console=True)], NOW)
    try:
        hour = timedelta(hours=1)
        for n, at in enumerate((NOW - 3 * hour, NOW - 2 * hour, NOW - hour)):
            found = [Item("a", f"{n}-{k}", f"https://a.ma/{n}/{k}", "IA", "", "", at)
                     for k in range(4)]  # fmt: skip
            await record_owed(engine, found, ["s"], at)
        box = Outbox(engine)
        sent = await box.close_period("s", NOW, 4)  # the oldest hour's four
        dead = await box.close_period("s", NOW, 2)
        assert sent is not None and dead is not None
        await box.mark_sent(sent, NOW)
        assert await box.mark_failed(dead, NOW, "410", permanent=True)
        read = await gauges.read_gauges(engine, NOW, 0)
        assert read.owed == {"pending": 4, "dead": 2}  # 6 pending: over 3
        assert read.oldest_pending == NOW - 2 * hour  # the sent and dead ones are not owed
        monkeypatch.setattr(gauges, "COUNTED", 10)
        assert (await gauges.read_gauges(engine, NOW, 0)).owed["pending"] == 6
    finally:
        await engine.dispose()
