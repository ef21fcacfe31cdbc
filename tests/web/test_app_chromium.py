"""The web app in a real browser: headless Chromium (Debian's, over CDP) on a phone-sized
screen signs in through the form and reads the overview — no console error, no CSP violation,
no request leaving the server, nothing wider than the screen. Chromium is required, never
skipped (as for the digest preview)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from monitor.core.models import Item, PollFailure
from monitor.store import transaction
from monitor.store.sources import SourceStore
from monitor.store.tables import sources
from tests.support.browser import Page, chromium, read_png
from tests.support.peers import FakeClock
from tests.support.store import outcome
from tests.support.webapp import USERS, Served, app_config, serve_app

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True}
LONG_ERROR = "HTTP 503 from https://x.ma/" + "tres-long-chemin-" * 20 + "fin"  # must wrap
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    clock = FakeClock()
    feeds = [{"name": f"source-{n}", "url": f"https://s{n}.ma/feed"} for n in range(8)]
    async with serve_app(tmp_path, app_config(feeds), clock) as running:
        await SourceStore(running.engine).sync(running.holder[0], clock.now - timedelta(days=1))
        async with transaction(running.engine) as conn:
            since = clock.now - timedelta(hours=26)
            await conn.execute(
                update(sources)
                .where(sources.c.name == "source-2")
                .values(health="failing", health_since=since, last_error=LONG_ERROR)
            )
            await conn.execute(
                update(sources)
                .where(sources.c.name == "source-5")
                .values(first_poll_at=since, last_poll_at=since, last_error=HOSTILE)
            )
        yield running


async def evaluate(page: Page, expression: str) -> Any:
    answer = await page.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
    assert "exceptionDetails" not in answer, answer
    return answer["result"]["value"]


async def loads(page: Page, count: int) -> None:
    """Wait until the page has fired its ``count``-th load event."""
    async with asyncio.timeout(20):
        while len(page.params("Page.loadEventFired")) < count:
            page.browser.arrived.clear()
            await page.browser.arrived.wait()


def errors(page: Page) -> list[Any]:
    logged = [e["entry"] for e in page.params("Log.entryAdded")]
    return [
        *page.params("Runtime.consoleAPICalled"),
        *page.params("Runtime.exceptionThrown"),
        *[e for e in logged if e["level"] in ("error", "warning")],
    ]


async def test_sign_in_and_read_the_overview_on_a_phone(served: Served, tmp_path: Path) -> None:
    async with chromium(tmp_path / "profile") as browser:
        page = await browser.new_page()
        for domain in ("Page", "Runtime", "Log", "Network"):
            await page.send(f"{domain}.enable")
        await page.send("Emulation.setDeviceMetricsOverride", PHONE)
        await page.send("Page.navigate", {"url": served.url + "/"})
        await loads(page, 1)
        assert await evaluate(page, "location.pathname + location.search") == "/login?next=/"
        name, password = json.dumps("analyste"), json.dumps(USERS["analyste"])
        await evaluate(
            page,
            f"document.getElementById('name').value = {name};"
            f"document.getElementById('password').value = {password};"
            "document.querySelector('form.login button').click(); true",
        )
        await loads(page, 2)
        assert await evaluate(page, "location.pathname") == "/"
        text = await evaluate(page, "document.body.innerText")
        assert "source-2" in text and "source-7" in text and "analyste" in text
        # the broken one first, the hostile error shown as text and run by nothing
        order = await evaluate(
            page, "[...document.querySelectorAll('.source b')].map(e => e.textContent)"
        )
        assert order[0] == "source-2"
        assert HOSTILE in text
        assert await evaluate(page, "document.querySelectorAll('main img').length") == 0
        # the style sheet applied (CSP let it through): the header has its colour
        colour = await evaluate(
            page, "getComputedStyle(document.querySelector('header')).backgroundColor"
        )
        assert colour == "rgb(26, 79, 156)"
        # fits the phone: nothing wider than 375 px, the long error included
        assert await evaluate(page, "document.documentElement.scrollWidth") <= PHONE["width"]
        shot = base64.b64decode((await page.send("Page.captureScreenshot"))["data"])
        (tmp_path / "overview-375.png").write_bytes(shot)  # kept in tmp_path to look at
        image = read_png(shot)
        assert (image.width, image.height) == (PHONE["width"], PHONE["height"])
        assert len(image.colours()) >= 20

        # nothing logged, nothing refused, no request but to the server itself
        assert errors(page) == []
        requested = [r["request"]["url"] for r in page.params("Network.requestWillBeSent")]
        assert requested and all(url.startswith(served.url + "/") for url in requested), requested
        assert any(url.endswith("/static/app.css") for url in requested)

        # the checks catch a violation: an inline style the CSP refuses is reported
        await evaluate(
            page,
            "const s = document.createElement('style'); s.textContent = 'body{color:red}';"
            "document.head.appendChild(s); true",
        )
        async with asyncio.timeout(10):
            while not errors(page):
                browser.arrived.clear()
                await browser.arrived.wait()
        assert any("Content Security Policy" in json.dumps(e) for e in errors(page))


async def test_open_a_source_from_the_overview_on_a_phone(served: Served, tmp_path: Path) -> None:
    clock = served.clock
    hostile = (Item("source-2", "x", "javascript:alert(2)", HOSTILE, "", "", clock.now),)
    store = SourceStore(served.engine)
    for n in range(60):
        at = clock.now - timedelta(minutes=60 - n)
        await store.record([], [PollFailure("source-2", at, 503, LONG_ERROR, at, seconds=1.0)])
    found = (*hostile, Item("source-2", "y", "https://s2.ma/y", "مقال " * 30, "", "", clock.now))
    await store.record([outcome("source-2", found, subs=())])
    async with chromium(tmp_path / "profile") as browser:
        page = await browser.new_page()
        for domain in ("Page", "Runtime", "Log", "Network"):
            await page.send(f"{domain}.enable")
        await page.send("Emulation.setDeviceMetricsOverride", PHONE)
        await page.send("Page.navigate", {"url": served.url + "/"})
        await loads(page, 1)
        name, password = json.dumps("analyste"), json.dumps(USERS["analyste"])
        await evaluate(
            page,
            f"document.getElementById('name').value = {name};"
            f"document.getElementById('password').value = {password};"
            "document.querySelector('form.login button').click(); true",
        )
        await loads(page, 2)
        await evaluate(page, "document.querySelector('a.name').click(); true")  # broken first
        await loads(page, 3)
        assert await evaluate(page, "location.pathname") == "/sources/source-2"
        text = await evaluate(page, "document.body.innerText")
        assert HOSTILE in text and "tres-long-chemin" in text
        assert "built-in method" not in text  # (the nav's words are words)
        assert (
            await evaluate(page, "document.querySelectorAll('table.polls tbody tr').length") == 50
        )
        assert await evaluate(page, "document.querySelectorAll('main img').length") == 0
        links = await evaluate(page, "[...document.querySelectorAll('main a')].map(a => a.href)")
        assert not [link for link in links if not link.startswith(("http://", "https://"))]
        assert await evaluate(page, "document.documentElement.scrollWidth") <= PHONE["width"]
        height = await evaluate(page, "document.documentElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": PHONE["width"], "height": height, "scale": 1}
        whole = {"captureBeyondViewport": True, "clip": clip}
        shot = base64.b64decode((await page.send("Page.captureScreenshot", whole))["data"])
        (tmp_path / "source-375.png").write_bytes(shot)  # the whole page, to look at
        desk = {**PHONE, "width": 1280, "height": 900, "mobile": False}
        await page.send("Emulation.setDeviceMetricsOverride", desk)
        assert await evaluate(page, "document.documentElement.scrollWidth") <= 1280
        shot = base64.b64decode((await page.send("Page.captureScreenshot"))["data"])
        (tmp_path / "source-1280.png").write_bytes(shot)
        assert errors(page) == []
        requested = [r["request"]["url"] for r in page.params("Network.requestWillBeSent")]
        assert all(url.startswith(served.url + "/") for url in requested), requested
