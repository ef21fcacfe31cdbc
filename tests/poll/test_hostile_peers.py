"""Hostile items and faulty peers, whole daemon against real loopback servers (issue 3, D1-D4, P4).

Feeds carry script, handlers, hostile links and header-injection attempts; SMTP servers answer
4xx, refuse one recipient or hang up after DATA; webhook receivers hang, redirect or are gone.
Each run is ``App.run_once`` with a fake clock, so retries are driven by advancing the clock.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from standardwebhooks import Webhook

from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.digest.render import Renderer
from monitor.notifiers import NotifierContext, build_notifier
from tests.support.daemon import SECRET, build_config
from tests.support.peers import FakeClock, FeedServer, Resource, SmtpSink, loopback_smtp, rss

FROM = "veille@example.ma"


def serve_items(feeds: FeedServer, clock: FakeClock, *titles: str, path: str = "/f") -> None:
    """One matching item per title (every title names "démarchage"), published just now."""
    when = clock.now - timedelta(minutes=5)
    items = [
        {"guid": f"g{n}", "title": t, "link": f"https://x.ma/{n}", "published": when}
        for n, t in enumerate(titles)
    ]
    feeds.resources[path] = Resource(rss(items))


def smtp_section(port: int) -> str:
    return (
        f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  security: none\n  timeout: 10s\n"
        f'  from: "Veille <{FROM}>"\n'
    )


def email_subscriber(name: str, address: str) -> str:
    return f"  - name: {name}\n    email: {address}\n    digest: immediate\n"


def webhook_subscriber(name: str, url: str) -> str:
    return (
        f"  - name: {name}\n    webhook: {url}\n    secret: ${{WEBHOOK_SECRET}}\n"
        "    digest: immediate\n"
    )


async def run(app: App) -> list[tuple[str, str]]:
    """One run of the daemon; the (subscriber, result) of each send, sorted."""
    _, sends = await app.run_once()
    return sorted((s.subscriber, s.result) for s in sends)


def parse_message(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def header_names(raw: bytes) -> list[bytes]:
    block = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return [
        line.split(b":", 1)[0].strip().lower()
        for line in block.split(b"\n")
        if line and not line[:1].isspace()
    ]


# --- SMTP peers ------------------------------------------------------------------------------


@dataclass
class SmtpPeer:
    """An SMTP handler that refuses some recipients at RCPT, and can hang up after DATA."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply
    drops: int = 0  # the first ``drops`` messages are taken, then the line is cut: no 250
    hang: threading.Event | None = None  # DATA gets no answer until this is set
    rcpts: list[str] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.rcpts.append(address)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hang is not None:  # the server runs in its own thread and loop
            await asyncio.get_running_loop().run_in_executor(None, self.hang.wait, 30)
            return "451 4.4.2 Too late"
        self.raw.append(bytes(envelope.original_content or b""))
        self.envelopes.append(list(envelope.rcpt_tos))
        if self.drops:
            self.drops -= 1
            server.transport.close()  # the message is in, the 250 never leaves
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [str(parse_message(raw)["Message-ID"]) for raw in self.raw]


@pytest.fixture
def smtp_peer() -> SmtpPeer:
    return SmtpPeer()


@pytest.fixture
def smtp_port(smtp_peer: SmtpPeer) -> Iterator[int]:
    yield from loopback_smtp(smtp_peer)


# --- hostile items ---------------------------------------------------------------------------


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(name, value or "") for name, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


HOSTILE_ITEMS = [  # (title, link, summary) as they appear inside the RSS XML
    (
        "<![CDATA[Démarchage <script>alert(1)</script>]]>",
        "javascript:alert(1)",
        "&lt;p onclick=&quot;alert(2)&quot;&gt;démarchage&lt;/p&gt;",
    ),
    (
        "Démarchage &lt;img src=x onerror=alert(3)&gt;",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==",
        "&lt;script&gt;alert(5)&lt;/script&gt;"
        "&lt;a href=&quot;javascript:alert(6)&quot;&gt;x&lt;/a&gt;",
    ),
    ("Démarchage&#13;&#10;Bcc: victim@evil.example", "https://x.ma/crlf", "démarchage"),
    ("=?UTF-8?Q?=0A?=Bcc: victim@evil.example démarchage", "https://x.ma/ew", "démarchage"),
    (
        "Démarchage =?UTF-8?Q?Evil=0D=0ABcc:_victim@evil.example?=",
        "https://x.ma/ew2",
        "&lt;svg onload=alert(7)&gt;démarchage&lt;/svg&gt;",
    ),
]


def hostile_feed(clock: FakeClock) -> bytes:
    when = (clock.now - timedelta(minutes=5)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    items = "".join(
        f'<item><title>{title}</title><link>{link}</link><guid isPermaLink="false">h{n}</guid>'
        f"<description>{summary}</description><pubDate>{when}</pubDate></item>"
        for n, (title, link, summary) in enumerate(HOSTILE_ITEMS)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>H</title>'
        f"<link>https://x.ma/</link><description>d</description>{items}</channel></rss>"
    ).encode()


@pytest.mark.slow
async def test_hostile_items_reach_the_email_digest_as_harmless_text(
    tmp_path: Path, feeds: FeedServer, smtp_peer: SmtpPeer, smtp_port: int
) -> None:
    clock = FakeClock()
    feeds.resources["/h"] = Resource(hostile_feed(clock))
    config = build_config(
        tmp_path,
        {"h": f"{feeds.url}/h"},
        email_subscriber("analyste", "analyste@example.ma"),
        smtp_section(smtp_port),
    )
    async with App(config, clock=clock) as app:
        assert await run(app) == [("analyste", "sent")]

    [raw] = smtp_peer.raw
    assert smtp_peer.envelopes == [["analyste@example.ma"]]
    names = header_names(raw)
    assert names.count(b"subject") == 1 and names.count(b"to") == 1
    assert b"bcc" not in names and b"cc" not in names
    message = parse_message(raw)
    assert message["Bcc"] is None
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])

    html_part = message.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    elements = Elements()
    elements.feed(html)
    assert not {"script", "img", "svg", "iframe", "object"} & set(elements.tags)
    assert not [name for name, _ in elements.attrs if name.startswith("on")]
    hrefs = [value for name, value in elements.attrs if name in ("href", "src")]
    assert hrefs and all(re.match(r"https?://", value) for value in hrefs)
    assert "javascript:" not in " ".join(hrefs) and "data:" not in " ".join(hrefs)
    assert elements.tags.count("li") == len(HOSTILE_ITEMS)  # every item listed
    assert "alert(" not in "".join(elements.text)  # markup in titles was dropped as text
    text_part = message.get_body(("plain",))
    assert text_part is not None and "Bcc: victim@evil.example" in text_part.get_content()


# --- SMTP: transient, permanent, lost reply --------------------------------------------------


@pytest.mark.slow
async def test_smtp_4xx_is_retried_with_growing_backoff_and_delivered_once(
    tmp_path: Path, feeds: FeedServer
) -> None:
    sink = SmtpSink(replies=["451 4.3.0 Try again later", "451 4.3.0 Try again later"])
    port = sink.start()
    try:
        clock = FakeClock()
        serve_items(feeds, clock, "Le démarchage encadré")
        config = build_config(
            tmp_path,
            {"f": f"{feeds.url}/f"},
            email_subscriber("analyste", "analyste@example.ma"),
            smtp_section(port),
        )
        async with App(config, clock=clock) as app:
            results = [await run(app)]
            # (advance before the run, expected sends): the first retry is due after 24-36 s,
            # the second after 48-72 s (30 s doubling, ±20 % jitter)
            for advance, expected in [
                (0, []),
                (20, []),
                (40, [("analyste", "retry")]),
                (40, []),
                (60, [("analyste", "sent")]),
                (7200, []),
            ]:
                clock.advance(timedelta(seconds=advance))
                results.append(await run(app))
                assert results[-1] == expected, results
        assert results[0] == [("analyste", "retry")]
        assert sink.handler.replies == []  # both 451 were given
        assert len(sink.messages) == 1
        assert sink.messages[0]["To"] == "analyste@example.ma"
    finally:
        sink.stop()


@pytest.mark.slow
async def test_smtp_550_for_one_recipient_is_dead_lettered_while_the_other_is_delivered(
    tmp_path: Path, feeds: FeedServer, smtp_peer: SmtpPeer, smtp_port: int
) -> None:
    smtp_peer.refuse["bob@example.ma"] = "550 5.1.1 No such user"
    clock = FakeClock()
    serve_items(feeds, clock, "Le démarchage encadré")
    config = build_config(
        tmp_path,
        {"f": f"{feeds.url}/f"},
        email_subscriber("alice", "alice@example.ma") + email_subscriber("bob", "bob@example.ma"),
        smtp_section(smtp_port),
    )
    async with App(config, clock=clock) as app:
        assert await run(app) == [("alice", "sent"), ("bob", "dead")]
        clock.advance(timedelta(hours=3))
        assert await run(app) == []  # dead-lettered: never tried again
        [bob] = await app.standing.status(["bob"])
    assert smtp_peer.envelopes == [["alice@example.ma"]]
    assert smtp_peer.rcpts.count("bob@example.ma") == 1
    assert bob.dead == 1 and bob.pending == 0
    assert bob.last_error is not None and "550" in bob.last_error


@pytest.mark.slow
async def test_line_cut_after_data_is_retried_with_the_same_message_id(
    tmp_path: Path, feeds: FeedServer, smtp_peer: SmtpPeer, smtp_port: int
) -> None:
    smtp_peer.drops = 1
    clock = FakeClock()
    serve_items(feeds, clock, "Le démarchage encadré")
    config = build_config(
        tmp_path,
        {"f": f"{feeds.url}/f"},
        email_subscriber("analyste", "analyste@example.ma"),
        smtp_section(smtp_port),
    )
    async with App(config, clock=clock) as app:
        assert await run(app) == [("analyste", "retry")]
        clock.advance(timedelta(minutes=10))
        assert await run(app) == [("analyste", "sent")]
        clock.advance(timedelta(hours=3))
        assert await run(app) == []
    ids = smtp_peer.message_ids()
    assert 1 <= len(ids) <= 2 and len(set(ids)) == 1
    assert len(ids) == 2  # this server did take the first copy before hanging up


# --- webhooks: hanging, redirecting (410 Gone: tests/delivery/test_receiver_gone.py)
# -----------------


@dataclass
class Hook:
    """A webhook receiver; the first ``hold`` requests wait for ``gate`` (then answer 503)."""

    name: str
    order: list[str]
    status: int = 200
    hold: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    elsewhere: int = 0

    async def receive(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        self.order.append(f"arrived:{self.name}")
        if len(self.requests) <= self.hold:
            await self.gate.wait()
            return web.Response(status=503)
        if 300 <= self.status < 400:
            return web.Response(status=self.status, headers={"Location": "/elsewhere"})
        return web.Response(status=self.status)

    async def redirected(self, request: web.Request) -> web.Response:
        self.elsewhere += 1
        return web.Response(status=200)


@pytest.fixture
async def hooks() -> AsyncIterator[dict[str, tuple[Hook, str]]]:
    """Two receivers, ``slow`` and ``fast``, each on its own port, sharing one event order."""
    order: list[str] = []
    made: dict[str, tuple[Hook, str]] = {}
    runners = []
    for name in ("slow", "fast"):
        hook = Hook(name, order)
        app = web.Application()
        app.router.add_post("/hook", hook.receive)
        app.router.add_route("*", "/elsewhere", hook.redirected)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        made[name] = (hook, f"http://127.0.0.1:{port}/hook")
        runners.append(runner)
    yield made
    for hook, _ in made.values():
        hook.gate.set()  # let held handlers finish so the servers close cleanly
    for runner in runners:
        await runner.cleanup()


class DeliveryLog(logging.Handler):
    """Appends ``result:subscriber`` of each delivery event to a shared order."""

    def __init__(self, order: list[str]) -> None:
        super().__init__(logging.INFO)
        self.order = order

    def emit(self, record: logging.LogRecord) -> None:
        fields: dict[str, Any] = getattr(record, "fields", {})
        if record.getMessage() == "delivery":
            self.order.append(f"{fields['result']}:{fields['subscriber']}")


@pytest.fixture
def delivery_order(hooks: dict[str, tuple[Hook, str]]) -> Iterator[list[str]]:
    order = hooks["slow"][0].order
    logger = logging.getLogger("monitor")
    handler, level = DeliveryLog(order), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield order
    logger.removeHandler(handler)
    logger.setLevel(level)


def use_webhook_timeout(app: App, config: Config, seconds: float) -> None:
    """The notifiers the App built, with a short webhook deadline instead of the 30 s default."""
    context = NotifierContext(
        renderer=Renderer(config.zone),
        smtp=config.smtp,
        session=app.http.session,
        stdout=io.StringIO(),
        timeout=seconds,
    )
    notifiers = {s.name: build_notifier(s, context) for s in config.subscribers}
    app.runtime = replace(app.in_force(), notifiers=notifiers)


@pytest.mark.slow
async def test_a_hanging_receiver_times_out_without_delaying_the_other(
    tmp_path: Path,
    feeds: FeedServer,
    hooks: dict[str, tuple[Hook, str]],
    delivery_order: list[str],
) -> None:
    (slow, slow_url), (fast, fast_url) = hooks["slow"], hooks["fast"]
    slow.hold = 1  # the first request hangs past the deadline; the retry is answered
    clock = FakeClock()
    serve_items(feeds, clock, "Le démarchage encadré")
    config = build_config(
        tmp_path,
        {"f": f"{feeds.url}/f"},
        webhook_subscriber("slow", slow_url) + webhook_subscriber("fast", fast_url),
    )
    async with App(config, clock=clock) as app:
        use_webhook_timeout(app, config, 1.5)
        assert await run(app) == [("fast", "sent"), ("slow", "retry")]
        first = list(delivery_order)
        slow.gate.set()
        clock.advance(timedelta(minutes=10))
        assert await run(app) == [("slow", "sent")]
    # fast got and acknowledged its digest while slow was still hanging
    assert first.index("arrived:fast") < first.index("sent:fast") < first.index("retry:slow")
    assert first.index("arrived:slow") < first.index("retry:slow")
    assert len(fast.requests) == 1
    assert len(slow.requests) == 2
    (first_headers, first_body), (headers, body) = slow.requests
    assert headers["webhook-id"] == first_headers["webhook-id"]
    assert body == first_body
    assert Webhook(SECRET).verify(body, headers)["id"] == headers["webhook-id"]


@pytest.mark.slow
@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirecting_receiver_is_a_failure_and_is_not_followed(
    tmp_path: Path, feeds: FeedServer, hooks: dict[str, tuple[Hook, str]], status: int
) -> None:
    hook, url = hooks["slow"]
    hook.status = status
    clock = FakeClock()
    serve_items(feeds, clock, "Le démarchage encadré")
    config = build_config(tmp_path, {"f": f"{feeds.url}/f"}, webhook_subscriber("ops", url))
    async with App(config, clock=clock) as app:
        assert await run(app) == [("ops", "retry")]
        clock.advance(timedelta(minutes=10))
        assert await run(app) == [("ops", "retry")]
    assert len(hook.requests) == 2 and hook.elsewhere == 0
    assert {h["webhook-id"] for h, _ in hook.requests} == {json.loads(hook.requests[0][1])["id"]}


@pytest.mark.slow
async def test_a_hanging_smtp_server_does_not_delay_a_webhook(
    tmp_path: Path,
    feeds: FeedServer,
    smtp_peer: SmtpPeer,
    smtp_port: int,
    hooks: dict[str, tuple[Hook, str]],
    delivery_order: list[str],
) -> None:
    smtp_peer.hang = threading.Event()
    fast, fast_url = hooks["fast"]
    clock = FakeClock()
    serve_items(feeds, clock, "Le démarchage encadré")
    config = build_config(
        tmp_path,
        {"f": f"{feeds.url}/f"},
        email_subscriber("mail", "analyste@example.ma") + webhook_subscriber("fast", fast_url),
        smtp_section(smtp_port).replace("timeout: 10s", "timeout: 1s"),
    )
    try:
        async with App(config, clock=clock) as app:
            assert await run(app) == [("fast", "sent"), ("mail", "retry")]
    finally:
        smtp_peer.hang.set()
    assert delivery_order.index("sent:fast") < delivery_order.index("retry:mail")
    assert len(fast.requests) == 1 and smtp_peer.raw == []
