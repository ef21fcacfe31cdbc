"""The feed server of the scale benchmarks (issue 7, bench/scale.py): many feeds spread over many
host addresses of 127.0.0.0/8, each answer delayed by a fixed latency, ETags and 304s, and a
share of the feeds publishing new items at a steady rate.

Feed ``n`` lives at ``http://127.0.<h // 250 + 10>.<h % 250 + 1>:PORT/f<n>`` with ``h = n % hosts``
(every address of 127.0.0.0/8 is the loopback on Linux: no set-up needed). A publishing feed gains
two items every ``interval`` seconds from the server's start; the others never change. Bodies
are made once per feed and version, and kept.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from tests.peers import rss


def host(index: int) -> str:
    return f"127.0.{index // 250 + 10}.{index % 250 + 1}"


@dataclass
class Stats:
    """What the server saw since the last :meth:`ScaleFeeds.reset`."""

    requests: int = 0
    not_modified: int = 0
    first: float | None = None  # monotonic time of the first request
    last: float | None = None  # and of the last answer
    polled: dict[int, list[float]] = field(default_factory=dict)  # feed → request times


class ScaleFeeds:
    def __init__(
        self,
        feeds: int,
        hosts: int = 100,
        items: int = 20,
        latency: float = 0.1,
        publishing: float = 0.0,
        interval: float = 10.0,
    ) -> None:
        self.feeds, self.hosts, self.items = feeds, hosts, items
        self.latency, self.interval = latency, interval
        # every k-th feed publishes: the share asked for, spread evenly
        self.every = round(1 / publishing) if publishing else 0
        self.port = 0
        self.stats = Stats()
        self._start = time.monotonic()
        self._now = datetime.now(UTC)
        self._bodies: dict[tuple[int, int], bytes] = {}
        self.app = web.Application()
        self.app.router.add_get("/f{n}", self._serve)
        self.runner = web.AppRunner(self.app, access_log=None)

    def url(self, n: int) -> str:
        return f"http://{host(n % self.hosts)}:{self.port}/f{n}"

    def version(self, n: int, now: float | None = None) -> int:
        if not self.every or n % self.every:
            return 0
        return int(((time.monotonic() if now is None else now) - self._start) // self.interval)

    def etag(self, n: int, version: int) -> str:
        return f'"{n}-{version}"'

    def body(self, n: int, version: int) -> bytes:
        key = (n, version)
        if key not in self._bodies:
            count = self.items + 2 * version
            self._bodies[key] = rss(
                [
                    {
                        "guid": f"f{n}-{k}",
                        "title": f"Les centres d'appels et l'IA, article {k} du flux {n}",
                        "link": f"https://f{n}.example.ma/articles/{k}",
                        "summary": "Le démarchage téléphonique sera interdit en France en août "
                        f"2026 : les centres d'appels marocains misent sur l'IA (note {k}).",
                        "published": self._now + timedelta(seconds=k),
                    }
                    for k in range(count - 1, max(count - self.items, 0) - 1, -1)
                ],
                title=f"Flux {n}",
            )
        return self._bodies[key]

    async def start(self) -> None:
        """Listen on every host address, one port for all."""
        await self.runner.setup()
        for index in range(self.hosts):
            site = web.TCPSite(self.runner, host(index), self.port, backlog=4096)
            await site.start()
            if not self.port:
                self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        await self.runner.cleanup()

    def reset(self) -> None:
        self.stats = Stats()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        stats, now = self.stats, time.monotonic()
        n = int(request.match_info["n"])
        stats.requests += 1
        stats.first = now if stats.first is None else stats.first
        stats.polled.setdefault(n, []).append(now)
        version = self.version(n, now)
        etag = self.etag(n, version)
        await asyncio.sleep(self.latency)
        stats.last = time.monotonic()
        if request.headers.get("If-None-Match") == etag:
            stats.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=self.body(n, version),
            content_type="application/rss+xml",
            headers={"ETag": etag},
        )
