"""The HTML preview as a reader sees it: `monitor digest --format html` writes a page, headless
Chromium renders it at phone width, and the page must show the digest, fit the screen, log no
console error and fetch nothing but itself (issue 4, Preview).

Chromium is required, never skipped: `make test` installs Debian's chromium when it is missing."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, Page, chromium, read_png
from tests.support.peers import FeedServer, Resource, rss

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True}
LONG_LINK = "https://x.ma/" + "demarchage-" * 30 + "fin"  # no break opportunity: must wrap
TRAP = "http://203.0.113.9"  # TEST-NET-3: a request there would be an external request
ACCENT = bytes.fromhex("1a4f9c")  # the headings' colour in the default template

# Feed text is hostile on purpose: markup that would run a script or fetch an image if the
# digest let it through, and a link too long for a phone unless the layout wraps it.
ITEMS: list[dict[str, Any]] = [
    {
        "guid": "1",
        "title": "Démarchage : ce qui change pour les centres d’appels",
        "link": "https://x.ma/1",
        "summary": (
            f"&lt;img src=&quot;{TRAP}/pixel.gif&quot;&gt;Le démarchage téléphonique "
            "&lt;script&gt;console.error('injected')&lt;/script&gt;sera encadré."
        ),
    },
    {
        "guid": "2",
        "title": "Démarchage téléphonique : la loi publiée",
        "link": LONG_LINK,
        "summary": "Le démarchage " + "x" * 200 + " est interdit sans consentement.",
    },
    {"guid": "3", "title": "L’IA dans les centres d’appels", "link": "https://x.ma/3"},
    {"guid": "4", "title": "Via Internet", "link": "https://x.ma/4"},  # matches nothing
]


@dataclass(frozen=True)
class Case:
    subscriber: str
    title_prefix: str  # document.title, i.e. the subject
    shown: int  # how many of the three matching items the page lists
    waiting: str  # the "more waiting" notice, or "" when none


CASES = [
    Case("later", "[veille] 2 nouveaux articles (+1 en attente)", 2, "1 autre article en attente"),
    Case("stories", "[monitor] 3 new articles", 3, ""),
]

SUBSCRIBERS = """\
  - name: later
    console: true
    digest: daily 08:00
    language: fr
    max_items: 2
  - name: stories
    console: true
    digest: weekly mon 08:00
    language: en
    group_by: story
"""


def write_config(tmp_path: Path, feed_url: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
storage: sqlite:///{tmp_path}/data/monitor.db
network:
  allow: [127.0.0.0/8]
  timeout: 5s
sources:
  - name: local
    url: {feed_url}
rules:
  - name: demarchage
    any: ["démarchage"]
  - name: ia
    any: ["IA"]
subscribers:
{SUBSCRIBERS}""")
    return path


def monitor(
    *args: str, cwd: Path, stdout: Any = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )


async def write_preview(tmp_path: Path, feeds: FeedServer, subscriber: str) -> Path:
    """Poll the feed once (the daily and weekly subscribers keep their items pending), then
    write the page exactly as a user would: `monitor digest ... --format html > page.html`."""
    now = datetime.now(UTC)
    items = [{**item, "published": now - timedelta(hours=1 + n)} for n, item in enumerate(ITEMS)]
    feeds.resources["/feed"] = Resource(rss(items))
    config = write_config(tmp_path, f"{feeds.url}/feed")
    run = await asyncio.to_thread(monitor, "run", "--once", "-c", str(config), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    page = tmp_path / "page.html"
    with page.open("w", encoding="utf-8") as out:
        args = ("digest", "--subscriber", subscriber, "--format", "html", "-c", str(config))
        digest = await asyncio.to_thread(monitor, *args, cwd=tmp_path, stdout=out)
    assert digest.returncode == 0, digest.stderr
    return page


@dataclass
class Report:
    """What Chromium made of one page at phone width."""

    title: str
    text: str
    marks: int  # highlighted terms
    scroll_width: int
    png: bytes
    console: list[dict[str, Any]]  # console.* calls
    exceptions: list[dict[str, Any]]
    log_errors: list[dict[str, Any]]  # the browser's own error log: failed loads, CSP, ...
    requests: list[str]  # every URL the page asked for, itself included


async def evaluate(page: Page, expression: str) -> Any:
    answer = await page.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
    assert "exceptionDetails" not in answer, answer
    return answer["result"]["value"]


async def inspect(url: str, profile: Path) -> Report:
    async with chromium(profile) as browser:
        page = await browser.new_page()
        for domain in ("Page", "Runtime", "Log", "Network"):  # events from the first request on
            await page.send(f"{domain}.enable")
        await page.send("Emulation.setDeviceMetricsOverride", PHONE)
        navigated = await page.send("Page.navigate", {"url": url})
        assert "errorText" not in navigated, navigated
        async with asyncio.timeout(20):
            await page.wait_for("Page.loadEventFired")
        report = Report(
            title=await evaluate(page, "document.title"),
            text=await evaluate(page, "document.body.innerText"),
            marks=await evaluate(page, "document.querySelectorAll('mark').length"),
            scroll_width=await evaluate(page, "document.documentElement.scrollWidth"),
            png=base64.b64decode((await page.send("Page.captureScreenshot"))["data"]),
            console=page.params("Runtime.consoleAPICalled"),
            exceptions=page.params("Runtime.exceptionThrown"),
            log_errors=[
                e["entry"] for e in page.params("Log.entryAdded") if e["entry"]["level"] == "error"
            ],
            requests=[r["request"]["url"] for r in page.params("Network.requestWillBeSent")],
        )
    (profile.parent / "preview.png").write_bytes(report.png)  # kept in tmp_path to look at
    return report


def test_chromium_is_installed() -> None:
    # Fails, never skips: a machine without Chromium must not pass the preview check silently.
    assert os.access(CHROMIUM, os.X_OK), (
        f"{CHROMIUM} is missing: the HTML preview test needs Debian's chromium. Run `make test` "
        "as root (it installs it with apt-get), or `apt-get install chromium`, or set $CHROMIUM."
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.subscriber)
async def test_preview_renders_on_a_phone_without_errors_or_outside_requests(
    tmp_path: Path, feeds: FeedServer, case: Case
) -> None:
    page_file = await write_preview(tmp_path, feeds, case.subscriber)
    url = page_file.as_uri()  # file://: no server, so no favicon request either
    report = await inspect(url, tmp_path / "profile")

    # rendered: the subject is the title, the items and their highlighted terms are on the page
    assert report.title.startswith(case.title_prefix), report.title
    titles = [item["title"] for item in ITEMS]
    assert sum(t in report.text for t in titles[:3]) == case.shown, report.text
    assert titles[3] not in report.text
    assert report.marks >= case.shown
    if case.waiting:
        assert case.waiting in report.text
    else:
        assert "waiting" not in report.text

    # fits a phone: nothing wider than the 375 px viewport, the long link included
    assert report.scroll_width <= PHONE["width"]

    # a real screenshot: PNG, phone-sized, not blank, the template's accent colour visible
    image = read_png(report.png)
    assert (image.width, image.height) == (PHONE["width"], PHONE["height"])
    colours = image.colours()
    assert len(colours) >= 20, "the screenshot is (nearly) uniform"
    assert any(c[:3] == ACCENT for c in colours)

    # no console error (the page has no script, so no console call at all), no exception,
    # nothing in the browser's error log
    assert report.console == []
    assert report.exceptions == []
    assert report.log_errors == []

    # no external request: the page asked for itself and nothing else, the trap image included
    assert report.requests == [url]
    assert set(feeds.hits) == {"/feed"}  # the feed server saw only the poll


async def test_the_checks_catch_a_bad_page(tmp_path: Path, feeds: FeedServer) -> None:
    """The same inspection flags a page that breaks each rule, so a pass above means something."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"  # no viewport meta
        f'<div style="width:600px">wide</div><img src="{feeds.url}/pixel.gif">'
        "<script>console.error('boom')</script><script>null.x</script></body></html>"
    )
    report = await inspect(bad.as_uri(), tmp_path / "profile")
    assert report.title == "bad"
    assert report.scroll_width > PHONE["width"]
    assert [c["type"] for c in report.console] == ["error"]
    assert len(report.exceptions) == 1
    assert report.requests == [bad.as_uri(), f"{feeds.url}/pixel.gif"]
    assert feeds.hits["/pixel.gif"] == 1
    assert any("404" in e["text"] for e in report.log_errors)
