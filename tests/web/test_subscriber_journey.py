"""A subscriber's whole journey (issue 24, "Checked"), on a real App serving ``http.signup``,
its digests received by aiosmtpd, news arriving through real polls of a loopback feed, all on a
fake clock: sign up for two topics (immediate) → the confirmation email → its link shows a
button, only the POST confirms → a matching item → the digest links to the preferences (text
and HTML parts) → weekly, one topic dropped → pause → resume (what was held arrives once) →
unsubscribe (nothing more, what was pending dead-lettered).

The journey is written once, for a :class:`Driver`: one clicks the real forms in Debian's
Chromium (Playwright, every page looked at with ``visit.look()``), the other posts the same
forms with aiohttp, as read from the pages (tests/support/forms.py), CSRF tokens included."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiohttp
import pytest

from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.daemon.serving import serve_http
from monitor.store.standing import Standing, SubscriberStatus
from monitor.store.subscribers import SubscriberBook
from tests.support.browsing import Visit, browsing
from tests.support.daemon import build_config
from tests.support.databases import fresh_storage
from tests.support.forms import Form, form_of_class, form_with
from tests.support.peers import FakeClock, FeedServer, Resource, SmtpSink, rss

pytestmark = pytest.mark.slow

BASE = "http://veille.example.ma"  # (https would make the sign-up's cookies Secure)
ADDRESS = "lectrice@example.ma"
_LINK = re.compile(re.escape(BASE) + r"(/[^\s\"<>]+)")
_TAG = re.compile(r"épisode ([DI]\d+)")

# a form: by its class, or by the value of its hidden "action" (the preferences page's forms)
FormId = tuple[str, str]
SIGNUP: FormId = ("class", "signup")


def prefs(action: str) -> FormId:
    return ("action", action)


class Driver(Protocol):
    """A subscriber's hands: open a page, send one of its forms as changed (fields filled,
    boxes checked or not); each answers the text the subscriber then reads."""

    async def open(self, path: str, name: str) -> str: ...

    async def send(
        self,
        form: FormId,
        name: str,
        fill: dict[str, str] | None = None,
        check: dict[tuple[str, str], bool] | None = None,
    ) -> str: ...


class HttpDriver:
    """Plain HTTP, as a browser without JavaScript would post the page's forms."""

    def __init__(self, client: aiohttp.ClientSession) -> None:
        self.client, self.page, self.path = client, "", ""

    async def open(self, path: str, name: str) -> str:
        async with self.client.get(path) as answer:
            assert answer.status == 200, (path, answer.status)
            self.page, self.path = await answer.text(), path
        return html.unescape(self.page)

    async def send(
        self,
        form: FormId,
        name: str,
        fill: dict[str, str] | None = None,
        check: dict[tuple[str, str], bool] | None = None,
    ) -> str:
        found: Form = (
            form_of_class(self.page, form[1])
            if form[0] == "class"
            else form_with(self.page, "action", form[1])
        )
        assert found.value("csrf"), "a form without its CSRF token"
        for field, value in (fill or {}).items():
            found.fill(field, value)
        for (field, value), on in (check or {}).items():
            found.check(field, value, on)
        target = found.action or self.path
        async with self.client.post(target, data=found.data()) as answer:
            assert answer.status == 200, (target, answer.status, await answer.text())
            self.page, self.path = await answer.text(), str(answer.url.path_qs)
        return html.unescape(self.page)


class BrowserDriver:
    """Debian's Chromium clicking the real forms; every page it reaches passes ``look()``."""

    def __init__(self, visit: Visit) -> None:
        self.visit = visit

    async def open(self, path: str, name: str) -> str:
        await self.visit.go(path)
        await self.visit.look(f"journey-{name}")
        return await self.visit.page.inner_text("body")

    async def send(
        self,
        form: FormId,
        name: str,
        fill: dict[str, str] | None = None,
        check: dict[tuple[str, str], bool] | None = None,
    ) -> str:
        page = self.visit.page
        where = (
            f"form.{form[1]}"
            if form[0] == "class"
            else f"form:has(input[name=action][value={form[1]}])"
        )
        for field, value in (fill or {}).items():
            found = page.locator(f"{where} [name={field}]")
            if await found.count() > 1:  # a radio group
                await page.check(f"{where} input[name={field}][value='{value}']")
            elif await found.evaluate("e => e.tagName") == "SELECT":
                await found.select_option(value)
            else:
                await found.fill(value)
        for (field, value), on in (check or {}).items():
            box = page.locator(f"{where} input[name={field}][value='{value}']")
            await (box.check() if on else box.uncheck())
        async with page.expect_navigation():
            await page.click(f"{where} button[type=submit]")
        await self.visit.look(f"journey-{name}")
        return await page.inner_text("body")


@asynccontextmanager
async def plain_http(url: str) -> AsyncIterator[Driver]:
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with aiohttp.ClientSession(url, cookie_jar=jar) as client:
        yield HttpDriver(client)


@asynccontextmanager
async def chromium(url: str) -> AsyncIterator[Driver]:
    async with browsing(url) as visit:
        yield BrowserDriver(visit)


DRIVERS: dict[str, Callable[[str], AbstractAsyncContextManager[Driver]]] = {
    "http": plain_http,
    "chromium": chromium,
}


def journey_config(tmp_path: Path, feed_url: str, smtp_port: int, storage: str) -> Config:
    extra = (
        f"smtp:\n  host: 127.0.0.1\n  port: {smtp_port}\n  security: none\n"
        '  from: "Veille <veille@example.ma>"\n'
        f"http:\n  listen: 127.0.0.1:0\n  base_url: {BASE}\n"
        "  signup:\n    rules: [demarchage, ia]\n"
    )
    subscribers = "  - name: analyste\n    email: a@example.ma\n    digest: daily 08:00\n"
    return build_config(tmp_path, {"f": feed_url}, subscribers, extra, storage=storage)


class News:
    """A feed that publishes, on demand, an item of "demarchage" (D0, D1, …) or of "ia" (I0,
    I1, …), polled for real by the App."""

    def __init__(self, feeds: FeedServer, clock: FakeClock) -> None:
        self.feeds, self.clock, self.items = feeds, clock, list[dict[str, object]]()
        self.publish()  # (an empty feed until then: a poll before the first item finds it)

    def publish(self, *tags: str) -> None:
        for tag in tags:
            topic = "Le démarchage téléphonique" if tag[0] == "D" else "Une IA générative"
            self.items.append({
                "guid": tag, "title": f"{topic}, épisode {tag}", "link": f"https://x.ma/{tag}",
                "published": self.clock.now - timedelta(minutes=5),
            })  # fmt: skip
        self.feeds.resources["/f"] = Resource(rss(self.items))


@pytest.mark.parametrize(
    ("driver", "backend"),
    [
        ("http", "sqlite"),
        pytest.param("http", "postgresql", marks=pytest.mark.postgres),
        pytest.param("chromium", "sqlite", marks=pytest.mark.browser),
        pytest.param("chromium", "postgresql", marks=[pytest.mark.browser, pytest.mark.postgres]),
    ],
)
async def test_a_subscriber_signs_up_chooses_pauses_resumes_and_leaves(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, driver: str, backend: str
) -> None:
    clock = FakeClock()  # Thursday 2026-11-26 09:00 UTC, 10:00 in Casablanca
    news = News(feeds, clock)
    async with fresh_storage(backend, tmp_path) as storage:
        config = journey_config(tmp_path, f"{feeds.url}/f", int(sink.controller.port), storage)
        async with App(config, clock=clock) as app:
            port = await serve_http(app)
            async with DRIVERS[driver](f"http://127.0.0.1:{port}") as hands:
                await Journey(app, clock, news, sink, hands).walk()


class Journey:
    """The steps, each checking what the subscriber reads on the page, what aiosmtpd received
    (exact counts, no item twice) and what the store still owes it."""

    def __init__(
        self, app: App, clock: FakeClock, news: News, sink: SmtpSink, hands: Driver
    ) -> None:
        self.app, self.clock, self.news, self.sink, self.hands = app, clock, news, sink, hands
        self.book = SubscriberBook(app.store.engine)
        self.name = ""

    async def walk(self) -> None:
        await self.sign_up()
        preferences = await self.first_digest()
        await self.weekly_without_a_topic(preferences)
        await self.pause_and_resume(preferences)
        await self.unsubscribe(preferences)

    async def sign_up(self) -> None:
        hands = self.hands
        page = await hands.open("/subscribe", "subscribe")
        assert "demarchage" in page and "ia" in page  # the topics offered
        sent = await hands.send(
            SIGNUP,
            "subscribe-sent",
            fill={"address": ADDRESS, "schedule": "immediate", "language": "fr"},
            check={("rule", "demarchage"): True, ("rule", "ia"): True},
        )
        assert "Vérifiez votre boîte" in sent
        (mail,) = await self.received(1)
        assert mail["To"] == ADDRESS and mail["Subject"] == "Confirmez votre abonnement"
        (path,) = {link for link in _LINK.findall(plain(mail)) if "/subscribe/" in link}
        page = await hands.open(path, "subscribe-confirm")
        assert ADDRESS in page
        assert await self.book.choices() == []  # a GET (a link scanner's) confirms nothing
        done = await hands.send(SIGNUP, "subscribe-done")
        assert "Abonnement confirmé" in done
        await self.app.tick()  # (each tick, on every replica, reads who signed up)
        (self.name,) = [s.name for s in self.app.config.subscribers if s.email == ADDRESS]
        assert len(self.sink.messages) == 1  # the confirmation only

    async def first_digest(self) -> str:
        """The first item of each topic arrives at once; the digest's preferences link."""
        await self.round("D0", "I0")
        (digest,) = self.digests()
        assert tags(digest) == ["D0", "I0"]
        assert "vos préférences" in plain(digest)  # the language chosen at sign-up
        text_links: list[str] = [
            p for p in _LINK.findall(plain(digest)) if p.startswith("/preferences/")
        ]
        body = digest.get_body(("html",))
        assert body is not None
        html_links = [
            html.unescape(p)
            for p in _LINK.findall(str(body.get_content()))
            if p.startswith("/preferences/")
        ]
        assert len(text_links) == 1 and html_links == text_links
        return text_links[0]

    async def weekly_without_a_topic(self, preferences: str) -> None:
        """Weekly on Fridays at 08:00 (Casablanca), "ia" dropped: its items are no longer owed,
        those of "demarchage" wait for Friday."""
        page = await self.hands.open(preferences, "preferences")
        assert ADDRESS in page
        saved = await self.hands.send(
            prefs("save"),
            "preferences-saved",
            fill={"schedule": "weekly", "weekday": "fri", "at": "08:00"},
            check={("rules", "ia"): False},
        )
        assert "Vos préférences sont enregistrées" in saved
        (choice,) = await self.book.choices()
        assert (choice.digest, choice.rules) == ("weekly fri 08:00", ("demarchage",))
        await self.app.tick()
        await self.round("D1", "I1")
        assert len(self.digests()) == 1  # held until Friday
        assert (await self.status()).pending == 1  # D1 only: I1 is not owed
        self.clock.now = datetime.fromisoformat("2026-11-27T06:55:00+00:00")  # Fri 07:55
        await self.app.run_once()
        assert len(self.digests()) == 1  # not a minute early
        self.clock.now = datetime.fromisoformat("2026-11-27T07:05:00+00:00")  # Fri 08:05
        await self.app.run_once()
        assert [tags(m) for m in self.digests()] == [["D0", "I0"], ["D1"]]

    async def pause_and_resume(self, preferences: str) -> None:
        """Paused over a Friday: nothing arrives; resumed: what was held arrives, once."""
        await self.hands.open(preferences, "preferences-weekly")
        until = date(2026, 12, 10)
        paused = await self.hands.send(
            prefs("pause"), "preferences-paused", fill={"until": until.isoformat()}
        )
        assert f"En pause jusqu'au {until.isoformat()}" in paused
        await self.round("D2", "I2")
        self.clock.now = datetime.fromisoformat("2026-12-05T10:00:00+00:00")  # past Friday 4th
        await self.round("D3")
        assert len(self.digests()) == 2 and (await self.status()).pending == 2
        resumed = await self.hands.send(prefs("resume"), "preferences-resumed")
        assert "Reprise" in resumed
        await self.app.run_once()
        await self.round()  # and once more: nothing twice
        assert [tags(m) for m in self.digests()] == [["D0", "I0"], ["D1"], ["D2", "D3"]]
        assert (await self.status()).pending == 0

    async def unsubscribe(self, preferences: str) -> None:
        """What is pending when the subscriber leaves is dead-lettered, never sent."""
        await self.round("D4")
        assert (await self.status()).pending == 1
        await self.hands.open(preferences, "preferences-leaving")
        left = await self.hands.send(prefs("unsubscribe"), "preferences-unsubscribed")
        assert "Vous êtes désabonné" in left
        await self.app.tick()
        await self.round("D5")
        self.clock.now = datetime.fromisoformat("2026-12-18T08:00:00+00:00")  # two Fridays on
        await self.round("D6")
        assert len(self.digests()) == 3
        status = await self.status()
        assert status.unsubscribed is not None and status.pending == 0 and status.dead == 1
        assert len(self.digests()) == 3  # and the confirmation: no more, ever

    # what the subscriber receives, and the store's account of it

    async def round(self, *tags: str) -> None:
        self.clock.advance(timedelta(minutes=20))
        self.news.publish(*tags)
        await self.app.run_once()

    async def received(self, count: int) -> list[EmailMessage]:
        for _ in range(500):  # (a confirmation goes in the background: at most 5 s)
            if len(self.sink.messages) >= count:
                break
            await asyncio.sleep(0.01)
        return self.sink.messages

    def digests(self) -> list[EmailMessage]:
        mails = [m for m in self.sink.messages if m["To"] == ADDRESS]
        assert mails[0]["Subject"] == "Confirmez votre abonnement"
        return mails[1:]

    async def status(self) -> SubscriberStatus:
        (status,) = await Standing(self.app.store.engine).status([self.name])
        return status


def plain(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def tags(mail: EmailMessage) -> list[str]:
    found = _TAG.findall(plain(mail))
    assert len(found) == len(set(found)), f"an item twice in one digest: {found}"
    return sorted(found)
