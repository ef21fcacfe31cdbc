"""The web app in a real browser (Playwright driving Debian's Chromium, tests/support/browsing.py):
sign in through the form, read the overview, filter the sources, press the retry button, sign
out — with no dialog, console error, CSP violation or request leaving the app on the way, no
horizontal scroll on a phone, no serious axe-core violation, and screenshots at 375 and 1280 px.
Chromium is required, never skipped (as for the digest preview)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from sqlalchemy import insert, select, update

from monitor.store import reading, transaction
from monitor.store.sources import SourceStore
from monitor.store.tables import digests, items, outbox, sources
from tests.support.browser import read_png
from tests.support.browsing import PHONE, browsing
from tests.support.peers import FakeClock
from tests.support.webapp import USERS, Served, app_config, serve_app

pytestmark = pytest.mark.browser

LONG_ERROR = "HTTP 503 from https://x.ma/" + "tres-long-chemin-" * 20 + "fin"  # must wrap
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    clock = FakeClock()
    feeds = [{"name": f"source-{n}", "url": f"https://s{n}.ma/feed"} for n in range(8)]
    async with serve_app(tmp_path, app_config(feeds), clock) as running:
        await SourceStore(running.engine).sync(running.holder[0], clock.now - timedelta(days=1))
        since = clock.now - timedelta(hours=26)
        async with transaction(running.engine) as conn:
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
            await conn.execute(insert(items).values(
                source="source-5", key="1", article="a1", link="javascript:alert(1)",
                title=HOSTILE, summary="", seen_at=since,
            ))  # fmt: skip
            await conn.execute(insert(digests).values(
                id="d1", subscriber="s", created_at=since, state="dead", attempts=5,
                next_attempt_at=since, last_error="HTTP 502",
            ))  # fmt: skip
            await conn.execute(insert(outbox).values(
                subscriber="s", article="a1", item_id=1, rules=["ia"], terms={}, state="dead",
                created_at=since, digest_id="d1",
            ))  # fmt: skip
        yield running


async def test_sign_in_read_filter_retry_and_sign_out(served: Served) -> None:
    async with browsing(served.url) as visit:
        page = visit.page
        await visit.go("/")
        assert visit.path() == "/login?next=/"
        await visit.look("login")
        await visit.sign_in("analyste", USERS["analyste"])

        text = await page.inner_text("body")
        assert "source-2" in text and "source-7" in text and "analyste" in text
        links = await page.locator("header nav a").all_inner_texts()
        assert links == ["Vue d'ensemble", "Articles", "Essayer une règle", "EN"]  # in words
        # the broken one first; the hostile error shown as text, run by nothing
        assert (await page.locator(".source b").all_inner_texts())[0] == "source-2"
        assert HOSTILE in await page.locator(".source", has_text="source-5").inner_text()
        assert await page.locator("main img").count() == 0
        # the style sheet applied (the CSP let it through): the header has its colour
        colour = await page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(26, 79, 156)"
        shots = await visit.look("overview")  # the long error wraps: no horizontal scroll
        image = read_png(shots[0].read_bytes())
        assert image.width == PHONE and len(image.colours()) >= 20
        assert any(url.endswith("/static/app.css") for url in visit.guard.requested)

        # filter by state, then by a part of the name (the filters stay in the URL)
        await page.select_option("select[name=state]", "failing")
        async with page.expect_navigation():
            await page.click(".filters button")
        assert visit.path() == "/?q=&tag=&state=failing"
        assert await page.locator(".source b").all_inner_texts() == ["source-2"]
        await page.select_option("select[name=state]", "")
        await page.fill("input[name=q]", "CE-7")
        async with page.expect_navigation():
            await page.press("input[name=q]", "Enter")
        assert await page.locator(".source b").all_inner_texts() == ["source-7"]

        # the banner's retry button: the dead digest is pending again, and the page says so
        await visit.go("/")
        async with page.expect_navigation():
            await page.click("form.retry button")
        assert visit.path() == "/?retried=1"
        assert "1 résumé remis en file" in await page.inner_text(".notice")
        assert await page.locator("form.retry").count() == 0  # nothing dead any more
        async with reading(served.engine) as conn:
            assert await conn.scalar(select(digests.c.state)) == "pending"
        await visit.look("overview-retried")

        await visit.sign_out()
        await visit.go("/")
        assert visit.path() == "/login?next=/"


async def soon(page: Page, done: Callable[[], bool]) -> None:
    """Wait until ``done()`` (a console message arrives on its own, a little later)."""
    for _ in range(100):
        if done():
            return
        await page.wait_for_timeout(100)
    raise AssertionError("not seen within 10 s")


async def test_the_guards_catch_what_they_forbid(served: Served, tmp_path: Path) -> None:
    """So that the test above can fail: a dialog, a CSP violation, a request leaving the app
    and an axe-core violation are each seen."""
    async with browsing(served.url, tmp_path) as visit:
        page, guard = visit.page, visit.guard
        await visit.sign_in("analyste", USERS["analyste"])
        assert guard.problems() == {}
        await page.evaluate("() => { alert('ran'); }")
        await page.evaluate(
            "() => { const s = document.createElement('style');"
            " s.textContent = 'body{color:red}'; document.head.appendChild(s); }"
        )
        with pytest.raises(PlaywrightError):
            await page.goto("http://outside.invalid/")
        # the aborted request ends on Chromium's error page: wait for it, or the next goto
        # may be interrupted by it
        await page.wait_for_url(lambda url: url.startswith("chrome-error:"))
        await soon(page, lambda: any("Security Policy" in line for line in guard.console))
        found = guard.problems()
        assert found["dialogs opened"] == ["alert: ran"]
        assert any("Content Security Policy" in line for line in found["console errors"])
        assert found["requests leaving the app"] == ["http://outside.invalid/"]
        for seen in (guard.dialogs, guard.console, guard.outside):
            seen.clear()  # (or the end of the block would fail the test)

        await visit.go("/")
        assert await visit.runnable() == []
        await page.evaluate(
            "() => { const a = document.createElement('a'); a.href = ' JavaScript:alert(1)';"
            " a.textContent = 'x'; document.body.append(a);"
            " document.querySelector('h1').setAttribute('onclick', 'alert(2)'); }"
        )
        assert await visit.runnable() == [
            '<h1 onclick="alert(2)">', '<a href=" JavaScript:alert(1)">'
        ]  # fmt: skip
        # (the handler's attribute is refused by the CSP too: a console error)
        await soon(page, lambda: any("Security Policy" in line for line in guard.console))
        guard.console.clear()
        await page.evaluate("() => { document.querySelector('html').removeAttribute('lang'); }")
        assert any(line.startswith("html-has-lang (serious)") for line in await visit.axe())
