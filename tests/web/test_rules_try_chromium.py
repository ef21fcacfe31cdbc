"""Try a rule in a real browser (Debian's Chromium over CDP) on a phone-sized screen: the form
posted as a person posts it, the matches shown with their terms marked, a hostile feed title
shown as text with no dialog ever opening, nothing wider than the screen, nothing logged."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from monitor.store import transaction
from monitor.store.tables import items
from tests.support.browser import chromium
from tests.support.peers import FakeClock
from tests.support.webapp import USERS, Served, app_config, serve_app
from tests.web.test_app_chromium import PHONE, errors, evaluate, loads
from tests.web.test_rules_try import IN_FORCE, ITEMS, T0, row

pytestmark = pytest.mark.browser
RULES = '- name: centres\n  any: ["centre d\'appel", IA]\n  none: [Rabat]\n'


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serve_app(tmp_path, app_config(rules=IN_FORCE), FakeClock(T0)) as running:
        async with transaction(running.engine) as conn:
            await conn.execute(insert(items), [row(n, *i) for n, i in enumerate(ITEMS)])
        yield running


async def test_try_a_rule_on_a_phone(served: Served, tmp_path: Path) -> None:
    async with chromium(tmp_path / "profile") as browser:
        page = await browser.new_page()
        for domain in ("Page", "Runtime", "Log", "Network"):
            await page.send(f"{domain}.enable")
        await page.send("Emulation.setDeviceMetricsOverride", PHONE)
        await page.send("Page.navigate", {"url": served.url + "/rules/try?lang=en"})
        await loads(page, 1)
        name, password = json.dumps("analyste"), json.dumps(USERS["analyste"])
        await evaluate(
            page,
            f"document.getElementById('name').value = {name};"
            f"document.getElementById('password').value = {password};"
            "document.querySelector('form.login button').click(); true",
        )
        await loads(page, 2)
        assert await evaluate(page, "location.pathname") == "/rules/try"
        await evaluate(
            page,
            f"document.getElementById('rules').value = {json.dumps(RULES)};"
            "document.getElementById('window').value = '30d';"
            "document.querySelector('form.try button').click(); true",
        )
        await loads(page, 3)
        marked = await evaluate(
            page, "[...document.querySelectorAll('.matched mark')].map(e => e.textContent)"
        )
        assert "Centres d’appels" in marked and "IA" in marked
        removed = await evaluate(
            page, "[...document.querySelectorAll('.removed li b, .removed li a')]"
            ".map(e => e.textContent)"
        )  # fmt: skip
        assert "Un centre d'appel ouvre à Rabat" in removed
        text = await evaluate(page, "document.body.innerText")
        assert "<img src=x onerror=alert(1)> IA" in text
        assert await evaluate(page, "document.querySelectorAll('main img').length") == 0
        assert await evaluate(page, "document.getElementById('rules').value") == RULES
        assert await evaluate(page, "document.documentElement.scrollWidth") <= PHONE["width"]
        await evaluate(page, "document.querySelector('.rule-trial').scrollIntoView(); true")
        shot = base64.b64decode((await page.send("Page.captureScreenshot"))["data"])
        (tmp_path / "rules-try-375.png").write_bytes(shot)  # kept in tmp_path to look at
        wide = {**PHONE, "width": 1280, "height": 900, "mobile": False}
        await page.send("Emulation.setDeviceMetricsOverride", wide)
        assert await evaluate(page, "document.documentElement.scrollWidth") <= wide["width"]
        shot = base64.b64decode((await page.send("Page.captureScreenshot"))["data"])
        (tmp_path / "rules-try-1280.png").write_bytes(shot)
        assert page.params("Page.javascriptDialogOpening") == []
        assert errors(page) == []
        requested = [r["request"]["url"] for r in page.params("Network.requestWillBeSent")]
        assert all(url.startswith(served.url + "/") for url in requested), requested
