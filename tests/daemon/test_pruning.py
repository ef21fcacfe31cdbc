"""The daemon's housekeeping (monitor.daemon.pruning): texts cleared past retention.text at
every prune, rows past retention.seen once a day, a store failure logged and not raised. On
SQLite, with the store's own write path and a fake clock's instants."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from monitor.config.sections import RetentionConfig
from monitor.daemon.pruning import Pruner
from monitor.store import open_engine
from monitor.store.sources import SourceStore
from monitor.store.tables import items, outbox
from tests.support.store import T0, config, item, outcome

DAY = timedelta(days=1)
RETENTION = RetentionConfig(text=timedelta(days=30), seen=timedelta(days=90))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SourceStore]:
    engine = await open_engine(f"sqlite:///{tmp_path}/monitor.db")
    store = SourceStore(engine)
    await store.sync(config(), T0 - 200 * DAY)
    yield store
    await engine.dispose()


async def seen(store: SourceStore, *keys: str, at: timedelta) -> None:
    """Items first seen ``at`` before T0, their digests sent (nothing is owed of them)."""
    found = tuple(item("a", key) for key in keys)
    await store.record([outcome("a", found, at=T0 - at, subs=("s1",))])
    async with store.engine.begin() as conn:
        await conn.execute(update(outbox).values(state="sent"))


async def kept(store: SourceStore) -> dict[str, bool]:
    """Each item's key -> whether it still has its text."""
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(items.c.key, items.c.content.is_not(None)))
        return {key: bool(has_text) for key, has_text in rows}


async def test_texts_go_at_every_prune_rows_once_a_day(store: SourceStore) -> None:
    await seen(store, "old", at=100 * DAY)
    await seen(store, "month", at=40 * DAY)
    pruner = Pruner(store.engine)

    assert await pruner.prune(T0, RETENTION) == 2  # both texts; then old's row goes
    assert await kept(store) == {"month": False}
    await seen(store, "late", at=95 * DAY)  # recorded since: past the window too
    await store.record([outcome("a", at=T0 - DAY)])  # its feed read since, without it
    assert await pruner.prune(T0 + DAY / 24, RETENTION) == 1  # its text, not its row: same day
    assert await kept(store) == {"month": False, "late": False}
    await pruner.prune(T0 + DAY, RETENTION)  # the next day's turn
    assert await kept(store) == {"month": False}


async def test_a_store_failure_is_logged_and_the_next_prune_does_the_work(
    store: SourceStore, caplog: pytest.LogCaptureFixture
) -> None:
    await seen(store, "month", at=40 * DAY)
    pruner = Pruner(store.engine)
    async with store.engine.begin() as conn:  # a table the prune reads, gone
        await conn.exec_driver_sql("ALTER TABLE outbox RENAME TO outbox_away")

    assert await pruner.prune(T0, RETENTION) == 0
    assert [r.getMessage() for r in caplog.records].count("prune-failed") == 1
    assert await kept(store) == {"month": True}

    async with store.engine.begin() as conn:
        await conn.exec_driver_sql("ALTER TABLE outbox_away RENAME TO outbox")
    assert await pruner.prune(T0, RETENTION) == 1
    assert await kept(store) == {"month": False}
