"""The web app in a real browser: Playwright for Python driving Debian's Chromium (found as
tests/support/browser.py finds it, ``$CHROMIUM`` else /usr/bin/chromium; Playwright's own
browser download is never used, ``playwright install`` is not needed), with what every page
test checks:

- guards, recorded as they happen and failing the test: a dialog opening (``alert`` from feed
  text that ran), a console error or warning (a CSP violation is one), an uncaught exception, a
  request to anywhere but the served app (aborted, never sent);
- :meth:`Visit.look`: no event-handler attribute nor ``javascript:`` URL in the page, no
  horizontal scroll on a 375 px phone, axe-core (bundled in
  axe-playwright-python) finding no serious or critical violation, and a screenshot at 375 px
  and at 1280 px in :data:`SCREENSHOTS` for a person to look at (the run prints the folder).

A page's test::

    async with browsing(served.url) as visit:
        await visit.sign_in("analyste", USERS["analyste"], "/items")
        await visit.look("items")
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import ConsoleMessage, Dialog, Page, Route, async_playwright

from tests.support.browser import CHROMIUM, QUIET
from tests.support.paths import ROOT

SCREENSHOTS = Path(os.environ.get("MONITOR_SCREENSHOTS", ROOT / "build" / "screenshots"))
WRITTEN: list[Path] = []  # this run's screenshots (tests/conftest.py names them at the end)
PHONE, DESKTOP = 375, 1280
HEIGHT = {PHONE: 812, DESKTOP: 900}
SERIOUS = frozenset({"serious", "critical"})
TIMEOUT_MS = 15_000
# Every attribute through which markup runs script: an event handler, or a javascript: URL (a
# feed's link must never become one); what a feed sends must show as text, never as these.
RUNNABLE = """() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
  .filter(a => /^on/i.test(a.name) || (/^(href|src|action|formaction|xlink:href)$/i.test(a.name)
    && /^[\\s\\u0000-\\u001f]*javascript:/i.test(a.value)))
  .map(a => `<${e.tagName.toLowerCase()} ${a.name}="${a.value}">`))"""


@dataclass
class Guard:
    """What no page of the app may do, as it happens."""

    origin: str  # http://127.0.0.1:PORT
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)  # errors and warnings, CSP's included
    exceptions: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # requests aborted: not to the app
    requested: list[str] = field(default_factory=list)  # those let through

    async def dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    def logged(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def thrown(self, error: Exception) -> None:
        self.exceptions.append(str(error))

    async def route(self, route: Route) -> None:
        url = route.request.url
        if url == self.origin or url.startswith(self.origin + "/"):
            self.requested.append(url)
            await route.continue_()
        else:
            self.outside.append(url)
            await route.abort("blockedbyclient")

    def problems(self) -> dict[str, list[str]]:
        found = {
            "dialogs opened": self.dialogs,
            "console errors": self.console,
            "uncaught exceptions": self.exceptions,
            "requests leaving the app": self.outside,
        }
        return {what: seen for what, seen in found.items() if seen}


def serious(results: dict[str, Any]) -> list[str]:
    """axe-core's serious and critical violations, one line each (rule, help, where)."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in results["violations"]
        if v.get("impact") in SERIOUS
    ]


@dataclass
class Visit:
    """One browser tab on the app, guarded."""

    page: Page
    guard: Guard
    folder: Path = SCREENSHOTS

    @property
    def url(self) -> str:
        return self.guard.origin

    def path(self) -> str:
        return self.page.url.removeprefix(self.url)

    async def go(self, path: str) -> None:
        await self.page.goto(self.url + path)

    async def sign_in(self, name: str, password: str, path: str = "/") -> None:
        """Open ``path``, be sent to the login form, sign in through it and land back."""
        await self.go(path)
        assert self.path().startswith("/login?next="), self.page.url
        await self.page.fill("#name", name)
        await self.page.fill("#password", password)
        async with self.page.expect_navigation():
            await self.page.click("form.login button[type=submit]")
        assert self.path() == path, self.page.url

    async def sign_out(self) -> None:
        async with self.page.expect_navigation():
            await self.page.click("form[action='/logout'] button")
        assert self.path() == "/login", self.page.url

    async def scroll_width(self) -> int:
        width: int = await self.page.evaluate("document.documentElement.scrollWidth")
        return width

    async def runnable(self) -> list[str]:
        """The page's event-handler attributes and javascript: URLs (none, ever)."""
        found: list[str] = await self.page.evaluate(RUNNABLE)
        return found

    async def axe(self) -> list[str]:
        results = await Axe().run(self.page)
        response: dict[str, Any] = results.response
        return serious(response)

    async def screenshot(self, name: str, width: int) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}-{width}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        WRITTEN.append(path)
        return path

    async def look(self, name: str) -> list[Path]:
        """The checks every page passes, on the page as it is now: no markup that runs script,
        fits a phone with no horizontal scroll, no serious or critical axe-core violation (at
        both widths), a screenshot at each width, and nothing the guard forbids so far."""
        runnable = await self.runnable()
        assert runnable == [], f"{name}: markup that runs script: {runnable}"
        shots = []
        for width in (PHONE, DESKTOP):
            await self.page.set_viewport_size({"width": width, "height": HEIGHT[width]})
            if width == PHONE:
                wide = await self.scroll_width()
                assert wide <= PHONE, f"{name}: {wide} px wide on a {PHONE} px phone"
            violations = await self.axe()
            assert violations == [], f"{name} at {width} px: axe-core: {violations}"
            shots.append(await self.screenshot(name, width))
        await self.page.set_viewport_size({"width": PHONE, "height": HEIGHT[PHONE]})
        assert self.guard.problems() == {}, f"{name}: {self.guard.problems()}"
        return shots


@asynccontextmanager
async def browsing(origin: str, folder: Path = SCREENSHOTS) -> AsyncIterator[Visit]:
    """Headless Chromium (Debian's) on a phone-sized tab of the app at ``origin``, guarded
    from the first request on; the guard must have seen nothing when the block ends."""
    if not os.access(CHROMIUM, os.X_OK):
        raise FileNotFoundError(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; "
            "`make test` does it when run as root) or point $CHROMIUM at a Chromium binary"
        )
    guard = Guard(origin.rstrip("/"))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=list(QUIET))
        try:
            context = await browser.new_context(
                viewport={"width": PHONE, "height": HEIGHT[PHONE]}, locale="fr-FR"
            )
            context.set_default_timeout(TIMEOUT_MS)
            await context.route("**/*", guard.route)
            page = await context.new_page()
            page.on("dialog", guard.dialog)
            page.on("console", guard.logged)
            page.on("pageerror", guard.thrown)
            yield Visit(page, guard, folder)
            await context.close()
        finally:
            await browser.close()
    assert guard.problems() == {}, guard.problems()
