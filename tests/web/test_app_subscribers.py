"""The overview's subscribers on a real SQLite store: 50 a page in name order, each with its
channel, schedule, state, next digest and counts of pending, sent and dead items."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update

from monitor.store import transaction
from monitor.store.sources import SourceStore
from monitor.store.tables import items, outbox, subscribers
from tests.support.peers import FakeClock
from tests.support.statements import statements
from tests.support.webapp import QUERIES, USERS, Served, app_config, log_in, serve_app

CLOCK = FakeClock()  # 2026-11-26 09:00 UTC, 10:00 in Casablanca
NAMES = [f"abonne-{n:02d}" for n in range(60)]


def subscriber_list() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for n, name in enumerate(NAMES):
        entry: dict[str, Any] = {"name": name, "digest": "daily 08:00"}
        if n % 3 == 0:
            entry.update(webhook=f"https://hooks.example.ma/{n}", digest="immediate")
        else:
            entry["email"] = f"{name}@example.ma"
        found.append(entry)
    return found


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    config = app_config(subscribers=subscriber_list())
    async with serve_app(tmp_path, config, CLOCK) as running:
        await SourceStore(running.engine).sync(config, CLOCK.now - timedelta(days=2))
        async with transaction(running.engine) as conn:
            await conn.execute(insert(items), [
                {"source": "a", "key": str(n), "article": f"art-{n}", "link": "https://a.ma/",
                 "title": "t", "summary": "", "seen_at": CLOCK.now}
                for n in range(6)
            ])  # fmt: skip
            states = ["pending", "pending", "sent", "sent", "sent", "dead"]
            await conn.execute(insert(outbox), [
                {"subscriber": "abonne-01", "article": f"art-{n}", "item_id": n + 1, "rules": [],
                 "terms": {}, "state": state, "created_at": CLOCK.now}
                for n, state in enumerate(states)
            ])  # fmt: skip
            await conn.execute(
                update(subscribers)
                .where(subscribers.c.name == "abonne-02")
                .values(disabled_at=CLOCK.now, disabled_reason="410 Gone")
            )
        yield running


ENTRY = re.compile(r'<li class="subscriber sub-(\w+)">\s*<div class="head"><b dir="auto">([\w-]+)')


async def test_subscribers_fifty_a_page_with_their_counts(served: Served) -> None:
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        async with client.get("/", headers={"Accept-Language": "en"}) as answer:
            first = await answer.text()
        listed = ENTRY.findall(first)
        assert [name for _, name in listed] == NAMES[:50]
        assert dict((n, s) for s, n in listed)["abonne-02"] == "disabled"
        one = first[first.index('<b dir="auto">abonne-01<') :].split("</li>")[0]
        assert "email" in one and "daily 08:00" in one
        assert "pending 2 · sent 3 · dead 1" in one
        assert "2026-11-25 08:00 +01" in one  # (Casablanca), after its period began
        zero = first[first.index('<b dir="auto">abonne-00<') :].split("</li>")[0]
        assert "webhook" in zero and "at each match" in zero and "pending 0" in zero
        two = first[first.index('<b dir="auto">abonne-02<') :].split("</li>")[0]
        assert "Next digest</dt><dd>–" in two
        more = re.findall(r'href="([^"]+)" rel="next" class="subs-next"', first)
        assert more == ["/?sub_after=abonne-49#subscribers"]
        async with client.get("/?sub_after=abonne-49") as answer:
            second = await answer.text()
        assert [name for _, name in ENTRY.findall(second)] == NAMES[50:]
        assert 'class="subs-next"' not in second


async def test_sixty_subscribers_cost_no_more_queries(served: Served) -> None:
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        with statements(served.engine) as seen:
            async with client.get("/") as answer:
                assert answer.status == 200
    assert len(seen) == QUERIES  # as with one subscriber (test_app_overview)
