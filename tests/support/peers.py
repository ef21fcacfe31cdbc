"""Real peers on loopback for whole-daemon tests: a feed server, an SMTP server, a webhook
receiver, and a fake clock."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class FakeClock:
    """The time a test says it is. Everything a test drives on it (the App, commands, stores)
    must read this clock, never the real one: tests/push/test_websub.py runs a scenario with it
    started years before and years after the real date (:func:`years_from_today`)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def years_from_today(years: int) -> datetime:
    """A fake clock's start ``years`` from the real date (negative: before it), at 09:00 UTC:
    a test started there fails if any part under the fake clock reads the real one."""
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return today.replace(month=1, day=15, year=today.year + years)


@dataclass
class Resource:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    status: int = 200
    headers: dict[str, str] | None = None  # e.g. Retry-After, Location


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


class _Loopback:
    """An aiohttp app on 127.0.0.1, on a free port."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


class FeedServer(_Loopback):
    """Serves ``resources`` by path; answers 304 when If-None-Match carries the ETag."""

    def __init__(self) -> None:
        super().__init__()
        self.resources: dict[str, Resource] = {}
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.gates: dict[str, asyncio.Event] = {}  # a gated path answers once its event is set
        self.delay = 0.0  # seconds before each answer (a slower server)
        self.log: list[tuple[str, float]] = []  # (path, loop time) of every request
        self.app.router.add_get("/{path:.*}", self._serve)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        self.hits[path] += 1
        self.log.append((path, asyncio.get_running_loop().time()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if path in self.gates:
            await self.gates[path].wait()
        resource = self.resources.get(path)
        if resource is None:
            return web.Response(status=404)
        if resource.etag and request.headers.get("If-None-Match") == resource.etag:
            self.not_modified[path] += 1
            return web.Response(status=304, headers={"ETag": resource.etag})
        headers = {"Content-Type": resource.content_type, **(resource.headers or {})}
        if resource.etag:
            headers["ETag"] = resource.etag
        return web.Response(status=resource.status, body=resource.body, headers=headers)


class WebhookReceiver(_Loopback):
    """Records every request; answers with the next status of ``statuses`` (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        super().__init__()
        self.statuses = list(statuses or [])
        self.body = b""  # of every answer
        self.requests: list[Request] = []
        self.answers: list[int] = []
        self.gate: asyncio.Event | None = None  # when set, requests wait for it to be set
        self._arrived = asyncio.Event()
        self.app.router.add_post("/{path:.*}", self._receive)

    async def _receive(self, request: web.Request) -> web.Response:
        self.requests.append(Request(request.path, dict(request.headers), await request.read()))
        self._arrived.set()
        if self.gate is not None:
            await self.gate.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        self.answers.append(status)
        return web.Response(status=status, body=self.body)

    async def wait_for_requests(self, count: int) -> None:
        """Until ``count`` requests have arrived (bound it with asyncio.timeout)."""
        while len(self.requests) < count:
            self._arrived.clear()
            await self._arrived.wait()

    def accepted(self) -> list[Request]:
        """The requests answered 2xx, in order."""
        # a request still held by the gate has no answer yet
        return [r for r, s in zip(self.requests, self.answers, strict=False) if 200 <= s < 300]


class _Handler:
    def __init__(self, replies: list[str], refusals: list[str] | None = None) -> None:
        self.replies = replies
        self.refusals = refusals or []  # answered to RCPT TO in order, before accepting
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refusals:
            return self.refusals.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.replies:
            return self.replies.pop(0)
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"


class LoopbackController(Controller):
    """aiosmtpd on 127.0.0.1 port 0, learning the port the system gave it."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


def smtp_controller(handler: object, **options: Any) -> Iterator[LoopbackController]:
    """For a fixture: aiosmtpd with ``handler`` (and aiosmtpd's SMTP ``options``) on loopback,
    stopped afterwards."""
    controller = LoopbackController(handler, hostname="127.0.0.1", port=0, **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def loopback_smtp(handler: object) -> Iterator[int]:
    """:func:`smtp_controller`, for a fixture that wants only the port."""
    for controller in smtp_controller(handler):
        yield int(controller.port)


class SmtpSink:
    """aiosmtpd on loopback; ``replies`` are answered to DATA in order before accepting,
    ``refusals`` to RCPT TO (a recipient refused)."""

    def __init__(self, replies: list[str] | None = None, refusals: list[str] | None = None) -> None:
        self.handler = _Handler(list(replies or []), list(refusals or []))
        self.controller = LoopbackController(self.handler, hostname="127.0.0.1", port=0)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def start(self) -> int:
        self.controller.start()
        return int(self.controller.port)

    def stop(self) -> None:
        self.controller.stop()


def rss(items: list[dict[str, Any]], title: str = "Feed") -> bytes:
    """A small RSS 2.0 document; each item has title, link, guid, summary, published."""
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}'
        "</title><link>https://example.ma/</link><description>d</description>"
    ]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{item['title']}</title>")
        if "link" in item:
            parts.append(f"<link>{item['link']}</link>")
        if "guid" in item:
            parts.append(f'<guid isPermaLink="false">{item["guid"]}</guid>')
        parts.append(f"<description>{item.get('summary', '')}</description>")
        if "published" in item:
            published: datetime = item["published"]
            parts.append(f"<pubDate>{published.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


class TcpRelay:
    """A TCP relay on 127.0.0.1 in front of ``target_port``: what the server side receives from
    each client is kept in ``transcript``, byte for byte (e.g. to prove no AUTH went by)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.transcript = bytearray()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [client_w, server_w]
        for task in (
            asyncio.create_task(self._pump(client_r, server_w, record=True)),
            asyncio.create_task(self._pump(server_r, client_w, record=False)),
        ):
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: bool
    ) -> None:
        try:
            while data := await reader.read(65536):
                if record:
                    self.transcript += data
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for writer in self._writers:
            writer.close()
        for task in list(self._pumps):
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
