"""The loopback peers of the soak benchmark: a feed server (healthy feeds that change over time and
hostile ones in rotation) and a webhook receiver counting deliveries. Binds 127.0.0.1 only.

Every handler is bounded in time and size, so the server stops by itself whatever the client does.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import zlib
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

HOSTILE_KINDS = (
    "gzip-bomb",  # 200 MB of zeros, about 200 KB on the wire
    "endless",  # a body that never ends
    "drip",  # one byte a second
    "silent",  # accepts, never answers
    "redirect-loop",  # a->b->a… or an endless chain of hops
    "retry-after",  # 500 and 503 with Retry-After
    "garbage",  # random bytes typed as RSS
    "html",  # a web page where a feed was expected
    "entities",  # entity-expansion XML (kept small in case a guard is missing)
    "huge",  # a 5,000-item feed that changes now and then
)
MATCHING = (  # titles the RULES match
    "Les centres d'appels marocains recrutent",
    "Call center jobs move to Casablanca",
    "Le démarchage téléphonique interdit en France",
)
NEUTRAL = (
    "Weather: sunny spells over Rabat",
    "La Bourse de Casablanca termine en hausse",
    "Football: the league resumes on Sunday",
    "Nouveau tramway à Marrakech",
    "Tourism figures beat forecasts",
    "Le port de Tanger Med étend ses quais",
    "Tech: a new data centre opens",
)
RULES = [
    {"name": "centres-appels", "any": ["centres d'appels", "call center"]},
    {"name": "demarchage", "any": ["démarchage"]},
]
ITEMS_PER_FEED = 15
BOMB_MB = 200
HANDLER_BOUND = 120.0  # seconds any slow handler may last, even if the client never leaves
RSS_TYPE = "application/rss+xml; charset=utf-8"


def kind_of(index: int) -> str:
    """Feed ``index``'s kind: one in three is hostile, the hostile kinds in rotation."""
    return HOSTILE_KINDS[(index // 3) % len(HOSTILE_KINDS)] if index % 3 == 2 else "healthy"


def _gzip_bomb(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    zeros = bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(megabytes)) + packer.flush()


def _rss(title: str, items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://127.0.0.1/</link><description>soak</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _item(feed: int, number: int, published: float) -> str:
    choices = MATCHING if (feed + number) % 5 == 0 else NEUTRAL
    title = choices[(feed * 7 + number) % len(choices)].replace("'", "&#39;")
    date = format_datetime(datetime.fromtimestamp(published, UTC), usegmt=True)
    return (
        f"<item><title>{title} (#{feed}.{number})</title>"
        f"<link>http://127.0.0.1/article/{feed}/{number}</link>"
        f"<guid>soak-{feed}-{number}</guid><pubDate>{date}</pubDate>"
        f"<description>&lt;p&gt;Item {number} of feed {feed}: {title}. "
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.&lt;/p&gt;</description></item>"
    )


ENTITY_BODIES = (
    # classic nested expansion, three levels only (10^3 copies of a short string)
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;'
    b'&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;'
    b'&c;&c;">]><rss version="2.0"><channel><title>&d;</title><item><title>&d;</title>'
    b"</item></channel></rss>",
    # one 10 KB entity referenced 500 times: 5 MB if expanded
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "'
    + b"x" * 10_000
    + b'">]><rss version="2.0"><channel><title>big</title><item><title>'
    + b"&big;" * 500
    + b"</title></item></channel></rss>",
)
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Welcome</title></head><body><h1>Not a feed</h1>"
    + b"<p>Subscribe to our newsletter.</p>" * 200
    + b"</body></html>"
)


class SoakServer:
    """Feeds at ``/feed/{i}``, redirect hops at ``/hop/{i}/{n}``, the webhook at ``/hook``."""

    def __init__(self, feeds: int, interval: float) -> None:
        self.feeds = feeds
        self.interval = interval
        self.started = time.time()
        self.requests: Counter[str] = Counter()  # by kind
        self.not_modified = 0
        self.deliveries = 0  # webhook POSTs received
        self.delivery_ids: set[str] = set()
        self.delivered_items = 0
        self.bomb = _gzip_bomb(BOMB_MB)
        self.garbage = random.Random(7).randbytes(20_000)
        self._huge: tuple[int, bytes] = (-1, b"")
        self.url = ""
        self._runner: web.AppRunner | None = None
        app = web.Application()
        app.router.add_get("/feed/{index:\\d+}", self._feed)
        app.router.add_get("/hop/{index:\\d+}/{hop:\\d+}", self._hop)
        app.router.add_post("/hook", self._hook)
        self._app = app

    async def start(self) -> str:
        # handler_cancellation: a slow handler ends when the client gives up
        self._runner = web.AppRunner(self._app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        index = int(request.match_info["index"])
        if index >= self.feeds:
            return web.Response(status=404)
        kind = kind_of(index)
        self.requests[kind] += 1
        if kind == "healthy":
            return self._healthy(request, index)
        return await self._hostile(request, kind, index)

    def _healthy(self, request: web.Request, index: int) -> web.Response:
        # a new item every 2 to 4 poll intervals, at an offset of its own
        period = self.interval * (2 + index % 3)
        origin = self.started - (index % 7) * self.interval
        newest = int((time.time() - origin) // period)
        etag = f'"{index}-{newest}"'
        if index % 2 == 0 and request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        items = [
            _item(index, n, origin + n * period) for n in range(newest, newest - ITEMS_PER_FEED, -1)
        ]
        headers = {"Content-Type": RSS_TYPE}
        if index % 2 == 0:
            headers["ETag"] = etag  # the others exercise the content-hash path
        return web.Response(body=_rss(f"Feed {index}", items), headers=headers)

    async def _hostile(self, request: web.Request, kind: str, index: int) -> web.StreamResponse:
        if kind == "gzip-bomb":
            headers = {"Content-Type": RSS_TYPE, "Content-Encoding": "gzip"}
            return web.Response(body=self.bomb, headers=headers)
        if kind in ("endless", "drip"):
            return await self._stream(request, kind)
        if kind == "silent":
            await asyncio.sleep(HANDLER_BOUND)
            return web.Response(status=204)
        if kind == "redirect-loop":
            raise web.HTTPFound(f"/hop/{index}/0")
        if kind == "retry-after":
            status = 503 if self.requests[kind] % 2 else 500
            return web.Response(status=status, headers={"Retry-After": "20"})
        if kind == "garbage":
            return web.Response(body=self.garbage, headers={"Content-Type": RSS_TYPE})
        if kind == "html":
            return web.Response(body=HTML_PAGE, content_type="text/html")
        if kind == "entities":
            body = ENTITY_BODIES[index % len(ENTITY_BODIES)]
            return web.Response(body=body, headers={"Content-Type": RSS_TYPE})
        return web.Response(body=self._huge_feed(index), headers={"Content-Type": RSS_TYPE})

    async def _stream(self, request: web.Request, kind: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        await response.prepare(request)
        chunk = b"<item><title>more</title></item>" * 2000 if kind == "endless" else b" "
        deadline = time.monotonic() + HANDLER_BOUND
        try:
            await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
            while time.monotonic() < deadline:
                await response.write(chunk)
                if kind == "drip":
                    await asyncio.sleep(1.0)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return response

    def _huge_feed(self, index: int) -> bytes:
        """5,000 items; one more every six intervals (a parse of about half a second)."""
        newest = int((time.time() - self.started) // (self.interval * 6)) + 5000
        if self._huge[0] != newest:
            items = [
                f"<item><title>Huge feed item {n}</title><link>http://127.0.0.1/h/{n}</link>"
                f"<guid>huge-{n}</guid></item>"
                for n in range(newest, newest - 5000, -1)
            ]
            self._huge = (newest, _rss("huge", items))
        return self._huge[1]

    async def _hop(self, request: web.Request) -> web.Response:
        self.requests["redirect-hop"] += 1
        index, hop = int(request.match_info["index"]), int(request.match_info["hop"])
        # even feeds: a two-URL loop; odd ones: an endless chain of new URLs
        following = (hop + 1) % 2 if index % 2 == 0 else hop + 1
        raise web.HTTPFound(f"/hop/{index}/{following}")

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.deliveries += 1
        self.delivery_ids.add(request.headers.get("webhook-id", ""))
        try:
            self.delivered_items += len(json.loads(body).get("items", []))
        except (ValueError, AttributeError):
            pass
        return web.Response(status=204)


def write_config(directory: Path, url: str, feeds: int, interval: str, timeout: str) -> Path:
    sources = [
        {"name": f"feed-{i:04d}-{kind_of(i)}", "url": f"{url}/feed/{i}"} for i in range(feeds)
    ]
    config = {
        "storage": f"sqlite:///{directory / 'soak.db'}",
        "network": {
            "allow": ["127.0.0.0/8"],
            "timeout": timeout,
            "connect_timeout": "2s",
            "max_bytes": "1MB",
            "concurrency": 100,
            "per_host": 100,  # every feed is on 127.0.0.1
        },
        "defaults": {"interval": interval},
        "sources": sources,
        "rules": RULES,
        "subscribers": [{"name": "soak-hook", "webhook": f"{url}/hook", "digest": "immediate"}],
    }
    path = directory / "soak.yaml"
    path.write_text(json.dumps(config, indent=1, ensure_ascii=False))  # JSON is YAML
    return path
