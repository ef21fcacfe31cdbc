"""The delivery scenario of bench/scale.py (issue 7, goal 5): ``monitor run --once`` owing one
digest to each of thousands of subscribers, against loopback receivers in this process.

One feed of five items, all matching a rule, is served to a daemon on a new SQLite store whose
subscribers all take immediate digests: every subscriber is owed one digest. Two runs, one per
channel: email subscribers with an SMTP server (aiosmtpd, no TLS, no AUTH), then webhook
subscribers (generic format, signed) with an aiohttp receiver answering 204.

Figure: digests delivered per second, from the feed's request (the poll, the digests formed,
sent and marked sent) to the daemon's exit; a run passes only when every subscriber received
exactly one message, the store shows every outbox row sent, and the daemon exited 0. Beside it:
the connections the receiver saw (for email: one per message without connection reuse).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.daemon import failed, start_daemon

TIMEOUT = 600.0  # seconds a run may take
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # any 32 bytes, base64

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Veille</title><link>http://127.0.0.1/</link>
<description>bench</description>{items}</channel></rss>"""
ITEM = """<item><title>Les centres d'appels marocains et l'IA, épisode {n}</title>
<link>http://127.0.0.1/article/{n}</link><guid>http://127.0.0.1/article/{n}</guid>
<pubDate>Fri, 27 Nov 2026 0{n}:00:00 GMT</pubDate>
<description>Le démarchage téléphonique interdit en France : les centres d'appels
se tournent vers l'IA ({n}).</description></item>"""


@dataclass
class Received:
    """What a receiver saw: messages by subscriber, connections, first and last arrival."""

    by_subscriber: dict[str, int] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    connections: int = 0  # SMTP
    peers: set[object] = field(default_factory=set)  # webhook: (address, port) of each connection
    first: float | None = None
    last: float | None = None
    polled: float | None = None  # when the feed was requested

    def note(self, subscriber: str, message_id: str) -> None:
        self.last = time.monotonic()
        self.first = self.first or self.last
        self.by_subscriber[subscriber] = self.by_subscriber.get(subscriber, 0) + 1
        self.ids.add(message_id)


class Counting(SMTP):
    """aiosmtpd's SMTP protocol, counting the connections made to it."""

    def __init__(self, handler: Any, seen: Received) -> None:
        super().__init__(handler, enable_SMTPUTF8=True)
        seen.connections += 1


class Mailbox:
    def __init__(self, seen: Received) -> None:
        self.seen = seen

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content)
        for recipient in envelope.rcpt_tos:
            self.seen.note(recipient.partition("@")[0], str(message["Message-ID"]))
        return "250 OK"


async def feed_and_hooks(seen: Received) -> web.AppRunner:
    """The feed at ``/feed`` and the webhook receiver at ``/hook/<subscriber>``."""
    body = FEED.format(items="".join(ITEM.format(n=n) for n in range(1, 6)))

    async def feed(request: web.Request) -> web.Response:
        seen.polled = seen.polled or time.monotonic()
        return web.Response(body=body.encode(), content_type="application/rss+xml")

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        seen.peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        seen.note(request.match_info["name"], request.headers.get("webhook-id", ""))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/feed", feed)
    app.router.add_post("/hook/{name}", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def port_of(runner: web.AppRunner) -> int:
    address = runner.addresses[0]
    return int(address[1])


def write_config(folder: Path, web_port: int, subscribers: list[dict[str, Any]],
                 smtp_port: int | None) -> Path:  # fmt: skip
    config: dict[str, Any] = {
        "storage": f"sqlite:///{folder}/monitor.db",
        "network": {"allow": ["127.0.0.0/8"], "timeout": "30s"},
        "defaults": {"interval": "1h", "backfill": "3650d"},
        "sources": [{"name": "veille", "url": f"http://127.0.0.1:{web_port}/feed"}],
        "rules": [{"name": "centres", "any": ["centres d'appels"]}],
        "subscribers": subscribers,
    }
    if smtp_port is not None:
        config["smtp"] = {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                          "from": "Veille <veille@example.org>"}  # fmt: skip
    path = folder / "monitor.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


@dataclass
class Delivery:
    channel: str
    subscribers: int
    seconds: float  # from the poll to the daemon's exit
    received: int  # messages
    distinct: int  # subscribers that received one
    ids: int  # distinct Message-IDs / webhook-ids
    connections: int
    unsent: int  # outbox rows not marked sent
    status: int

    @property
    def rate(self) -> float:
        return self.subscribers / self.seconds if self.seconds else 0.0

    @property
    def complete(self) -> bool:
        """Each subscriber got exactly one digest, and the store knows it."""
        return (
            self.status == 0
            and self.received == self.subscribers == self.distinct == self.ids
            and self.unsent == 0
        )


async def run(folder: Path, channel: str, count: int) -> Delivery:
    """One ``monitor run --once`` owing a digest to ``count`` subscribers of ``channel``."""
    seen = Received()
    runner = await feed_and_hooks(seen)
    smtp: asyncio.Server | None = None
    try:
        web_port = port_of(runner)
        subscribers: list[dict[str, Any]]
        if channel == "email":
            loop = asyncio.get_running_loop()
            mailbox = Mailbox(seen)
            smtp = await loop.create_server(lambda: Counting(mailbox, seen), "127.0.0.1", 0)
            smtp_port = smtp.sockets[0].getsockname()[1]
            subscribers = [{"name": f"s{n}", "email": f"s{n}@example.org"} for n in range(count)]
        else:
            smtp_port = None
            subscribers = [
                {"name": f"s{n}", "webhook": f"http://127.0.0.1:{web_port}/hook/s{n}",
                 "secret": SECRET}
                for n in range(count)
            ]  # fmt: skip
        work = folder / channel
        work.mkdir()
        config = write_config(work, web_port, subscribers, smtp_port)
        process = await start_daemon(config, once=True)
        status = await asyncio.wait_for(process.wait(), TIMEOUT)
        end = time.monotonic()
        if status != 0 or seen.polled is None:
            raise failed(config, status)
        with sqlite3.connect(work / "monitor.db") as db:
            (unsent,) = db.execute("SELECT count(*) FROM outbox WHERE state != 'sent'").fetchone()
        return Delivery(
            channel=channel,
            subscribers=count,
            seconds=end - seen.polled,
            received=sum(seen.by_subscriber.values()),
            distinct=len(seen.by_subscriber),
            ids=len(seen.ids),
            connections=seen.connections if channel == "email" else len(seen.peers),
            unsent=int(unsent),
            status=status,
        )
    finally:
        if smtp is not None:
            smtp.close()
        await runner.cleanup()
