"""No query of the hot path reads a whole table (issue 7): every statement the daemon runs while
polling (new items, matches and deliveries; nothing new; a 304; a failure), claiming due
sources, sending immediate digests and reading the metrics' gauges is explained by SQLite
(``EXPLAIN QUERY PLAN``) on the daemon's own database, and none may scan a table that grows
with the sources or the items, nor sort all the rows it matches to return a few.
(It found the outbox read by digest id at every send: index ix_outbox_digest, v0007.)"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from monitor.daemon.app import App
from monitor.store.gauges import read_gauges
from monitor.store.tables import metadata
from tests.support.daemon import build_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss

# tables whose size grows with the sources, the items or the deliveries
GROWING = {"sources", "items", "matches", "outbox", "digests", "poll_log"}
FULL_SCAN = re.compile(r"^SCAN (\w+)")  # SCAN t, SCAN t USING [COVERING] INDEX i: every row
# … but for a partial index: the rows of its WHERE only (ix_outbox_pending: the rows owed)
PARTIAL = {
    index.name
    for table in metadata.tables.values()
    for index in table.indexes
    if index.dialect_options["sqlite"]["where"] is not None
}


def scans_all(detail: str, limited: bool) -> bool:
    """Whether a plan's step reads every row of a growing table: not a partial index's scan,
    nor an index's walked in the order a LIMITed statement asks for (it stops at the limit;
    the sorts are checked apart). A LIMIT without an order may read every row before it has
    found as many: the outbox's pending count read ix_outbox_item_state so."""
    found = FULL_SCAN.match(detail)
    if found is None or found[1] not in GROWING:
        return False
    index = re.search(r"INDEX (\w+)", detail)
    return index is None or (index[1] not in PARTIAL and not limited)


@pytest.mark.slow
async def test_no_statement_of_the_hot_path_scans_a_growing_table(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    published = [
        {"guid": f"a{n}", "title": f"Les centres d'appels et l'IA, {n}",
         "link": f"https://x.ma/a{n}", "published": clock.now - timedelta(minutes=n)}
        for n in range(5)
    ]  # fmt: skip
    feeds.resources["/new"] = Resource(rss(published), etag='"v1"')
    feeds.resources["/same"] = Resource(rss(published[:2]), etag='"s"')
    feeds.resources["/broken"] = Resource(b"boom", status=500)
    sources = {name: f"{feeds.url}/{name}" for name in ("new", "same", "broken")}
    config = build_config(tmp_path, sources, webhook_subscriber(receiver.url))
    statements: dict[str, Any] = {}
    async with App(config, clock=clock) as app:

        def seen(conn: object, cursor: object, statement: str, parameters: Any, *_: object) -> None:
            statements.setdefault(statement, parameters)

        event.listen(app.store.engine.sync_engine, "before_cursor_execute", seen)
        for _ in range(3):  # new items, then a 304 and an unchanged body; claims and sends
            await app.poll_due()
            await app.settle()
            await app.dispatcher.flush(only_immediate=True)
            await read_gauges(app.store.engine, clock.now, 0)  # a scrape of /metrics
            clock.advance(timedelta(hours=1))
            published.insert(0, {"guid": f"b{clock.now:%H}", "title": "IA", "link": ""})
            feeds.resources["/new"] = Resource(rss(published), etag=f'"{clock.now:%H}"')
        await app.run_once()
        # (not the shutdown's: releasing every lease of this replica reads sources by owner)
        event.remove(app.store.engine.sync_engine, "before_cursor_execute", seen)
    assert len(receiver.accepted()) >= 2  # the scenario did deliver
    plans: dict[str, list[str]] = {}
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        for statement, parameters in statements.items():
            if not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
                continue  # INSERT … VALUES, BEGIN, PRAGMA: no table read
            if isinstance(parameters, list):  # executemany: one poll's row is enough
                parameters = parameters[0]
            rows = db.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ()).fetchall()
            plans[statement] = [row[-1] for row in rows]
    assert len(plans) >= 10  # the hot path's reads and updates were seen
    scans = {
        statement: details
        for statement, details in plans.items()
        if any(scans_all(d, " LIMIT " in statement and " ORDER BY " in statement) for d in details)
    }
    assert scans == {}, "\n\n".join(f"{s}\n  -> {d}" for s, d in scans.items())
    # a few rows in an order the index does not give: every matching row sorted first (the
    # claim among a million sources due at one instant, 108 a second: v0019)
    sorts = {
        statement: details
        for statement, details in plans.items()
        if " LIMIT " in statement
        and any("TEMP B-TREE FOR" in d and "ORDER BY" in d for d in details)
    }
    assert sorts == {}, "\n\n".join(f"{s}\n  -> {d}" for s, d in sorts.items())
