"""TLS failures against a real HTTPS server on loopback (certificates made by trustme): each is
a clear FetchError naming the host, and the client never falls back to plain HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from aiohttp import web

from monitor.config.sections import NetworkConfig
from monitor.core.errors import FetchError
from monitor.core.models import Fetched
from monitor.net.http import HttpClient

RSS = b'<rss version="2.0"><channel><title>t</title></channel></rss>'
NETWORK = NetworkConfig.model_validate({"allow": ["127.0.0.0/8"], "timeout": "5s"})


@dataclass
class Probe:
    """A TCP relay in front of the HTTPS server that records the first bytes of every
    connection: a TLS ClientHello starts with 0x16, a plain HTTP request with a method."""

    backend_port: int
    firsts: list[bytes] = field(default_factory=list)
    server: asyncio.Server | None = None
    port: int = 0
    tasks: set[asyncio.Task[object]] = field(default_factory=set)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            first = await reader.read(1)
            self.firsts.append(first)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)
            up_writer.write(first)
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except (asyncio.CancelledError, ConnectionError):
            pass  # the test is over
        finally:
            writer.close()
            self.tasks.discard(task)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for task in list(self.tasks):
                task.cancel()
            await self.server.wait_closed()


async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await src.read(65536):
            dst.write(chunk)
            await dst.drain()
    dst.close()


@dataclass
class HttpsServer:
    hits: list[str] = field(default_factory=list)
    runner: web.AppRunner | None = None
    probe: Probe | None = None

    async def start(self, context: ssl.SSLContext) -> str:
        async def feed(request: web.Request) -> web.Response:
            self.hits.append(request.path)
            return web.Response(body=RSS, content_type="application/rss+xml")

        app = web.Application()
        app.router.add_get("/feed", feed)
        self.runner = web.AppRunner(app, shutdown_timeout=1)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=context).start()
        self.probe = Probe(self.runner.addresses[0][1])
        await self.probe.start()
        return f"https://127.0.0.1:{self.probe.port}/feed"

    async def close(self) -> None:
        if self.probe is not None:
            await self.probe.close()
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
async def https() -> AsyncIterator[HttpsServer]:
    server = HttpsServer()
    yield server
    await server.close()


def past(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


Case = Callable[[trustme.CA], tuple[trustme.LeafCert, bool]]  # (server cert, client trusts CA)
CASES: dict[str, tuple[Case, str]] = {
    "unknown CA": (
        lambda ca: (ca.issue_cert("127.0.0.1", "localhost"), False),
        "unable to get local issuer certificate",
    ),
    "wrong host": (lambda ca: (ca.issue_cert("feeds.test"), True), "mismatch"),
    "expired": (
        lambda ca: (ca.issue_cert("127.0.0.1", not_before=past(30), not_after=past(1)), True),
        "certificate has expired",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_certificate_errors_are_clear_fetch_errors_without_fallback(
    ca: trustme.CA, https: HttpsServer, case: str
) -> None:
    make, detail = CASES[case]
    cert, trust = make(ca)
    url = await https.start(server_context(cert))
    async with HttpClient(NETWORK, ssl_context=trusting(ca) if trust else None) as http:
        with pytest.raises(FetchError) as caught:
            await http.fetch(url)
    message = str(caught.value)
    assert message.startswith("TLS certificate of 127.0.0.1 not trusted (")
    assert detail in message
    assert https.hits == []
    assert https.probe is not None and https.probe.firsts == [b"\x16"]  # one TLS attempt only


async def test_the_same_server_works_once_its_certificate_is_trusted(
    ca: trustme.CA, https: HttpsServer
) -> None:
    url = await https.start(server_context(ca.issue_cert("127.0.0.1")))
    async with HttpClient(NETWORK, ssl_context=trusting(ca)) as http:
        fetched = await http.fetch(url)
    assert isinstance(fetched, Fetched) and fetched.body == RSS
    assert https.hits == ["/feed"]


async def test_https_to_a_plain_http_port_is_a_tls_error() -> None:
    hits: list[str] = []

    async def feed(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=RSS)

    app = web.Application()
    app.router.add_get("/feed", feed)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with HttpClient(NETWORK) as http:
            with pytest.raises(FetchError, match=r"^TLS handshake with 127\.0\.0\.1:\d+ failed"):
                await http.fetch(f"https://127.0.0.1:{runner.addresses[0][1]}/feed")
    finally:
        await runner.cleanup()
    assert hits == []  # the plain-HTTP server was never asked for the feed
