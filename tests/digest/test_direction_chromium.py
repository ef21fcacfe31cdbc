"""Arabic and French titles as Chromium lays them out (issue 21): in a French and in an Arabic
digest, the computed ``direction`` of each Arabic title and snippet is ``rtl`` and of each
French one ``ltr``; the Arabic digest itself runs right to left. A screenshot of each digest is
kept in ``build/screenshots/`` for a person to look at.

Chromium is required, never skipped: `make test` installs Debian's chromium when it is missing."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest

from monitor.config.subscribers import Language
from monitor.digest.render import Renderer
from monitor.digest.views import Profile
from tests.support.browser import Page, chromium, read_png
from tests.support.digest import CASABLANCA, digest, item
from tests.support.paths import ROOT

pytestmark = pytest.mark.browser

SHOTS = ROOT / "build" / "screenshots"
PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True}
ITEMS = (
    item(
        title="مراكز الاتصال بالمغرب تراهن على الذكاء الاصطناعي",
        summary="تستعد مراكز الاتصال لحظر الاستمالة الهاتفية في فرنسا ابتداء من غشت 2026.",
        rules=("centres",),
        terms={"centres": ("مراكز الاتصال",)},
        key="1",
    ),
    item(key="2"),  # French: "Le démarchage téléphonique interdit"
    item(
        title="Le360 : « الذكاء الاصطناعي » dans les centres d'appels",  # French, Arabic quoted
        summary="L'IA arrive dans les centres d'appels de Casablanca.",
        rules=("centres",),
        terms={"centres": ("centres d'appels",)},
        key="3",
    ),
)
EXPECTED = ["rtl", "ltr", "ltr"]  # each item's title and snippet, in the order of the page

SCRIPT = """(() => {
  const direction = (selector) =>
    [...document.querySelectorAll(selector)].map((e) => getComputedStyle(e).direction);
  return JSON.stringify({
    page: getComputedStyle(document.body.firstElementChild).direction,
    titles: direction('li > div[dir=auto]'),
    snippets: direction('li > p[dir=auto]'),
    width: document.documentElement.scrollWidth,
  });
})()"""


async def evaluate(page: Page, expression: str) -> Any:
    answer = await page.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
    assert "exceptionDetails" not in answer, answer
    return answer["result"]["value"]


async def laid_out(html: Path, profile: Path, shot: Path) -> dict[str, Any]:
    async with chromium(profile) as browser:
        page = await browser.new_page()
        await page.send("Page.enable")
        await page.send("Emulation.setDeviceMetricsOverride", PHONE)
        navigated = await page.send("Page.navigate", {"url": html.as_uri()})
        assert "errorText" not in navigated, navigated
        async with asyncio.timeout(20):
            await page.wait_for("Page.loadEventFired")
        found: dict[str, Any] = json.loads(await evaluate(page, SCRIPT))
        png = base64.b64decode((await page.send("Page.captureScreenshot"))["data"])
    await asyncio.to_thread(shot.parent.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(shot.write_bytes, png)
    found["png"] = png
    return found


@pytest.mark.parametrize("language", ["fr", "ar"])
async def test_arabic_titles_run_right_to_left_and_french_ones_left_to_right(
    tmp_path: Path, language: Language
) -> None:
    page = tmp_path / f"digest-{language}.html"
    page.write_text(Renderer(CASABLANCA).html(digest(*ITEMS), Profile(language)), "utf-8")
    found = await laid_out(page, tmp_path / "profile", SHOTS / f"digest-{language}.png")

    assert found["titles"] == EXPECTED
    assert found["snippets"] == EXPECTED
    assert found["page"] == ("rtl" if language == "ar" else "ltr")
    assert found["width"] <= PHONE["width"]  # still fits a phone
    image = read_png(found["png"])
    assert (image.width, image.height) == (PHONE["width"], PHONE["height"])
    assert len(image.colours()) >= 20, "the screenshot is (nearly) uniform"
