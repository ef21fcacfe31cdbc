"""A subscriber's preferences page (issue 24, part 3): the link every email digest carries, and
``/preferences/TOKEN`` on a real App's server, its digests received by aiosmtpd."""

from __future__ import annotations

import asyncio
import email
import re
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.daemon.serving import serve_http
from monitor.store.subscribers import SubscriberBook
from monitor.web.preferences import form_token
from monitor.web.unsubscribe import TOKEN_LIFETIME, Purpose, check_token, make_token
from tests.support.daemon import build_config
from tests.support.databases import BACKENDS, fresh_storage
from tests.support.episodes import Story, episodes, plain, play_round, to
from tests.support.peers import (
    FakeClock,
    FeedServer,
    LoopbackController,
    SmtpSink,
)

A = "a@example.ma"
HOSTILE = "<img src=x onerror=alert(1)>"  # as a rule's description
LINK = re.compile(r"https://veille\.example\.com/preferences/[\w-]+")


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def prefs_config(
    tmp_path: Path,
    feed_url: str,
    smtp_port: int,
    *,
    address: str = A,
    signup: bool = True,
    storage: str | None = None,
) -> Config:
    extra = (
        f"smtp:\n  host: 127.0.0.1\n  port: {smtp_port}\n  security: none\n"
        '  from: "Veille <veille@example.ma>"\n'
        "http:\n  listen: 127.0.0.1:0\n  base_url: https://veille.example.com/\n"
    )
    if signup:
        extra += "  signup:\n    rules: [demarchage, ia]\n"
    subscribers = (
        f"  - name: analyste\n    email: {address}\n    digest: immediate\n"
        "    rules: [demarchage, centres-appels]\n"
        "  - name: other\n    email: b@example.ma\n    digest: immediate\n    language: en\n"
    )
    config = build_config(tmp_path, {"f": feed_url}, subscribers, extra, storage=storage)
    labels = {"demarchage": ("Démarchage", HOSTILE), "ia": ("IA", "L'intelligence artificielle")}
    rules = [
        rule.model_copy(update={"label": labels[rule.name][0], "description": labels[rule.name][1]})
        if rule.name in labels
        else rule
        for rule in config.rules
    ]
    return config.model_copy(update={"rules": rules})


def links(mail: EmailMessage) -> tuple[list[str], list[str]]:
    """The preferences links of the text part and of the HTML part's hrefs."""
    text, page = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and page is not None
    hrefs = re.findall(
        r'href="(https://veille\.example\.com/preferences/[^"]+)"', page.get_content()
    )
    return LINK.findall(text.get_content()), hrefs


def local(url: str, port: int) -> str:
    return url.replace("https://veille.example.com", f"http://127.0.0.1:{port}")


async def form_of(client: aiohttp.ClientSession, url: str) -> str:
    async with client.get(url) as reply:
        assert reply.status == 200, await reply.text()
        page = await reply.text()
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found
    return found.group(1)


SAVE = {"action": "save", "schedule": "immediate", "at": "08:00", "weekday": "mon"}


@pytest.mark.slow
async def test_every_email_digest_links_to_a_fresh_preferences_page(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink
) -> None:
    clock = FakeClock()
    story = Story(feeds, clock)
    config = prefs_config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
    async with App(config, clock=clock) as app:
        await play_round(app, story, clock)
        await play_round(app, story, clock)
        key = app.token_key
    first, second = to(sink, A)
    (text_link,), (html_link,) = links(first)
    assert text_link == html_link
    token = text_link.rsplit("/", 1)[1]
    claim = check_token(key, token, clock.now, Purpose.PREFERENCES)
    assert claim.subscriber == "analyste" and claim.binds(key, A, None)
    assert not claim.binds(key, "b@example.ma", None)
    (later,), _ = links(second)
    assert later != text_link  # a new digest, a fresh token
    # in the subscriber's language
    assert "vos préférences" in plain(first)
    other = to(sink, "b@example.ma")[0]
    assert "your preferences" in plain(other)
    (other_link,), _ = links(other)
    other_claim = check_token(key, other_link.rsplit("/", 1)[1], clock.now, Purpose.PREFERENCES)
    assert other_claim.subscriber == "other"


@pytest.mark.slow
async def test_no_link_without_signup(tmp_path: Path, feeds: FeedServer, sink: SmtpSink) -> None:
    clock = FakeClock()
    story = Story(feeds, clock)
    config = prefs_config(tmp_path, f"{feeds.url}/f", int(sink.controller.port), signup=False)
    async with App(config, clock=clock) as app:
        port = await serve_http(app)
        await play_round(app, story, clock)
        token = make_token(app.token_key, "analyste", A, clock.now, Purpose.PREFERENCES)
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{port}/preferences/{token}") as reply:
                assert reply.status == 404
    assert links(to(sink, A)[0]) == ([], [])


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_page_changes_schedule_and_topics_from_the_next_digest(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, client: aiohttp.ClientSession, backend: str
) -> None:
    clock = FakeClock()
    story = Story(feeds, clock)
    async with fresh_storage(backend, tmp_path) as storage:
        port = int(sink.controller.port)
        config = prefs_config(tmp_path, f"{feeds.url}/f", port, storage=storage)
        async with App(config, clock=clock) as app:
            http_port = await serve_http(app)
            assert http_port
            await play_round(app, story, clock)
            (link,), _ = links(to(sink, A)[0])
            url = local(link, http_port)
            async with client.get(url) as reply:
                page = await reply.text()
                assert reply.headers["Referrer-Policy"] == "no-referrer"
                assert "script-src" not in reply.headers["Content-Security-Policy"]
                assert reply.headers["Content-Security-Policy"].startswith("default-src 'none'")
            assert "Démarchage" in page and "IA" in page and "centres-appels" in page
            assert HOSTILE not in page and "&lt;img src=x" in page  # a description, escaped
            assert "(par défaut)" in page and "votre choix" not in page
            assert 'value="immediate" checked' in page
            csrf = await form_of(client, url)
            weekly = {**SAVE, "schedule": "weekly", "weekday": "fri", "at": "07:30"}
            data = {**weekly, "csrf": csrf, "rules": "ia", "language": "en", "max_items": "20"}
            async with client.post(url, data=data) as reply:
                assert reply.status == 200
                page = await reply.text()
            assert "Vos préférences sont enregistrées" not in page  # now in English
            assert "Your preferences are saved" in page and "your choice" in page
            assert 'value="weekly" checked' in page
            book = SubscriberBook(app.store.engine)
            (choice,) = await book.choices()
            assert (choice.name, choice.address) == ("analyste", A)
            assert (choice.rules, choice.digest, choice.language, choice.max_items) == (
                ("ia",), "weekly fri 07:30", "en", 20,
            )  # fmt: skip
            await app.tick()  # from the next digest
            analyste = next(s for s in app.config.subscribers if s.name == "analyste")
            assert str(analyste.digest) == "weekly fri 07:30" and analyste.rules == ["ia"]
            await play_round(app, story, clock)
            assert len(to(sink, A)) == 1  # weekly now, and "ia" only: nothing
            assert len(to(sink, "b@example.ma")) == 2


@pytest.mark.slow
async def test_saving_unchanged_values_keeps_the_configurations(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, client: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    config = prefs_config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
    async with App(config, clock=clock) as app:
        http_port = await serve_http(app)
        token = make_token(app.token_key, "analyste", A, clock.now, Purpose.PREFERENCES)
        url = f"http://127.0.0.1:{http_port}/preferences/{token}"
        csrf = await form_of(client, url)
        data = {**SAVE, "csrf": csrf, "language": "fr", "max_items": "50"}
        form = aiohttp.FormData(
            [*data.items(), ("rules", "demarchage"), ("rules", "centres-appels")]
        )
        async with client.post(url, data=form) as reply:
            assert reply.status == 200
            assert "Rien n&#39;a changé" in await reply.text()
        assert await SubscriberBook(app.store.engine).choices() == []


@pytest.mark.slow
async def test_refused_requests_change_nothing(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, client: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    port = int(sink.controller.port)
    config = prefs_config(tmp_path, f"{feeds.url}/f", port)
    async with App(config, clock=clock) as app:
        http_port = await serve_http(app)
        base = f"http://127.0.0.1:{http_port}/preferences"
        key = app.token_key
        good = make_token(key, "analyste", A, clock.now, Purpose.PREFERENCES)
        csrf = form_token(key, good)
        data = {**SAVE, "csrf": csrf, "rules": "ia", "language": "en", "max_items": "5"}
        refused = {
            "forged": (make_token(b"x" * 32, "analyste", A, clock.now, Purpose.PREFERENCES), 400),
            "flipped": (good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:], 400),
            "unsubscribe-token": (make_token(key, "analyste", A, clock.now), 400),
            "expired": (
                make_token(key, "analyste", A, clock.now - TOKEN_LIFETIME * 2, Purpose.PREFERENCES),
                410,
            ),
            "other-address": (
                make_token(key, "analyste", "b@example.ma", clock.now, Purpose.PREFERENCES),
                400,
            ),
            "unknown": (make_token(key, "nobody", A, clock.now, Purpose.PREFERENCES), 404),
        }
        for what, (token, status) in refused.items():
            async with client.get(f"{base}/{token}") as reply:
                assert reply.status == status, what
                assert 'method="post"' not in await reply.text()
            for action in ("save", "unsubscribe", "pause"):
                form = {**data, "csrf": form_token(key, token), "action": action}
                async with client.post(f"{base}/{token}", data=form) as reply:
                    assert reply.status == status, what
        bad_forms = {
            "no-csrf": ({**data, "csrf": ""}, 403),
            "csrf-of-another-link": ({**data, "csrf": form_token(key, good + "x")}, 403),
            "rule-not-offered": ({**data, "rules": "nope"}, 400),
            "no-rule": ({k: v for k, v in data.items() if k != "rules"}, 400),
            "bad-time": ({**data, "schedule": "daily", "at": "25:00"}, 400),
            "bad-language": ({**data, "language": "de"}, 400),
            "too-many": ({**data, "max_items": "5000"}, 400),
            "past-pause": ({**data, "action": "pause", "until": "2000-01-01"}, 400),
            "bad-action": ({**data, "action": "explode"}, 400),
        }
        for what, (form, status) in bad_forms.items():
            async with client.post(f"{base}/{good}", data=form) as reply:
                assert reply.status == status, what
        # after an address change, the link sent to the old one changes nothing
        await app.reload(prefs_config(tmp_path, f"{feeds.url}/f", port, address="new@example.ma"))
        async with client.post(f"{base}/{good}", data=data) as reply:
            assert reply.status == 400
            assert "another address" in await reply.text() or "autre adresse" in await reply.text()
        book = SubscriberBook(app.store.engine)
        assert await book.choices() == []
        states = await book.states()
        assert states["analyste"].paused_until is None
        assert states["analyste"].unsubscribed_at is None


@pytest.mark.slow
async def test_pause_resume_and_unsubscribe_on_the_page(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, client: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    story = Story(feeds, clock)
    config = prefs_config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
    async with App(config, clock=clock) as app:
        http_port = await serve_http(app)
        assert http_port
        await play_round(app, story, clock)
        (link,), _ = links(to(sink, A)[0])
        url = local(link, http_port)
        csrf = await form_of(client, url)
        until = (clock.now + timedelta(days=10)).date().isoformat()
        async with client.post(url, data={"csrf": csrf, "action": "pause", "until": until}) as r:
            assert r.status == 200
            page = await r.text()
        assert "Pause enregistrée" in page and f"En pause jusqu&#39;au {until}" in page
        await play_round(app, story, clock)
        await play_round(app, story, clock)
        assert [episodes(m) for m in to(sink, A)] == [[0]]  # held
        async with client.post(url, data={"csrf": csrf, "action": "resume"}) as reply:
            assert reply.status == 200
            assert "Reprise" in await reply.text()
        await app.run_once()  # what was held, once
        await play_round(app, story, clock)
        assert [episodes(m) for m in to(sink, A)] == [[0], [1, 2], [3]]

        await app.book.pause("analyste", clock.now + timedelta(days=5))  # held again, then gone
        await play_round(app, story, clock)
        async with client.post(url, data={"csrf": csrf, "action": "unsubscribe"}) as reply:
            assert reply.status == 200
            page = await reply.text()
        assert "Vous êtes désabonné" in page and 'name="action"' not in page
        clock.advance(timedelta(days=6))
        await play_round(app, story, clock)
        assert len(to(sink, A)) == 3
        (status,) = await app.standing.status(["analyste"])
        # what the pause held (episode 4) is dead-lettered, as a one-click unsubscription does;
        # what came after it (episode 5) was never routed to it
        assert (status.dead, status.pending, status.sent) == (1, 0, 4)
        async with client.post(url, data={"csrf": csrf, "action": "resume"}) as reply:
            assert reply.status == 400  # an unsubscribed subscriber changes nothing more


class SlowReceiver:
    """aiosmtpd whose DATA for ``slow`` waits for ``gate`` (set by the test) before accepting:
    a digest being sent, for as long as the test needs."""

    def __init__(self, slow: str) -> None:
        self.slow = slow
        self.arrived, self.gate = threading.Event(), threading.Event()
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.slow in envelope.rcpt_tos:
            self.arrived.set()
            await asyncio.to_thread(self.gate.wait, 30)
        message = email.message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_change_during_a_send_neither_drops_nor_doubles_an_item(
    tmp_path: Path, feeds: FeedServer, client: aiohttp.ClientSession, backend: str
) -> None:
    receiver = SlowReceiver(A)
    controller = LoopbackController(receiver, hostname="127.0.0.1", port=0)
    controller.start()
    clock = FakeClock()
    story = Story(feeds, clock)
    try:
        async with fresh_storage(backend, tmp_path) as storage:
            config = prefs_config(tmp_path, f"{feeds.url}/f", int(controller.port), storage=storage)
            async with App(config, clock=clock) as app:
                http_port = await serve_http(app)
                assert http_port
                token = make_token(app.token_key, "analyste", A, clock.now, Purpose.PREFERENCES)
                url = f"http://127.0.0.1:{http_port}/preferences/{token}"
                csrf = await form_of(client, url)
                story.publish()
                story.publish()
                clock.advance(timedelta(minutes=20))
                receiver.gate.clear()
                sending = asyncio.create_task(app.run_once())
                assert await asyncio.to_thread(receiver.arrived.wait, 30)  # A's digest, held
                daily = {**SAVE, "schedule": "daily", "at": "08:00", "csrf": csrf}
                data = {**daily, "rules": "demarchage", "language": "en", "max_items": "1"}
                async with client.post(url, data=data) as reply:  # during the send
                    assert reply.status == 200
                ticking = asyncio.create_task(app.tick())  # puts it in force, after the send
                receiver.gate.set()
                await sending
                await ticking
                for _ in range(3):
                    await play_round(app, story, clock)
                for _ in range(6):  # daily, one item each time (max_items 1)
                    clock.advance(timedelta(days=1))
                    await app.run_once()
        mails = [m for m in receiver.messages if m["To"] == A]
        got = [n for mail in mails for n in episodes(mail)]
        assert sorted(got) == list(range(5))  # every item, once
        assert len(mails) >= 3 and "your preferences" in plain(mails[-1])  # English now
    finally:
        controller.stop()


@pytest.mark.slow
async def test_a_subscriber_who_signed_up_manages_itself_too(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, client: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    story = Story(feeds, clock)
    config = prefs_config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
    async with App(config, clock=clock) as app:
        http_port = await serve_http(app)
        assert http_port
        name, _ = await app.book.sign_up(
            "Z@Exemple.MA", clock.now, rules=["demarchage"], digest="immediate", language="en"
        )
        await app.tick()
        await play_round(app, story, clock)
        (mail,) = to(sink, "Z@exemple.ma")
        (link,), (href,) = links(mail)
        assert link == href
        url = local(link, http_port)
        async with client.get(url) as reply:
            page = await reply.text()
        assert "Your preferences" in page and "(default)" not in page
        assert 'value="centres-appels"' not in page  # only signup.rules are offered to it
        csrf = await form_of(client, url)
        data = {**SAVE, "csrf": csrf, "rules": "ia", "language": "en", "max_items": "50"}
        async with client.post(url, data=data) as reply:
            assert reply.status == 200
        choice = next(c for c in await app.book.choices() if c.name == name)
        assert choice.signed_up and choice.rules == ("ia",)
        await app.tick()
        await play_round(app, story, clock)  # "démarchage" no longer its topic
        assert len(to(sink, "Z@exemple.ma")) == 1
