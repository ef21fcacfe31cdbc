"""monitor.store.gauges on each store: the figures a scrape reads stay bounded whatever the
number of sources: a lag series for the most overdue only, counts for the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import gauges, transaction
from monitor.store.tables import sources

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
