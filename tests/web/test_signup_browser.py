"""The sign-up pages in a real browser (Playwright driving Debian's Chromium,
tests/support/browsing.py), without the analysts' app: the form filled and sent, the
confirmation link's page and its button, a hostile description shown as text, no serious
axe-core violation, screenshots of each page at 375 and 1280 px."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.store.subscribers import SubscriberBook
from tests.support.browsing import browsing
from tests.support.peers import FakeClock
from tests.support.signing_up import HOSTILE, SignupServed, link_in, serve_signup

pytestmark = pytest.mark.browser


async def test_sign_up_and_confirm_in_a_browser(tmp_path: Path) -> None:
    async with serve_signup(tmp_path, FakeClock()) as served:
        await _visit(served)
        choices = await SubscriberBook(served.engine).choices()
    assert [(c.address, c.rules, c.digest) for c in choices] == [
        ("lectrice@example.ma", ("demarchage",), "weekly fri 09:30")
    ]


async def _visit(served: SignupServed) -> None:
    async with browsing(served.url) as visit:
        page = visit.page
        await visit.go("/subscribe")
        assert HOSTILE in await page.inner_text("main")  # the description, as text
        await visit.look("subscribe")
        await page.fill("#address", "lectrice@example.ma")
        await page.check("input[name=rule][value=demarchage]")
        await page.check("input[name=schedule][value=weekly]")
        await page.fill("input[name=time]", "09:30")
        await page.select_option("select[name=day]", "fri")
        async with page.expect_navigation():
            await page.click("form.signup button[type=submit]")
        assert "Vérifiez votre boîte" in await page.inner_text("h1")
        await visit.look("subscribe-sent")
        (mail,) = await served.mails()
        assert served.sink.messages[0]["Subject"] == "Confirmez votre abonnement"  # fr page
        await visit.go(link_in(mail))
        assert "lectrice@example.ma" in await page.inner_text("main")
        await visit.look("subscribe-confirm")
        async with page.expect_navigation():
            await page.click("form.signup button[type=submit]")
        assert "Abonnement confirmé" in await page.inner_text("h1")
