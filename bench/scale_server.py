"""The feed server of the scale benchmarks (issue 7, bench/scale.py): many feeds spread over many
host addresses of 127.0.0.0/8, each answer delayed by a fixed latency, ETags and 304s, and a
share of the feeds publishing new items at a steady rate.

Feed ``n`` lives at ``http://127.0.<h // 250 + 10>.<h % 250 + 1>:PORT/f<n>`` with ``h = n % hosts``
(every address of 127.0.0.0/8 is the loopback on Linux: no set-up needed). A publishing feed gains
two items every ``interval`` seconds from the server's start; the others never change. Bodies
are made once per feed and version, and kept.

HTTP/1.1 is spoken by a bare asyncio protocol (GET, keep-alive, If-None-Match), not aiohttp's
server: at 1,000 requests a second aiohttp's server took most of a core and, on a 2-core
machine, became the limit the daemon was measured against (its clock fell behind, so feeds
looked polled late and less often than they were).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.support.peers import rss

URGENT = "Alerte"  # the word of the items a narrow rule matches (``urgent``)
# (feed, newest item, item count, the newest item's date) -> body and Content-Type
Writer = Callable[[int, int, int, datetime], tuple[bytes, str]]


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
        writer: Writer | None = None,
        keep: bool = True,
        urgent: int = 0,
    ) -> None:
        self.feeds, self.hosts, self.items = feeds, hosts, items
        # one item in ``urgent`` (0: none) has URGENT in its title: a narrower rule's matches
        self.urgent = urgent
        self.latency, self.interval = latency, interval
        # every k-th feed publishes: the share asked for, spread evenly
        self.every = round(1 / publishing) if publishing else 0
        self.port = 0
        self.stats = Stats()
        self._start = time.monotonic()
        self._now = datetime.now(UTC)
        self._bodies: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        self._writer = writer
        # bodies kept once made; not at 100,000 feeds (bench/sources.py): 6 KB each, they
        # would take most of a gigabyte, and at a hundred requests a second making them is cheap
        self._keep = keep
        self._servers: list[asyncio.Server] = []

    def url(self, n: int) -> str:
        return f"http://{host(n % self.hosts)}:{self.port}/f{n}"

    def version(self, n: int, now: float | None = None) -> int:
        if not self.every or n % self.every:
            return 0
        return int(((time.monotonic() if now is None else now) - self._start) // self.interval)

    def etag(self, n: int, version: int) -> str:
        return f'"{n}-{version}"'

    def body(self, n: int, version: int) -> tuple[bytes, bytes]:
        """Feed ``n``'s document at ``version`` and its Content-Type."""
        key = (n, version)
        if key in self._bodies:
            return self._bodies[key]
        if not self._keep:
            self._bodies.clear()  # (the last body only)
        count = self.items + 2 * version
        if self._writer is not None:
            body, content_type = self._writer(n, count - 1, self.items, self._now)
            self._bodies[key] = body, content_type.encode()
        else:
            self._bodies[key] = (
                rss(
                    [
                        {
                            "guid": f"f{n}-{k}",
                            "title": self.title(n, k),
                            "link": f"https://f{n}.example.ma/articles/{k}",
                            "summary": "Le démarchage téléphonique sera interdit en France en août "
                            f"2026 : les centres d'appels marocains misent sur l'IA (note {k}).",
                            "published": self._now + timedelta(seconds=k),
                        }
                        for k in range(count - 1, max(count - self.items, 0) - 1, -1)
                    ],
                    title=f"Flux {n}",
                ),
                b"application/rss+xml",
            )
        return self._bodies[key]

    def title(self, n: int, k: int) -> str:
        title = f"Les centres d'appels et l'IA, article {k} du flux {n}"
        return f"{URGENT} : {title}" if self.urgent and (n + k) % self.urgent == 0 else title

    async def start(self) -> None:
        """Listen on every host address, one port for all."""
        loop = asyncio.get_running_loop()
        for index in range(self.hosts):
            server = await loop.create_server(
                lambda: _Connection(self), host(index), self.port, backlog=4096
            )
            self._servers.append(server)
            if not self.port:
                self.port = server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers = []

    def reset(self) -> None:
        self.stats = Stats()

    def answer(self, path: bytes, etag_asked: bytes | None) -> tuple[bytes, float]:
        """The response to a GET of ``path`` (bytes to send) and when it was asked."""
        stats, now = self.stats, time.monotonic()
        stats.requests += 1
        stats.first = now if stats.first is None else stats.first
        if not path.startswith(b"/f") or not path[2:].isdigit():
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", now
        n = int(path[2:])
        stats.polled.setdefault(n, []).append(now)
        version = self.version(n, now)
        etag = self.etag(n, version).encode()
        if etag_asked == etag:
            stats.not_modified += 1
            return b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\n\r\n", now
        body, content_type = self.body(n, version)
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\nETag: " + etag
            + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )  # fmt: skip
        return head + body, now


class _Connection(asyncio.Protocol):
    """One client connection: requests one after the other (no pipelining by the clients
    here), each answered ``latency`` seconds after it arrived."""

    def __init__(self, feeds: ScaleFeeds) -> None:
        self.feeds = feeds
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            path = lines[0].split(b" ")[1] if len(lines[0].split(b" ")) > 2 else b""
            etag = None
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"if-none-match":
                    etag = value.strip()
            response, _ = self.feeds.answer(path, etag)
            asyncio.get_running_loop().call_later(self.feeds.latency, self._send, response)

    def _send(self, response: bytes) -> None:
        self.feeds.stats.last = time.monotonic()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)
