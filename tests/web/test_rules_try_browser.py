"""Try a rule in a real browser (Playwright driving Debian's Chromium, tests/support/browsing.py):
the form posted as a person posts it, the matches shown with their terms marked, a hostile
feed title shown as text with no dialog ever opening, nothing wider than a phone, no serious
axe-core violation, screenshots at 375 and 1280 px."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from monitor.store import transaction
from monitor.store.tables import items
from tests.support.browsing import browsing
from tests.support.peers import FakeClock
from tests.support.webapp import USERS, Served, app_config, serve_app
from tests.web.test_rules_try import IN_FORCE, ITEMS, T0, row

pytestmark = pytest.mark.browser
RULES = '- name: centres\n  any: ["centre d\'appel", IA]\n  none: [Rabat]\n'


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serve_app(tmp_path, app_config(rules=IN_FORCE), FakeClock(T0)) as running:
        async with transaction(running.engine) as conn:
            await conn.execute(insert(items), [row(n, *i) for n, i in enumerate(ITEMS)])
        yield running


async def test_try_a_rule_in_the_browser(served: Served) -> None:
    async with browsing(served.url) as visit:
        page = visit.page
        await visit.sign_in("analyste", USERS["analyste"], "/rules/try")
        await visit.look("rules-try-form")
        await page.fill("#rules", RULES)
        await page.select_option("#window", "30d")
        async with page.expect_navigation():
            await page.click("form.try button[type=submit]")

        marked = await page.locator(".matched mark").all_inner_texts()
        assert "Centres d’appels" in marked and "IA" in marked
        removed = await page.locator(".removed li b, .removed li a").all_inner_texts()
        assert "Un centre d'appel ouvre à Rabat" in removed
        assert "<img src=x onerror=alert(1)> IA" in await page.inner_text("body")
        assert await page.locator("main img").count() == 0
        assert await page.input_value("#rules") == RULES  # the text is kept
        await visit.look("rules-try")
