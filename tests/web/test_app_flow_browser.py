"""The whole web app in a real browser, as an analyst goes through it (Playwright driving Debian's
Chromium, tests/support/browsing.py), over a realistic store (tests/support/newsroom.py): sign
in, read the overview, search and filter the articles through the form, page, try a rule, open
a source, follow a rule's Atom feed, sign out. A feed item titled ``<img src=x onerror=…>``
with a ``javascript:`` link is in the store all along: it shows as text and no dialog ever
opens (the guard fails the test otherwise). Each page passes :meth:`Visit.look`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.support import newsroom
from tests.support.browsing import Visit, browsing
from tests.support.newsroom import HOSTILE, titles
from tests.support.peers import FakeClock
from tests.support.webapp import USERS, Served, serve_app

pytestmark = pytest.mark.browser
ATOM = "{http://www.w3.org/2005/Atom}"
BRIEFS = [f"Brève économique numéro {n}" for n in reversed(range(newsroom.BRIEFS))]
NEWEST = titles("xss", "recrutement", "pluies", "ai-calls", "loi", "mourakiz", "salon",
                "wazir", "bourse", "offshoring")  # fmt: skip
TRIED = '- name: essai\n  any: ["centre d\'appel", "call center"]\n'


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    config = newsroom.config()
    async with serve_app(tmp_path, config, FakeClock(newsroom.T0)) as running:
        await newsroom.fill(running.engine, config, hostile=True)
        yield running


async def shown(visit: Visit) -> list[str]:
    """The titles of the articles on the page, in order."""
    return await visit.page.locator("ol.items h2.title").all_inner_texts()


async def search(visit: Visit, **fields: str) -> list[str]:
    """Fill the articles' form as a person does (``alerted`` ticks the box) and send it."""
    page = visit.page
    await visit.go("/items")
    for name, value in fields.items():
        if name == "rule":
            await page.select_option("select[name=rule]", value)
        elif name == "alerted":
            await page.check("input[name=alerted]")
        else:
            await page.fill(f"input[name={name}]", value)
    async with page.expect_navigation():
        await page.click("form.search button[type=submit]")
    assert visit.path().startswith("/items?"), visit.page.url
    return await shown(visit)


async def test_an_analysts_session_from_sign_in_to_sign_out(served: Served) -> None:
    async with browsing(served.url) as visit:
        page = visit.page
        await visit.sign_in("analyste", USERS["analyste"])

        # the overview: the failing source first, its error in words
        assert (await page.locator(".source b").all_inner_texts())[0] == newsroom.FAILING
        assert newsroom.FAILING_ERROR in await page.inner_text("body")
        await visit.look("flow-overview")

        # every article, newest first; the hostile one is text, its link no link
        await visit.go("/items")
        assert (await shown(visit))[:10] == NEWEST
        hostile = page.locator("ol.items li", has_text=HOSTILE)
        assert await hostile.locator("h2.title").inner_text() == HOSTILE
        assert await hostile.locator("a").count() == 0
        assert await page.locator("main img").count() == 0
        # Arabic shows right to left, French left to right (dir="auto" on feed text)
        direction = "e => getComputedStyle(e).direction"
        arabic = page.locator("h2.title", has_text="مراكز الاتصال")
        assert await arabic.evaluate(direction) == "rtl"
        assert await page.locator("h2.title", has_text="Météo").evaluate(direction) == "ltr"
        # the rules' terms marked where matching found them, in French and in Arabic
        marks = page.locator("ol.items li", has_text="مراكز الاتصال").locator("mark")
        assert set(await marks.all_inner_texts()) >= {"مراكز الاتصال", "التسويق الهاتفي"}
        sent = page.locator("ol.items li", has_text="Les centres d’appels recrutent")
        assert "analystes" in await sent.locator("dd").all_inner_texts()
        await visit.look("flow-items")

        # the next page: the rest, no gap, no duplicate, no further page
        first = await shown(visit)
        assert len(first) == 50
        async with page.expect_navigation():
            await page.click("nav.pages a[rel=next]")
        assert first + await shown(visit) == NEWEST + BRIEFS
        assert await page.locator("nav.pages a[rel=next]").count() == 0

        # search as rules match: folded, a phrase, an exclusion, a prefix, Arabic
        # (the Arabic article names the trade in French too)
        assert await search(visit, q="centre d'appel") == titles("recrutement", "loi", "mourakiz")
        marked = await page.locator("ol.items mark").all_inner_texts()
        assert "centres d’appels" in marked and "centres d'appel" in marked
        await visit.look("flow-items-search")
        assert await search(visit, q='"centres d\'appels recrutent"') == titles("recrutement")
        assert await search(visit, q="casablanca") == titles("recrutement", "ai-calls", "bourse")
        assert await search(visit, q="casablanca -bourse") == titles("recrutement", "ai-calls")
        assert await search(visit, q="démarch*") == titles("loi")
        assert await search(visit, q="التسويق الهاتفي") == titles("mourakiz")
        assert await page.input_value("input[name=q]") == "التسويق الهاتفي"  # kept

        # the filters
        assert await search(visit, rule="demarchage") == titles("loi", "mourakiz")
        assert await search(visit, source="هسبريس") == titles("mourakiz", "wazir")
        alerted = titles("recrutement", "ai-calls", "loi", "mourakiz")
        assert await search(visit, alerted="true") == alerted
        assert await page.is_checked("input[name=alerted]")
        dated = await search(visit, since="2026-11-25", until="2026-11-25")
        assert dated == titles("salon", "wazir", "bourse")
        assert await search(visit, q="maroc", source="le360") == titles("offshoring")

        # a search it cannot take: said in words, kept in the form
        answer = await page.goto(visit.url + "/items?q=%22centre")
        assert answer is not None and answer.status == 400
        # (Chromium logs every 4xx page it loads as a console error: that one is expected)
        assert visit.guard.console == [
            "error: Failed to load resource: the server responded with a status of 400 "
            "(Bad Request)"
        ]
        visit.guard.console.clear()
        assert "Recherche impossible" in await page.inner_text("p.problem")
        assert await page.input_value("input[name=q]") == '"centre'
        await visit.look("flow-items-bad-search")

        # try a rule: what it matches, each match explained with its term marked
        await visit.go("/rules/try")
        await page.fill("#rules", TRIED)
        await page.select_option("#window", "7d")
        async with page.expect_navigation():
            await page.click("form.try button[type=submit]")
        tried = page.locator("ul.matched > li")
        assert await tried.locator(".head a").all_inner_texts() == titles(
            "recrutement", "ai-calls", "loi", "mourakiz"
        )
        marked = await tried.locator("mark").all_inner_texts()
        assert {"centres d’appels", "call centers", "centres d'appel"} <= set(marked)
        assert set(await tried.locator(".why b").all_inner_texts()) == {
            "centre d'appel", "call center"
        }  # fmt: skip
        await visit.look("flow-rules-try")

        # a source's page, opened from the overview: its error, its items
        await visit.go("/")
        async with page.expect_navigation():
            await page.click("a.name >> nth=0")
        assert visit.path() == f"/sources/{newsroom.FAILING}"
        text = await page.inner_text("main")
        assert newsroom.FAILING_ERROR in text
        assert all(title in text for title in titles("loi", "bourse"))
        await visit.look("flow-source")

        # a rule's articles, and its Atom feed: Atom 1.0 of that rule's alerts, newest first
        assert await search(visit, rule="centres-appels") == titles(
            "recrutement", "ai-calls", "loi", "mourakiz"
        )
        href = await page.get_attribute("p.feed a", "href")
        assert href is not None and href.startswith("/feeds/centres-appels.atom?key=")
        reply = await page.request.get(visit.url + href)
        assert reply.status == 200
        assert reply.headers["content-type"] == "application/atom+xml; charset=utf-8"
        feed = ET.fromstring(await reply.body())
        assert feed.tag == f"{ATOM}feed"
        assert feed.findtext(f"{ATOM}title") == "monitor — Centres d'appels"
        entries = [entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry")]
        assert entries == titles("recrutement", "ai-calls", "loi", "mourakiz")
        wrong = await page.request.get(visit.url + href[:-4] + "AAAA")
        assert wrong.status == 404

        await visit.sign_out()
        await visit.go("/items")
        assert visit.path() == "/login?next=/items"
