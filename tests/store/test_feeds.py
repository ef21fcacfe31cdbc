"""What a rule's Atom feed reads (monitor.store.feeds): its last alerts, newest first, through
an index; and the feeds' own secret, drawn once and replaced on demand. On both backends."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import Match
from monitor.store import open_engine
from monitor.store.feeds import alerts_query, feed_key, read_feed_key, rotate_feed_key, rule_alerts
from monitor.store.sources import SourceStore
from monitor.web.unsubscribe import load_key
from tests.support.databases import postgres_database
from tests.support.store import IA, T0, config, item, outcome

ECO = Match("eco", ("économie", "Maroc"))


async def _polls(engine: AsyncEngine, hours: int) -> None:
    """One poll an hour of source a: item kN matched by ia, every third by eco as well (k0,
    k3, …), and one item n<N> no rule matched."""
    store = SourceStore(engine)
    await store.sync(config(), T0)
    for n in range(hours):
        found = (item("a", f"k{n}"), item("a", f"n{n}"))
        base = outcome("a", found, at=T0 + timedelta(hours=n))
        matched = {f"k{n}": (IA, ECO) if n % 3 == 0 else (IA,)}
        await store.record([replace(base, matches=matched, deliveries=())])


async def test_a_rules_alerts_are_its_last_matches_newest_first(engine: AsyncEngine) -> None:
    await _polls(engine, 7)
    alerts = await rule_alerts(engine, "ia", limit=5)
    assert [a.stored.item.key for a in alerts] == ["k6", "k5", "k4", "k3", "k2"]
    seen = [a.stored.seen_at for a in alerts]
    assert seen == [T0 + timedelta(hours=n) for n in (6, 5, 4, 3, 2)]
    first, stored = alerts[0], alerts[0].stored
    assert (stored.item.source, stored.item.title, stored.item.link) == (
        "a", "Title k6", "https://a.ma/k6",
    )  # fmt: skip
    assert (stored.item.summary, stored.item.content, stored.item.published) == ("s", "c", T0)
    assert first.terms == ("IA",) and stored.text_kept
    eco = await rule_alerts(engine, "eco")
    found = [(a.stored.item.key, a.terms) for a in eco]
    assert found == [(f"k{n}", ("économie", "Maroc")) for n in (6, 3, 0)]
    assert await rule_alerts(engine, "nothing") == []


async def test_the_feed_key_is_drawn_once_then_replaced_apart_from_the_unsubscribe_key(
    engine: AsyncEngine,
) -> None:
    unsubscribe = await load_key(engine)
    assert await read_feed_key(engine) is None  # (read-only: nothing drawn by reading)
    first = await feed_key(engine)
    assert len(first) == 32 and first != unsubscribe
    assert await feed_key(engine) == first == await read_feed_key(engine)
    second = await rotate_feed_key(engine)
    assert second != first
    assert await read_feed_key(engine) == second == await feed_key(engine)
    assert await load_key(engine) == unsubscribe  # the unsubscribe links are untouched


async def test_a_rules_alerts_are_read_through_its_index(tmp_path: Path) -> None:
    """However many matches the store holds, the feed reads ix_matches_rule in order and stops
    after its entries: no scan of matches or items, no sort."""
    engine = await open_engine(f"sqlite:///{tmp_path}/m.db")
    try:
        await _polls(engine, 3)
        statements: list[tuple[str, Any]] = []

        def seen(conn: object, cursor: object, statement: str, parameters: Any, *_: object) -> None:
            statements.append((statement, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", seen)
        await rule_alerts(engine, "ia")
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    finally:
        await engine.dispose()
    [(statement, parameters)] = statements
    with sqlite3.connect(tmp_path / "m.db") as db:
        plan = [row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    assert any(step == "SEARCH matches USING INDEX ix_matches_rule (rule=?)" for step in plan), plan
    assert any(step.startswith("SEARCH items USING INTEGER PRIMARY KEY") for step in plan), plan
    assert not any(step.startswith("SCAN") or "TEMP B-TREE" in step for step in plan), plan


@pytest.mark.postgres
async def test_postgresql_can_read_a_rules_alerts_through_its_index() -> None:
    """PostgreSQL prefers a scan of a table this small: with scans discouraged it must walk
    ix_matches_rule backwards, with no sort, the limit stopping the walk."""
    async with postgres_database() as storage:
        engine = await open_engine(storage)
        try:
            await _polls(engine, 3)
            statement = alerts_query("ia").compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True}
            )
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SET enable_seqscan = off")
                rows = await conn.exec_driver_sql(f"EXPLAIN {statement}")
                plan = "\n".join(row[0] for row in rows)
        finally:
            await engine.dispose()
    assert "Index Scan Backward using ix_matches_rule on matches" in plan, plan
    assert "Limit" in plan and "Sort" not in plan, plan
