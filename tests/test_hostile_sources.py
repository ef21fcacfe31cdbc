"""Hostile sources on the wire, each a real misbehaving server on loopback, polled by the whole
daemon beside a healthy source whose alert must still arrive (issue 3, reliability F2/F3/F7/F8).

Documents that attack the parser are in test_hostile_documents.py; both use the helpers here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.config.model import Config
from monitor.daemon import App
from monitor.poll.pipeline import PollReport
from tests.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss
from tests.test_daemon import build_config, webhook_subscriber
from tests.test_guard import Listener

MB = 1024 * 1024
HEALTHY = "Le démarchage téléphonique encadré"


# --- shared by the hostile-source tests --------------------------------------------------------


@dataclass
class Daemon:
    """The daemon's configuration with one healthy and one hostile source, and its clock."""

    config: Config
    clock: FakeClock
    receiver: WebhookReceiver

    async def run(self) -> dict[str, PollReport]:
        async with App(self.config, clock=self.clock) as app:
            polls, _ = await app.run_once()
        return {poll.source: poll for poll in polls}

    def delivered(self) -> list[dict[str, Any]]:
        """Every item the webhook receiver accepted, in order."""
        return [i for r in self.receiver.accepted() for i in json.loads(r.body)["items"]]

    def titles(self) -> list[str]:
        return [item["title"] for item in self.delivered()]


def beside_healthy(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    hostile_url: str,
    *,
    allow: str = "127.0.0.0/8",
    timeout: timedelta | None = None,
    extra: str = "",
) -> Daemon:
    """A daemon polling ``hostile_url`` and a healthy feed with one alerting item."""
    clock = FakeClock()
    item = {"guid": "h1", "title": HEALTHY, "link": "https://ok.ma/1"}
    feeds.resources["/healthy"] = Resource(rss([item | {"published": clock.now}]))
    config = build_config(
        tmp_path,
        {"healthy": f"{feeds.url}/healthy", "hostile": hostile_url},
        webhook_subscriber(receiver.url),
        extra,
        allow,
    )
    if timeout is not None:
        network = config.network.model_copy(update={"timeout": timeout})
        config = config.model_copy(update={"network": network})
    return Daemon(config, clock, receiver)


def assert_failed_alone(reports: dict[str, PollReport], daemon: Daemon, message: str) -> str:
    """The hostile poll is an error saying ``message``; the healthy alert was delivered."""
    hostile = reports["hostile"]
    assert hostile.result == "error", hostile
    assert hostile.error is not None and message in hostile.error, hostile.error
    assert reports["healthy"].result == "ok"
    assert HEALTHY in daemon.titles()
    return hostile.error


# --- misbehaving servers ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzip-encoded: about 1 MiB on the wire (made once, in a few seconds)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    return b"".join(packer.compress(zeros) for _ in range(1024)) + packer.flush()


class Hostile:
    """One aiohttp app with a misbehaving route per case."""

    def __init__(self, bomb: bytes) -> None:
        self.bomb = bomb
        self.stop = asyncio.Event()
        self.hits: dict[str, int] = {}
        self.redirect_to = ""
        app = web.Application()
        for path, handler in {
            "/bomb": self.serve_bomb,
            "/endless": self.endless,
            "/drip": self.drip,
            "/loop": self.loop,
            "/chain/{n}": self.chain,
            "/away": self.away,
        }.items():
            app.router.add_get(path, handler)
        self.runner = web.AppRunner(app, shutdown_timeout=1)
        self.url = ""

    async def start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def close(self) -> None:
        self.stop.set()
        await self.runner.cleanup()

    def _hit(self, request: web.Request) -> None:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1

    async def serve_bomb(self, request: web.Request) -> web.Response:
        self._hit(request)
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
        return web.Response(body=self.bomb, headers=headers)

    async def _stream(self, request: web.Request, chunk: bytes, pause: float) -> web.StreamResponse:
        self._hit(request)
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            while not self.stop.is_set():
                await response.write(chunk)
                if pause:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stop.wait(), pause)
        return response

    async def endless(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, b"<item>" * 10_000, 0)

    async def drip(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, b"<", 1.0)  # one byte a second

    async def loop(self, request: web.Request) -> web.Response:
        self._hit(request)
        raise web.HTTPFound("/loop")

    async def chain(self, request: web.Request) -> web.Response:
        self._hit(request)
        n = int(request.match_info["n"])
        raise web.HTTPMovedPermanently(f"/chain/{n + 1}")  # never ends: more than 10 hops

    async def away(self, request: web.Request) -> web.Response:
        self._hit(request)
        raise web.HTTPFound(self.redirect_to)


@dataclass
class Mute:
    """Accepts TCP connections and never sends a byte."""

    accepted: int = 0
    server: asyncio.Server | None = None
    url: str = ""

    async def start(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.writers.append(writer)  # kept open, never answered

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def hostile(gzip_bomb: bytes) -> AsyncIterator[Hostile]:
    server = Hostile(gzip_bomb)
    await server.start()
    yield server
    await server.close()


# --- the cases ---------------------------------------------------------------------------------


@pytest.mark.slow
async def test_a_gzip_bomb_stops_at_max_bytes_decoded(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, hostile: Hostile
) -> None:
    assert len(hostile.bomb) < 1.1 * MB  # 1 GiB once decoded
    daemon = beside_healthy(tmp_path, feeds, receiver, hostile.url + "/bomb")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    reports = await daemon.run()
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    error = assert_failed_alone(reports, daemon, "body larger than 10485760 bytes")
    assert "network.max_bytes" in error
    assert hostile.hits["/bomb"] == 1
    assert (peak_after - peak_before) * 1024 < 100 * MB


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/endless", "body larger than 10485760 bytes"),  # the size cap comes first
        ("/drip", "127.0.0.1: timed out"),  # the total deadline, not a per-read one
    ],
)
async def test_endless_and_dripping_bodies_are_cut(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    hostile: Hostile,
    path: str,
    message: str,
) -> None:
    daemon = beside_healthy(
        tmp_path, feeds, receiver, hostile.url + path, timeout=timedelta(seconds=2)
    )
    assert_failed_alone(await daemon.run(), daemon, message)
    assert hostile.hits[path] == 1


@pytest.mark.slow
async def test_a_server_that_accepts_and_never_answers_is_cut_by_the_deadline(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    mute = Mute()
    await mute.start()
    try:
        daemon = beside_healthy(
            tmp_path, feeds, receiver, mute.url + "/feed", timeout=timedelta(seconds=2)
        )
        assert_failed_alone(await daemon.run(), daemon, "127.0.0.1: timed out")
    finally:
        await mute.close()
    assert mute.accepted == 1


@pytest.mark.slow
@pytest.mark.parametrize(("path", "hits"), [("/loop", "/loop"), ("/chain/0", "/chain/10")])
async def test_redirect_loops_and_chains_stop_after_ten_hops(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    hostile: Hostile,
    path: str,
    hits: str,
) -> None:
    daemon = beside_healthy(tmp_path, feeds, receiver, hostile.url + path)
    assert_failed_alone(await daemon.run(), daemon, "too many redirects (more than 10)")
    assert sum(hostile.hits.values()) == 11  # the first request and ten hops, no more
    assert hits in hostile.hits


@pytest.mark.slow
async def test_a_redirect_to_a_refused_address_makes_no_connection(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, hostile: Hostile
) -> None:
    inside = Listener(host="127.0.0.2")  # stands for an internal address
    await inside.start()
    hostile.redirect_to = f"http://127.0.0.2:{inside.port}/secret"
    try:
        daemon = beside_healthy(
            tmp_path, feeds, receiver, hostile.url + "/away", allow="127.0.0.1/32"
        )
        error = assert_failed_alone(await daemon.run(), daemon, "refused 127.0.0.2")
    finally:
        await inside.close()
    assert "not a public address" in error
    assert hostile.hits["/away"] == 1
    assert inside.accepted == 0
