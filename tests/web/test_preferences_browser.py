"""A subscriber's preferences page in a real browser (Playwright driving Debian's Chromium,
tests/support/browsing.py), served by a real App without the analysts' app: change the
schedule, pause, resume, unsubscribe; no script, fits a phone, no serious axe-core violation,
screenshots at 375 and 1280 px."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.daemon.app import App
from monitor.daemon.serving import serve_http
from monitor.store.subscribers import SubscriberBook
from monitor.web.unsubscribe import Purpose, make_token
from tests.support import prefshot
from tests.support.browser import read_png
from tests.support.browsing import PHONE, browsing
from tests.support.peers import FakeClock, FeedServer, SmtpSink
from tests.web.test_preferences import HOSTILE, A, prefs_config

pytestmark = pytest.mark.browser


async def test_change_pause_resume_and_unsubscribe(tmp_path: Path, feeds: FeedServer) -> None:
    sink = SmtpSink()
    sink.start()
    clock = FakeClock()
    try:
        config = prefs_config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
        async with App(config, clock=clock) as app:
            port = await serve_http(app)
            assert port
            token = make_token(app.token_key, "analyste", A, clock.now, Purpose.PREFERENCES)
            book = SubscriberBook(app.store.engine)
            async with browsing(f"http://127.0.0.1:{port}") as visit:
                page = visit.page
                await visit.go(f"/preferences/{token}")
                text = await page.inner_text("body")
                assert A in text and HOSTILE in text  # a description, shown as text
                await visit.look("preferences")

                await page.check("input[name=schedule][value=weekly]")
                await page.select_option("#weekday", "fri")
                await page.fill("#at", "07:30")
                await page.uncheck("input[name=rules][value=centres-appels]")
                async with page.expect_navigation():
                    await page.click("form.prefs button >> nth=0")
                assert "Vos préférences sont enregistrées" in await page.inner_text("[role=status]")
                (choice,) = await book.choices()
                assert (choice.digest, choice.rules) == ("weekly fri 07:30", ("demarchage",))
                await visit.look("preferences-saved")

                until = (clock.now + timedelta(days=10)).date().isoformat()
                await page.fill("#until", until)
                async with page.expect_navigation():
                    await page.click("form.prefs:has(#until) button")
                assert f"En pause jusqu'au {until}" in await page.inner_text("main")
                assert (await book.states())["analyste"].paused_until is not None
                await visit.look("preferences-paused")

                async with page.expect_navigation():
                    await page.click("form.prefs:has(input[value=resume]) button")
                assert "Reprise" in await page.inner_text("[role=status]")
                assert (await book.states())["analyste"].paused_until is None

                async with page.expect_navigation():
                    await page.click("form.prefs:has(input[value=unsubscribe]) button")
                assert "Vous êtes désabonné" in await page.inner_text("main")
                assert (await book.states())["analyste"].unsubscribed_at is not None
                await visit.look("preferences-unsubscribed")
    finally:
        sink.stop()


async def test_the_docs_screenshot_is_made(tmp_path: Path) -> None:
    shot = await prefshot.main(tmp_path / "store", tmp_path / "images")
    image = read_png(shot.read_bytes())
    assert image.width == PHONE and image.height > 800  # the whole page, on a phone
    assert shot.stat().st_size < 200_000
