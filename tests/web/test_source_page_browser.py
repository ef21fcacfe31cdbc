"""A source's page in a real browser (Playwright driving Debian's Chromium,
tests/support/browsing.py): opened from the overview, its 50 polls and long error wrapped on a
phone, a hostile title and a ``javascript:`` link shown as text, no serious axe-core violation,
screenshots at 375 and 1280 px."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from monitor.core.models import Item, PollFailure
from monitor.store import transaction
from monitor.store.sources import SourceStore
from monitor.store.tables import sources
from tests.support.browsing import browsing
from tests.support.peers import FakeClock
from tests.support.store import outcome
from tests.support.webapp import USERS, Served, app_config, serve_app
from tests.web.test_app_playwright import HOSTILE, LONG_ERROR

pytestmark = pytest.mark.browser


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    clock = FakeClock()
    feeds = [{"name": f"source-{n}", "url": f"https://s{n}.ma/feed"} for n in range(4)]
    async with serve_app(tmp_path, app_config(feeds), clock) as running:
        store = SourceStore(running.engine)
        await store.sync(running.holder[0], clock.now - timedelta(days=1))
        for n in range(60):
            at = clock.now - timedelta(minutes=60 - n)
            await store.record([], [PollFailure("source-2", at, 503, LONG_ERROR, at, seconds=1.0)])
        found = (
            Item("source-2", "x", "javascript:alert(2)", HOSTILE, "", "", clock.now),
            Item("source-2", "y", "https://s2.ma/y", "مقال " * 30, "", "", clock.now),
        )
        await store.record([outcome("source-2", found, subs=())])
        async with transaction(running.engine) as conn:
            await conn.execute(
                update(sources)
                .where(sources.c.name == "source-2")
                .values(health="failing", health_since=clock.now - timedelta(hours=2))
            )
        yield running


async def test_open_a_source_from_the_overview(served: Served) -> None:
    async with browsing(served.url) as visit:
        page = visit.page
        await visit.sign_in("analyste", USERS["analyste"])
        async with page.expect_navigation():
            await page.click("a.name >> nth=0")  # the broken one comes first
        assert visit.path() == "/sources/source-2"
        text = await page.inner_text("body")
        assert HOSTILE in text and "tres-long-chemin" in text
        assert await page.locator("table.polls tbody tr").count() == 50
        assert await page.locator("main img").count() == 0
        links = await page.eval_on_selector_all("main a", "links => links.map(a => a.href)")
        assert links and all(link.startswith(("http://", "https://")) for link in links), links
        await visit.look("source")
