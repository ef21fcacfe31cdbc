"""Hostile sources beside a healthy one: each must fail alone, named, and the healthy
source's items still arrive."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.poll.report import PollReport
from tests.support.daemon import build_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss

MB = 1024 * 1024


HEALTHY = "Le démarchage téléphonique encadré"


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
